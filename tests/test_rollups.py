"""Daily rollups: kept by every insert in its own transaction, equal to a full aggregation of the
records whatever the batches, retries, later flags and concurrent writers, and the kinds of usage
they hold (``rollup_kind``) with them; on SQLite and PostgreSQL, through the store layer and the
embedded store's standard-library path."""

from __future__ import annotations

import csv
import sqlite3
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import sqlite_sink
from store import sql
from store.accounts import delete_usage
from store.db import account_id, insert_usage, open_store, rebuild_rollups
from store.fields import EARLIEST, FUTURE_SLACK, MAX_INPUT_TOKENS, MAX_OUTPUT_TOKENS
from store.pricing import DEFAULT_RATES
from store.record import record_from_row
from tests.test_store import record as store_record

SUMS = ("input", "cached", "cache_write", "output", "reasoning")
#: A minute whose 31st heavy record takes it over the minute's bound (31 x 3.9M > 120M).
HEAVY_MINUTE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def record(n: int, ts: datetime, *, inp: int = 1000, model: str = "gpt-5", **over) -> dict:
    """``tests.test_store.record`` at ``ts``, with ``inp`` input tokens and varied tiers."""
    tier = "priority" if n % 3 else "standard"
    fields = {"ts": ts, "input": inp, "model": model, "tier": tier, "event_id": f"{n:032x}"}
    return store_record(0, **{**fields, **over})


def pool() -> list[dict]:
    """The records an account may send: 40 heavy ones in one minute (flagged once 31 of them
    are stored, whichever batches brought them), light ones over ten days (some long-context,
    across midnight), and rows outside the record's bounds an older store could hold."""
    heavy = [
        record(n, HEAVY_MINUTE + timedelta(seconds=n), inp=3_900_000, cached=0, reasoning=0)
        for n in range(40)
    ]
    start = datetime(2026, 2, 25, 23, 59, 30, tzinfo=UTC)
    light = [
        record(
            100 + n,
            start + timedelta(hours=7 * n, seconds=n),
            inp=300_000 if n % 4 == 0 else 2_000 + n,
            model=("gpt-5", "o3", "gpt-5.4")[n % 3],
        )
        for n in range(30)
    ]
    odd = [
        record(200, datetime(2026, 3, 1, tzinfo=UTC), inp=MAX_INPUT_TOKENS + 1),
        record(201, datetime(2026, 3, 1, tzinfo=UTC), output=MAX_OUTPUT_TOKENS + 1),
        record(202, EARLIEST - timedelta(days=3)),
    ]
    return heavy + light + odd


POOL = pool()


def expected(engine) -> dict:
    """The rollups, recomputed from every stored record in Python: the full GROUP BY."""
    latest = datetime.now(UTC) + FUTURE_SLACK
    sums: dict[tuple, list[int]] = {}
    query = "select account_id, ts, model, tier, input, cached, cache_write, output, reasoning, "
    with engine.connect() as conn:
        rows = conn.execute(sa.text(query + "flag from usage")).all()
    for account, ts, model, tier, inp, cached, writes, out, reasoning, flag in rows:
        ts = (datetime.fromisoformat(ts) if isinstance(ts, str) else ts).replace(tzinfo=UTC)
        if not (
            EARLIEST <= ts <= latest
            and cached >= 0
            and writes >= 0
            and cached + writes <= inp <= MAX_INPUT_TOKENS
            and 0 <= reasoning <= out <= MAX_OUTPUT_TOKENS
        ):
            continue
        key = (account, ts.date(), model, tier, inp > sql.LONG_CONTEXT_TOKENS, flag is not None)
        total = sums.setdefault(key, [0] * 6)
        for i, n in enumerate((inp, cached, writes, out, reasoning, 1)):
            total[i] += n
    return {key: tuple(values) for key, values in sums.items()}


def stored(engine) -> dict:
    columns = "account_id, day, model, tier, long_context, flagged, " + ", ".join(SUMS)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"select {columns}, responses from daily_rollup")).all()
    out = {}
    for account, day, model, tier, long, flagged, *values in rows:
        day = datetime.fromisoformat(day).date() if isinstance(day, str) else day
        out[(account, day, model, tier, bool(long), bool(flagged))] = tuple(int(v) for v in values)
    return out


