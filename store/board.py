"""The public board's read side: leaderboard, ranks, profiles and badges, from the daily rollups.

Only accounts that opted in are ever shown, and only their rollups with no plausibility flag are
ranked or drawn (flagged usage is counted apart, for a note). Nothing here reads the records
themselves, nor anything finer than a UTC day: never an hour, never a label. SQLAlchemy Core only
(a server install has no polars or DuckDB); each answer is a small frozen dataclass.

Tokens are input + output, as in every Codextime figure. API-equivalent USD comes from
``store.pricing``'s engine: each rollup is priced at the rates of its own day (or, with ``at``,
of that date), its tier and its long-context flag. The engine gives the price of a million tokens
of each kind for every kind of usage the store holds (``rollup_kind``, kept beside the rollups,
so a read needs no pass over them to find what to price; ``price_spans``); the prices go with
the statement as one JSON parameter, and the store multiplies and sums, so a board of thousands
of accounts comes back as one row per account.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from store.models import Account, DailyRollup, RollupKind
from store.pricing import PriceRun, RateTable

#: Models named in a board row's mix, largest first; the others are counted in ``more_models``.
#: Model names are the uploader's to choose, and the board is public.
MIX_SHOWN = 5
#: What a board can be ranked by.
Ranking = Literal["tokens", "usd"]


@dataclass(frozen=True)
class BoardRow:
    rank: int
    account_id: int
    name: str
    tokens: int
    #: None when none of the account's usage has a published price
    usd: float | None
    #: (model, share of the account's tokens in percent), largest first, at most ``MIX_SHOWN``
    models: list[tuple[str, int]]
    more_models: int = 0


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    #: rows matching the search (all ranked accounts without one): what pages are counted in
    total: int
    #: records of opted-in accounts in the period (and model) left out as implausible
    flagged_records: int


@dataclass(frozen=True)
class Profile:
    """An opted-in account's public page: daily totals, streaks, model mix, cost per month."""

    name: str
    #: (UTC day, tokens) of every active day, oldest first
    days: list[tuple[date, int]]
    tokens: int
    input: int
    cached: int
    cache_write: int
    output: int
    reasoning: int
    responses: int
    usd: float | None
    #: consecutive active UTC days up to today (or yesterday, while today is still young)
    current_streak: int
    longest_streak: int
    #: (model, tokens, share percent), largest first
    models: list[tuple[str, int, int]]
    #: ("YYYY-MM", tokens, API-equivalent USD or None when unpriced), oldest first
    months: list[tuple[str, int, float | None]]


def leaderboard(
    engine: Engine,
    rates: RateTable,
    *,
    since: date | None,
    by: Ranking = "tokens",
    model: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 100,
    at: date | None = None,
) -> BoardPage:
    """Opted-in accounts ranked by tokens (input + output) or API-equivalent USD of their
    unflagged usage from the UTC day ``since`` on (None: all time), at the prices of each day or,
    with ``at``, of that date. Ties share a rank. With ``model``, only that model's usage counts
    (and ranks). Ranked by USD, accounts whose usage has no published price at all come after
    every priced one, tied. ``search`` (case-insensitive, part of a name) picks rows after
    ranking, so a person found by search keeps their rank; ``offset`` and ``limit`` page through
    the rows."""
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit cannot be negative")
    spec = _Board(since, by, model, at)
    ranked, flagged = _ranked(engine, rates, spec)
    if search and search.strip():
        needle = search.strip().casefold()
        ranked = [entry for entry in ranked if needle in entry.name.casefold()]
    shown = _rows(engine, rates, ranked[offset : offset + limit], spec)
    return BoardPage(shown, len(ranked), flagged)


def rank_of(
    engine: Engine,
    rates: RateTable,
    account_id: int,
    *,
    since: date | None,
    by: Ranking = "tokens",
    model: str | None = None,
    at: date | None = None,
) -> int | None:
    """The account's rank on that board; None when it is not on it (not opted in, or no
    unflagged usage there)."""
    ranked, _ = _ranked(engine, rates, _Board(since, by, model, at))
    return next((entry.rank for entry in ranked if entry.account == account_id), None)


