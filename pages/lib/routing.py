"""The deep-link hand-over: every page runs behind the entry point, even on a first visit.

Streamlit serves a ``pages/`` folder next to the entry point as a classic multipage app until
some session of the server has called ``st.navigation`` (``PagesManager.uses_pages_directory``
in streamlit/runtime/pages_manager.py; the documented rule is that once any session runs
``st.navigation``, the ``pages/`` directory is ignored across all sessions). So a deep link that
is the first visit to a fresh server (streamlit/streamlit#9624, "st.navigation doesn't support
deeplinks on first load"), and every run under AppTest, runs the page file straight, without the
entry point. ``routed`` then hands over to the entry point, which comes back to the page with the
same URL parameters.

The entry point draws the filters only for the pages they act on. Streamlit keeps a bound
widget's value while it is not drawn, and puts it back in the URL when it is drawn again, so a
visit to the leaderboard loses no filter.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from pages.lib.filters import View, sidebar

ROUTER = "streamlit_app.py"
#: Session keys: the view the entry point drew, the mark that it drew one on this run, the mark
#: that the entry point has run in this session, and a hand-over in progress (the page and its
#: URL parameters).
VIEW, ROUTED, ENTERED, GOTO = "view", "_routed", "_entered", "_goto"


def routed(page: str) -> None:
    """On a session's first run of ``page`` without the entry point, hand over to the entry point
    (which comes back to ``page`` with the same URL parameters)."""
    if not st.session_state.get(ENTERED):
        st.session_state[GOTO] = (page, st.query_params.to_dict())
        st.switch_page(ROUTER)


def page_view(page: str) -> View:
    """The view a page the filters act on draws: the one the entry point drew on this run; on
    later runs without the entry point, the page's own sidebar. Pages the filters do not act on
    call ``routed`` alone."""
    routed(page)
    if st.session_state.pop(ROUTED, False) and VIEW in st.session_state:
        return st.session_state[VIEW]
    view = st.session_state[VIEW] = sidebar()
    return view


def run_page(page: StreamlitPage, filtered: bool) -> None:
    """In the entry point, after ``st.navigation``: finish a hand-over begun by ``routed``, draw
    the shared sidebar when the filters act on ``page`` and run the page. The sidebar is drawn
    here, not in the page, so that its widgets are the same widgets on every page and a filter
    holds from the first run after a page switch."""
    goto = st.session_state.pop(GOTO, None)
    if goto is not None:
        target, params = goto
        st.switch_page(target, query_params=params)
    st.session_state[ENTERED] = True
    if filtered:
        st.session_state[VIEW] = sidebar()
        st.session_state[ROUTED] = True
    page.run()
