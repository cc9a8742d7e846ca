"""Plausibility of an account's volume: records no one person's Codex sessions could produce are
kept, but flagged with a reason code, so the leaderboard never ranks them and their owner sees why.

Each record's own timestamp decides which minute and which UTC day it belongs to, never when it
arrived: a first sync of months of history is normal and flags nothing. The judgement is a pure
function of what the account has stored: every record of an account's minute (or UTC day) whose
tokens (input + output) exceed the bound carries the flag, whichever batch brought them. The
bounds and the statements are ``store.sql``'s.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.sql import flag_sql


def flag_implausible(conn: Connection, account: int, since, until) -> None:
    """Flag the account's records, from ``since`` to before ``until`` (whole UTC days, in the
    form the dialect stores timestamps in), that lie in a minute or a day over its bound.

    Call inside the transaction that inserted them, after taking the account's lock: one
    grouped UPDATE per bound, whatever the batch's size."""
    for reason, bound, update in flag_sql(conn.dialect.name):
        conn.execute(
            sa.text(update),
            {"reason": reason, "account": account, "since": since, "until": until, "bound": bound},
        )
