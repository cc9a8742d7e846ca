"""The store on SQLite and PostgreSQL: migrations, idempotent inserts, reading rows back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from operator import itemgetter

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import StoreError, account_id, insert_usage, open_store, usage_rows
from store.fields import (
    CACHE_WRITE,
    EARLIEST,
    EVENT_ID,
    INPUT,
    LABEL_MAX,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    RECORD_FIELDS,
    ROW_FIELDS,
    TIER,
    TIERS,
    UNKNOWN_TIER,
)
from store.migrations import MIGRATIONS, applied, migrate
from store.models import Usage
from store.queries import Filters, load_usage
from store.record import UsageRecord


def record(n: int, **over) -> dict:
    base = dict(
        ts=datetime(2026, 3, 1, 12, 0, n, 123000, tzinfo=UTC),
        model="gpt-5.4",
        tier="priority",
        input=1000 + n,
        cached=100,
        cache_write=20,
        output=50,
        reasoning=10,
        event_id=f"{n:032x}",
        session="ab" * 16,
        label=None,
    )
    return {**base, **over}


def test_usage_table_holds_exactly_the_record_fields():
    columns = [c.name for c in Usage.__table__.columns]
    assert columns == ["id", "account_id", *RECORD_FIELDS, "flag"]


def test_migrations_build_the_schema_the_models_describe(store_url):
    engine = open_store(store_url)
    assert applied(engine) == [fn.__name__ for fn in MIGRATIONS]
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) == {*Usage.metadata.tables, "_migrations"}
    for table in Usage.metadata.sorted_tables:
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}
        for col in table.columns:
            assert columns[col.name]["nullable"] == col.nullable, (table.name, col.name)
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("usage")}
    assert ("account_id", "event_id") in uniques
    assert migrate(engine) == []  # a second run applies nothing
    engine.dispose()


def test_inserts_are_idempotent_per_account(store_url):
    engine = open_store(store_url)
    me, other = account_id(engine, "me"), account_id(engine, "other")
    assert account_id(engine, "me") == me
    assert insert_usage(engine, me, [record(1), record(2), record(3)]) == 3
    assert insert_usage(engine, me, [record(1), record(2), record(3)]) == 0
    assert insert_usage(engine, me, [record(3), record(4)]) == 1
    # The same response in another account is that account's own row.
    assert insert_usage(engine, other, [record(1)]) == 1
    mine = list(usage_rows(engine, account="me"))
    assert len(mine) == 4
    assert sum(r[INPUT] for r in mine) == 1001 + 1002 + 1003 + 1004
    assert {(r[TIER], r[CACHE_WRITE]) for r in mine} == {("priority", 20)}
    assert len(list(usage_rows(engine))) == 5
    engine.dispose()


def test_large_batches_and_exact_timestamps(store_url):
    engine = open_store(store_url)
    me = account_id(engine)
    rows = [record(i % 60, event_id=f"{i:032x}") for i in range(2500)]
    assert insert_usage(engine, me, rows) == 2500
    back = sorted(usage_rows(engine))
    assert back[0][0] == round(
        datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC).timestamp() * 1000
    )
    assert len(back) == 2500
    engine.dispose()


def test_usage_rows_date_bounds_are_loose_enough_for_any_zone(store_url):
    from datetime import date

    engine = open_store(store_url)
    me = account_id(engine)
    insert_usage(engine, me, [record(1, ts=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))])
    # 23:30 UTC on 1 March is 2 March in Tokyo: a query for 2 March must still return it.
    assert len(list(usage_rows(engine, since=date(2026, 3, 2), until=date(2026, 3, 2)))) == 1
    assert len(list(usage_rows(engine, since=date(2026, 3, 4)))) == 0
    engine.dispose()


@pytest.mark.parametrize(
    "url, message",
    [("not a url", "not a database URL"), ("nosuchdb://x", "unsupported database URL")],
)
def test_bad_store_urls_are_explained(url, message):
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_an_upgrade_keeps_every_row(store_url):
    """A store made by the first migration only, with data, upgrades to today's schema intact."""
    from store import migrations

    engine = sa.create_engine(store_url)
    first = migrations.MIGRATIONS[:1]
    original = list(migrations.MIGRATIONS)
    try:
        migrations.MIGRATIONS[:] = first
        migrations.migrate(engine)
    finally:
        migrations.MIGRATIONS[:] = original
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into account (id, name, leaderboard_opt_in, created_at) "
                "values (1, 'old', true, :now)"
            ),
            {"now": datetime.now(UTC)},
        )
        # Rows as that first schema holds them (today's insert_usage needs today's schema).
        for n in (1, 2):
            values = {**record(n), "account_id": 1, "ts": record(n)["ts"].replace(tzinfo=None)}
            del values["tier"], values["cache_write"]
            columns = ", ".join(values)
            marks = ", ".join(f":{c}" for c in values)
            conn.execute(sa.text(f"insert into usage ({columns}) values ({marks})"), values)
    upgraded = open_store(store_url)
    assert applied(upgraded) == [fn.__name__ for fn in MIGRATIONS]
    rows = sorted(usage_rows(upgraded, account="old"))
    assert [r[EVENT_ID] for r in rows] == [record(n)["event_id"] for n in (1, 2)]
    # Rows from before tiers and cache writes were recorded say nothing of either.
    assert {(r[TIER], r[CACHE_WRITE]) for r in rows} == {(UNKNOWN_TIER, 0)}
    assert len(rows[0]) == len(ROW_FIELDS)
    assert "api_token" in sa.inspect(upgraded).get_table_names()
    engine.dispose()
    upgraded.dispose()


