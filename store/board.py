"""The public board's read side: leaderboard, ranks, profiles and badges, from the daily rollups.

Only accounts that opted in are ever shown, and only their rollups with no plausibility flag are
ranked or drawn (flagged usage is counted apart, for a note). Nothing here reads the records
themselves, nor anything finer than a UTC day: never an hour, never a label. SQLAlchemy Core only
(a server install has no polars or DuckDB); each answer is a small frozen dataclass.

Tokens are input + output, as in every Codextime figure. API-equivalent USD comes from
``store.pricing``'s engine: each rollup is priced at the rates of its own day (or, with ``at``,
of that date), its tier and its long-context flag.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.fields import EARLIEST
from store.models import Account, DailyRollup
from store.pricing import RateTable

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
    (and ranks). ``search`` (case-insensitive, part of a name) picks rows after ranking, so a
    person found by search keeps their rank; ``offset`` and ``limit`` page through the rows."""
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit cannot be negative")
    ranked = _ranked(engine, rates, since=since, by=by, model=model, at=at)
    if search and search.strip():
        needle = search.strip().casefold()
        ranked = [entry for entry in ranked if needle in entry[2].name.casefold()]
    shown = _rows(engine, rates, ranked[offset : offset + limit], _Board(since, by, model, at))
    return BoardPage(shown, len(ranked), _flagged_records(engine, since, model))


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
    ranked = _ranked(engine, rates, since=since, by=by, model=model, at=at)
    return next((rank for rank, account, _ in ranked if account == account_id), None)


