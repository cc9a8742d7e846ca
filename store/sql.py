"""The store's insert and plausibility SQL, defined once, with the standard library alone.

``store.db`` (SQLAlchemy, SQLite and PostgreSQL) and ``collector.sqlite_sink`` (the standard
library's ``sqlite3``, so a small sync never loads SQLAlchemy) both write usage with these
statements, and flag implausible minutes and days with these bounds: the same rows end up stored
and flagged whichever path wrote them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.fields import RECORD_FIELDS

#: The account that owns an embedded store's records.
LOCAL_ACCOUNT = "local"
#: The migrations (``store.migrations.MIGRATIONS``, by name) of the schema these statements fit;
#: the standard library's path writes only to a store with exactly these applied.
MIGRATION_NAMES = (
    "m001_accounts_and_usage",
    "m002_api_tokens",
    "m003_usage_flag",
    "m004_account_names_unique_regardless_of_case",
    "m005_usage_tier_and_cache_write",
)
#: The columns an insert fills: the owner and the record's fields (the key is the database's, and
#: the plausibility flag is set after the insert, from the stored figures).
USAGE_COLUMNS = ("account_id", *RECORD_FIELDS)

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
FLAG_BUCKETS = (
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
#: How the account is matched. On SQLite, ``+account_id`` keeps the planner off the account's
#: index, which would visit the account's whole history, and on the time index, which visits
#: only the days inserted into: the cost follows the new rows. PostgreSQL plans by statistics.
_ACCOUNT = {"sqlite": "+account_id", "postgresql": "account_id"}
#: The driver's placeholder for positional values.
_PLACEHOLDER = {"sqlite": "?", "postgresql": "%s"}


def insert_sql(dialect: str) -> str:
    """The insert of one row in ``USAGE_COLUMNS`` order, with positional placeholders; an
    (account, event_id) already stored is skipped by the database itself."""
    marks = ", ".join([_PLACEHOLDER[dialect]] * len(USAGE_COLUMNS))
    return (
        f"INSERT INTO usage ({', '.join(USAGE_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (account_id, event_id) DO NOTHING"
    )


def flag_sql(dialect: str) -> list[tuple[str, int, str]]:
    """``(reason, bound, UPDATE)`` per bound, in judging order. Each UPDATE takes the named
    parameters ``reason``, ``bound``, ``account``, ``since`` and ``until`` (whole UTC days, in the
    form the dialect stores timestamps in) and flags the account's unflagged records there whose
    minute or day holds more tokens (input + output) than the bound."""
    account = _ACCOUNT[dialect]
    total = f"{_SUM[dialect]}(input) + {_SUM[dialect]}(output)"
    statements = []
    for reason, bound, bucket_of in FLAG_BUCKETS:
        bucket = bucket_of[dialect]
        statements.append(
            (
                reason,
                bound,
                f"UPDATE usage SET flag = :reason WHERE {account} = :account AND flag IS NULL "
                f"AND ts >= :since AND ts < :until AND {bucket} IN ("
                f"SELECT {bucket} FROM usage WHERE {account} = :account "
                f"AND ts >= :since AND ts < :until GROUP BY {bucket} HAVING {total} > :bound)",
            )
        )
    return statements


#: The text SQLAlchemy keeps SQLite datetimes in (UTC, no offset); both write paths use it, so
#: reads agree.
SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def days_around(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The UTC days that hold ``first`` to ``last``: [start of the first, end of the last)."""
    start = first.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = last.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, end + timedelta(days=1)
