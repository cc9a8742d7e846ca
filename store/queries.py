"""The questions the app asks: frames loaded from the store, answered with DuckDB SQL.

Loading pushes every filter (account, dates, models, labels) down to the store, so only the rows a
view needs travel. Each view is then a pure function from a small polars frame to a small polars
frame, in SQL that DuckDB runs over the frame in memory. Money comes from ``store.pricing``, the
same engine the CLI uses.

Sums never use 64-bit integers. A stored row may hold any count its BIGINT column allows (rows from
before the per-response bounds, or written past the ingest service), and two such rows overflow a
64-bit sum. So a row's ``total`` is a DECIMAL(38,0); exact figures are summed as DuckDB's HUGEINT
(or DECIMAL) and handed out as Python ints; figures for charts and tables are summed as DOUBLE; and
sums in the store's own SQL are taken over DOUBLE (exact up to 2^53, beyond any genuine account).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.fields import (
    COUNT_FIELDS,
    EARLIEST,
    FUTURE_SLACK,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    RECORD_FIELDS,
    tier_rank,
)
from store.models import Account, ApiToken, Usage
from store.pricing import RateTable

#: The frame a view starts from: every field of the record but its ``event_id``, which no view
#: needs (32 bytes a row, in every cached frame); counts as 64-bit integers, the rest as text.
USAGE_SCHEMA = {
    name: pl.Datetime("us", "UTC")
    if name == "ts"
    else pl.Int64
    if name in COUNT_FIELDS
    else pl.String
    for name in RECORD_FIELDS
    if name != "event_id"
}
TOKENS = COUNT_FIELDS
#: A row's input + output: two 64-bit counts may not add up within 64 bits.
EXACT = pl.Decimal(38, 0)
#: The reason shown for a record whose counts no single response can have (one the store kept
#: from before the record type's bounds): like a flagged record, counted for its owner, never
#: ranked.
OUT_OF_BOUNDS = "counts_out_of_bounds"
#: Models named in a leaderboard row's mix; the rest are counted ("+3 more"). Model names are the
#: uploader's to choose, and the leaderboard is public.
MIX_SHOWN = 5


@dataclass(frozen=True)
class Filters:
    """What a view is restricted to; empty means no restriction."""

    accounts: tuple[int, ...] = ()  # account ids: a name can pass to another account
    start: date | None = None  # local dates, inclusive
    end: date | None = None
    models: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()


def _utc_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Local days reach at most 14 hours either side of UTC: a loose bound the store can use."""
    low = (
        datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(hours=14)
        if start
        else None
    )
    high = (
        datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1, hours=14)
        if end
        else None
    )
    return low, high


