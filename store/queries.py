"""The questions the app asks: frames loaded from the store, answered with DuckDB SQL.

The store sums a viewer's records into slots (``load_slots``: a quarter of an hour, model, tier,
session, label), so a year of heavy use reaches the app as a fraction of its rows, in one query;
the models, labels and tiers chosen are then cut from the slots (``chosen_slots``), and so are
dates: a page shows all-time figures beside the chosen dates, so each frame holds every date and
views cut it by local day (``in_days``). Periods (days, weeks, months) follow ``store.periods``,
the rules the CLI report uses. Each view is then a pure function from a small polars frame to a
small polars frame, in SQL that DuckDB runs over the frame in memory. Money comes from
``store.pricing``, the same engine the CLI uses.

No sum can overflow 64 bits. A stored row may hold any count its BIGINT column allows (rows from
before the per-response bounds, or written past the ingest service), and two such rows overflow a
64-bit sum. So such a row is a slot of its own (a slot's sum of rows within the bounds stays far
below 2^63); a row's ``total`` is a DECIMAL(38,0); exact figures are summed as DuckDB's HUGEINT
(or DECIMAL) and handed out as Python ints; figures for charts and tables are summed as DOUBLE;
and the leaderboard's sums in the store are taken over DOUBLE (exact up to 2^53, beyond any
genuine account).
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
from store.periods import WEEK, by_unit
from store.pricing import RateTable, price_frame, with_long_flag

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
#: A row's input + output: two 64-bit counts may not add up within 64 bits.
EXACT = pl.Decimal(38, 0)
#: The reason shown for a record whose counts no single response can have (one the store kept
#: from before the record type's bounds): like a flagged record, counted for its owner, never
#: ranked.
OUT_OF_BOUNDS = "counts_out_of_bounds"


@dataclass(frozen=True)
class Filters:
    """What a view is restricted to; empty means no restriction."""

    accounts: tuple[int, ...] = ()  # account ids: a name can pass to another account
    models: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()


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
    """Usage records matching ``filters``, of every date usage can have."""
    u = Usage.__table__
    query = sa.select(*(u.c[name] for name in USAGE_SCHEMA))
    with engine.connect() as conn:
        rows = conn.execute(_chosen(query, u, filters)).all()
    return pl.DataFrame(rows, schema=USAGE_SCHEMA, orient="row")


def _chosen(query: sa.Select, u: sa.Table, filters: Filters) -> sa.Select:
    """``query`` over the usage table ``u``, restricted to the records usage can be (by date)
    that ``filters`` choose."""
    query = query.where(_dated_as_usage(u.c.ts))
    if filters.accounts:
        query = query.where(u.c.account_id.in_(filters.accounts))
    if filters.models:
        query = query.where(u.c.model.in_(filters.models))
    if filters.labels:
        query = query.where(u.c.label.in_(filters.labels))
    if filters.tiers:
        query = query.where(u.c.tier.in_(filters.tiers))
    return query


#: A slot's length: every time zone's offset from UTC is a whole number of quarter hours, so the
#: records of one slot share their local day, weekday and hour wherever the viewer is.
SLOT_SECONDS = 900
#: A slot frame: the usage frame's columns, each row the sum of ``responses`` records, and
#: ``context``, an input size over exactly the long-context thresholds its records' inputs are
#: over (a record's own input; see ``load_slots``).
SLOT_SCHEMA = {**USAGE_SCHEMA, "responses": pl.Int64, "context": pl.Int64}


def _slot_start(ts: sa.ColumnElement, dialect: str) -> sa.ColumnElement[int]:
    """The start of the slot ``ts`` falls in, in seconds since 1970 (UTC whatever the session's
    zone: SQLite keeps UTC text, PostgreSQL's epoch is absolute)."""
    if dialect == "sqlite":
        seconds = sa.cast(sa.func.strftime("%s", ts), sa.BigInteger)
        return (seconds // SLOT_SECONDS) * SLOT_SECONDS
    seconds = sa.func.floor(sa.extract("epoch", ts) / SLOT_SECONDS) * SLOT_SECONDS
    return sa.cast(seconds, sa.BigInteger)


def long_context_thresholds(rates: RateTable) -> list[int]:
    """Every long-context threshold of the rate table, largest first."""
    found = {r.long_context_threshold for r in rates.rates if r.long_context_threshold}
    return sorted(found, reverse=True)


def load_slots(engine: Engine, filters: Filters, rates: RateTable) -> pl.DataFrame:
    """Usage records matching ``filters``, of every date usage can have, summed in the store per
    slot (``SLOT_SECONDS``), model, tier, session, label and long-context class: the largest
    threshold of ``rates`` the input is over, kept as ``context`` (that threshold plus one, 0
    for none), so each record is still priced with or without its long-context surcharge. A
    record whose counts no response can have stays a slot of its own: the sums of the others
    cannot overflow."""
    u = Usage.__table__
    slot = _slot_start(u.c.ts, engine.dialect.name).label("slot")
    context = sa.case(
        *((u.c.input > t, t + 1) for t in long_context_thresholds(rates)), else_=0
    ).label("context")
    alone = sa.case((_counts_as_usage(u), None), else_=u.c.id).label("alone")
    keys = (slot, u.c.model, u.c.tier, u.c.session, u.c.label, context, alone)
    query = sa.select(
        slot,
        u.c.model,
        u.c.tier,
        *(sa.cast(sa.func.sum(u.c[name]), sa.BigInteger).label(name) for name in COUNT_FIELDS),
        u.c.session,
        u.c.label,
        sa.func.count().label("responses"),
        context,
    )
    with engine.connect() as conn:
        rows = conn.execute(_chosen(query, u, filters).group_by(*keys)).all()
    schema = {"ts": pl.Int64, **{k: v for k, v in SLOT_SCHEMA.items() if k != "ts"}}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(pl.from_epoch("ts", time_unit="s").dt.replace_time_zone("UTC"))


def chosen_slots(slots: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The slots of the models, labels and tiers ``filters`` choose (its accounts are the
    store's to apply)."""
    chosen = (("model", filters.models), ("label", filters.labels), ("tier", filters.tiers))
    for name, wanted in chosen:
        if wanted:
            slots = slots.filter(pl.col(name).is_in(wanted))
    return slots


def slot_choices(slots: pl.DataFrame) -> dict[str, list]:
    """What ``choices`` tells of the store, told of its slots: models, labels, service tiers (in
    their documented order) and the first and last slot."""
    return {
        "models": sorted(slots["model"].unique()),
        "labels": sorted(slots["label"].drop_nulls().unique()),
        "tiers": sorted(slots["tier"].unique(), key=tier_rank),
        "first": slots["ts"].min(),
        "last": slots["ts"].max(),
    }


def choices(engine: Engine, accounts: Sequence[int] = ()) -> dict[str, list]:
    """Models, labels, service tiers and the date span present in the store (for the filter
    widgets); tiers in their documented order. One pass over the records."""
    u = Usage.__table__
    query = (
        sa.select(u.c.model, u.c.label, u.c.tier, sa.func.min(u.c.ts), sa.func.max(u.c.ts))
        .where(_dated_as_usage(u.c.ts))
        .group_by(u.c.model, u.c.label, u.c.tier)
    )
    if accounts:
        query = query.where(u.c.account_id.in_(accounts))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        "models": sorted({model for model, *_ in rows}),
        "labels": sorted({label for _, label, *_ in rows if label is not None}),
        "tiers": sorted({tier for _, _, tier, *_ in rows}, key=tier_rank),
        "first": min((first for *_, first, _ in rows), default=None),
        "last": max((last for *_, last in rows), default=None),
    }


def set_aside(engine: Engine, accounts: Sequence[int] = ()) -> dict:
    """The records of ``accounts`` (all, when empty) that views treat apart, in one pass:
    ``flags``, per reason, the records shown but never ranked (their plausibility flag, or
    ``OUT_OF_BOUNDS`` for counts no response can have); ``misdated``, how many are dated where no
    usage can be (kept, but in no figure)."""
    u = Usage.__table__
    reason = sa.func.coalesce(u.c.flag, sa.case((~_counts_as_usage(u), OUT_OF_BOUNDS)))
    dated = sa.case((_dated_as_usage(u.c.ts), 1), else_=0)
    query = sa.select(reason, dated, sa.func.count()).group_by(reason, dated)
    if accounts:
        query = query.where(u.c.account_id.in_(accounts))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    flags: dict[str, int] = {}
    for why, usage, n in sorted(rows, key=lambda r: str(r[0])):
        if usage and why is not None:
            flags[why] = flags.get(why, 0) + n
    return {"flags": flags, "misdated": sum(n for _, usage, n in rows if not usage)}


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


def localize(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Add the viewer's local time, day, ISO weekday and hour, and each row's total. A frame of
    records (``load_usage``) becomes a frame of one-record slots."""
    if "responses" not in frame.columns:
        frame = frame.with_columns(responses=pl.lit(1, pl.Int64), context=pl.col("input"))
    local = frame.with_columns(pl.col("ts").dt.convert_time_zone(zone).alias("local"))
    return local.with_columns(
        pl.col("local").dt.date().alias("day"),
        pl.col("ts").dt.date().alias("utc_day"),  # the day whose prices apply
        pl.col("local").dt.weekday().alias("weekday"),  # Monday = 1
        pl.col("local").dt.hour().alias("hour"),
        (pl.col("input").cast(EXACT) + pl.col("output").cast(EXACT)).alias("total"),
    )


#: The columns of a priced group (see ``cost_groups``).
GROUP_SCHEMA = {
    "local_day": pl.Date,
    "day": pl.Date,
    "model": pl.String,
    "tier": pl.String,
    "long": pl.Boolean,
    **{name: pl.Float64 for name in (*COUNT_FIELDS, "total")},
    "responses": pl.Int64,
    "usd": pl.Float64,
    "estimate": pl.Boolean,
    "as_standard": pl.Boolean,
}


def cost_groups(local: pl.DataFrame, rates: RateTable, *, at: date | None = None) -> pl.DataFrame:
    """A localized frame summed per local day, UTC day (``day``, whose prices apply), model, tier
    and long-context flag (decided per record, from ``context``), each group priced by the
    engine: ``usd`` (null when the model is unpriced), ``estimate`` (priced through a mapping)
    and ``as_standard`` (a tier with no price of its own). ``at``: every group at that date's
    prices instead of its own day's. Sums are DOUBLE: a figure for a chart or a table, never an
    exact count."""
    if local.is_empty():
        return pl.DataFrame(schema=GROUP_SCHEMA)
    responses = local.select(
        pl.col("day").alias("local_day"),
        pl.col("utc_day").alias("day"),
        "model",
        "tier",
        *COUNT_FIELDS,
        "total",
        "responses",
        "context",
    )
    # The rule reads ``input``: a slot's ``context`` is over the thresholds its records are over.
    classed = responses.rename({"input": "input_tokens", "context": "input"})
    flagged = with_long_flag(classed, rates, at=at).drop("input").rename({"input_tokens": "input"})
    sums = ", ".join(f"sum({name})::DOUBLE {name}" for name in (*COUNT_FIELDS, "total"))
    groups = _sql(
        f"""
        select local_day, day, model, tier, long, {sums}, sum(responses)::BIGINT responses
        from t group by all order by local_day, model, tier, long
        """,
        t=flagged,
    )
    return price_frame(groups, rates, at=at).select(list(GROUP_SCHEMA))


def in_days(
    frame: pl.DataFrame, start: date | None, end: date | None, *, column: str = "local_day"
) -> pl.DataFrame:
    """The rows (groups, or a localized frame's records with ``column="day"``) of local days
    from ``start`` to ``end``, inclusive; None leaves that end open."""
    if start:
        frame = frame.filter(pl.col(column) >= start)
    if end:
        frame = frame.filter(pl.col(column) <= end)
    return frame


def cost_summary(groups: pl.DataFrame) -> dict:
    """The API-equivalent of priced groups: ``usd`` (None when nothing is priced), the tokens of
    unpriced models, and the tokens priced as standard for want of their tier's own price."""
    priced = groups.filter(pl.col("usd").is_not_null())
    return {
        "usd": float(priced["usd"].sum()) if not priced.is_empty() else None,
        "unpriced_tokens": int(groups.filter(pl.col("usd").is_null())["total"].sum()),
        "as_standard_tokens": int(priced.filter(pl.col("as_standard"))["total"].sum()),
    }


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
    """Totals of a localized frame: tokens, sessions, active days. Every count is an exact Python
    int, however large."""
    if local.is_empty():
        return {k: 0 for k in (*COUNT_FIELDS, "total", "sessions", "active_days", "responses")}
    row = _sql(
        """
        select sum(input) input, sum(cached) cached, sum(cache_write) cache_write,
               sum(output) output, sum(reasoning) reasoning, sum(total) total,
               count(distinct session) sessions, count(distinct day) active_days,
               sum(responses) responses
        from t
        """,
        t=local,
    ).row(0, named=True)
    # HUGEINT and DECIMAL(38,0) sums arrive as Decimal: exact, and handed out as ints.
    return {k: int(v) for k, v in row.items()}


def timeline(groups: pl.DataFrame, period: str) -> pl.DataFrame:
    """Tokens and API-equivalent per period start and model (period: a ``store.periods`` unit),
    from priced groups."""
    return _sql(
        f"""
        select {by_unit(period).sql_start("local_day")} period, model,
               sum(input) input, sum(cached) cached, sum(cache_write) cache_write,
               sum(output) output, sum(reasoning) reasoning, sum(total) total, sum(usd) usd
        from t group by all order by period, model
        """,
        t=groups,
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
        f"""
        select {WEEK.sql_start("day")} week_start,
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
               {WEEK.sql_start("spine.day")} week_start, isodow(spine.day) AS "weekday"
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


def model_mix(groups: pl.DataFrame, period: str) -> pl.DataFrame:
    """Each model's tokens, share of the period's tokens and API-equivalent, per period."""
    return _sql(
        f"""
        with cells as (
            select {by_unit(period).sql_start("local_day")} period, model, sum(total) tokens,
                   sum(usd) usd
            from t group by all
        )
        select period, model, tokens,
               tokens / nullif(sum(tokens) over (partition by period), 0) share, usd
        from cells order by period, model
        """,
        t=groups,
    )


def by_model(groups: pl.DataFrame) -> pl.DataFrame:
    """Totals per model, largest first, with the API-equivalent (null when unpriced) and whether
    it is an estimate through a mapping."""
    return _sql(
        """
        select model, sum(input) input, sum(cached) cached, sum(cache_write) cache_write,
               sum(output) output, sum(reasoning) reasoning, sum(total) total,
               sum(responses)::BIGINT responses, sum(usd) usd, bool_or(estimate) mapped
        from t group by model order by total desc, model
        """,
        t=groups,
    )


def by_tier(groups: pl.DataFrame) -> pl.DataFrame:
    """Tokens, responses and API-equivalent per service tier, in ``TIERS`` order; ``as_standard``
    says the tier had no price of its own and was priced as standard."""
    table = _sql(
        """
        select tier, sum(total) total, sum(responses)::BIGINT responses,
               sum(total) / nullif(sum(sum(total)) over (), 0) share, sum(usd) usd,
               bool_or(as_standard) as_standard
        from t group by tier
        """,
        t=groups,
    )
    order = sorted(table["tier"].to_list(), key=tier_rank)
    return table.sort(pl.col("tier").replace_strict(order, list(range(len(order)))))


def unpriced(groups: pl.DataFrame) -> dict[str, int]:
    """Tokens per model that no rate prices, largest first."""
    table = _sql(
        """
        select model, sum(total) tokens from t where usd is null
        group by model order by tokens desc, model
        """,
        t=groups,
    )
    return {m: int(n) for m, n in table.iter_rows()}


def repriced(
    groups: pl.DataFrame,
    rates: RateTable,
    *,
    at: date | None = None,
    cached_share: float | None = None,
) -> pl.DataFrame:
    """``groups`` priced again under ``rates`` (a what-if table); with ``cached_share``, as if
    that share of all input had been served from the cache (cache writes keep what is left)."""
    if cached_share is not None:
        cached = (pl.col("input") * cached_share).round()
        groups = groups.with_columns(
            cached.alias("cached"),
            pl.min_horizontal("cache_write", pl.col("input") - cached).alias("cache_write"),
        )
    return price_frame(groups.drop("usd", "estimate", "as_standard"), rates, at=at)


def cache_writes(groups: pl.DataFrame, rates: RateTable, *, at: date | None = None) -> dict:
    """Cache writes: their tokens, their share of input and what they cost (the engine prices
    the groups' cache writes alone)."""
    inp, writes = float(groups["input"].sum()), float(groups["cache_write"].sum())
    only_writes = groups.with_columns(
        pl.col("cache_write").alias("input"),
        pl.lit(0.0).alias("cached"),
        pl.lit(0.0).alias("output"),
    )
    usd = repriced(only_writes, rates, at=at)["usd"].sum()
    return {"tokens": writes, "share": writes / inp if inp else 0.0, "usd": float(usd or 0.0)}
