"""Codextime's dashboard: the entry point Streamlit runs (locally and on Community Cloud).

It sets up the shared sidebar filters (kept in the URL), then runs the chosen page from pages/.
"""

import streamlit as st

from pages.lib.routing import run_page

st.set_page_config(page_title="Codextime", page_icon=":material/timer:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page("pages/heatmap.py", title="Heatmap", icon=":material/calendar_month:"),
    st.Page("pages/models.py", title="Models", icon=":material/stacked_bar_chart:"),
    st.Page("pages/api_equivalent.py", title="API-equivalent", icon=":material/payments:"),
    st.Page("pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    st.Page("pages/privacy.py", title="Privacy and method", icon=":material/lock:"),
]

run_page(st.navigation(PAGES))
