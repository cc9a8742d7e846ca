"""Plausibility of an account's volume: records no one person's Codex sessions could produce are
kept, but flagged with a reason code, so the leaderboard never ranks them and their owner sees why.

Each record's own timestamp decides which minute and which UTC day it belongs to, never when it
arrived: a first sync of months of history is normal and flags nothing. The judgement is a pure
function of what the account has stored: every record of an account's minute (or UTC day) whose
tokens (input + output) exceed the bound carries the flag, whichever batch brought them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: Tokens one account can spend in one minute. A Codex session that runs flat out finishes a
#: response every two seconds at best (30 a minute), and a response reads at most about 1M tokens
#: of context: 30M a minute for one session at the largest context. Four such sessions at once, or
#: sixteen at a quarter of that context, stay within 120M.
MAX_TOKENS_PER_MINUTE = 120_000_000
#: Tokens one account can spend in one UTC day. No one sustains the minute's peak: a session left
#: running round the clock finishes a response about every 30 seconds (tool calls and edits take
#: the rest), 2,880 a day; sixteen such sessions in parallel with a 200k context each spend 9.2
#: billion.
MAX_TOKENS_PER_DAY = 10_000_000_000

#: (reason code, bound, the text of a row's bucket per dialect), judged in this order: a record
#: over both bounds carries the narrower reason.
_BUCKETS = (
    (
        "tokens_per_minute",
        MAX_TOKENS_PER_MINUTE,
        {
            "sqlite": "substr(ts, 1, 16)",
            "postgresql": "date_trunc('minute', ts AT TIME ZONE 'UTC')",
        },
    ),
    (
        "tokens_per_day",
        MAX_TOKENS_PER_DAY,
        {"sqlite": "substr(ts, 1, 10)", "postgresql": "date_trunc('day', ts AT TIME ZONE 'UTC')"},
    ),
)
#: A sum that cannot overflow: PostgreSQL sums BIGINT as NUMERIC, SQLite's total() is a float
#: (its sum() stops with an error past 2^63).
_SUM = {"sqlite": "total", "postgresql": "sum"}


def days_around(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The UTC days that hold ``first`` to ``last``: [start of the first, end of the last)."""
    start = first.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = last.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, end + timedelta(days=1)


def flag_implausible(conn: Connection, account: int, since, until) -> None:
    """Flag the account's records, from ``since`` to before ``until`` (whole UTC days, in the
    form the dialect stores timestamps in), that lie in a minute or a day over its bound.

    Call inside the transaction that inserted them, after taking the account's lock: one
    grouped UPDATE per bound, whatever the batch's size."""
    dialect = conn.dialect.name
    total = f"{_SUM[dialect]}(input) + {_SUM[dialect]}(output)"
    for reason, bound, bucket_of in _BUCKETS:
        bucket = bucket_of[dialect]
        conn.execute(
            sa.text(
                f"UPDATE usage SET flag = :reason WHERE account_id = :account AND flag IS NULL "
                f"AND ts >= :since AND ts < :until AND {bucket} IN ("
                f"SELECT {bucket} FROM usage WHERE account_id = :account "
                f"AND ts >= :since AND ts < :until GROUP BY {bucket} HAVING {total} > :bound)"
            ),
            {"reason": reason, "account": account, "since": since, "until": until, "bound": bound},
        )
