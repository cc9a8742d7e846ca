"""Chart builders: pure functions from a small frame to an Altair chart (no Streamlit here)."""

from __future__ import annotations

import altair as alt
import polars as pl

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
GREENS = ["#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39"]  # GitHub's calendar scale


def _models(frame: pl.DataFrame) -> alt.Color:
    domain = sorted(frame["model"].unique().to_list()) if "model" in frame.columns else []
    # Two columns once the list is long: one column of many models is cut at the chart's height.
    columns = 2 if len(domain) > 12 else 1
    return alt.Color(
        "model:N",
        title="Model",
        scale=alt.Scale(domain=domain, scheme="tableau20"),
        legend=alt.Legend(columns=columns, symbolLimit=0),
    )


#: How a period's start is written on an axis.
PERIOD_FORMATS = {"day": "%b %d", "week": "%b %d", "month": "%b %Y"}
#: What a timeline or a mix can measure: its field, axis title and number format.
MEASURES = {
    "tokens": ("total", "Tokens (input + output)", "~s", ","),
    "cost": ("usd", "USD, API-equivalent (estimate)", "$,.2f", "$,.2f"),
}


def timeline(frame: pl.DataFrame, period: str, measure: str = "tokens") -> alt.Chart:
    """Tokens, or their API-equivalent in USD, per period, stacked by model."""
    field, axis_title, axis_format, tip_format = MEASURES[measure]
    fmt = PERIOD_FORMATS[period]
    title = f"Tokens per {period}" if measure == "tokens" else f"API-equivalent per {period}"
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format=fmt)),
            y=alt.Y(f"sum({field}):Q", title=axis_title, axis=alt.Axis(format=axis_format)),
            color=_models(frame),
            tooltip=[
                alt.Tooltip("period:T", title=period.title(), format="%Y-%m-%d"),
                "model:N",
                alt.Tooltip(f"{field}:Q", format=tip_format, title=axis_title),
                alt.Tooltip("total:Q", format=",", title="Tokens"),
                alt.Tooltip("input:Q", format=","),
                alt.Tooltip("cached:Q", format=","),
                alt.Tooltip("output:Q", format=","),
            ],
        )
        .properties(height=320)
    )


def burned(frame: pl.DataFrame) -> alt.Chart:
    """The running total of tokens."""
    return (
        alt.Chart(frame, title="Tokens burned (running total)")
        .mark_area(line=True, opacity=0.3)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("burned:Q", title="Tokens", axis=alt.Axis(format="~s")),
            tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("burned:Q", format=",")],
        )
        .properties(height=220)
    )


def cache_rate(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame, title="Cache hit rate by week (input served from the cache)")
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
        .properties(height=220)
    )


def calendar(frame: pl.DataFrame, year: int) -> alt.Chart:
    """A GitHub-style year: weeks as columns, weekdays as rows, empty days grey, four shades of
    green for the active ones (split at the quartiles of the active days)."""
    frame = _for_vega(frame).with_columns(pl.col("week_start").cast(pl.String).alias("week"))
    active = frame.filter(pl.col("tokens") > 0)["tokens"]
    cuts = sorted({float(active.quantile(q)) for q in (0.25, 0.5, 0.75)}) if len(active) else [1.0]
    return (
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
            color=alt.condition(
                alt.datum.tokens == 0,
                alt.value(GREENS[0]),
                alt.Color(
                    "tokens:Q",
                    title="Tokens",
                    scale=alt.Scale(type="threshold", domain=cuts, range=GREENS[-len(cuts) - 1 :]),
                    legend=alt.Legend(format=".2s"),
                ),
            ),
            tooltip=[
                alt.Tooltip("day:T", format="%a %Y-%m-%d", title="Day"),
                alt.Tooltip("tokens:Q", format=","),
            ],
        )
        .properties(height=170)
    )


def _month_starts(frame: pl.DataFrame) -> list[str]:
    """One axis label per month: the week that holds its 1st."""
    firsts = frame.filter(pl.col("day").dt.day() == 1)
    return [week.isoformat() for week in firsts["week_start"].unique().sort()]


def hour_of_week(frame: pl.DataFrame) -> alt.Chart:
    """Tokens by weekday and hour; hours with no use stay grey."""
    frame = _for_vega(frame)
    return (
        alt.Chart(frame, title="When you use Codex (hour of the week, your time zone)")
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
                    legend=alt.Legend(format="~s"),
                ),
            ),
            tooltip=["dow:N", "hour:O", alt.Tooltip("tokens:Q", format=",")],
        )
        .properties(height=220)
    )


def _for_vega(frame: pl.DataFrame) -> pl.DataFrame:
    """Weekday names, and token counts as floats: 64-bit integers reach Vega as BigInt, which
    its scales and tests do not handle."""
    return frame.with_columns(
        pl.col("weekday")
        .map_elements(lambda d: WEEKDAYS[d - 1], return_dtype=pl.String)
        .alias("dow"),
        pl.col("tokens").cast(pl.Float64),
    )


def model_mix(frame: pl.DataFrame, period: str, measure: str = "tokens") -> alt.Chart:
    """Each model's share of each period's tokens, or each model's API-equivalent in USD
    stacked per period."""
    if measure == "cost":
        field, axis_title, axis_format, tip_format = MEASURES["cost"]
        y = alt.Y(f"{field}:Q", stack="zero", title=axis_title, axis=alt.Axis(format=axis_format))
        title = f"API-equivalent by model per {period}"
    else:
        y = alt.Y("share:Q", stack="normalize", title="Share of tokens", axis=alt.Axis(format="%"))
        title = f"Model mix per {period}"
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format=PERIOD_FORMATS[period])),
            y=y,
            color=_models(frame),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d", title=period.title()),
                "model:N",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("tokens:Q", format=","),
                alt.Tooltip("usd:Q", format="$,.2f", title="USD (estimate)"),
            ],
        )
        .properties(height=320)
    )


def estimate_by_model(frame: pl.DataFrame) -> alt.Chart:
    """API-equivalent per model (priced models only)."""
    return (
        alt.Chart(frame, title="API-equivalent by model (estimate)")
        .mark_bar()
        .encode(
            x=alt.X("usd:Q", title="USD (estimate)", axis=alt.Axis(format="$,.2f")),
            y=alt.Y("model:N", sort="-x", title=None),
            color=_models(frame),
            tooltip=["model:N", alt.Tooltip("usd:Q", format="$,.2f", title="Estimate")],
        )
        .properties(height=alt.Step(28))
    )
