"""A public profile (``?name=``): an opted-in account's daily totals as a calendar, its streaks,
model mix and API-equivalent per month. Days are UTC days; never an hour, never a label."""

import streamlit as st

from pages.lib import board, charts
from pages.lib.access import signed_in
from pages.lib.data import db_url
from pages.lib.routing import routed
from pages.lib.text import ESTIMATE_NOTE, compact, counted, inline_text, usd_or_reason
from store.pricing import rates_path

routed("pages/profile.py")  # routes a deep link through the entry point
url = db_url()
signed_in(url)
name = st.query_params.get("name", "")
shown = board.profile(url, str(rates_path()), name) if name.strip() else None
if shown is None:
    # The same words whether the account does not exist or keeps off the board.
    st.title("Profile")
    st.info(
        "No public profile here. Only accounts that chose to appear on the leaderboard have one.",
        icon=":material/person_off:",
    )
    st.page_link("pages/leaderboard.py", label="Leaderboard", icon=":material/leaderboard:")
    st.stop()

st.title(f"Profile of {inline_text(shown.name)}")
st.caption(
    "Self-reported usage, plausibility-checked (records that fail the checks are left out), "
    "counted by open rules. Days are UTC days."
)
st.page_link("pages/leaderboard.py", label="Leaderboard", icon=":material/leaderboard:")
tokens, cost, now, longest = st.columns(4)
tokens.metric("Tokens", compact(shown.tokens), help=f"{shown.tokens:,} (input + output)")
cost.metric("API-equivalent", usd_or_reason(shown.usd), help="An estimate, not a bill.")
now.metric("Current streak", counted(shown.current_streak, "day"))
longest.metric("Longest streak", counted(shown.longest_streak, "day"))

for year, cells in board.calendars(shown.days):
    st.altair_chart(charts.calendar(cells, year), width="stretch")
    active = cells.filter(cells["tokens"] > 0)
    st.caption(
        f"{year}: {counted(active.height, 'active day')}, {int(cells['tokens'].sum()):,} tokens"
    )

if shown.models:
    st.altair_chart(board.mix_chart(shown.models), width="stretch")
if any(cost is not None for _, _, cost in shown.months):
    st.altair_chart(board.monthly_chart(shown.months), width="stretch")
    st.caption(ESTIMATE_NOTE)
unpriced = [month for month, _, cost in shown.months if cost is None]
if unpriced:
    st.caption(
        f"No estimate for {', '.join(unpriced)}: no published price for the models used then "
        "(never counted as $0)."
    )
