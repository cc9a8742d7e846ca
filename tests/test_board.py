"""The board's read side over the daily rollups (store.board), on SQLite and PostgreSQL: the same
ranks, tokens and estimates as the leaderboard that scanned every record, ties, search, model
filter, pages, flagged usage left out, profiles and badge totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from store import board
from store.db import account_id, insert_usage, open_store
from store.models import Account
from store.pricing import load_rates
from tests.board_oracle import leaderboard as scanned_leaderboard

RATES = load_rates()
TODAY = datetime.now(UTC).date()
MODELS = ("gpt-5", "gpt-5.4", "o3", "gpt-4.1", "codex-auto-review", "not-a-priced-model", "gpt-5.5")


def rec(n: int, day: date, *, model: str = "gpt-5", inp: int = 10_000, **over) -> dict:
    base = dict(
        ts=datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC) + timedelta(seconds=n),
        model=model,
        tier=("standard", "priority", "flex", "unknown")[n % 4],
        input=inp,
        cached=inp // 4,
        cache_write=inp // 10,
        output=inp // 20,
        reasoning=0,
        event_id=f"{n:032x}",
        session="d" * 32,
        label=None,
    )
    return {**base, **over}


def opt_in(engine, *ids: int) -> None:
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(a).where(a.c.id.in_(ids)).values(leaderboard_opt_in=True))


def people(engine) -> dict[str, int]:
    """Accounts with varied usage: across the price change of 2026-10-12, long-context responses,
    seven models (two without a price of their own), a flagged minute, a record the record type
    refuses, and one account that never opted in."""
    ids = {name: account_id(engine, name) for name in ("alice", "Bob", "carol", "dave", "shy")}
    change = date(2026, 10, 12)
    for k, (name, scale) in enumerate((("alice", 3), ("Bob", 5), ("carol", 1), ("shy", 9))):
        rows = [
            rec(
                1000 * k + n,
                change + timedelta(days=(n % 9) - 4 - (30 if n % 5 == 0 else 0)),
                model=MODELS[(n + k) % len(MODELS)],
                inp=(300_000 if n % 6 == 0 else 10_000) * scale,
            )
            for n in range(40)
        ]
        insert_usage(engine, ids[name], rows)
    heavy = [
        rec(5000 + n, TODAY - timedelta(days=2), inp=3_900_000, cached=0, cache_write=0)
        for n in range(31)
    ]  # one minute over its bound: flagged, kept, never ranked
    insert_usage(engine, ids["dave"], heavy)
    insert_usage(engine, ids["dave"], [rec(6000, TODAY, inp=50_000)])
    insert_usage(engine, ids["carol"], [rec(7000, TODAY, inp=5_000_000)])  # out of bounds
    opt_in(engine, *(ids[n] for n in ("alice", "Bob", "carol", "dave")))
    return ids


@pytest.fixture
def engine(store_url):
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def mix_text(row: board.BoardRow) -> str:
    """A row's model mix as the scanning leaderboard wrote it."""
    text = ", ".join(f"{m} {share}%" for m, share in row.models)
    return text + (f", +{row.more_models} more" if row.more_models else "")


@pytest.mark.parametrize(
    ("since", "by", "at"),
    [
        (None, "tokens", None),
        (None, "usd", None),
        (date(2026, 10, 10), "usd", None),
        (date(2026, 10, 10), "tokens", date(2026, 10, 1)),
        (None, "usd", date(2026, 11, 1)),
    ],
)
def test_the_board_equals_the_leaderboard_that_scanned_every_record(engine, since, by, at):
    people(engine)
    since_ts = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None
    old = scanned_leaderboard(engine, since_ts, RATES, by, at=at).to_dicts()
    new = board.leaderboard(engine, RATES, since=since, by=by, at=at)
    assert new.total == len(old) == 4
    assert [(r.rank, r.name, r.tokens, mix_text(r)) for r in new.rows] == [
        (o["rank"], o["name"], int(o["tokens"]), o["models"]) for o in old
    ]
    assert [r.usd for r in new.rows] == pytest.approx([o["usd"] for o in old], rel=1e-9)
    assert any(r.more_models for r in new.rows)


def test_flagged_usage_and_accounts_that_never_opted_in_are_left_out(engine):
    ids = people(engine)
    page = board.leaderboard(engine, RATES, since=None)
    dave = next(r for r in page.rows if r.name == "dave")
    assert dave.tokens == 50_000 + 50_000 // 20  # only the plausible record
    assert page.flagged_records == 31
    assert "shy" not in {r.name for r in page.rows}
    assert board.rank_of(engine, RATES, ids["shy"], since=None) is None
    assert board.leaderboard(engine, RATES, since=TODAY - timedelta(days=1)).flagged_records == 0


