"""Chart builders: pure functions from a small frame to an Altair chart (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import altair as alt
import polars as pl

from pages.lib.text import compact, usd_or_reason

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
GREENS = ["#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39"]  # GitHub's calendar scale


#: 28 colours no two alike (CIELAB distance over 19, over 22 among the first 24) and none grey:
#: Vega's tableau10 without its grey, then the colours of Vega's tableau20, category20 and
#: category20b schemes and Kelly's 22 colours of maximum contrast (1965) furthest from those
#: already taken. A model's colour is its place in the viewer's full model list.
PALETTE = [
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
    "#9d755d", "#cedb9c", "#8db600", "#6b6ecf", "#ffbf79", "#882d17", "#a1caf1", "#393b79",
    "#b3446c", "#637939", "#e377c2", "#9c9ede", "#bd9e39", "#e25822", "#7b4173", "#008856",
    "#654522", "#f6a600", "#b5cf6b", "#8c6d31",
]  # fmt: skip
#: Models that are no model in particular: logs that name none, and the rest of a short list.
GREY_MODELS = {"unknown", "other"}
GREY = "#9e9e9e"


def model_colours(models: Sequence[str]) -> alt.Scale:
    """One colour per model from the full list the store knows for the viewer (not the filtered
    one), so a model keeps its colour on every page whatever the filters; ``GREY_MODELS`` in
    grey."""
    domain = sorted(set(models))
    named = [m for m in domain if m not in GREY_MODELS]
    colour = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(named)}
    return alt.Scale(domain=domain, range=[colour.get(m, GREY) for m in domain])


#: Legends sit below the plot, in as many columns of this width as the plot's width holds (two
#: on a phone): beside it, a legend would take half a phone's width from the plot.
LEGEND_COLUMN = 130


def legend_below(column: int = LEGEND_COLUMN, **more) -> alt.Legend:
    return alt.Legend(
        orient="bottom",
        columns=alt.ExprRef(f"max(1, floor(width / {column}))"),
        labelLimit=column - 15,
        **more,
    )


def sized(chart: alt.Chart, height: int) -> alt.Chart:
    """``chart`` as wide as its container with a plot ``height`` pixels high, its axes, title and
    legend around it (Streamlit's default fits everything, legend included, in the height)."""
    return chart.properties(
        height=height, autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
    )


def _models(frame: pl.DataFrame, models: Sequence[str], legend: bool = True) -> alt.Color:
    """Colour by model on the shared scale; the legend lists only the models drawn."""
    shown = sorted(frame["model"].unique().to_list()) if "model" in frame.columns else []
    return alt.Color(
        "model:N",
        title="Model",
        scale=model_colours([*models, *shown]),
        legend=legend_below(values=shown, symbolLimit=0) if legend else None,
    )


#: A token count on an axis, written as the cards write it (``text.compact``): 1.95 B, 120 K, 0.
TOKENS_AXIS = (
    "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, ',.2~f') + ' B' : "
    "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.2~f') + ' M' : "
    "abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.2~f') + ' K' : "
    "format(datum.value, ',.0f')"
)
#: A USD amount on an axis: whole dollars, or cents below ten dollars.
USD_AXIS = "abs(datum.value) >= 10 ? format(datum.value, '$,.0f') : format(datum.value, '$,.2f')"


def tokens_axis(**more) -> alt.Axis:
    return alt.Axis(labelExpr=TOKENS_AXIS, **more)


def usd_axis(**more) -> alt.Axis:
    return alt.Axis(labelExpr=USD_AXIS, **more)


#: A tooltip line with the estimate in dollars, or why there is none (never "null").
ESTIMATE_TIP = alt.Tooltip("estimate:N", title="API-equivalent (estimate)")


def with_estimate(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with ``estimate``: its ``usd`` as text, or the reason there is none."""
    return frame.with_columns(
        pl.Series("estimate", [usd_or_reason(v) for v in frame["usd"]], dtype=pl.String)
    )


#: What a timeline or a mix can measure: its field, axis title and axis.
MEASURES = {
    "tokens": ("total", "Tokens (input + output)", tokens_axis),
    "cost": ("usd", "USD, API-equivalent (estimate)", usd_axis),
}
#: How a period is named on an axis: a day with its month, a week by its Monday, a month.
PERIOD_NAMES = {"day": "%b %-d", "week": "week of %-d %b", "month": "%b %Y"}


def period_name(period: str, start: date) -> str:
    """``Nov 3``, ``week of 2 Nov`` or ``Nov 2026``."""
    return start.strftime(PERIOD_NAMES[period].replace("%-d", str(start.day)))


def _by_period(frame: pl.DataFrame, period: str) -> tuple[pl.DataFrame, alt.X]:
    """The frame with each period's name, and an x axis with one band per period: a bar as wide
    as its day, week or month, in date order, each band named once."""
    names = [period_name(period, d) for d in frame["period"]]
    named = frame.with_columns(pl.Series("when", names, dtype=pl.String))
    order = [period_name(period, d) for d in frame["period"].unique().sort()]
    axis = alt.Axis(labelAngle=-45 if period == "day" else 0, labelOverlap=True)
    return named, alt.X("when:O", title=None, sort=order, axis=axis)


def timeline(
    frame: pl.DataFrame, period: str, measure: str = "tokens", models: Sequence[str] = ()
) -> alt.Chart:
    """Tokens, or their API-equivalent in USD, per period, stacked by model."""
    field, axis_title, axis = MEASURES[measure]
    title = f"Tokens per {period}" if measure == "tokens" else f"API-equivalent per {period}"
    frame, x = _by_period(with_estimate(frame), period)
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y(f"sum({field}):Q", title=axis_title, axis=axis()),
            color=_models(frame, models),
            tooltip=[
                alt.Tooltip("when:N", title=period.title()),
                "model:N",
                alt.Tooltip("total:Q", format=",", title="Tokens"),
                alt.Tooltip("input:Q", format=","),
                alt.Tooltip("cached:Q", format=","),
                alt.Tooltip("output:Q", format=","),
                ESTIMATE_TIP,
            ],
        )
    )
    return sized(chart, 240)


def burned(frame: pl.DataFrame) -> alt.Chart:
    """The running total of tokens."""
    chart = (
        alt.Chart(frame, title=alt.TitleParams("Tokens burned", subtitle="Running total"))
        .mark_area(line=True, opacity=0.3)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("burned:Q", title="Tokens", axis=tokens_axis()),
            tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("burned:Q", format=",")],
        )
    )
    return sized(chart, 160)


def cache_rate(frame: pl.DataFrame) -> alt.Chart:
    title = alt.TitleParams("Cache hit rate by week", subtitle="Input served from the cache")
    chart = (
        alt.Chart(frame, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("week_start:T", title=None),
            y=alt.Y(
                "cache_hit_rate:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[
                alt.Tooltip("week_start:T", title="Week of", format="%Y-%m-%d"),
                alt.Tooltip("cache_hit_rate:Q", format=".1%", title="Cache hit rate"),
            ],
        )
    )
    return sized(chart, 160)


#: The calendar's shade for a day with no use.
NO_USE = "No use"


def shades(tokens: pl.Series) -> tuple[list[str], list[str], list[str]]:
    """Each day's shade name, and the legend: every shade used (names and colours, lightest
    first). Active days fall in up to four bins cut at their quartiles; a bin is named by the
    range of the days in it ("1.2 K – 40 K")."""
    active = tokens.filter(tokens > 0)
    cuts = sorted({float(active.quantile(q)) for q in (0.25, 0.5, 0.75)}) if len(active) else []
    bins = [sum(v >= c for c in cuts) if v > 0 else -1 for v in tokens]
    names: dict[int, str] = {-1: NO_USE}
    for b in sorted(set(bins) - {-1}):
        inside = [v for v, at in zip(tokens, bins, strict=True) if at == b]
        low, high = compact(min(inside)), compact(max(inside))
        names[b] = low if low == high else f"{low} – {high}"
    used = sorted(set(bins))
    return (
        [names[b] for b in bins],
        [names[b] for b in used],
        [GREENS[b + 1] for b in used],
    )


def calendar(frame: pl.DataFrame, year: int) -> alt.Chart:
    """A GitHub-style year: weeks as columns, weekdays as rows, empty days grey, four shades of
    green for the active ones (split at the quartiles of the active days); the legend lists every
    shade with the range of tokens it stands for."""
    frame = _for_vega(frame).with_columns(pl.col("week_start").cast(pl.String).alias("week"))
    day_shades, legend, colours = shades(frame["tokens"])
    frame = frame.with_columns(pl.Series("shade", day_shades, dtype=pl.String))
    chart = (
        alt.Chart(frame, title=f"{year}")
        .mark_rect(cornerRadius=2, stroke="white", strokeWidth=1.5)
        .encode(
            x=alt.X(
                "week:O",
                title=None,
                axis=alt.Axis(
                    values=_month_starts(frame),
                    # A week is named after the month whose 1st it holds (its last day's month).
                    labelExpr=(
                        "timeFormat(timeOffset('day', toDate(datum.value + 'T00:00'), 6), '%b')"
                    ),
                    labelAngle=0,
                    labelAlign="left",
                    ticks=False,
                    domain=False,
                ),
            ),
            y=alt.Y("dow:O", sort=WEEKDAYS, title=None, axis=alt.Axis(ticks=False, domain=False)),
            color=alt.Color(
                "shade:N",
                title="Tokens a day",
                scale=alt.Scale(domain=legend, range=colours),
                legend=legend_below(170, symbolType="square", clipHeight=12, rowPadding=2),
            ),
            tooltip=[
                alt.Tooltip("day:T", format="%a %Y-%m-%d", title="Day"),
                alt.Tooltip("tokens:Q", format=","),
            ],
        )
    )
    return sized(chart, 120)


def _month_starts(frame: pl.DataFrame) -> list[str]:
    """One axis label per month: the week that holds its 1st."""
    firsts = frame.filter(pl.col("day").dt.day() == 1)
    return [week.isoformat() for week in firsts["week_start"].unique().sort()]


def hour_of_week(frame: pl.DataFrame) -> alt.Chart:
    """Tokens by weekday and hour; hours with no use stay grey."""
    frame = _for_vega(frame)
    chart = (
        alt.Chart(frame, title="Hour of the week (your time zone)")
        .mark_rect(cornerRadius=2, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("hour:O", title="Hour"),
            y=alt.Y("dow:O", sort=WEEKDAYS, title=None),
            color=alt.condition(
                alt.datum.tokens == 0,
                alt.value(GREENS[0]),
                alt.Color(
                    "tokens:Q",
                    title="Tokens",
                    scale=alt.Scale(range=GREENS[1:]),
                    legend=legend_below(labelExpr=TOKENS_AXIS),
                ),
            ),
            tooltip=["dow:N", "hour:O", alt.Tooltip("tokens:Q", format=",")],
        )
    )
    return sized(chart, 170)


def _for_vega(frame: pl.DataFrame) -> pl.DataFrame:
    """Weekday names, and token counts as floats: 64-bit integers reach Vega as BigInt, which
    its scales and tests do not handle."""
    return frame.with_columns(
        pl.col("weekday")
        .map_elements(lambda d: WEEKDAYS[d - 1], return_dtype=pl.String)
        .alias("dow"),
        pl.col("tokens").cast(pl.Float64),
    )


def model_mix(
    frame: pl.DataFrame, period: str, measure: str = "tokens", models: Sequence[str] = ()
) -> alt.Chart:
    """Each model's share of each period's tokens, or each model's API-equivalent in USD
    stacked per period."""
    if measure == "cost":
        field, axis_title, axis = MEASURES["cost"]
        y = alt.Y(f"{field}:Q", stack="zero", title=axis_title, axis=axis())
        title = f"API-equivalent by model per {period}"
    else:
        y = alt.Y("share:Q", stack="normalize", title="Share of tokens", axis=alt.Axis(format="%"))
        title = f"Model mix per {period}"
    frame, x = _by_period(with_estimate(frame), period)
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=x,
            y=y,
            color=_models(frame, models),
            tooltip=[
                alt.Tooltip("when:N", title=period.title()),
                "model:N",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("tokens:Q", format=","),
                ESTIMATE_TIP,
            ],
        )
    )
    return sized(chart, 240)


def estimate_by_model(frame: pl.DataFrame, models: Sequence[str] = ()) -> alt.Chart:
    """API-equivalent per model (priced models only)."""
    frame = with_estimate(frame)
    chart = (
        alt.Chart(frame, title="API-equivalent by model (estimate)")
        .mark_bar()
        .encode(
            x=alt.X("usd:Q", title="USD (estimate)", axis=usd_axis()),
            y=alt.Y("model:N", sort="-x", title=None, axis=alt.Axis(labelLimit=140)),
            color=_models(frame, models, legend=False),  # the axis names the models
            tooltip=["model:N", ESTIMATE_TIP],
        )
    )
    return sized(chart, 28 * max(1, frame.height))
