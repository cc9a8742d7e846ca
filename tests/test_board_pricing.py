"""The board's API-equivalent, summed in the store, is the pricing engine's price of the same usage.

Random usage (hypothesis) of several accounts across the price changes, on SQLite and PostgreSQL,
priced by the project's rate table and by a small table of this file that has what rates.csv
lacks (a gap between prices, a long-context factor of its own for cached input, an ultrafast
rate, a mapping that ends): every account's USD on the board, by USD or by tokens, with ``at``
or without, for a period or a model, and on its profile, equals ``price_groups`` over the same
groups; ranks follow those figures; usage without a price stays unpriced, never $0."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import board
from store.db import account_id, insert_usage, open_store
from store.fields import TIERS
from store.models import Account
from store.pricing import Group, adjusted, load_rates, parse_rates, price_groups
from store.sql import LONG_CONTEXT_TOKENS
from tests.test_board import rec

TODAY = datetime.now(UTC).date()
FIRST_DAY = date(2025, 5, 20)  # before o3's price cut of 2025-06-10
HEADER = (
    "model,tier,valid_from,valid_to,input_usd_per_mtok,cached_input_usd_per_mtok,"
    "cache_write_usd_per_mtok,output_usd_per_mtok,long_context_threshold_tokens,"
    "long_context_input_multiplier,long_context_output_multiplier,"
    "long_context_cached_multiplier,maps_to,aliases,source_url,last_checked\n"
)
CHECKED = "https://example.org/prices,2026-11-01\n"
#: alpha: no price in April 2026 (a gap), cheaper from May, cache writes priced apart, a
#: long-context factor for cached input; a priority rate only from May (earlier priority usage
#: pays that launch price) and an ultrafast one; beta has no cached rate (cached input at the
#: input rate); label-x is priced as alpha until the end of June 2026 only.
TABLE = parse_rates(
    HEADER
    + f"alpha,standard,,2026-03-31,2,0.2,2.5,8,{LONG_CONTEXT_TOKENS},2,1.5,,,alpha-latest,"
    + CHECKED
    + f"alpha,standard,2026-05-01,,1,0.1,1.25,4,{LONG_CONTEXT_TOKENS},2,1.5,1.5,,,"
    + CHECKED
    + "alpha,priority,2026-05-01,,2,0.2,,8,,,,,,,"
    + CHECKED
    + f"alpha,ultrafast,,,6,0.6,,24,{LONG_CONTEXT_TOKENS},2,2,,,,"
    + CHECKED
    + "beta,standard,,,0.5,,,2,,,,,,,"
    + CHECKED
    + "label-x,,2026-02-01,2026-06-30,,,,,,,,,alpha,,"
    + CHECKED,
    "test table",
    today=TODAY,
)
TABLES = {"rates.csv": load_rates(), "test table": TABLE}
#: Priced by one table or the other, through aliases, mappings and name forms, or by neither.
MODELS = (
    "gpt-5",
    "openai/GPT-5.4-high",
    "gpt-5.5",
    "o3",
    "gpt-5.6-terra",
    "codex-auto-review",
    "gpt-reserve",
    "gpt-5.3-codex-spark",
    "alpha",
    "alpha-latest",
    "label-x",
    "beta",
)
UNPRICED = "kimi-k2.5:cloud"
NAMES = count()


def record(day: date, model: str, tier: str, inp: int, cached: int, writes: int, out: int) -> dict:
    """A response at noon UTC of ``day``."""
    counts = dict(cached=cached, cache_write=writes, output=out, reasoning=out // 2)
    return rec(0, day, model=model, inp=inp, tier=tier, event_id=uuid.uuid4().hex, **counts)


@st.composite
def usage(draw) -> dict:
    day = FIRST_DAY + timedelta(days=draw(st.integers(0, (TODAY - FIRST_DAY).days)))
    inp = draw(st.one_of(st.integers(1, 60_000), st.integers(LONG_CONTEXT_TOKENS - 5, 600_000)))
    cached = inp * draw(st.integers(0, 100)) // 100
    writes = (inp - cached) * draw(st.integers(0, 100)) // 100
    out = draw(st.integers(0, 80_000))
    model = draw(st.sampled_from((*MODELS, UNPRICED)))
    return record(day, model, draw(st.sampled_from(TIERS)), inp, cached, writes, out)


def store_accounts(engine, accounts: list[list[dict]]) -> list[str]:
    """Each list of records as a new opted-in account (every earlier one opted out): names."""
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(a).values(leaderboard_opt_in=False))
    names = []
    for records in accounts:
        names.append(f"p{next(NAMES)}")
        account = account_id(engine, names[-1])
        insert_usage(engine, account, records)
        with engine.begin() as conn:
            conn.execute(sa.update(a).where(a.c.id == account).values(leaderboard_opt_in=True))
    return names


def engine_prices(records: list[dict], rates, *, since=None, model=None, at=None):
    """(tokens, USD or None, {"YYYY-MM": USD or None}) of the records, through the engine: summed
    per UTC day, model, tier and long-context flag (the groups of its contract), each group
    priced by ``price_groups``."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in records:
        day = r["ts"].date()
        if (since and day < since) or (model and r["model"] != model):
            continue
        key = (r["model"], day, r["tier"], r["input"] > LONG_CONTEXT_TOKENS)
        for i, name in enumerate(("input", "cached", "cache_write", "output")):
            sums[key][i] += r[name]
    groups = [Group(*key, *counts) for key, counts in sorted(sums.items())]
    months: dict[str, float | None] = {}
    usd = None
    for group, cost in zip(groups, price_groups(groups, rates, at=at), strict=True):
        month = group.day.strftime("%Y-%m")
        months.setdefault(month, None)
        if cost is not None:
            usd = (usd or 0.0) + cost.usd
            months[month] = (months[month] or 0.0) + cost.usd
    tokens = sum(g.input + g.output for g in groups)
    return tokens, usd, months


