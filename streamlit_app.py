"""Codextime's dashboard: the entry point Streamlit runs (locally and on Community Cloud).

It sets up the shared sidebar filters (kept in the URL) on the pages they act on, then runs the
chosen page from pages/.
"""

import streamlit as st

from pages.lib.routing import run_page

st.set_page_config(page_title="Codextime", page_icon=":material/timer:", layout="wide")

#: The pages the sidebar's filters act on: the only ones that draw them.
FILTERED_PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page("pages/heatmap.py", title="Heatmap", icon=":material/calendar_month:"),
    st.Page("pages/models.py", title="Models", icon=":material/stacked_bar_chart:"),
    st.Page("pages/api_equivalent.py", title="API-equivalent", icon=":material/payments:"),
]
OTHER_PAGES = [
    st.Page("pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    st.Page("pages/privacy.py", title="Privacy and method", icon=":material/lock:"),
    # Reached from the leaderboard's links (it needs ?name=), so not in the menu.
    st.Page("pages/profile.py", title="Profile", icon=":material/person:", visibility="hidden"),
]

page = st.navigation(FILTERED_PAGES + OTHER_PAGES)
run_page(page, filtered=page.url_path in {p.url_path for p in FILTERED_PAGES})
