"""Who may see which usage: everything in a personal store; on a shared deployment, the account
the viewer signed in as, once per session: with the token ``codextime login`` saved, or through
the one-time link ``codextime open`` opens (``?signin=<code>``). The session keeps the account's
id and the digest of the token (never the token, the code or a name: a name can be given up and
taken by another account while a session is open), so it follows renames and ends when that token
is revoked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from pages.lib.data import engine, shared_deployment, stops_when_unreachable
from pages.lib.text import inline_text
from store.accounts import account_for_token, redeem_code, token_digest
from store.queries import signed_in_name

if TYPE_CHECKING:
    from pages.lib.filters import View

SIGNED_IN = "account_id"
SIGNED_TOKEN = "token_sha256"
#: The URL parameter of a sign-in link: a one-time code the store exchanges for the session.
SIGNIN_PARAM = "signin"
LINK_REFUSED = (
    "This sign-in link was already used, has expired or is unknown: run `codextime open` again, "
    "or sign in with your token."
)


@stops_when_unreachable
def _redeem(url: str, code: str) -> tuple[int, str] | None:
    return redeem_code(engine(url), code)


def redeem_link(url: str) -> None:
    """Sign this session in with a sign-in link's code, once: the code leaves the page address
    before anything else happens, so a reload or a shared address never carries it. A code the
    store does not take (used, expired, unknown) is said in one line, and the token prompt stays."""
    if SIGNIN_PARAM not in st.query_params:
        return
    code = st.query_params[SIGNIN_PARAM]
    del st.query_params[SIGNIN_PARAM]
    found = _redeem(url, code) if code else None
    if found is None:
        st.warning(LINK_REFUSED, icon=":material/link_off:")
        return
    st.session_state[SIGNED_IN], st.session_state[SIGNED_TOKEN] = found


def signed_in(url: str) -> tuple[int, str] | None:
    """The account this session signed in as (after redeeming a sign-in link in the address) and
    its current name, shown in the sidebar; None when it has not, or once the token it signed in
    with is revoked or its account is gone (the session then forgets it)."""
    redeem_link(url)
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