def measure(row: board.BoardRow, by: str) -> tuple:
    return (row.usd is None, -(row.usd or 0.0)) if by == "usd" else (-row.tokens,)


def assert_ranked(rows: list[board.BoardRow], by: str) -> None:
    """Best first, names in order among equals, and ties sharing the first rank of their run."""
    keys = [(measure(row, by), row.name) for row in rows]
    assert keys == sorted(keys)
    better = [1 + sum(measure(o, by) < measure(row, by) for o in rows) for row in rows]
    assert [row.rank for row in rows] == better


@pytest.fixture
def engine(store_url):
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    accounts=st.lists(st.lists(usage(), max_size=8), min_size=1, max_size=5),
    table=st.sampled_from(sorted(TABLES)),
    by=st.sampled_from(("usd", "tokens")),
    since=st.one_of(st.none(), st.dates(FIRST_DAY, TODAY)),
    at=st.one_of(st.none(), st.dates(FIRST_DAY, TODAY)),
    model=st.one_of(st.none(), st.sampled_from(MODELS)),
)
def test_the_board_prices_usage_as_the_engine_does(engine, accounts, table, by, since, at, model):
    rates = TABLES[table]
    names = store_accounts(engine, accounts)
    expected = {
        name: engine_prices(records, rates, since=since, model=model, at=at)
        for name, records in zip(names, accounts, strict=True)
    }
    on_board = {name: figures for name, figures in expected.items() if figures[0]}
    page = board.leaderboard(
        engine, rates, since=since, by=by, model=model, at=at, limit=len(names)
    )
    assert page.total == len(on_board)
    assert {row.name: row.tokens for row in page.rows} == {n: f[0] for n, f in on_board.items()}
    for row in page.rows:
        usd = on_board[row.name][1]
        assert row.usd == (None if usd is None else pytest.approx(usd, rel=1e-9, abs=1e-12))
        rank = board.rank_of(engine, rates, row.account_id, since=since, by=by, model=model, at=at)
        assert rank == row.rank
    assert_ranked(page.rows, by)

    for name, records in zip(names, accounts, strict=True):
        tokens, usd, months = engine_prices(records, rates)
        shown = board.profile(engine, rates, name)
        assert (shown.tokens, shown.responses) == (tokens, len(records))
        assert shown.usd == (None if usd is None else pytest.approx(usd, rel=1e-9, abs=1e-12))
        assert {month: cost for month, _, cost in shown.months} == {
            month: None if cost is None else pytest.approx(cost, rel=1e-9, abs=1e-12)
            for month, cost in months.items()
        }


