"""Plausibility of an account's volume: records no one person's Codex sessions could produce are
kept, but flagged with a reason code, so the leaderboard never ranks them and their owner sees why.

Each record's own timestamp decides which minute and which UTC day it belongs to, never when it
arrived: a first sync of months of history is normal and flags nothing. The judgement is a pure
function of what the account has stored: every record of an account's minute (or UTC day) whose
tokens (input + output) exceed the bound carries the flag, whichever batch brought them. The
bounds and the statements are ``store.sql``'s.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.sql import settle_days


def settle(conn: Connection, account: int, first: datetime, last: datetime) -> None:
    """Flag the account's records of the UTC days from ``first``'s to ``last``'s that lie in a
    minute or a day over its bound, then recompute those days' rollups (``store.sql``).

    Call inside the transaction that inserted them, after taking the account's lock: one
    grouped UPDATE per bound and one rollup recompute, whatever the batch's size."""
    settle_days(
        lambda statement, params: conn.execute(sa.text(statement), params),
        conn.dialect.name,
        account,
        first,
        last,
        datetime.now(UTC),
    )