def board_models(engine: Engine) -> list[str]:
    """The models of opted-in accounts' unflagged usage, for the board's model filter."""
    r = DailyRollup.__table__
    with engine.connect() as conn:
        on_board = _on_board(conn, r.c.account_id)
        query = sa.select(r.c.model).distinct().where(on_board, sa.not_(r.c.flagged))
        return list(conn.execute(query.order_by(r.c.model)).scalars())


def profile(
    engine: Engine, rates: RateTable, name: str, *, today: date | None = None
) -> Profile | None:
    """The public profile of the account named ``name`` (case-insensitively); None unless that
    account exists and opted in. Unflagged usage only, by UTC day."""
    r = DailyRollup.__table__
    with _reading(engine) as conn:
        found = conn.execute(_opted_in(name)).first()
        if found is None:
            return None

        def own(query: sa.Select) -> sa.Select:
            return query.where(r.c.account_id == found.id, sa.not_(r.c.flagged))

        counts = ("input", "cached", "cache_write", "output", "reasoning", "responses")
        usage, cost = _priced_usage(conn, rates, None, None)
        sums = (sa.cast(sa.func.sum(r.c[k]), sa.BigInteger) for k in counts)
        query = own(sa.select(r.c.day, r.c.model, *sums, sa.func.sum(cost)).select_from(usage))
        rows = conn.execute(query.group_by(r.c.day, r.c.model)).all()
    per_day: Counter[date] = Counter()
    per_model: Counter[str] = Counter()
    per_month: dict[str, list] = {}
    totals: Counter[str] = Counter()
    total_usd: float | None = None
    for day, model, *figures, cost in rows:
        day = _as_date(day)
        counted = dict(zip(counts, map(int, figures), strict=True))
        tokens = counted["input"] + counted["output"]
        per_day[day] += tokens
        per_model[model] += tokens
        totals.update(counted)
        month = per_month.setdefault(day.strftime("%Y-%m"), [0, None])
        month[0] += tokens
        if cost is not None:
            month[1] = (month[1] or 0.0) + cost
            total_usd = (total_usd or 0.0) + cost
    days = sorted(per_day.items())
    current, longest = streaks([day for day, _ in days], today or datetime.now(UTC).date())
    total = totals["input"] + totals["output"]
    return Profile(
        name=found.name,
        days=days,
        tokens=total,
        input=totals["input"],
        cached=totals["cached"],
        cache_write=totals["cache_write"],
        output=totals["output"],
        reasoning=totals["reasoning"],
        responses=totals["responses"],
        usd=total_usd,
        current_streak=current,
        longest_streak=longest,
        models=[(m, n, percent(n, total)) for m, n in _largest_first(per_model)],
        months=[(month, tokens, cost) for month, (tokens, cost) in sorted(per_month.items())],
    )


def badge_tokens(
    engine: Engine, name: str, *, days: int | None, today: date | None = None
) -> int | None:
    """Tokens (input + output) of the account named ``name`` (case-insensitively) over its last
    ``days`` UTC days, today included (None: all time), unflagged usage only; None unless the
    account exists and opted in."""
    r = DailyRollup.__table__
    found = _opted_in(name).subquery()
    joined = sa.and_(r.c.account_id == found.c.id, sa.not_(r.c.flagged))
    if days is not None:
        joined = sa.and_(joined, r.c.day >= _first_day(days, today))
    query = sa.select(found.c.id, sa.func.sum(r.c.input + r.c.output)).select_from(
        found.outerjoin(r, joined)
    )
    with engine.connect() as conn:
        account, tokens = conn.execute(query.group_by(found.c.id)).first() or (None, None)
    return None if account is None else int(tokens or 0)