def test_accounts_with_only_unpriced_usage_rank_after_every_priced_one(engine):
    day = TODAY - timedelta(days=3)
    names = store_accounts(
        engine,
        [
            [record(day, UNPRICED, "standard", 900_000, 0, 0, 90_000)],
            [record(day, "gpt-5", "standard", 1_000, 0, 0, 10)],
            [record(day, "gpt-5.3-codex-spark", "priority", 500_000, 0, 0, 0)],
            [record(day, UNPRICED, "standard", 5, 0, 0, 5), record(day, "o3", "flex", 9, 0, 0, 1)],
        ],
    )
    rates = TABLES["rates.csv"]
    page = board.leaderboard(engine, rates, since=None, by="usd")
    assert [(row.rank, row.name) for row in page.rows] == [
        (1, names[1]),
        (2, names[3]),
        (3, names[0]),
        (3, names[2]),
    ]
    assert [row.usd is None for row in page.rows] == [False, False, True, True]
    only_o3 = price_groups([Group("o3", day, "flex", False, 9, 0, 0, 1)], rates)[0].usd
    assert page.rows[1].usd == pytest.approx(only_o3, rel=1e-12)  # the priced part alone
    by_tokens = board.leaderboard(engine, rates, since=None)
    assert [(row.name, row.usd is None) for row in by_tokens.rows] == [
        (names[0], True),
        (names[2], True),
        (names[1], False),
        (names[3], False),
    ]


def test_a_board_by_usd_reads_one_row_per_account(engine):
    """Two months of daily usage of two models at two tiers per account: the store sums it, and
    no statement hands back more rows than the accounts plus the kinds of usage priced."""
    rates = TABLES["rates.csv"]
    days = [TODAY - timedelta(days=n) for n in range(60)]
    accounts = [
        [
            record(day, model, tier, 10_000 * (k + 1), 2_000, 0, 500)
            for day in days
            for model in ("gpt-5", "gpt-5.5")
            for tier in ("standard", "priority")
        ]
        for k in range(4)
    ]
    names = store_accounts(engine, accounts)
    ran: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            ran.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", remember)
    page = board.leaderboard(engine, rates, since=None, by="usd")
    sa.event.remove(engine, "before_cursor_execute", remember)
    assert [row.name for row in page.rows] == names[::-1]
    for row, records in zip(page.rows, accounts[::-1], strict=True):
        assert row.usd == pytest.approx(engine_prices(records, rates)[1], rel=1e-9)
    kinds = 2 * 2
    with engine.connect() as conn:
        returned = [len(conn.exec_driver_sql(s, p).all()) for s, p in ran]
    assert max(returned) <= len(names) * 2  # the rows shown, by model
    # the kinds, an account's sums, its rows by model, and (PostgreSQL) the opted-in ids
    assert sum(returned) <= len(names) * 4 + kinds


def test_more_kinds_of_usage_than_a_statement_holds(engine):
    """Model names are the uploader's: thousands of spellings of priced models (each its own
    price row) still price exactly, read after read."""
    rates = TABLES["rates.csv"]
    day = TODAY - timedelta(days=1)
    records = [
        record(day, f"team{n}/gpt-5", ("standard", "priority")[n % 2], 1_000 + n, n, 0, 100)
        for n in range(3_700)
    ]
    used = [(r["model"], r["tier"], False, day, day) for r in records]
    assert len(board.price_spans(rates, used)) * len(board.PriceSpan._fields) > 32_766
    names = store_accounts(engine, [records, [record(day, "gpt-5", "standard", 10, 0, 0, 1)]])
    _, usd, _ = engine_prices(records, rates)
    ran: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        ran.append(statement)

    sa.event.listen(engine, "before_cursor_execute", remember)
    for _ in range(2):
        page = board.leaderboard(engine, rates, since=None, by="usd")
        assert [row.name for row in page.rows] == names
        assert page.rows[0].usd == pytest.approx(usd, rel=1e-9)
    sa.event.remove(engine, "before_cursor_execute", remember)
    # the prices go as one parameter: nothing is written (a read replica serves a board), and
    # no statement grows with the kinds of usage
    assert all(s.lstrip().upper().startswith(("SELECT", "SET", "WITH")) for s in ran), ran
    assert max(map(len, ran)) < 5_000
    assert board.leaderboard(engine, rates, since=day).rows[0].usd == pytest.approx(usd, rel=1e-9)
    assert board.profile(engine, rates, names[0]).usd == pytest.approx(usd, rel=1e-9)


