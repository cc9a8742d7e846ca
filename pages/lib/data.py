"""The app's data: where the store is, its engine, the cached frames every page reads, and the
rate table. Everything here is cached for ``TTL``: a page rerun on every widget change asks the
store again only when the data may have changed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import ParamSpec, TypeVar

import polars as pl
import sqlalchemy as sa
import streamlit as st

from pages.lib.text import inline_text
from store.db import StoreError, open_store, store_url
from store.errors import database_words
from store.pricing import RateTable, load_rates, rates_path
from store.queries import (
    Filters,
    choices,
    chosen_slots,
    cost_groups,
    load_slots,
    localize,
    set_aside,
    slot_choices,
)
from store.settings import APP_SHARED, default_db_url

#: How long a cached frame, choice list, leaderboard or rate table is kept, in seconds (a number:
#: Streamlit reads a text duration such as "10m" with pandas, a third of a second to import).
TTL = 600

#: What opening or asking the store raises when it is out of reach: a closed port, a wrong
#: password, a folder that cannot be made, a driver or URL it cannot use.
STORE_FAILURES = (StoreError, sa.exc.SQLAlchemyError, OSError, ValueError, ImportError)

UNREACHABLE_ICON = ":material/cloud_off:"

P = ParamSpec("P")
R = TypeVar("R")


def _secret(name: str, default=None):
    try:
        return st.secrets.get(name, default)
    except FileNotFoundError:  # no secrets file at all: fine
        return default
    except Exception:  # a malformed secrets file must not take the app down
        return default


def db_url() -> str:
    """CODEXTIME_DB, then the ``db_url`` secret, then the embedded store."""
    return default_db_url(_secret("db_url"))


def shared_deployment() -> bool:
    """A store of many accounts: private pages then ask each viewer for their token."""
    return _switched_on(APP_SHARED.value() or _secret("shared", False))


def _switched_on(flag) -> bool:
    return str(flag).lower() in ("1", "true", "yes")


def unreachable_line(url: str, exc: BaseException) -> str:
    """The one line a page shows when the store fails: which store (its password hidden), the
    first line of the reason, and what to check. Never the traceback."""
    try:
        shown = store_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL too malformed to parse is not shown at all: it may hold a secret
        shown = "the configured URL"
    reason = database_words(exc.__cause__ or exc)
    # Code spans: the URL and the database's words are shown as text, never as Markdown.
    return (
        f"Cannot reach the store at {inline_text(shown)}: {inline_text(reason)}. "
        "Check CODEXTIME_DB or the db_url secret."
    )


def stops_when_unreachable(read: Callable[P, R]) -> Callable[P, R]:
    """``read`` (whose first argument is the store URL), showing ``unreachable_line`` and
    stopping the page instead of raising when the store fails."""

    @functools.wraps(read)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except STORE_FAILURES as exc:
            url = str(args[0] if args else kwargs["url"])
            st.error(unreachable_line(url, exc), icon=UNREACHABLE_ICON)
            st.stop()

    return guarded


def say_if_unreachable(url: str) -> None:
    """For a page that reads nothing from the store (and so still has something to show): the
    ``unreachable_line`` above it when the store cannot be opened."""
    try:
        _open(url)
    except STORE_FAILURES as exc:
        st.error(unreachable_line(url, exc), icon=UNREACHABLE_ICON)


@st.cache_resource(show_spinner=False)
def _open(url: str):
    return open_store(url)


#: The store's engine, opened once per URL (a failure is not kept: the next run tries again).
engine = stops_when_unreachable(_open)


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=64, show_spinner="Loading usage…")
def viewer_slots(url: str, accounts: tuple[int, ...], rates_file: str) -> pl.DataFrame:
    """Every record of ``accounts`` in slots (``store.queries.load_slots``, long context as the
    rates of ``rates_file`` have it): the one question a viewer's pages ask the store. The
    sidebar's choices and filters are answered from it."""
    return load_slots(_open(url), Filters(accounts=accounts), _rates_at(rates_file))


def viewer_choices(url: str, accounts: tuple[int, ...]) -> dict:
    """Models, labels, tiers and the date span of the viewer's records (``slot_choices``)."""
    return slot_choices(viewer_slots(url, accounts, str(rates_path())))


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def local_usage(url: str, chosen: Filters, zone: str, rates_file: str) -> pl.DataFrame:
    """The ``chosen`` slots, in the viewer's time zone."""
    slots = viewer_slots(url, chosen.accounts, rates_file)
    return localize(chosen_slots(slots, chosen), zone)


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def priced_groups(
    url: str, chosen: Filters, zone: str, at: date | None, rates_file: str
) -> pl.DataFrame:
    """The same usage summed into groups and priced by the engine with the rates of
    ``rates_file`` (``at``: at that date's prices; None: at the prices of each day)."""
    local = local_usage(url, chosen, zone, rates_file)
    return cost_groups(local, _rates_at(rates_file), at=at)


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def store_choices(url: str, accounts: tuple[int, ...]) -> dict:
    return choices(_open(url), accounts)


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def records_set_aside(url: str, accounts: tuple[int, ...]) -> dict:
    """Records the views treat apart (``store.queries.set_aside``)."""
    return set_aside(_open(url), accounts)


def rates() -> RateTable:
    """The rate table in use: CODEXTIME_RATES, or the project's rates.csv."""
    return _rates_at(str(rates_path()))


@st.cache_data(ttl=TTL, show_spinner=False)
def _rates_at(path: str) -> RateTable:
    return load_rates(path)


def warm_up(zone: str) -> None:
    """Ask what a first visit to the Overview of a personal store asks (all records, every
    filter open, the days of ``zone``), so that its frames are cached before anyone visits.
    ``st.cache_data`` keeps one cache per process, shared by every session: the launcher of
    ``codextime start`` calls this in the server's process before Streamlit starts. It reads the
    store and the shared flag from the environment only (``start`` sets them), not Streamlit's
    secrets: Streamlit has not read its settings yet. Nothing on a shared deployment (each
    viewer signs in first) nor when the store fails (the page then says why)."""
    if _switched_on(APP_SHARED.value()):
        return
    url, rates_file, everything = default_db_url(), str(rates_path()), Filters()
    # The cached functions themselves, not their page guards: there is no page to stop here.
    try:
        viewer_slots.__wrapped__(url, everything.accounts, rates_file)
        records_set_aside.__wrapped__(url, everything.accounts)
        local_usage.__wrapped__(url, everything, zone, rates_file)
        priced_groups.__wrapped__(url, everything, zone, None, rates_file)
    except STORE_FAILURES:
        pass
