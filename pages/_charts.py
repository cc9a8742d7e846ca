"""Chart builders: pure functions from a small frame to an Altair chart (no Streamlit here)."""

from __future__ import annotations

import altair as alt
import polars as pl

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
GREENS = ["#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39"]  # GitHub's calendar scale


def _models(frame: pl.DataFrame) -> alt.Color:
    domain = sorted(frame["model"].unique().to_list()) if "model" in frame.columns else []
    return alt.Color("model:N", title="Model", scale=alt.Scale(domain=domain, scheme="tableau20"))


def timeline(frame: pl.DataFrame, period: str) -> alt.Chart:
    """Tokens per period, stacked by model."""
    fmt = {"day": "%b %d", "week": "%b %d", "month": "%b %Y"}[period]
    return (
        alt.Chart(frame, title=f"Tokens per {period}")
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format=fmt)),
            y=alt.Y("sum(total):Q", title="Tokens (input + output)", axis=alt.Axis(format="~s")),
            color=_models(frame),
            tooltip=[
                alt.Tooltip("period:T", title=period.title(), format="%Y-%m-%d"),
                "model:N",
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
        alt.Chart(frame, title="Cache hit rate (share of input from the prompt cache), by week")
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
    """A GitHub-style year: weeks as columns, weekdays as rows, empty days shown."""
    frame = frame.with_columns(
        pl.col("weekday")
        .map_elements(lambda d: WEEKDAYS[d - 1], return_dtype=pl.String)
        .alias("dow")
    )
    top = max(int(frame["tokens"].max() or 0), 1)
    return (
        alt.Chart(frame, title=f"{year}")
        .mark_rect(cornerRadius=2, stroke="white", strokeWidth=1.5)
        .encode(
            x=alt.X(
                "week_start:O",
                title=None,
                axis=alt.Axis(
                    labelExpr="timeFormat(datum.value, '%b')",
                    labelAngle=0,
                    values=_month_starts(frame),
                    ticks=False,
                    domain=False,
                ),
            ),
            y=alt.Y("dow:O", sort=WEEKDAYS, title=None, axis=alt.Axis(ticks=False, domain=False)),
            color=alt.Color(
                "tokens:Q",
                title="Tokens",
                scale=alt.Scale(domain=[0, top], range=GREENS, type="sqrt"),
                legend=alt.Legend(format="~s"),
            ),
            tooltip=[
                alt.Tooltip("day:T", format="%a %Y-%m-%d", title="Day"),
                alt.Tooltip("tokens:Q", format=","),
            ],
        )
        .properties(height=160)
    )


def _month_starts(frame: pl.DataFrame) -> list:
    """One axis label per month: the first week that starts in it."""
    weeks = frame["week_start"].unique().sort()
    seen, marks = set(), []
    for week in weeks:
        key = (week.year, week.month)
        if key not in seen:
            seen.add(key)
            marks.append(week.isoformat())
    return marks


def hour_of_week(frame: pl.DataFrame) -> alt.Chart:
    frame = frame.with_columns(
        pl.col("weekday")
        .map_elements(lambda d: WEEKDAYS[d - 1], return_dtype=pl.String)
        .alias("dow")
    )
    return (
        alt.Chart(frame, title="When you use Codex (hour of the week, your time zone)")
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X("hour:O", title="Hour"),
            y=alt.Y("dow:O", sort=WEEKDAYS, title=None),
            color=alt.Color(
                "tokens:Q",
                title="Tokens",
                scale=alt.Scale(scheme="greens"),
                legend=alt.Legend(format="~s"),
            ),
            tooltip=["dow:N", "hour:O", alt.Tooltip("tokens:Q", format=",")],
        )
        .properties(height=220)
    )


def model_mix(frame: pl.DataFrame, period: str) -> alt.Chart:
    """Each model's share of each period's tokens."""
    return (
        alt.Chart(frame, title=f"Model mix per {period}")
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y(
                "share:Q", stack="normalize", title="Share of tokens", axis=alt.Axis(format="%")
            ),
            color=_models(frame),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d", title=period.title()),
                "model:N",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("tokens:Q", format=","),
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