def test_names_that_differ_only_in_case_are_told_apart_on_upgrade(store_url):
    """A store from before names were unique regardless of case keeps both accounts: the newer
    one gets its id appended, and from then on the database refuses such twins."""
    from store import migrations

    engine = sa.create_engine(store_url)
    original = list(migrations.MIGRATIONS)
    try:
        migrations.MIGRATIONS[:] = original[:3]
        migrations.migrate(engine)
    finally:
        migrations.MIGRATIONS[:] = original
    with engine.begin() as conn:
        for n, name in ((1, "Alice"), (2, "alice"), (3, "bob")):
            conn.execute(
                sa.text(
                    "insert into account (id, name, leaderboard_opt_in, created_at) "
                    "values (:id, :name, false, :now)"
                ),
                {"id": n, "name": name, "now": datetime.now(UTC)},
            )
    upgraded = open_store(store_url)
    with upgraded.connect() as conn:
        names = [r[0] for r in conn.execute(sa.text("select name from account order by id"))]
    assert names == ["Alice", "alice-2", "bob"]
    with pytest.raises(sa.exc.IntegrityError), upgraded.begin() as conn:
        conn.execute(sa.text("update account set name = 'BOB' where id = 1"))
    engine.dispose()
    upgraded.dispose()


# -- the record contract, end to end ------------------------------------------------------------

#: Text a record may carry: anything but control characters (and the surrogates no UTF-8 holds).
PLAIN = st.characters(blacklist_categories=("Cc", "Cs"))


@st.composite
def usage_records(draw, n: int) -> UsageRecord:
    """A random record the record type accepts: any tier, counts anywhere within the bounds with
    cached + cache_write <= input, times to the microsecond."""
    inp = draw(st.integers(0, MAX_INPUT_TOKENS))
    cached = draw(st.integers(0, inp))
    out = draw(st.integers(0, MAX_OUTPUT_TOKENS))
    return UsageRecord(
        ts=draw(
            st.datetimes(
                min_value=EARLIEST.replace(tzinfo=None),
                max_value=datetime(2026, 11, 1),
                timezones=st.just(UTC),
            )
        ),
        model=draw(st.text(PLAIN, min_size=1, max_size=LABEL_MAX)),
        tier=draw(st.sampled_from(TIERS)),
        input=inp,
        cached=cached,
        cache_write=draw(st.integers(0, inp - cached)),
        output=out,
        reasoning=draw(st.integers(0, out)),
        event_id=f"{n:032x}",
        session=draw(st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
        label=draw(st.none() | st.text(PLAIN, max_size=LABEL_MAX)),
    )


def as_row(record: UsageRecord) -> tuple:
    """A record as the scanner row (``ROW_FIELDS``) that stands for it: milliseconds, no label."""
    fields = record.model_dump()
    fields["ts_ms"] = round(record.ts.timestamp() * 1000)
    return tuple(fields[name] for name in ROW_FIELDS)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_field_survives_record_to_store_to_app_frame(store_url, data):
    """What a collector sends comes back field for field: from the store as scanner rows (what
    reports read) and as the app's frame (what every page reads)."""
    records = [data.draw(usage_records(n)) for n in range(data.draw(st.integers(1, 5)))]
    engine = open_store(store_url)
    name = f"a{uuid.uuid4().hex}"  # each example in an account of its own
    account = account_id(engine, name)
    assert insert_usage(engine, account, [r.model_dump() for r in records]) == len(records)
    rows = sorted(usage_rows(engine, account=name), key=itemgetter(EVENT_ID))
    assert rows == [as_row(r) for r in records]  # made in event_id order
    frame = load_usage(engine, Filters(accounts=(account,)))
    assert set(frame.columns) == set(RECORD_FIELDS) - {"event_id"}
    back = sorted(frame.iter_rows(named=True), key=lambda r: (r["ts"], r["input"], r["model"]))
    sent = sorted(
        (r.model_dump(exclude={"event_id"}) for r in records),
        key=lambda r: (r["ts"], r["input"], r["model"]),
    )
    assert back == sent
    engine.dispose()
