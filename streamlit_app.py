"""Codextime's dashboard: the entry point Streamlit runs (locally and on Community Cloud).

It sets up the shared sidebar filters (kept in the URL), then runs the chosen page from pages/.
"""

import streamlit as st

from pages._shared import sidebar

st.set_page_config(page_title="Codextime", page_icon="⏱️", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="📊", default=True),
    st.Page("pages/heatmap.py", title="Heatmap", icon="🗓️"),
    st.Page("pages/models.py", title="Models", icon="🧩"),
    st.Page("pages/api_equivalent.py", title="API-equivalent", icon="💵"),
    st.Page("pages/leaderboard.py", title="Leaderboard", icon="🏆"),
    st.Page("pages/privacy.py", title="Privacy and method", icon="🔒"),
]

page = st.navigation(PAGES)
st.session_state["view"] = sidebar()
page.run()
