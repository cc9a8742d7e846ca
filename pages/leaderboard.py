"""Leaderboard: opted-in accounts only, self-reported, plausibility-checked, with no one's hours."""

from datetime import UTC, datetime

import streamlit as st

from pages.lib import board
from pages.lib.access import signed_in
from pages.lib.data import db_url, store_choices
from pages.lib.routing import routed
from pages.lib.text import ESTIMATE_NOTE, inline_text
from store.fields import DEMO_LABEL
from store.pricing import rates_path

#: The session key of the page of the board shown; back to the first when a filter changes.
PAGE = "board_page"
PER = board.PER_PAGE


def first_page() -> None:
    st.session_state[PAGE] = 1


routed("pages/leaderboard.py")  # routes a deep link through the entry point
url, rates_file = db_url(), str(rates_path())
me = signed_in(url)
st.title("Leaderboard")
st.caption(
    "Self-reported usage of the accounts that chose to appear here (`codextime leaderboard "
    "join`); everyone else is left out. Plausibility-checked: records that fail the plausibility "
    "checks (more tokens in a minute or a day than one person's Codex sessions can spend) are "
    "kept, but never ranked. Counted by open rules: tokens are input + output, each response "
    "once. Only totals and model mix are shown, never when anyone works."
)
st.page_link(
    "pages/privacy.py", label="How it is counted: Privacy and method", icon=":material/lock:"
)
if DEMO_LABEL in store_choices(url, ()).get("labels", []):
    st.warning(
        "**DEMO DATA**: this board shows demo accounts with synthetic usage, not anybody's real "
        "usage.",
        icon=":material/science:",
    )


def choice(where, label: str, options: dict, default: str, key: str) -> str:
    """One of ``options`` as a row of buttons, kept in the page address under ``key``."""
    picked = where.segmented_control(
        label, list(options), default=default, key=key, bind="query-params", on_change=first_page
    )
    return picked or default


period_col, by_col = st.columns(2)
# Not "period": the Overview's timeline has that key, and widget keys are shared by all pages.
period = choice(period_col, "Period", board.PERIODS, "30 days", "window")
ranking = choice(by_col, "Rank by", board.RANKINGS, "Tokens", "by")
model_col, search_col = st.columns(2)
model = model_col.selectbox(
    "Model",
    board.board_models(url),
    index=None,
    placeholder="All models",
    key="model",
    bind="query-params",
    on_change=first_page,
    help="Rank by one model's usage only.",
)
search = search_col.text_input(
    "Search",
    placeholder="Part of a display name",
    max_chars=100,
    key="q",
    bind="query-params",
    on_change=first_page,
)
first_day, by = board.since(period, datetime.now(UTC).date()), board.RANKINGS[ranking]
if by == "usd":
    st.caption(f"API-equivalent: {ESTIMATE_NOTE}")

number = st.session_state.get(PAGE, 1)
shown = board.board_page(url, rates_file, first_day, by, model, search, (number - 1) * PER)
if number > board.page_count(shown.total):  # the board shrank since that page was picked
    first_page()
    number, shown = 1, board.board_page(url, rates_file, first_day, by, model, search, 0)

if me is not None:
    own, name = me
    everyone = (
        shown if not search else board.board_page(url, rates_file, first_day, by, model, None, 0)
    )
    rank = board.rank_of(url, rates_file, own, first_day, by, model)
    st.markdown(board.own_rank_line(rank, everyone.total, inline_text(name)))

if not shown.rows:
    st.info("No one matches that search." if search else "No one is ranked here yet.")
else:
    st.dataframe(
        board.highlighted(board.board_frame(shown.rows), shown.rows, me[0] if me else None),
        hide_index=True,
        width="stretch",
        column_config={
            "rank": st.column_config.NumberColumn("Rank", width="small"),
            "name": st.column_config.LinkColumn(
                "Display name", display_text=board.PROFILE_NAME, help="Opens the profile"
            ),
            "tokens": st.column_config.NumberColumn("Tokens", format="localized"),
            "usd": st.column_config.NumberColumn("API-equivalent (estimate)", format="dollar"),
            "models": "Model mix",
        },
    )
    pages = board.page_count(shown.total)
    if pages > 1:
        st.number_input("Page", min_value=1, max_value=pages, key=PAGE, width=160)
    st.caption(board.rows_shown((number - 1) * PER, len(shown.rows), shown.total))
note = board.flagged_note(shown.flagged_records)
if note:
    st.caption(note)