def _dated_as_usage(ts: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """A record's time lies where Codex usage can: from Codex's release to a day ahead of now,
    the window the record type accepts. Rows stored before that check can lie anywhere (the
    year 1, the year 9999): no view shows or ranks them, and their owner is told how many."""
    return sa.and_(ts >= EARLIEST, ts <= datetime.now(UTC) + FUTURE_SLACK)


def _counts_as_usage(u: sa.Table) -> sa.ColumnElement[bool]:
    """A record's counts are ones a single response can have: the record type's bounds."""
    return sa.and_(
        u.c.cached >= 0,
        u.c.cache_write >= 0,
        u.c.cached + u.c.cache_write <= u.c.input,
        u.c.input <= MAX_INPUT_TOKENS,
        u.c.reasoning >= 0,
        u.c.reasoning <= u.c.output,
        u.c.output <= MAX_OUTPUT_TOKENS,
    )


def load_usage(engine: Engine, filters: Filters = Filters()) -> pl.DataFrame:
    """Usage records matching ``filters`` (dates still loose: ``localize`` trims them exactly)."""
    u = Usage.__table__
    query = sa.select(*(u.c[name] for name in USAGE_SCHEMA)).where(_dated_as_usage(u.c.ts))
    if filters.accounts:
        query = query.where(u.c.account_id.in_(filters.accounts))
    if filters.models:
        query = query.where(u.c.model.in_(filters.models))
    if filters.labels:
        query = query.where(u.c.label.in_(filters.labels))
    if filters.tiers:
        query = query.where(u.c.tier.in_(filters.tiers))
    low, high = _utc_bounds(filters.start, filters.end)
    if low:
        query = query.where(u.c.ts >= low)
    if high:
        query = query.where(u.c.ts < high)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pl.DataFrame(rows, schema=USAGE_SCHEMA, orient="row")


def choices(engine: Engine, accounts: Sequence[int] = ()) -> dict[str, list]:
    """Models, labels, service tiers and the date span present in the store (for the filter
    widgets); tiers in their documented order."""
    u = Usage.__table__
    scope = sa.select(u).where(_dated_as_usage(u.c.ts))
    if accounts:
        scope = scope.where(u.c.account_id.in_(accounts))
    sub = scope.subquery()
    with engine.connect() as conn:
        models = [
            r[0] for r in conn.execute(sa.select(sub.c.model).distinct().order_by(sub.c.model))
        ]
        labels = [
            r[0]
            for r in conn.execute(
                sa.select(sub.c.label)
                .where(sub.c.label.is_not(None))
                .distinct()
                .order_by(sub.c.label)
            )
        ]
        tiers = [r[0] for r in conn.execute(sa.select(sub.c.tier).distinct())]
        first, last = conn.execute(sa.select(sa.func.min(sub.c.ts), sa.func.max(sub.c.ts))).one()
    return {
        "models": models,
        "labels": labels,
        "tiers": sorted(tiers, key=tier_rank),
        "first": first,
        "last": last,
    }


def flag_counts(engine: Engine, accounts: Sequence[int] = ()) -> dict[str, int]:
    """How many records of ``accounts`` (all, when empty) are shown but never ranked, per
    reason: their plausibility flag, or ``OUT_OF_BOUNDS`` for counts no response can have."""
    u = Usage.__table__
    reason = sa.func.coalesce(u.c.flag, sa.case((~_counts_as_usage(u), OUT_OF_BOUNDS)))
    scope = sa.select(reason.label("reason")).where(_dated_as_usage(u.c.ts))
    if accounts:
        scope = scope.where(u.c.account_id.in_(accounts))
    sub = scope.subquery()
    query = (
        sa.select(sub.c.reason, sa.func.count())
        .where(sub.c.reason.is_not(None))
        .group_by(sub.c.reason)
        .order_by(sub.c.reason)
    )
    with engine.connect() as conn:
        return dict(conn.execute(query).all())


def misdated_count(engine: Engine, accounts: Sequence[int] = ()) -> int:
    """How many records of ``accounts`` (all, when empty) are dated where no usage can be."""
    u = Usage.__table__
    query = sa.select(sa.func.count()).where(sa.not_(_dated_as_usage(u.c.ts)))
    if accounts:
        query = query.where(u.c.account_id.in_(accounts))
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def signed_in_name(engine: Engine, account: int, token_sha256: str) -> str | None:
    """The display name, as it is now, of ``account`` while the token a viewer signed in with is
    still one of its live tokens; None once the token is revoked or the account is gone."""
    a, t = Account.__table__, ApiToken.__table__
    query = (
        sa.select(a.c.name)
        .join(t, t.c.account_id == a.c.id)
        .where(a.c.id == account, t.c.token_sha256 == token_sha256, t.c.revoked_at.is_(None))
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def localize(frame: pl.DataFrame, zone: str, filters: Filters = Filters()) -> pl.DataFrame:
    """Add the viewer's local time, day, ISO weekday and hour; trim to the local date range."""
    local = frame.with_columns(pl.col("ts").dt.convert_time_zone(zone).alias("local"))
    local = local.with_columns(
        pl.col("local").dt.date().alias("day"),
        pl.col("local").dt.weekday().alias("weekday"),  # Monday = 1
        pl.col("local").dt.hour().alias("hour"),
        (pl.col("input").cast(EXACT) + pl.col("output").cast(EXACT)).alias("total"),
    )
    if filters.start:
        local = local.filter(pl.col("day") >= filters.start)
    if filters.end:
        local = local.filter(pl.col("day") <= filters.end)
    return local


def priced(frame: pl.DataFrame, rates: RateTable) -> pl.DataFrame:
    """Add ``usd`` per record (null where the model is unpriced), with each request's own
    long-context surcharge."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, pl.Float64).alias("usd"))
    models = frame["model"].unique().to_list()
    table = {m: rates.lookup(m) for m in models}
    usd = [
        None if table[m] is None else table[m].cost(i, c, o)
        for m, i, c, o in zip(
            frame["model"], frame["input"], frame["cached"], frame["output"], strict=True
        )
    ]
    return frame.with_columns(pl.Series("usd", usd, dtype=pl.Float64))


# -- views (DuckDB SQL over frames) ----------------------------------------------------------


def _sql(query: str, **frames: pl.DataFrame) -> pl.DataFrame:
    """Run ``query`` with the given frames as tables, on a connection of its own (thread-safe)."""
    con = duckdb.connect()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.sql(query).pl()
    finally:
        con.close()


def summary(local: pl.DataFrame) -> dict:
    """Totals of a localized, priced frame: tokens, sessions, active days, estimate. Every count is
    an exact Python int, however large."""
    if local.is_empty():
        return {k: 0 for k in (*TOKENS, "total", "sessions", "active_days", "responses")} | {
            "usd": None,
            "unpriced_tokens": 0,
        }
    row = _sql(
        """
        select sum(input) input, sum(cached) cached, sum(cache_write) cache_write,
               sum(output) output, sum(reasoning) reasoning, sum(total) total,
               count(distinct session) sessions, count(distinct day) active_days,
               count(*) responses,
               sum(usd) usd,
               coalesce(sum(total) filter (where usd is null), 0) unpriced_tokens
        from t
        """,
        t=local,
    ).row(0, named=True)
    # HUGEINT and DECIMAL(38,0) sums arrive as Decimal: exact, and handed out as ints.
    return {k: v if k == "usd" else int(v) for k, v in row.items()}


def timeline(local: pl.DataFrame, period: str) -> pl.DataFrame:
    """Tokens per period start and model (period: day, week or month; weeks start on Monday)."""
    unit = {"day": "day", "week": "week", "month": "month"}[period]
    return _sql(
        f"""
        select date_trunc('{unit}', day)::DATE period, model,
               sum(input)::DOUBLE input, sum(cached)::DOUBLE cached,
               sum(cache_write)::DOUBLE cache_write, sum(output)::DOUBLE output,
               sum(reasoning)::DOUBLE reasoning, sum(total)::DOUBLE total, sum(usd) usd
        from t group by all order by period, model
        """,
        t=local,
    )


def running_total(local: pl.DataFrame) -> pl.DataFrame:
    """Tokens burned: the cumulative total by day."""
    return _sql(
        """
        select day, sum(sum(total)::DOUBLE) over (order by day) burned
        from t group by day order by day
        """,
        t=local,
    )


def cache_rate(local: pl.DataFrame) -> pl.DataFrame:
    """Share of input served from the cache, per week."""
    return _sql(
        """
        select date_trunc('week', day)::DATE week_start,
               sum(cached)::DOUBLE / nullif(sum(input)::DOUBLE, 0) cache_hit_rate
        from t group by week_start order by week_start
        """,
        t=local,
    )


def calendar(local: pl.DataFrame, year: int) -> pl.DataFrame:
    """Every day of ``year``, empty ones too, with its tokens, week start and ISO weekday."""
    return _sql(
        f"""
        with spine as (
            select d::DATE AS "day" from range(DATE '{year}-01-01', DATE '{year + 1}-01-01',
                                            INTERVAL 1 DAY) r(d)
        ), daily as (select day, sum(total)::DOUBLE tokens from t group by day)
        select spine.day, coalesce(daily.tokens, 0) tokens,
               date_trunc('week', spine.day)::DATE week_start, isodow(spine.day) AS "weekday"
        from spine left join daily using (day) order by spine.day
        """,
        t=local,
    )


def hour_of_week(local: pl.DataFrame) -> pl.DataFrame:
    """Tokens by weekday (1 = Monday) and hour, every cell present."""
    return _sql(
        """
        with cells as (
            select w AS "weekday", h AS "hour" from range(1, 8) a(w), range(0, 24) b(h)
        )
        select cells.weekday, cells.hour, coalesce(sum(t.total)::DOUBLE, 0) tokens
        from cells left join t on t.weekday = cells.weekday and t.hour = cells.hour
        group by all order by cells.weekday, cells.hour
        """,
        t=local,
    )


def streaks(local: pl.DataFrame, today: date) -> dict:
    """Longest and current runs of active days, and the busiest day."""
    if local.is_empty():
        return {"longest": 0, "current": 0, "busiest_day": None, "busiest_tokens": 0}
    runs = _sql(
        """
        with days as (select distinct day from t),
        grouped as (select day, day - (row_number() over (order by day))::INTEGER grp from days)
        select min(day) first, max(day) last, count(*) length from grouped group by grp
        """,
        t=local,
    )
    busiest = _sql(
        "select day, sum(total) tokens from t group by day order by tokens desc limit 1",
        t=local,
    ).row(0, named=True)
    current = runs.filter(pl.col("last") >= today - timedelta(days=1))
    return {
        "longest": int(runs["length"].max()),
        "current": int(current["length"].max()) if not current.is_empty() else 0,
        "busiest_day": busiest["day"],
        "busiest_tokens": int(busiest["tokens"]),
    }


def model_mix(local: pl.DataFrame, period: str) -> pl.DataFrame:
    """Each model's share of the tokens of each period."""
    unit = {"day": "day", "week": "week", "month": "month"}[period]
    return _sql(
        f"""
        with cells as (
            select date_trunc('{unit}', day)::DATE period, model, sum(total)::DOUBLE tokens
            from t group by all
        )
        select period, model, tokens,
               tokens / nullif(sum(tokens) over (partition by period), 0) share
        from cells order by period, model
        """,
        t=local,
    )


def by_model(local: pl.DataFrame) -> pl.DataFrame:
    """Totals per model, largest first."""
    return _sql(
        """
        select model, sum(input)::DOUBLE input, sum(cached)::DOUBLE cached,
               sum(cache_write)::DOUBLE cache_write, sum(output)::DOUBLE output,
               sum(reasoning)::DOUBLE reasoning, sum(total)::DOUBLE total, count(*) responses,
               sum(usd) usd
        from t group by model order by total desc
        """,
        t=local,
    )


def by_tier(local: pl.DataFrame) -> pl.DataFrame:
    """Tokens and responses per service tier, in ``TIERS`` order."""
    table = _sql(
        """
        select tier, sum(total)::DOUBLE total, count(*) responses,
               sum(total)::DOUBLE / nullif(sum(sum(total)::DOUBLE) over (), 0) share
        from t group by tier
        """,
        t=local,
    )
    order = sorted(table["tier"].to_list(), key=tier_rank)
    return table.sort(pl.col("tier").replace_strict(order, list(range(len(order)))))


def estimate_groups(local: pl.DataFrame, rates: RateTable) -> pl.DataFrame:
    """Token sums per model and long-context flag: all a what-if estimate needs to be recomputed
    at once when a rate changes."""
    if local.is_empty():
        return pl.DataFrame(
            schema={
                "model": pl.String,
                "long": pl.Boolean,
                "input": pl.Float64,
                "cached": pl.Float64,
                "output": pl.Float64,
            }
        )
    flagged = local.with_columns(
        pl.Series(
            "long",
            [
                bool(rate and rate.is_long(i))
                for rate, i in zip(
                    (rates.lookup(m) for m in local["model"]), local["input"], strict=True
                )
            ],
            dtype=pl.Boolean,
        )
    )
    return _sql(
        """
        select model, long, sum(input)::DOUBLE input, sum(cached)::DOUBLE cached,
               sum(output)::DOUBLE output
        from t group by all order by model, long
        """,
        t=flagged,
    )


def estimate(groups: pl.DataFrame, rates: RateTable, *, cached_share: float | None = None) -> dict:
    """The API-equivalent of ``groups`` under ``rates``; with ``cached_share``, as if that share
    of all input had been served from the cache."""
    per_model: dict[str, float | None] = {}
    unpriced: dict[str, int] = {}
    for row in groups.iter_rows(named=True):
        rate = rates.lookup(row["model"])
        if rate is None:
            tokens = int(row["input"] + row["output"])
            unpriced[row["model"]] = unpriced.get(row["model"], 0) + tokens
            per_model.setdefault(row["model"], None)
            continue
        cached = row["cached"] if cached_share is None else round(row["input"] * cached_share)
        usd = rate.cost(row["input"], cached, row["output"], long=row["long"])
        per_model[row["model"]] = (per_model.get(row["model"]) or 0.0) + usd
    total = sum(v for v in per_model.values() if v is not None)
    return {"usd": total, "per_model": per_model, "unpriced": unpriced}


def leaderboard(
    engine: Engine, since: datetime | None, rates: RateTable, by: str = "tokens"
) -> pl.DataFrame:
    """Opted-in accounts only: rank (by tokens or by ``usd``), display name, tokens, estimate
    and model mix, of records that pass the plausibility checks and that the record type would
    accept (dates and counts). Nothing about when anyone works."""
    u, a = Usage.__table__, Account.__table__
    # The largest threshold each request exceeds: enough to price every model's long context.
    thresholds = sorted(
        {r.long_context_threshold for r in rates.rates if r.long_context_threshold}, reverse=True
    )
    long_flag = (
        sa.case(*((u.c.input > t, t) for t in thresholds), else_=0) if thresholds else sa.literal(0)
    )
    query = (
        sa.select(
            a.c.id,
            a.c.name,
            u.c.model,
            long_flag.label("over"),
            *(
                sa.func.sum(sa.cast(u.c[k], sa.Double)).label(k)
                for k in ("input", "cached", "output")
            ),
        )
        .join(a, a.c.id == u.c.account_id)
        .where(
            a.c.leaderboard_opt_in.is_(True),
            u.c.flag.is_(None),
            _dated_as_usage(u.c.ts),
            _counts_as_usage(u),
        )
        .group_by(a.c.id, a.c.name, u.c.model, long_flag)
    )
    if since is not None:
        query = query.where(u.c.ts >= since)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return pl.DataFrame(
            schema={
                "rank": pl.Int64,
                "name": pl.String,
                "tokens": pl.Float64,
                "usd": pl.Float64,
                "models": pl.String,
            }
        )
    records = []
    for account, name, model, over, inp, cached, out in rows:
        rate = rates.lookup(model)
        long = bool(
            rate and rate.long_context_threshold and over and over >= rate.long_context_threshold
        )
        usd = rate.cost(inp, cached, out, long=long) if rate else None
        records.append((account, name, model, inp + out, usd))
    frame = pl.DataFrame(
        records,
        schema={
            "account": pl.Int64,
            "name": pl.String,
            "model": pl.String,
            "tokens": pl.Float64,
            "usd": pl.Float64,
        },
        orient="row",
    )
    order = "usd desc nulls last" if by == "usd" else "tokens desc"
    return _sql(
        f"""
        with per_model as (
            select account, name, model, sum(tokens) tokens, sum(usd) usd,
                   coalesce(round(
                       100.0 * sum(tokens) / nullif(sum(sum(tokens)) over (partition by account), 0)
                   )::INTEGER, 0) share,
                   row_number() over (partition by account order by sum(tokens) desc, model) place
            from f group by account, name, model
        ), people as (
            select account, name, sum(tokens) tokens, sum(usd) usd,
                   string_agg(model || ' ' || share || '%', ', ' order by place)
                       filter (where place <= {MIX_SHOWN})
                   || if(count(*) > {MIX_SHOWN}, ', +' || (count(*) - {MIX_SHOWN}) || ' more', '')
                       models
            from per_model group by account, name
        )
        select rank() over (order by {order}) rank, name, tokens, usd, models
        from people order by rank, name
        """,
        f=frame,
    )
