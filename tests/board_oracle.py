"""The leaderboard as it was computed before the daily rollups: a scan of every usage record,
summed per account, model, tier, span of equal prices and long-context threshold, priced by the
engine and ranked with DuckDB. Kept here as the independent answer the rollup-based board
(``store.board``) is held to."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.board import MIX_SHOWN
from store.fields import EARLIEST
from store.models import Account, Usage
from store.pricing import RateTable, price_change_days, price_groups
from store.queries import _counts_as_usage, _dated_as_usage, _sql


def _price_span(ts: sa.ColumnElement, rates: RateTable) -> sa.ColumnElement:
    """The first day of the span of equal prices a record falls in (see ``price_change_days``)."""
    starts = price_change_days(rates)
    first = EARLIEST.date()  # before every change: priced as on any day before the first one
    if not starts:
        return sa.literal(first.isoformat())
    return sa.case(
        *((ts >= datetime(d.year, d.month, d.day, tzinfo=UTC), d.isoformat()) for d in starts),
        else_=first.isoformat(),
    )


def leaderboard(
    engine: Engine,
    since: datetime | None,
    rates: RateTable,
    by: str = "tokens",
    *,
    at: date | None = None,
) -> pl.DataFrame:
    """Opted-in accounts only: rank (by tokens or by ``usd``), display name, tokens, estimate
    and model mix, of records that pass the plausibility checks and that the record type would
    accept (dates and counts). Nothing about when anyone works. Records are summed in the store
    per account, model, tier, span of equal prices and largest long-context threshold exceeded,
    then priced by the engine (``at``: at that date's prices)."""
    u, a = Usage.__table__, Account.__table__
    # The largest threshold each request exceeds: enough to tell any rate's long context.
    thresholds = sorted(
        {r.long_context_threshold for r in rates.rates if r.long_context_threshold}, reverse=True
    )
    over = (
        sa.case(*((u.c.input > t, t) for t in thresholds), else_=0) if thresholds else sa.literal(0)
    )
    span = _price_span(u.c.ts, rates)
    counts = ("input", "cached", "cache_write", "output")
    query = (
        sa.select(
            a.c.id,
            a.c.name,
            u.c.model,
            u.c.tier,
            span.label("span"),
            over.label("over"),
            *(sa.func.sum(sa.cast(u.c[k], sa.Double)).label(k) for k in counts),
        )
        .join(a, a.c.id == u.c.account_id)
        .where(
            a.c.leaderboard_opt_in.is_(True),
            u.c.flag.is_(None),
            _dated_as_usage(u.c.ts),
            _counts_as_usage(u),
        )
        .group_by(a.c.id, a.c.name, u.c.model, u.c.tier, span, over)
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
    groups = []
    for _, _, model, tier, day, largest, inp, cached, writes, out in rows:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        limit = rates.threshold(model, at or day)
        long = bool(limit is not None and largest and largest >= limit)
        groups.append((model, day, tier, long, inp, cached, writes, out))
    costs = price_groups(groups, rates, at=at)
    records = [
        (account, name, model, inp + out, cost.usd if cost else None)
        for (account, name, model, *_, inp, _c, _w, out), cost in zip(rows, costs, strict=True)
    ]
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
