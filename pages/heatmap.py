"""Heatmaps: a GitHub-style calendar per year, the hour of the week, streaks, the busiest day."""

import polars as pl
import streamlit as st

from pages.lib import charts
from pages.lib.access import require_viewer
from pages.lib.filters import banners, chosen_usage
from pages.lib.routing import page_view
from pages.lib.text import counted
from store.queries import calendar, hour_of_week, streaks

view = page_view("pages/heatmap.py")
st.title("Heatmap")
if require_viewer(view) and banners(view):
    frame = chosen_usage(view)
    if frame is not None:
        runs = streaks(frame, view.today())
        a, b, c = st.columns(3)
        a.metric("Current streak", counted(runs["current"], "day"))
        b.metric("Longest streak", counted(runs["longest"], "day"))
        c.metric(
            "Busiest day",
            runs["busiest_day"].strftime("%a %d %b %Y"),
            help=f"{runs['busiest_tokens']:,} tokens",
        )
        st.caption(f"Days in {view.zone} (change it in the sidebar).")
        years = sorted(frame["day"].dt.year().unique().to_list(), reverse=True)
        for year in years:
            cells = calendar(frame, year)
            st.altair_chart(charts.calendar(cells, year), width="stretch")
            active = cells.filter(pl.col("tokens") > 0)
            st.caption(
                f"{year}: {counted(active.height, 'active day')}, "
                f"{int(cells['tokens'].sum()):,} tokens"
            )
        st.altair_chart(charts.hour_of_week(hour_of_week(frame)), width="stretch")
