"""The leaderboard bench's store: a year of synthetic usage on PostgreSQL, bulk loaded.

Accounts are made the way the server makes them (``store.accounts``). The records come from
``bench/app.py``'s generator (skewed volumes per account, the model of each day, long-context
requests, cache writes), with each session kept to one service tier as a Codex thread is, and a
few opted-in accounts get a day and a minute that no person's sessions could produce. After the
COPY, the store's own statements flag those (``store.sql.settle_days``) and build the daily
rollups of every account and their kinds of usage (``store.sql.rebuild_sql``), then ANALYZE.
The load's parameters are kept as the schema's comment, so ``--keep`` can reuse it (migrated
to the store's current schema first, as a deployment upgrades).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from app import MODELS, TIER_SHARES, bulk_copy, csv_chunks, hex_ids, log, schema_url, synthesize

from store.accounts import create_account
from store.db import open_store
from store.fields import EARLIEST, MAX_INPUT_TOKENS, RECORD_FIELDS, TIERS
from store.sql import (
    LONG_CONTEXT_TOKENS,
    MAX_TOKENS_PER_DAY,
    MAX_TOKENS_PER_MINUTE,
    rebuild_sql,
    settle_days,
)
from store.sql import window_params as sql_window

#: The per-record arrays of a generated data set (``app.synthesize`` also returns per-account ones).
ROW_KEYS = ("account", *RECORD_FIELDS)
#: A response as large as the record type lets one be, nearly: few of these make a day or a minute
#: implausible.
HUGE_INPUT = MAX_INPUT_TOKENS - 100_000
HUGE_OUTPUT = 2_000
#: One planted account per this many accounts (at least one).
ACCOUNTS_PER_IMPLAUSIBLE = 2_000
US = 1_000_000
DAY_US = 86_400 * US
MINUTE_US = 60 * US
#: The load's parameters that decide what the store holds: a kept schema is reused only when all
#: of them match.
LOAD_PARAMETERS = ("records", "accounts", "opted_in", "months", "seed")


def parse_count(text: str) -> int:
    """A count written as 20M, 5k, 20_000 or 20000."""
    found = re.fullmatch(r"\s*([\d_]+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not found:
        raise ValueError(f"not a count: {text!r} (write e.g. 20M, 5k or 20000)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[found[2].lower()]
    return int(float(found[1].replace("_", "")) * scale)


def account_name(index: int) -> str:
    return f"coder-{index:05d}"


def one_tier_per_session(data: dict) -> None:
    """Each record takes its session's tier (drawn with ``TIER_SHARES`` from the session's random
    hash), since a Codex thread runs at one tier: the generator draws one per record."""
    digits = data["session"].view(np.uint8).reshape(-1, 32)[:, :2].astype(np.int64)
    values = np.where(digits >= ord("a"), digits - ord("a") + 10, digits - ord("0"))
    share = (values[:, 0] * 16 + values[:, 1]) / 256
    cumulative = np.cumsum(TIER_SHARES)
    data["tier"] = np.minimum(np.searchsorted(cumulative, share, side="right"), len(TIERS) - 1)


def implausible_rows(
    rng: np.random.Generator, planted: np.ndarray, now: datetime
) -> tuple[dict, list[tuple[int, datetime, datetime]]]:
    """Records that make one UTC day (in the last 30) and one minute (in the last 7) of each
    planted account implausible, and each account's (index, first, last) times to judge."""
    per_day = MAX_TOKENS_PER_DAY // (HUGE_INPUT + HUGE_OUTPUT) + 50
    per_minute = MAX_TOKENS_PER_MINUTE // (HUGE_INPUT + HUGE_OUTPUT) + 5
    today = int(now.timestamp() * US) // DAY_US * DAY_US
    parts, windows = [], []
    for account in planted:
        day = today - int(rng.integers(8, 30)) * DAY_US
        minute = today - int(rng.integers(1, 7)) * DAY_US + int(rng.integers(0, 1_440)) * MINUTE_US
        ts = np.concatenate(
            (
                day + rng.integers(0, DAY_US, per_day),
                minute + rng.integers(0, MINUTE_US, per_minute),
            )
        )
        parts.append((np.full(len(ts), account), ts))
        windows.append(
            (int(account), *(datetime.fromtimestamp(t / US, UTC) for t in (ts.min(), ts.max())))
        )
    account = np.concatenate([a for a, _ in parts])
    ts = np.concatenate([t for _, t in parts])
    n = len(ts)
    rows = {
        "account": account,
        "ts": ts,
        "model": np.full(n, MODELS.index("gpt-5.5")),
        "input": np.full(n, HUGE_INPUT),
        "tier": np.full(n, TIERS.index("priority")),
        "cached": np.full(n, HUGE_INPUT * 9 // 10),
        "cache_write": np.zeros(n, dtype=np.int64),
        "output": np.full(n, HUGE_OUTPUT),
        "reasoning": np.full(n, HUGE_OUTPUT // 2),
        "event_id": hex_ids(rng, n),
        "session": np.repeat(hex_ids(rng, len(planted)), [len(t) for _, t in parts]),
        "label": np.full(n, -1),
    }
    return rows, windows


def make_accounts(url: str, accounts: int, opted_in: int, rng: np.random.Generator):
    """``accounts`` accounts made as the server makes them, ``opted_in`` of them (at random) on
    the leaderboard; their ids (by index) and the opted-in indexes."""
    engine = open_store(url)
    ids = np.array([create_account(engine, account_name(i))[0] for i in range(accounts)])
    opted = np.sort(rng.choice(accounts, opted_in, replace=False))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE account SET leaderboard_opt_in = true WHERE id = ANY(:ids)"),
            {"ids": [int(i) for i in ids[opted]]},
        )
    engine.dispose()
    return ids, opted


def settle(conn: sa.Connection, spans: list[tuple[int, datetime, datetime]], now: datetime):
    """Judge each (account, first, last) span's UTC days and recompute their rollups with the
    statements the ingest path runs."""
    for account, first, last in spans:
        settle_days(
            lambda statement, params: conn.execute(sa.text(statement), params),
            "postgresql",
            account,
            first,
            last,
            now,
        )


def settle_and_roll_up(url: str, judged: list[tuple[int, datetime, datetime]], now: datetime):
    """Flag the planted days with the store's statements, then build every account's rollups
    from the records with the statement the store recomputes them with, over all days."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        settle(conn, judged, now)
    bounds = sql_window("postgresql", 0, EARLIEST, now, now)
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        for statement in rebuild_sql("postgresql"):
            conn.execute(sa.text(statement), bounds)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("ANALYZE daily_rollup, rollup_kind")
        )
    engine.dispose()


def build(base: str, schema: str, params: dict) -> dict:
    """Fill the empty ``schema``: accounts, records, flags, rollups. Seconds per step."""
    url = schema_url(base, schema)
    rng = np.random.default_rng(params["seed"])
    now = datetime.now(UTC)
    took: dict[str, float] = {}

    started = time.perf_counter()
    ids, opted = make_accounts(
        schema_url(base, schema, "-csynchronous_commit=off"),
        params["accounts"],
        params["opted_in"],
        rng,
    )
    took["accounts"] = time.perf_counter() - started
    log(f"  {len(ids):,} accounts ({len(opted):,} opted in) in {took['accounts']:.1f} s")

    started = time.perf_counter()
    data = synthesize(params["records"], params["accounts"], params["months"], params["seed"], now)
    one_tier_per_session(data)
    planted = rng.choice(opted, max(1, params["accounts"] // ACCOUNTS_PER_IMPLAUSIBLE), False)
    extra, windows = implausible_rows(rng, planted, now)
    # Key by key, so a 20M-record run holds one array twice at most.
    rows = {key: np.concatenate((data.pop(key), extra[key])) for key in ROW_KEYS}
    del data
    took["generate"] = time.perf_counter() - started
    log(f"  {len(rows['ts']):,} records generated in {took['generate']:.1f} s")

    started = time.perf_counter()
    bulk_copy(url, csv_chunks(rows, ids))
    took["copy"] = time.perf_counter() - started
    log(f"  COPY, indexes and ANALYZE in {took['copy']:.1f} s")

    started = time.perf_counter()
    judged = [(int(ids[account]), first, last) for account, first, last in windows]
    settle_and_roll_up(url, judged, now)
    took["rollups"] = time.perf_counter() - started
    log(f"  flags and rollups in {took['rollups']:.1f} s")
    return took


def kept_parameters(engine: sa.Engine, schema: str) -> dict | None:
    """The parameters a kept schema was loaded with (its comment); None when there is none."""
    with engine.connect() as conn:
        comment = conn.execute(
            sa.text(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
                "WHERE nspname = :schema"
            ),
            {"schema": schema},
        ).scalar()
    try:
        return json.loads(comment) if comment else None
    except ValueError:
        return None


def prepare(base: str, schema: str, params: dict, *, reuse: bool) -> tuple[bool, dict]:
    """The schema loaded with ``params``: a kept one with the same parameters when ``reuse``,
    else a new one. (reused?, seconds per load step)."""
    admin = sa.create_engine(base)
    try:
        kept = kept_parameters(admin, schema)
        wanted = {key: params[key] for key in LOAD_PARAMETERS}
        if reuse and kept is not None and {k: kept.get(k) for k in LOAD_PARAMETERS} == wanted:
            open_store(schema_url(base, schema)).dispose()  # any newer migration applied
            return True, kept.get("load_s", {})
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        took = build(base, schema, params)
        comment = json.dumps({**wanted, "load_s": took}).replace("'", "''")
        with admin.begin() as conn:
            conn.execute(sa.text(f"COMMENT ON SCHEMA \"{schema}\" IS '{comment}'"))
        return False, took
    finally:
        admin.dispose()


def drop(base: str, schema: str) -> None:
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def rollup_drift(conn: sa.Connection) -> int:
    """Rows that differ between the rollups and a plain GROUP BY of the records (every record
    the bench writes is within the record type's bounds): 0 when the rollups are right."""
    day, long = "CAST(ts AT TIME ZONE 'UTC' AS DATE)", f"input > {LONG_CONTEXT_TOKENS}"
    keys = "account_id, day, model, tier, long_context, flagged"
    sums = "input, cached, cache_write, output, reasoning, responses"
    grouped = (
        f"SELECT account_id, {day} AS day, model, tier, {long} AS long_context, "
        "flag IS NOT NULL AS flagged, sum(input) AS input, sum(cached) AS cached, "
        "sum(cache_write) AS cache_write, sum(output) AS output, sum(reasoning) AS reasoning, "
        f"count(*) AS responses FROM usage GROUP BY account_id, {day}, model, tier, {long}, "
        "flag IS NOT NULL"
    )
    rollups = f"SELECT {keys}, {sums} FROM daily_rollup"
    return conn.execute(
        sa.text(
            f"SELECT count(*) FROM (({grouped} EXCEPT ALL {rollups}) "
            f"UNION ALL ({rollups} EXCEPT ALL {grouped})) AS differing"
        )
    ).scalar_one()