def board_models(engine: Engine) -> list[str]:
    """The models of opted-in accounts' unflagged usage, for the board's model filter."""
    r, a = DailyRollup.__table__, Account.__table__
    query = (
        sa.select(r.c.model)
        .distinct()
        .join(a, a.c.id == r.c.account_id)
        .where(a.c.leaderboard_opt_in.is_(True), sa.not_(r.c.flagged))
        .order_by(r.c.model)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def profile(
    engine: Engine, rates: RateTable, name: str, *, today: date | None = None
) -> Profile | None:
    """The public profile of the account named ``name`` (case-insensitively); None unless that
    account exists and opted in. Unflagged usage only, by UTC day."""
    r = DailyRollup.__table__
    with engine.connect() as conn:
        found = conn.execute(_opted_in(name)).first()
        if found is None:
            return None
        sums = [sa.func.sum(r.c[k]) for k in ("input", "cached", "cache_write", "output")]
        rows = conn.execute(
            sa.select(
                r.c.day,
                r.c.model,
                r.c.tier,
                r.c.long_context,
                *sums,
                sa.func.sum(r.c.reasoning),
                sa.func.sum(r.c.responses),
            )
            .where(r.c.account_id == found.id, sa.not_(r.c.flagged))
            .group_by(r.c.day, r.c.model, r.c.tier, r.c.long_context)
        ).all()
    prices = _Prices(rates)
    per_day: Counter[date] = Counter()
    per_model: Counter[str] = Counter()
    per_month: dict[str, list] = {}
    totals = Counter()
    usd: float | None = None
    for day, model, tier, long, inp, cached, writes, out, reasoning, responses in rows:
        day = _as_date(day)
        inp, cached, writes, out = int(inp), int(cached), int(writes), int(out)
        tokens = inp + out
        per_day[day] += tokens
        per_model[model] += tokens
        totals.update(
            input=inp,
            cached=cached,
            cache_write=writes,
            output=out,
            reasoning=int(reasoning),
            responses=int(responses),
        )
        month = per_month.setdefault(day.strftime("%Y-%m"), [0, None])
        month[0] += tokens
        cost = prices.usd(model, day, tier, bool(long), inp, cached, writes, out)
        if cost is not None:
            month[1] = (month[1] or 0.0) + cost
            usd = (usd or 0.0) + cost
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
        usd=usd,
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


# -- inside -----------------------------------------------------------------------------------


class _Prices:
    """API-equivalent USD of summed counts, through the engine. For one model, day, tier and
    long-context flag a cost is linear in each count (fresh input = input - cached -
    cache_write, which sums of valid records keep non-negative), so the engine prices a million
    tokens of each kind once per such key and every sum is priced by those four rates, the way
    ``Rate.cost`` combines them."""

    def __init__(self, rates: RateTable, at: date | None = None) -> None:
        self.rates, self.at = rates, at
        self._rates: dict[tuple, tuple[float, float, float, float] | None] = {}

    def usd(
        self,
        model: str,
        day: date,
        tier: str,
        long: bool,
        inp: int,
        cached: int,
        writes: int,
        out: int,
    ) -> float | None:
        key = (model, self.at or day, tier, long)
        if key not in self._rates:
            self._rates[key] = self._per_million(*key)
        found = self._rates[key]
        if found is None:
            return None
        fresh_rate, cached_rate, write_rate, out_rate = found
        fresh = inp - cached - writes
        return (
            fresh * fresh_rate + cached * cached_rate + writes * write_rate + out * out_rate
        ) / 1_000_000

    def _per_million(
        self, model: str, day: date, tier: str, long: bool
    ) -> tuple[float, float, float, float] | None:
        def cost(inp: int, cached: int, writes: int, out: int) -> float | None:
            priced = self.rates.cost_of(model, day, tier, long, inp, cached, writes, out)
            return None if priced is None else priced.usd

        m = 1_000_000
        fresh = cost(m, 0, 0, 0)
        if fresh is None:
            return None
        return fresh, cost(m, m, 0, 0), cost(m, 0, m, 0), cost(0, 0, 0, m)


def price_change_days(rates: RateTable) -> list[date]:
    """The days on which some price or mapping of ``rates`` starts or ends, latest first: between
    two of them every day has the same prices, so usage can be summed per span and priced once."""
    days = set()
    for row in (*rates.rates, *rates.mappings):
        if row.valid_from:
            days.add(row.valid_from)
        if row.valid_to:
            days.add(row.valid_to + timedelta(days=1))
    return sorted(days, reverse=True)


@dataclass
class _Person:
    """An account's sums while the board is built."""

    name: str
    tokens: int = 0
    usd: float | None = None
    models: Counter[str] = field(default_factory=Counter)

    def row(self, rank: int, account: int, usd: float | None) -> BoardRow:
        mix = _largest_first(self.models)
        return BoardRow(
            rank=rank,
            account_id=account,
            name=self.name,
            tokens=self.tokens,
            usd=usd,
            models=[(m, percent(n, self.tokens)) for m, n in mix[:MIX_SHOWN]],
            more_models=max(0, len(mix) - MIX_SHOWN),
        )


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

    def where(self, query: sa.Select) -> sa.Select:
        """``query`` over the rollups joined to their accounts, cut to this board's usage."""
        r, a = DailyRollup.__table__, Account.__table__
        query = query.join(a, a.c.id == r.c.account_id).where(
            a.c.leaderboard_opt_in.is_(True), sa.not_(r.c.flagged)
        )
        if self.since is not None:
            query = query.where(r.c.day >= self.since)
        if self.model is not None:
            query = query.where(r.c.model == self.model)
        return query


def _ranked(
    engine: Engine,
    rates: RateTable,
    *,
    since: date | None,
    by: Ranking,
    model: str | None,
    at: date | None,
) -> list[tuple[int, int, _Person]]:
    """Every account on the board as (rank, account, sums), best first; the sums' ``usd`` is
    known only when ranked by it (else ``_price`` prices the rows shown)."""
    spec = _Board(since, by, model, at)
    people = _priced(engine, rates, spec) if by == "usd" else _tokens(engine, spec)

    def measure(person: _Person) -> tuple:
        if by == "usd":
            return (person.usd is None, -(person.usd or 0.0))
        return (-person.tokens,)

    order = sorted(people.items(), key=lambda item: (measure(item[1]), item[1].name, item[0]))
    ranked, rank, previous = [], 0, None
    for place, (account, person) in enumerate(order, start=1):
        if measure(person) != previous:
            rank, previous = place, measure(person)
        ranked.append((rank, account, person))
    return ranked


def _rows(
    engine: Engine, rates: RateTable, ranked: list[tuple[int, int, _Person]], spec: _Board
) -> list[BoardRow]:
    """Board rows of ranked accounts, each with its API-equivalent."""
    if spec.by == "usd":
        usd = {account: person.usd for _, account, person in ranked}
    else:
        priced = _priced(engine, rates, spec, [account for _, account, _ in ranked])
        usd = {account: person.usd for account, person in priced.items()}
    return [person.row(rank, account, usd.get(account)) for rank, account, person in ranked]


def _tokens(engine: Engine, spec: _Board) -> dict[int, _Person]:
    """Each account's tokens per model: all a board ranked by tokens needs."""
    r, a = DailyRollup.__table__, Account.__table__
    tokens = sa.cast(sa.func.sum(r.c.input + r.c.output), sa.BigInteger)
    query = spec.where(sa.select(a.c.id, a.c.name, r.c.model, tokens)).group_by(
        a.c.id, a.c.name, r.c.model
    )
    people: dict[int, _Person] = {}
    for account, name, model, total in _fetch(engine, query):
        person = people.setdefault(account, _Person(name))
        person.tokens += total
        person.models[model] += total
    return people


def _priced(
    engine: Engine, rates: RateTable, spec: _Board, accounts: list[int] | None = None
) -> dict[int, _Person]:
    """Each account's tokens per model and API-equivalent (of ``accounts`` only, if given):
    rollups summed in the store per account, model, tier, long-context flag and span of equal
    prices (``price_change_days``), then priced here."""
    r, a = DailyRollup.__table__, Account.__table__
    starts = [] if spec.at else price_change_days(rates)
    span = (
        sa.case(*((r.c.day >= d, i) for i, d in enumerate(starts)), else_=len(starts))
        if starts
        else sa.literal(0)
    )
    sums = (sa.cast(sa.func.sum(r.c[k]), sa.BigInteger) for k in _PRICED)
    keys = (a.c.id, a.c.name, r.c.model, r.c.tier, r.c.long_context, span)
    query = spec.where(sa.select(*keys, *sums)).group_by(*keys)
    if accounts is not None:
        query = query.where(r.c.account_id.in_(accounts))
    span_days = [*starts, EARLIEST.date()]  # a span is priced as on its first day
    prices = _Prices(rates, spec.at)
    people: dict[int, _Person] = {}
    for account, name, model, tier, long, index, inp, cached, writes, out in _fetch(engine, query):
        person = people.get(account) or people.setdefault(account, _Person(name))
        person.tokens += inp + out
        person.models[model] += inp + out
        cost = prices.usd(model, span_days[index], tier, bool(long), inp, cached, writes, out)
        if cost is not None:
            person.usd = (person.usd or 0.0) + cost
    return people


#: The counts a price needs (reasoning is part of output).
_PRICED = ("input", "cached", "cache_write", "output")
#: Memory PostgreSQL may give one board's grouping (its default, 4 MB, spills a board of
#: thousands of accounts to disk).
_WORK_MEM = "64MB"


def _fetch(engine: Engine, query: sa.Select) -> list:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
        return conn.execute(query).all()


def _flagged_records(engine: Engine, since: date | None, model: str | None) -> int:
    r, a = DailyRollup.__table__, Account.__table__
    query = (
        sa.select(sa.func.sum(r.c.responses))
        .join(a, a.c.id == r.c.account_id)
        .where(a.c.leaderboard_opt_in.is_(True), r.c.flagged)
    )
    if since is not None:
        query = query.where(r.c.day >= since)
    if model is not None:
        query = query.where(r.c.model == model)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


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