def test_price_spans_follow_the_engine_across_changes_and_gaps():
    spans = board.price_spans(
        TABLE, [("alpha", "standard", False, date(2026, 3, 20), date(2026, 5, 10))]
    )
    assert [(s.first, s.last, s.fresh, s.cache_write) for s in spans] == [
        (date(2026, 3, 20), date(2026, 3, 31), 2.0, 2.5),
        (date(2026, 5, 1), date(2026, 5, 10), 1.0, 1.25),
    ]  # April has no price: no span, so April's usage is unpriced
    long = board.price_spans(TABLE, [("alpha", "standard", True, date(2026, 6, 1), TODAY)])
    assert [(s.fresh, s.cached, s.cache_write, s.output) for s in long] == [
        pytest.approx((2.0, 0.15, 2.5, 6.0), rel=1e-12)
    ]
    mapped = board.price_spans(
        TABLE, [("label-x", "priority", False, date(2026, 1, 1), TODAY)], at=date(2026, 6, 30)
    )
    assert [(s.first, s.last, s.fresh) for s in mapped] == [(date(2026, 1, 1), TODAY, 2.0)]
    assert board.price_spans(TABLE, [("label-x", "standard", False, date(2026, 7, 1), TODAY)]) == []


@pytest.mark.parametrize("table", TABLES)
def test_price_runs_cover_time_with_the_engines_prices(table):
    """A kind's runs are sorted, disjoint, and price every day as the engine does; the table keeps
    them (derived from it alone), and a what-if copy of the table has its own."""
    rates = TABLES[table]
    days = [FIRST_DAY + timedelta(days=n) for n in range(0, (TODAY - FIRST_DAY).days + 40, 3)]
    kinds = [
        (model, tier, long)
        for model in ("alpha", "label-x", "beta", "o3", "gpt-5.5", "codex-auto-review", "nope")
        for tier in TIERS
        for long in (False, True)
    ]
    for model, tier, long in kinds:
        for at in (None, date(2026, 6, 30)):
            runs = rates.price_runs(model, tier, long, at)
            assert rates.price_runs(model, tier, long, at) is runs
            assert all(a.last < b.first for a, b in zip(runs, runs[1:], strict=False))
            assert all(run.first <= run.last for run in runs)
            for day in days:
                found = [run for run in runs if run.first <= day <= run.last]
                cost = rates.cost_of(
                    model, at or day, tier, long, 3_000_000, 1_000_000, 500_000, 70
                )
                if cost is None:
                    assert found == []
                    continue
                (run,) = found
                usd = (1.5 * run.fresh + run.cached + 0.5 * run.cache_write) + 70e-6 * run.output
                assert usd == pytest.approx(cost.usd, rel=1e-12)
    priced = next(kind for kind in kinds if rates.price_runs(*kind))
    doubled = adjusted(rates, multiplier=2).price_runs(*priced)
    assert [run.output for run in doubled] == [2 * run.output for run in rates.price_runs(*priced)]


def test_names_no_rate_prices_cost_nothing_to_keep():
    """Model names are the uploader's to choose: thousands no rate prices are answered at once
    and never fill the kept runs, so they cannot push out the kinds a board prices."""
    rates = TABLES["test table"]
    priced = rates.price_runs("alpha", "standard", False)
    kept = len(rates._runs)
    for n in range(25_000):
        assert rates.price_runs(f"acme-secret-{n}", "standard", False) == ()
    assert len(rates._runs) == kept
    assert rates.price_runs("alpha", "standard", False) is priced
    assert rates.names("alpha") and rates.names("label-x") and not rates.names("nope")
