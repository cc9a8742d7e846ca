"""The store's insert, plausibility and rollup SQL, defined once, with the standard library alone.

``store.db`` (SQLAlchemy, SQLite and PostgreSQL) and ``collector.sqlite_sink`` (the standard
library's ``sqlite3``, so a small sync never loads SQLAlchemy) both write usage with these
statements, flag implausible minutes and days with these bounds, and recompute the daily rollups
of the days written to: the same rows end up stored, flagged and summed whichever path wrote them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from store.fields import (
    EARLIEST,
    FUTURE_SLACK,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    RECORD_FIELDS,
)

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
    "m006_daily_rollups",
    "m007_account_name_keys",
    "m008_sign_in_codes",
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


def window_params(
    dialect: str, account: int, since: datetime, until: datetime, now: datetime
) -> dict:
    """The named parameters of ``flag_sql`` and ``rollup_sql`` for the account's whole UTC days
    ``since`` to before ``until``, in the form the dialect stores times and days in; ``now`` sets
    the latest time a record may have (the record type's window)."""
    latest = now.astimezone(UTC) + FUTURE_SLACK
    if dialect == "sqlite":
        stamp, day = (lambda t: t.strftime(SQLITE_TS_FORMAT)), (lambda t: t.date().isoformat())
    else:
        stamp, day = (lambda t: t), (lambda t: t.date())
    return {
        "account": account,
        "since": stamp(since),
        "until": stamp(until),
        "first_day": day(since),
        "end_day": day(until),
        "earliest": stamp(EARLIEST),
        "latest": stamp(latest),
    }


#: A response whose input is over this many tokens is long-context. Every long-context threshold
#: in rates.csv is 272,000 today (a test keeps them in step): rollups keep each response's flag
#: against it, so usage summed per day can still be priced at the long-context rates.
LONG_CONTEXT_TOKENS = 272_000
#: The counts a rollup sums, beside how many responses it holds.
ROLLUP_SUMS = ("input", "cached", "cache_write", "output", "reasoning")
#: A record's UTC day, per dialect (SQLite keeps times as UTC text).
_DAY = {"sqlite": "substr(ts, 1, 10)", "postgresql": "CAST(ts AT TIME ZONE 'UTC' AS DATE)"}
#: A record the record type would accept (``store.fields``): rows kept from older stores with
#: counts or times outside it are never summed, so never ranked.
IN_BOUNDS = (
    "cached >= 0 AND cache_write >= 0 AND cached + cache_write <= input "
    f"AND input <= {MAX_INPUT_TOKENS} AND reasoning >= 0 AND reasoning <= output "
    f"AND output <= {MAX_OUTPUT_TOKENS} AND ts >= :earliest AND ts <= :latest"
)


def rollup_select(dialect: str, where: str) -> str:
    """The rollup rows of the records matching ``where``: per account, UTC day, model, tier,
    long-context flag and plausibility flag."""
    day, long = _DAY[dialect], f"input > {LONG_CONTEXT_TOKENS}"
    keys = f"account_id, {day}, model, tier, {long}, flag IS NOT NULL"
    sums = ", ".join(f"sum({name})" for name in ROLLUP_SUMS)
    return (
        f"INSERT INTO daily_rollup (account_id, day, model, tier, long_context, flagged, "
        f"{', '.join(ROLLUP_SUMS)}, responses) SELECT {keys}, {sums}, count(*) FROM usage "
        f"WHERE {where} AND {IN_BOUNDS} GROUP BY {keys}"
    )


def rollup_sql(dialect: str) -> tuple[str, str]:
    """``(DELETE, INSERT)``: the account's rollups of whole UTC days recomputed from its records,
    after the plausibility flags are set. Run both inside the transaction that inserted the
    records, under the account's lock: the result depends only on what is stored, so a retry,
    a duplicate or a flag set later never counts a record twice. Parameters: ``window_params``."""
    delete = (
        "DELETE FROM daily_rollup WHERE account_id = :account "
        "AND day >= :first_day AND day < :end_day"
    )
    where = f"{_ACCOUNT[dialect]} = :account AND ts >= :since AND ts < :until"
    return delete, rollup_select(dialect, where)


def settle_days(
    execute: Callable[[str, dict], object],
    dialect: str,
    account: int,
    first: datetime,
    last: datetime,
    now: datetime,
) -> None:
    """Judge the plausibility of the account's UTC days from ``first``'s to ``last``'s, then
    recompute their rollups: what every insert runs after storing its rows, in the same
    transaction and under the account's lock. ``execute(statement, params)`` runs one statement
    with named parameters (``sqlite3``'s ``execute``, or SQLAlchemy's through ``text``)."""
    params = window_params(dialect, account, *days_around(first, last), now)
    for reason, bound, update in flag_sql(dialect):
        execute(update, {**params, "reason": reason, "bound": bound})
    for statement in rollup_sql(dialect):
        execute(statement, params)