def test_ties_share_a_rank_and_search_keeps_it(engine):
    names = ("ann", "ben", "cat", "dan")
    ids = [account_id(engine, n) for n in names]
    for n, (account, inp) in enumerate(zip(ids, (500, 900, 900, 100), strict=True)):
        insert_usage(engine, account, [rec(n, TODAY, inp=inp, cached=0, cache_write=0)])
    opt_in(engine, *ids)
    page = board.leaderboard(engine, RATES, since=None)
    assert [(r.rank, r.name) for r in page.rows] == [(1, "ben"), (1, "cat"), (3, "ann"), (4, "dan")]
    found = board.leaderboard(engine, RATES, since=None, search=" AN")
    assert [(r.rank, r.name) for r in found.rows] == [(3, "ann"), (4, "dan")]
    assert found.total == 2
    assert board.rank_of(engine, RATES, ids[3], since=None) == 4


def test_pages_past_the_first(engine):
    ids = [account_id(engine, f"user{n:03}") for n in range(130)]
    for n, account in enumerate(ids):
        insert_usage(engine, account, [rec(n, TODAY, inp=1000 + n, cached=0, cache_write=0)])
    opt_in(engine, *ids)
    first = board.leaderboard(engine, RATES, since=TODAY)
    second = board.leaderboard(engine, RATES, since=TODAY, offset=100)
    assert (first.total, len(first.rows), len(second.rows)) == (130, 100, 30)
    assert [r.rank for r in first.rows + second.rows] == list(range(1, 131))
    assert second.rows[-1].name == "user000"
    with pytest.raises(ValueError):
        board.leaderboard(engine, RATES, since=None, offset=-1)


def test_a_model_filter_ranks_by_that_model_alone(engine):
    big, small = account_id(engine, "big"), account_id(engine, "small")
    insert_usage(engine, big, [rec(1, TODAY, model="gpt-5", inp=90_000)])
    insert_usage(engine, big, [rec(2, TODAY, model="o3", inp=1_000)])
    insert_usage(engine, small, [rec(3, TODAY, model="o3", inp=5_000)])
    opt_in(engine, big, small)
    assert [r.name for r in board.leaderboard(engine, RATES, since=None).rows] == ["big", "small"]
    page = board.leaderboard(engine, RATES, since=None, model="o3")
    assert [(r.name, r.tokens, r.models) for r in page.rows] == [
        ("small", 5_250, [("o3", 100)]),
        ("big", 1_050, [("o3", 100)]),
    ]
    assert board.rank_of(engine, RATES, big, since=None, model="o3") == 2
    assert board.board_models(engine) == ["gpt-5", "o3"]


def test_a_profile_is_public_only_once_opted_in(engine):
    ids = people(engine)
    assert board.profile(engine, RATES, "shy") is None
    assert board.profile(engine, RATES, "nobody") is None
    mine = board.profile(engine, RATES, "bob")  # names match regardless of case
    assert mine is not None and mine.name == "Bob"
    ranked = board.leaderboard(engine, RATES, since=None)
    bob = next(r for r in ranked.rows if r.name == "Bob")
    assert mine.tokens == bob.tokens == sum(tokens for _, tokens in mine.days)
    assert mine.usd == pytest.approx(bob.usd, rel=1e-9)
    assert sum(usd or 0 for *_, usd in mine.months) == pytest.approx(bob.usd, rel=1e-9)
    assert [m for m, *_ in mine.models][:5] == [m for m, _ in bob.models]
    assert sum(tokens for _, tokens, _ in mine.models) == mine.tokens
    assert [month for month, *_ in mine.months] == ["2026-09", "2026-10"]
    assert mine.longest_streak == 9 and mine.current_streak == 0
    assert mine.responses == 40
    dave = board.profile(engine, RATES, "dave")
    assert dave.days == [(TODAY, 52_500)] and dave.current_streak == 1
    assert ids  # (every field is a day or coarser: the dataclass has no hour to give)
    assert {f for f in board.Profile.__dataclass_fields__} >= {"days", "months", "models"}
    assert not {f for f in board.Profile.__dataclass_fields__ if "hour" in f or "label" in f}


def test_badge_totals(engine):
    people(engine)
    dave = 50_000 + 50_000 // 20
    assert board.badge_tokens(engine, "DAVE", days=30) == dave  # the flagged minute left out
    assert board.badge_tokens(engine, "dave", days=1, today=TODAY + timedelta(days=1)) == 0
    assert board.badge_tokens(engine, "shy", days=30) is None
    assert board.badge_tokens(engine, "nobody", days=None) is None
    bob = board.profile(engine, RATES, "Bob").tokens
    assert board.badge_tokens(engine, "Bob", days=None) == bob
    assert board.badge_tokens(engine, "Bob", days=30) == 0  # Bob's usage is older


@pytest.mark.parametrize(
    ("days", "today", "expected"),
    [
        ([], date(2026, 3, 5), (0, 0)),
        ([date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 4)], date(2026, 3, 5), (1, 2)),
        ([date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 4)], date(2026, 3, 6), (0, 2)),
        ([date(2026, 3, d) for d in (1, 3, 4, 5)], date(2026, 3, 5), (3, 3)),
    ],
)
def test_streaks_count_utc_days(days, today, expected):
    assert board.streaks(days, today) == expected


def test_percent_rounds_halves_up():
    assert [board.percent(1, 8), board.percent(1, 200), board.percent(0, 0)] == [13, 1, 0]