def streaks(days: list[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days among ``days`` (sorted, distinct); the
    current run counts while its last day is today or yesterday."""
    longest = run = 0
    previous = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    alive = previous is not None and today - previous <= timedelta(days=1)
    return (run if alive else 0), longest


def percent(part: int, whole: int) -> int:
    """``part`` of ``whole`` in whole percent, halves rounded up; 0 of nothing."""
    return (200 * part + whole) // (2 * whole) if whole else 0


#: The prices of one model, tier and long-context flag from ``first`` to ``last`` (UTC days, both
#: included): a ``PriceRun`` of that kind of usage, clipped to the days a read covers.
PriceSpan = NamedTuple(
    "PriceSpan", [("model", str), ("tier", str), ("long", bool), *PriceRun.__annotations__.items()]
)


def price_spans(
    rates: RateTable, used: Iterable[tuple[str, str, bool, date, date]], *, at: date | None = None
) -> list[PriceSpan]:
    """The prices of each kind of usage in ``used`` (model, tier, long-context flag, and the first
    and last day it may occur), at the rates of each day or, with ``at``, of that date: one span
    per run of days with equal prices (``RateTable.price_runs``). Days on which a model has no
    price get no span, so their usage stays unpriced, never priced at $0.

    For one model, day, tier and flag a cost is linear in each count (fresh input = input - cached
    - cache_write, which sums of valid records keep non-negative), so a sum of any size is priced
    by these four rates, which the engine gives as the price of a million tokens of each kind."""
    spans = []
    for model, tier, long, first, last in used:
        first, last = _as_date(first), _as_date(last)
        for run in rates.price_runs(model, tier, bool(long), at):
            if run.first <= last and first <= run.last:
                clipped = (max(first, run.first), min(last, run.last))
                spans.append(PriceSpan(model, tier, bool(long), *clipped, *run[2:]))
    return spans


# -- inside -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Standing:
    """An account's place on a board."""

    rank: int
    account: int
    name: str
    tokens: int
    #: known when the board is ranked by it (else ``_rows`` prices the rows shown)
    usd: float | None


@dataclass(frozen=True)
class _Board:
    """Which usage a board ranks, and how."""

    since: date | None
    by: Ranking
    model: str | None
    at: date | None

    def __post_init__(self) -> None:
        if self.by not in ("tokens", "usd"):
            raise ValueError(f"a board is ranked by tokens or usd, not {str(self.by)[:20]!r}")

    def scope(
        self, conn: sa.Connection, accounts: list[int] | None = None, *, flagged_too: bool = False
    ) -> Callable[[sa.Select], sa.Select]:
        """What cuts a query over the rollups to this board's usage (of ``accounts`` only, if
        given: accounts the board ranked, so opted in; its flagged usage too, if asked)."""
        r = DailyRollup.__table__
        # (the listed accounts alone tell the planner how few rows they hold)
        on_board = _on_board(conn, r.c.account_id) if accounts is None else None

        def cut(query: sa.Select) -> sa.Select:
            if on_board is not None:
                query = query.where(on_board)
            if not flagged_too:
                query = query.where(sa.not_(r.c.flagged))
            if self.since is not None:
                query = query.where(r.c.day >= self.since)
            if self.model is not None:
                query = query.where(r.c.model == self.model)
            if accounts is not None:
                query = query.where(r.c.account_id.in_(accounts))
            return query

        return cut


def _ranked(engine: Engine, rates: RateTable, spec: _Board) -> tuple[list[_Standing], int]:
    """Every account on the board, best first (then by name and id), and the records of the
    board's period and model left out as implausible. Ranked by USD, an account with no priced
    usage (``usd`` None) comes after every priced one."""
    with _reading(engine) as conn:
        sums, flagged = _sums(conn, rates if spec.by == "usd" else None, spec)

    def measure(tokens: int, usd: float | None) -> tuple:
        return (usd is None, -(usd or 0.0)) if spec.by == "usd" else (-tokens,)

    order = sorted((measure(*row[2:]), row[1], row[0], row) for row in sums)
    ranked, rank, previous = [], 0, None
    for place, (measured, *_, row) in enumerate(order, start=1):
        if measured != previous:
            rank, previous = place, measured
        ranked.append(_Standing(rank, *row))
    return ranked, flagged


def _rows(engine: Engine, rates: RateTable, shown: list[_Standing], spec: _Board) -> list[BoardRow]:
    """Board rows of ranked accounts, each with its model mix and API-equivalent (priced here
    when the board is ranked by tokens)."""
    if not shown:
        return []
    r = DailyRollup.__table__
    accounts = [entry.account for entry in shown]
    listed = accounts if len(accounts) <= _LISTED_ACCOUNTS else None
    mixes: dict[int, Counter[str]] = {account: Counter() for account in accounts}
    usd = {entry.account: entry.usd for entry in shown}
    with _reading(engine) as conn:
        scope = spec.scope(conn, listed)
        rated = rates if spec.by == "tokens" else None
        usage, cost = _priced_usage(conn, rated, spec.since, spec.at)
        tokens = sa.cast(sa.func.sum(r.c.input + r.c.output), sa.BigInteger)
        query = scope(sa.select(r.c.account_id, r.c.model, tokens, sa.func.sum(cost)))
        for account, model, total, priced in conn.execute(
            query.select_from(usage).group_by(r.c.account_id, r.c.model)
        ):
            if account in mixes:
                mixes[account][model] += int(total)
                if priced is not None:
                    usd[account] = (usd[account] or 0.0) + priced
    rows = []
    for entry in shown:
        mix = _largest_first(mixes[entry.account])
        rows.append(
            BoardRow(
                rank=entry.rank,
                account_id=entry.account,
                name=entry.name,
                tokens=entry.tokens,
                usd=usd[entry.account],
                models=[(m, percent(n, entry.tokens)) for m, n in mix[:MIX_SHOWN]],
                more_models=max(0, len(mix) - MIX_SHOWN),
            )
        )
    return rows


def _sums(
    conn: sa.Connection, rates: RateTable | None, spec: _Board
) -> tuple[list[tuple[int, str, int, float | None]], int]:
    """(account, name, tokens, API-equivalent USD or None) of each account on the board, the USD
    priced only when ``rates`` are given; and the board's flagged records, counted in the same
    pass over the rollups."""
    r, a = DailyRollup.__table__, Account.__table__
    plausible = sa.not_(r.c.flagged)
    usage, cost = _priced_usage(conn, rates, spec.since, spec.at)
    summed = (
        spec.scope(conn, flagged_too=True)(
            sa.select(
                r.c.account_id,
                sa.cast(sa.func.sum(r.c.input + r.c.output).filter(plausible), sa.BigInteger),
                sa.func.sum(cost).filter(plausible),
                sa.cast(sa.func.sum(r.c.responses).filter(r.c.flagged), sa.BigInteger),
            ).select_from(usage)
        )
        .group_by(r.c.account_id)
        .subquery()
    )
    # names joined to the sums, not the rollups: one lookup per account, not per rollup
    query = sa.select(a.c.id, a.c.name, *list(summed.c)[1:]).join(
        summed, summed.c.account_id == a.c.id
    )
    rows = conn.execute(query).all()
    sums = [
        (account, name, int(total), usd)
        for account, name, total, usd, _ in rows
        if total is not None
    ]
    return sums, sum(int(flagged or 0) for *_, flagged in rows)


def _priced_usage(
    conn: sa.Connection, rates: RateTable | None, since: date | None, at: date | None
) -> tuple[sa.FromClause, sa.ColumnElement]:
    """The rollups joined to the prices of their own model, tier, long-context flag and day (or
    ``at``), and each rollup's API-equivalent USD (NULL where it has no price, and everywhere
    without ``rates``): the engine prices every kind of usage the store holds (``rollup_kind``,
    a few rows) from ``since`` on, the store multiplies and sums."""
    r = DailyRollup.__table__
    if rates is None:
        return r, sa.cast(sa.null(), sa.Float)
    k = RollupKind.__table__
    kinds = conn.execute(sa.select(k.c.model, k.c.tier, k.c.long_context)).all()
    first = since or date.min
    spans = price_spans(rates, [(*kind, first, date.max) for kind in kinds], at=at)
    if not spans:
        return _priced_usage(conn, None, since, at)
    price = _price_table(conn.dialect.name, spans)
    matches = sa.and_(
        price.c.model == r.c.model,
        price.c.tier == r.c.tier,
        price.c.long_context == r.c.long_context,
        r.c.day.between(price.c.first_day, price.c.last_day),
    )
    cost = (
        (r.c.input - r.c.cached - r.c.cache_write) * price.c.fresh
        + r.c.cached * price.c.cached
        + r.c.cache_write * price.c.cache_write
        + r.c.output * price.c.output
    )
    return r.outerjoin(price, matches), cost / 1_000_000


#: The price table's columns: ``PriceSpan``'s, named as no SQL keyword is.
_PRICE_COLUMNS = (
    ("model", sa.String, "varchar"),
    ("tier", sa.String, "varchar"),
    ("long_context", sa.Boolean, "boolean"),
    ("first_day", sa.Date, "date"),
    ("last_day", sa.Date, "date"),
    *((name, sa.Float, "float8") for name in ("fresh", "cached", "cache_write", "output")),
)


def _price_table(dialect: str, spans: list[PriceSpan]) -> sa.FromClause:
    """``spans`` as a table the store can join, sent as one JSON parameter however many there are
    (model names are the uploader's to choose): no statement grows with them, and a read writes
    nothing (a read replica can serve it)."""
    names = [name for name, _, _ in _PRICE_COLUMNS]
    prices = json.dumps(
        [
            dict(zip(names, (*span[:3], *map(str, span[3:5]), *span[5:]), strict=True))
            for span in spans
        ]
    )
    if dialect == "postgresql":
        typed = ", ".join(f"{name} {kind}" for name, _, kind in _PRICE_COLUMNS)
        rows = f"SELECT * FROM json_to_recordset(CAST(:prices AS json)) AS price({typed})"
    else:
        fields = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in names)
        rows = f"SELECT {fields} FROM json_each(:prices)"
    columns = (sa.column(name, kind) for name, kind, _ in _PRICE_COLUMNS)
    return sa.text(rows).bindparams(prices=prices).columns(*columns).subquery("price")


#: Accounts a read names one by one; more are read with the whole board's usage.
_LISTED_ACCOUNTS = 1_000
#: Memory PostgreSQL may give one board's grouping (its default, 4 MB, spills a board of
#: thousands of accounts to disk).
_WORK_MEM = "64MB"


@contextlib.contextmanager
def _reading(engine: Engine) -> Iterator[sa.Connection]:
    """A connection for one read; on PostgreSQL its transaction may group in memory, and joins
    the rollups to the prices (and the sums to the names) by hash."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # The opted-in ids are a subquery's array, of a size the planner guesses (10): it
            # would take a few rollups for many, and loop over the prices for each of them.
            conn.execute(
                sa.text(f"SET LOCAL work_mem = '{_WORK_MEM}'; SET LOCAL enable_nestloop = off")
            )
        yield conn


def _on_board(conn: sa.Connection, account: sa.ColumnElement) -> sa.ColumnElement:
    """``account`` opted in. On PostgreSQL as ``= ANY(:ids)``, the opted-in ids read first and
    sent as one array: the planner knows how many there are and picks the rollups' key
    (account, day, ...) for a long period, their day index for a short one, where a join with
    the accounts scans every account's rollups."""
    a = Account.__table__
    ids = sa.select(a.c.id).where(a.c.leaderboard_opt_in.is_(True))
    if conn.dialect.name != "postgresql":
        return account.in_(ids)
    opted_in = list(conn.execute(ids).scalars())
    return account == sa.any_(sa.bindparam("on_board", opted_in, type_=ARRAY(sa.Integer)))


def _opted_in(name: str) -> sa.Select:
    """The id and name of the opted-in account named ``name``, regardless of case."""
    a = Account.__table__
    return sa.select(a.c.id, a.c.name).where(
        sa.func.lower(a.c.name) == sa.func.lower(name), a.c.leaderboard_opt_in.is_(True)
    )


def _first_day(days: int, today: date | None) -> date:
    """The first of the last ``days`` UTC days, today included."""
    if days < 1:
        raise ValueError("a period has at least one day")
    return (today or datetime.now(UTC).date()) - timedelta(days=days - 1)


def _largest_first(tokens: Counter) -> list[tuple[str, int]]:
    return sorted(tokens.items(), key=lambda item: (-item[1], item[0]))


def _as_date(day: date | str) -> date:
    return date.fromisoformat(day) if isinstance(day, str) else day
