"""Who may see which usage: everything in a personal store; on a shared deployment, the account
whose token the viewer entered, once per session. The session keeps the account's id and the
digest of the token (never the token, never a name: a name can be given up and taken by another
account while a session is open), so it follows renames and ends when that token is revoked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from pages.lib.data import engine, shared_deployment
from pages.lib.text import inline_text
from store.accounts import account_for_token, token_digest
from store.queries import signed_in_name

if TYPE_CHECKING:
    from pages.lib.filters import View

SIGNED_IN = "account_id"
SIGNED_TOKEN = "token_sha256"


def signed_in(url: str) -> tuple[int, str] | None:
    """The account this session signed in as and its current name, shown in the sidebar; None
    when it has not, or once the token it signed in with is revoked or its account is gone (the
    session then forgets it)."""
    account = st.session_state.get(SIGNED_IN)
    if account is None:
        return None
    name = signed_in_name(engine(url), account, st.session_state.get(SIGNED_TOKEN, ""))
    if name is None:
        for key in (SIGNED_IN, SIGNED_TOKEN):
            st.session_state.pop(key, None)
        return None
    st.sidebar.caption(f"Signed in as {inline_text(name)}")
    return account, name


def viewer_accounts(url: str) -> tuple[int, ...] | None:
    """Whose data the private pages show: everything in a personal store; in a shared one, the
    account this session signed in as (None until then, or once it no longer may)."""
    viewer = signed_in(url)
    if not shared_deployment():
        return ()
    return None if viewer is None else (viewer[0],)


def require_viewer(view: View) -> bool:
    """On a shared deployment, ask once per session for the viewer's token. True when the page
    may show private data."""
    if not shared_deployment() or st.session_state.get(SIGNED_IN) is not None:
        return True
    st.info("This page shows your own usage. Enter the token `codextime login` saved for you.")
    with st.form("token"):
        token = st.text_input("Token", type="password")
        if st.form_submit_button("Open my dashboard") and token:
            account = account_for_token(engine(view.url), token.strip())
            if account is None:
                st.error("This server does not know that token.")
            else:
                st.session_state[SIGNED_IN] = account.id
                st.session_state[SIGNED_TOKEN] = token_digest(token.strip())
                st.rerun()
    return False
