"""Leaderboard: opted-in accounts only, self-reported, with no one's hourly pattern."""

from datetime import UTC, datetime, timedelta

import streamlit as st

from pages.lib.data import db_url, ranking
from pages.lib.routing import routed
from pages.lib.text import ESTIMATE_NOTE
from store.pricing import rates_path

routed("pages/leaderboard.py")  # routes a deep link through the entry point
st.title("Leaderboard")
st.caption(
    "Self-reported usage of the accounts that chose to appear here (`PATCH /api/v1/me` with "
    "`leaderboard_opt_in`); everyone else is left out. Only totals and model mix are shown, never "
    "when anyone works. Records that fail the plausibility checks (more tokens in a minute or a "
    "day than one person's Codex sessions can spend) are kept, but not ranked."
)
left, right = st.columns(2)
window = (
    left.segmented_control(
        "Period", ["7 days", "30 days", "All time"], default="30 days", key="board_window"
    )
    or "30 days"
)
by = (
    right.segmented_control(
        "Rank by", ["Tokens", "API-equivalent"], default="Tokens", key="board_by"
    )
    or "Tokens"
)
days = {"7 days": 7, "30 days": 30, "All time": None}[window]
since = datetime.now(UTC) - timedelta(days=days) if days else None
ranked = ranking(
    db_url(),
    since.replace(minute=0, second=0, microsecond=0).isoformat() if since else None,
    "usd" if by == "API-equivalent" else "tokens",
    str(rates_path()),
)
if ranked.is_empty():
    st.info("No one has opted in yet.")
else:
    st.dataframe(
        ranked,
        hide_index=True,
        width="stretch",
        column_config={
            "rank": st.column_config.NumberColumn("Rank", width="small"),
            "name": "Display name",
            "tokens": st.column_config.NumberColumn("Tokens", format="localized"),
            "usd": st.column_config.NumberColumn("API-equivalent (estimate)", format="dollar"),
            "models": "Model mix",
        },
    )
    st.caption(ESTIMATE_NOTE)