def kinds(engine) -> set[tuple[str, str, bool]]:
    """The kinds of usage ``rollup_kind`` holds."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select model, tier, long_context from rollup_kind")).all()
    return {(model, tier, bool(long)) for model, tier, long in rows}


def kinds_of(rollups: dict) -> set[tuple[str, str, bool]]:
    """The kinds of usage of rollups keyed as ``stored`` keys them."""
    return {(model, tier, long) for _, _, model, tier, long, _ in rollups}


def responses_by_flag(engine) -> dict[bool, int]:
    counts = Counter()
    for key, values in stored(engine).items():
        counts[key[-1]] += values[-1]
    return dict(counts)


batches = st.lists(
    st.tuples(st.integers(0, 2), st.lists(st.integers(0, len(POOL) - 1), max_size=45)),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=batches, retries=st.lists(st.integers(0, 5), max_size=3))
def test_rollups_equal_a_full_aggregation_after_any_batches(store_url, plan, retries):
    """Random batches for several accounts, some sent again (retries) and overlapping, some
    records flagged by later batches; on PostgreSQL sent from three threads at once."""
    engine = open_store(store_url)
    prefix = uuid.uuid4().hex[:8]  # each example's own accounts
    accounts = [account_id(engine, f"{prefix}-{n}") for n in range(3)]
    sends = [(accounts[who], [POOL[i] for i in picks]) for who, picks in plan]
    sends += [sends[i] for i in retries if i < len(sends)]

    def send(item):
        return insert_usage(engine, *item)

    if engine.dialect.name == "postgresql":
        with ThreadPoolExecutor(3) as threads:
            list(threads.map(send, sends))
    else:
        for item in sends:
            send(item)
    assert stored(engine) == expected(engine)
    assert kinds(engine) == kinds_of(expected(engine))
    engine.dispose()


def test_a_flag_set_later_moves_the_earlier_records_out_of_the_ranked_rollups(store_url):
    engine = open_store(store_url)
    me = account_id(engine, "me")
    insert_usage(engine, me, POOL[:30])  # heavy records, in one minute
    assert responses_by_flag(engine) == {False: 30}
    insert_usage(engine, me, POOL[30:31])  # the 31st: the whole minute is over its bound
    assert responses_by_flag(engine) == {True: 31}
    assert stored(engine) == expected(engine)
    engine.dispose()


def test_erasing_usage_clears_its_rollups(store_url):
    engine = open_store(store_url)
    me, other = account_id(engine, "me"), account_id(engine, "other")
    insert_usage(engine, me, POOL[40:50])
    insert_usage(engine, other, POOL[40:45])
    assert delete_usage(engine, me) == 10
    assert {key[0] for key in stored(engine)} == {other}
    assert stored(engine) == expected(engine)
    assert kinds(engine) == kinds_of(expected(engine))
    engine.dispose()


@pytest.mark.parametrize("erase", ["usage", "account"])
def test_erasing_an_account_takes_its_model_names_out_of_the_kinds(store_url, erase):
    """Model names are the uploader's to choose (a client's or a project's name, say): once its
    usage or the account is erased, no kind of usage keeps them, and the kinds others use stay."""
    from store.accounts import delete_account

    engine = open_store(store_url)
    me, other = account_id(engine, "me"), account_id(engine, "other")
    own = [
        {**row, "model": f"acme-secret-{i}", "event_id": uuid.uuid4().hex}
        for i, row in enumerate(POOL[40:44])
    ]
    insert_usage(engine, me, [*own, *POOL[44:48]])
    insert_usage(engine, other, POOL[44:48])
    assert {"acme-secret-0", "acme-secret-3"} <= {model for model, *_ in kinds(engine)}
    (delete_usage if erase == "usage" else delete_account)(engine, me)
    assert not any(model.startswith("acme-secret") for model, *_ in kinds(engine))
    assert kinds(engine) == kinds_of(expected(engine)) != set()
    engine.dispose()


def older_store(url: str, migrations_applied: int, names: list[str]) -> sa.Engine:
    """A store made by the first ``migrations_applied`` migrations only, holding accounts of
    these names (ids from 1, opted in)."""
    from store import migrations

    engine = sa.create_engine(url)
    original = list(migrations.MIGRATIONS)
    try:
        migrations.MIGRATIONS[:] = original[:migrations_applied]
        migrations.migrate(engine)
    finally:
        migrations.MIGRATIONS[:] = original
    columns = ("id", "name", "leaderboard_opt_in", "created_at")
    account = sa.table("account", *(sa.column(c) for c in columns))
    with engine.begin() as conn:
        conn.execute(
            account.insert(),
            [
                {"id": n, "name": name, "leaderboard_opt_in": True, "created_at": datetime.now(UTC)}
                for n, name in enumerate(names, start=1)
            ],
        )
    return engine


def test_an_upgrade_fills_the_rollups_from_the_records_already_stored(store_url):
    engine = older_store(store_url, 5, ["old"])
    old = sa.table("usage", sa.column("account_id"), *(sa.column(name) for name in POOL[0]))
    with engine.begin() as conn:
        conn.execute(old.insert(), [{**r, "account_id": 1} for r in POOL])
        conn.execute(sa.text("update usage set flag = 'tokens_per_minute' where input = 3900000"))
    upgraded = open_store(store_url)
    assert stored(upgraded) == expected(upgraded)
    assert kinds(upgraded) == kinds_of(expected(upgraded)) and len(kinds(upgraded)) > 3
    assert sum(v[-1] for v in stored(upgraded).values()) == len(POOL) - 3  # bounds left out
    engine.dispose()
    upgraded.dispose()


def test_the_embedded_stores_own_path_keeps_the_same_rollups(tmp_path):
    assert sql.rollup_sql("sqlite") == sqlite_sink.ROLLUPS
    stores = []
    for name in ("ours", "theirs"):
        path = tmp_path / f"{name}.db"
        engine = open_store(f"sqlite:///{path}")
        account_id(engine)
        engine.dispose()
        stores.append(path)
    rows = [
        (round(r["ts"].timestamp() * 1000), r["model"], r["tier"])
        + tuple(r[k] for k in ("input", "cached", "cache_write", "output", "reasoning"))
        + (r["event_id"], r["session"])
        for r in POOL[:70]  # the rows the collector would send
    ]
    con, me = sqlite_sink.open_ready(stores[0])
    sqlite_sink.insert_rows(con, me, rows[:50], None)
    sqlite_sink.insert_rows(con, me, rows[20:], None)
    con.close()
    engine = open_store(f"sqlite:///{stores[1]}")
    records = [record_from_row(r, None).model_dump() for r in rows]
    insert_usage(engine, account_id(engine), records)
    assert stored(engine) == expected(engine)
    theirs = stored(engine)
    engine.dispose()
    ours = open_store(f"sqlite:///{stores[0]}")
    assert stored(ours) == theirs
    assert kinds(ours) == kinds_of(theirs)
    assert any(key[-1] for key in theirs) and any(key[4] for key in theirs)
    ours.dispose()


def test_the_sqlite_rollup_goes_by_the_time_index(tmp_path):
    """The recompute reads the days written to through the time index, never the account's
    whole history."""
    path = tmp_path / "store.db"
    open_store(f"sqlite:///{path}").dispose()
    con = sqlite3.connect(path)
    now = datetime.now(UTC)
    params = sql.window_params("sqlite", 1, now, now + timedelta(days=1), now)
    plan = " | ".join(
        r[-1] for r in con.execute(f"EXPLAIN QUERY PLAN {sql.rollup_sql('sqlite')[1]}", params)
    )
    con.close()
    assert "ix_usage_ts" in plan and "account" not in plan.replace("daily_rollup", ""), plan


def test_every_long_context_threshold_in_the_rates_is_the_rollups_own():
    """Rollups keep one long-context flag per response: every threshold the rate table names
    must be that one, or usage summed per day could not be priced at its long-context rates."""
    with DEFAULT_RATES.open(encoding="utf-8") as f:
        thresholds = Counter(row["long_context_threshold_tokens"] for row in csv.DictReader(f))
    del thresholds[""]
    assert thresholds, "the rate table names no long-context threshold"
    assert set(thresholds) == {str(sql.LONG_CONTEXT_TOKENS)}


def test_every_migration_is_one_the_embedded_path_knows():
    from store.migrations import MIGRATIONS

    assert tuple(sorted(fn.__name__ for fn in MIGRATIONS)) == sql.MIGRATION_NAMES


@pytest.mark.parametrize("days", [1, 3])
def test_window_params_cover_whole_utc_days(days):
    first = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    since, until = sql.days_around(first, first + timedelta(days=days - 1))
    params = sql.window_params("postgresql", 7, since, until, first)
    assert (params["first_day"], params["end_day"]) == (
        first.date(),
        first.date() + timedelta(days=days),
    )
    assert params["latest"] == first + FUTURE_SLACK


def test_rows_written_past_the_insert_are_summed_on_a_rebuild(store_url):
    engine = open_store(store_url)
    me = account_id(engine, "me")
    insert_usage(engine, me, POOL[40:45])
    planted = sa.table("usage", sa.column("account_id"), *(sa.column(n) for n in POOL[0]))
    with engine.begin() as conn:
        conn.execute(planted.insert(), [{**r, "account_id": me} for r in POOL[45:]])
    assert stored(engine) != expected(engine)
    with engine.begin() as conn:  # a kind no record has any more goes with the rebuild
        conn.execute(sa.text("insert into rollup_kind values ('gone', 'flex', false)"))
    rebuild_rollups(engine)
    assert stored(engine) == expected(engine)
    assert kinds(engine) == kinds_of(expected(engine))
    engine.dispose()


def test_writers_bringing_the_same_new_kinds_at_once_all_store_them(store_url):
    """Six accounts send the same eight new models at once, in opposite orders: every batch is
    stored (none waits on another for ever), and each kind is kept once."""
    engine = open_store(store_url)
    accounts = [account_id(engine, f"writer-{n}") for n in range(6)]
    models = [f"new-model-{n}" for n in range(8)]
    start = datetime(2026, 3, 1, tzinfo=UTC)

    def send(n: int) -> int:
        order = models if n % 2 else models[::-1]
        rows = [
            record(100 * n + i, start + timedelta(minutes=i), model=model, inp=1_000 + n)
            for i, model in enumerate(order)
        ]
        return insert_usage(engine, accounts[n], rows)

    if engine.dialect.name == "postgresql":
        with ThreadPoolExecutor(6) as threads:
            assert sum(threads.map(send, range(6))) == 48
    else:
        assert sum(map(send, range(6))) == 48
    assert kinds(engine) == kinds_of(expected(engine))
    assert {model for model, _, _ in kinds(engine)} == set(models)
    engine.dispose()
