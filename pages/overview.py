"""Overview: totals for all time, the last 30 and 7 days and today; timelines; cache hit rate."""

import functools
from datetime import timedelta

import streamlit as st

from pages.lib import charts
from pages.lib.access import require_viewer
from pages.lib.filters import (
    banners,
    chosen_usage,
    measure_picker,
    period_picker,
    readable_period,
)
from pages.lib.routing import page_view
from pages.lib.text import (
    COST_NOTE,
    ESTIMATE_NOTE,
    compact,
    counted,
    dates_name,
    inline_text,
    usd,
)
from store.fields import EARLIEST
from store.queries import cache_rate, cost_summary, in_days, running_total, summary, timeline


def flagged_notice(flags: dict[str, int]) -> str:
    """One sentence: how many records are flagged as implausible, and why."""
    reasons = ", ".join(
        inline_text(code) if len(flags) == 1 else f"{n:,} {inline_text(code)}"
        for code, n in flags.items()
    )
    return (
        f"{counted(sum(flags.values()), 'record')} flagged as implausible ({reasons}): kept and "
        "counted here, but not ranked on the leaderboard."
    )


view = page_view("pages/overview.py")
st.title("Codex usage")
if require_viewer(view) and banners(view):
    aside = view.set_aside()
    if aside["flags"]:
        st.warning(flagged_notice(aside["flags"]), icon=":material/flag:")
    if aside["misdated"]:
        st.warning(
            f"{counted(aside['misdated'], 'record')} dated before {EARLIEST:%Y-%m-%d} or over a "
            "day ahead: kept, but left out of every figure and of the leaderboard.",
            icon=":material/event_busy:",
        )
    every, groups = view.all_dates(), view.all_groups()
    today = view.today()

    @functools.cache
    def days_figures(first, last) -> dict:
        return summary(in_days(every, first, last, column="day")) | cost_summary(
            in_days(groups, first, last)
        )

    def figures(first, last) -> dict:
        """Totals and estimate of the local days from ``first`` to ``last`` (None: open), each
        window summed once: dates that span every record are all time."""
        return days_figures(*((None, None) if (first, last) == view.span else (first, last)))

    whole = figures(None, None)
    cards = {  # first and last local day, inclusive: the chosen dates, then fixed windows
        view.dates_name: (view.start, view.end),
        "Last 30 days": (today - timedelta(days=29), None),
        "Last 7 days": (today - timedelta(days=6), None),
        "Today": (today, today),
    }
    totals = {name: figures(*window) for name, window in cards.items()}
    st.markdown(
        f"### {whole['total']:,} tokens all time  \n"
        f"<span style='color:gray'>≈ {compact(whole['total'])} · input + output · "
        f"in {view.zone}</span>",
        unsafe_allow_html=True,
    )
    for column, (name, shown) in zip(st.columns(4), totals.items(), strict=True):
        first, last = cards[name]
        when = dates_name(first, last or today) if first else name
        with column, st.container(border=True):
            st.metric(name, compact(shown["total"]), help=f"{when}: {shown['total']:,} tokens")
            st.caption(
                f"Input {shown['input']:,} (cached {shown['cached']:,}, "
                f"cache writes {shown['cache_write']:,})  \n"
                f"Output {shown['output']:,} (reasoning {shown['reasoning']:,})  \n"
                f"{counted(shown['sessions'], 'session')} · "
                f"{counted(shown['active_days'], 'active day')}"
            )
            st.metric("API-equivalent (estimate)", usd(shown["usd"]))
    st.caption(
        "The first card shows the dates chosen in the sidebar; the other three, the last 30 and "
        f"7 days and today in {view.zone}, whatever the dates chosen. "
        + ESTIMATE_NOTE
        + " Cached input and cache writes are parts of input, reasoning part of output."
    )
    if whole["unpriced_tokens"]:
        st.caption(
            f"{whole['unpriced_tokens']:,} tokens of models with no published price are counted "
            "above but not priced (see API-equivalent)."
        )

    frame = chosen_usage(view)
    if frame is not None:
        left, right = st.columns(2)
        with left:
            period = period_picker("Timeline", readable_period(frame), "period")
        with right:
            measure = measure_picker("measure")
        per_period = timeline(view.groups(), period)
        st.altair_chart(
            charts.timeline(per_period, period, measure, view.all_models), width="stretch"
        )
        if measure == "cost":
            st.caption(COST_NOTE)
        left, right = st.columns(2)
        left.altair_chart(charts.burned(running_total(frame)), width="stretch")
        rate = figures(view.start, view.end)  # the chosen dates: the first card's
        right.altair_chart(charts.cache_rate(cache_rate(frame)), width="stretch")
        if rate["input"]:
            right.caption(
                f"Cache hit rate in the chosen dates: {rate['cached'] / rate['input']:.1%}"
            )
