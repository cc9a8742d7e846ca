"""The deep-link hand-over: every page runs behind the entry point, even on a first visit.

Streamlit serves a ``pages/`` folder next to the entry point as a classic multipage app until
some session of the server has called ``st.navigation`` (``PagesManager.uses_pages_directory``
in streamlit/runtime/pages_manager.py; the documented rule is that once any session runs
``st.navigation``, the ``pages/`` directory is ignored across all sessions). So a deep link that
is the first visit to a fresh server (streamlit/streamlit#9624, "st.navigation doesn't support
deeplinks on first load"), and every run under AppTest, runs the page file straight, without the
entry point's sidebar. ``page_view`` then hands over to the entry point, which comes back to the
page with the same URL parameters.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from pages.lib.filters import View, sidebar

ROUTER = "streamlit_app.py"
#: Session keys: the view the entry point drew, the mark that it ran on this run, and a
#: hand-over in progress (the page and its URL parameters).
VIEW, ROUTED, GOTO = "view", "_routed", "_goto"


def page_view(page: str) -> View:
    """The view a page draws: the one the entry point drew on this run; on a session's first
    straight run, a hand-over to the entry point; on later straight runs, the page's own
    sidebar."""
    if st.session_state.pop(ROUTED, False) and VIEW in st.session_state:
        return st.session_state[VIEW]
    if VIEW not in st.session_state:
        st.session_state[GOTO] = (page, st.query_params.to_dict())
        st.switch_page(ROUTER)
    view = st.session_state[VIEW] = sidebar()
    return view


def run_page(page: StreamlitPage) -> None:
    """In the entry point, after ``st.navigation``: finish a hand-over begun by ``page_view``,
    draw the shared sidebar and run the page."""
    goto = st.session_state.pop(GOTO, None)
    if goto is not None:
        target, params = goto
        st.switch_page(target, query_params=params)
    st.session_state[VIEW] = sidebar()
    st.session_state[ROUTED] = True
    page.run()
