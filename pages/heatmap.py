"""Heatmaps: a GitHub-style calendar per year, the hour of the week, streaks, the busiest day."""

import polars as pl
import streamlit as st

from pages import _charts as charts
from pages._shared import banners, require_viewer
from store.queries import calendar, hour_of_week, streaks

view = st.session_state["view"]
st.title("Heatmap")
if require_viewer(view) and banners(view):
    frame = view.frame()
    if frame.is_empty():
        st.info("No usage in the chosen dates and filters.")
    else:
        runs = streaks(frame, view.today())
        a, b, c = st.columns(3)
        a.metric("Current streak", f"{runs['current']} days")
        b.metric("Longest streak", f"{runs['longest']} days")
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
                f"{year}: {active.height} active days, {int(cells['tokens'].sum()):,} tokens"
            )
        st.altair_chart(charts.hour_of_week(hour_of_week(frame)), width="stretch")
