"""The app's data: where the store is, its engine, the cached frames every page reads, and the
rate table. Everything here is cached for ``TTL``: a page rerun on every widget change asks the
store again only when the data may have changed."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import streamlit as st

from store.db import open_store
from store.pricing import RateTable, load_rates, rates_path
from store.queries import (
    Filters,
    choices,
    cost_groups,
    flag_counts,
    leaderboard,
    load_usage,
    localize,
    misdated_count,
)
from store.settings import APP_SHARED, default_db_url

#: How long a cached frame, choice list, leaderboard or rate table is kept.
TTL = "10m"


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
    flag = APP_SHARED.value() or _secret("shared", False)
    return str(flag).lower() in ("1", "true", "yes")


@st.cache_resource(show_spinner=False)
def engine(url: str):
    return open_store(url)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner="Loading usage…")
def local_usage(
    url: str, accounts: tuple[int, ...], models: tuple, labels: tuple, tiers: tuple, zone: str
) -> pl.DataFrame:
    """``usage`` in the viewer's time zone."""
    chosen = Filters(accounts=accounts, models=models, labels=labels, tiers=tiers)
    return localize(load_usage(engine(url), chosen), zone)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def priced_groups(
    url: str,
    accounts: tuple[int, ...],
    models: tuple,
    labels: tuple,
    tiers: tuple,
    zone: str,
    at: date | None,
    rates_file: str,
) -> pl.DataFrame:
    """The same usage summed into groups and priced by the engine with the rates of
    ``rates_file`` (``at``: at that date's prices; None: at the prices of each day)."""
    local = local_usage(url, accounts, models, labels, tiers, zone)
    return cost_groups(local, _rates_at(rates_file), at=at)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def store_choices(url: str, accounts: tuple[int, ...]) -> dict:
    return choices(engine(url), accounts)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def set_aside(url: str, accounts: tuple[int, ...]) -> dict:
    """Records the views treat apart: ``flags`` (per reason: counted, never ranked) and
    ``misdated`` (dated where no usage can be: kept, but in no figure)."""
    store = engine(url)
    return {"flags": flag_counts(store, accounts), "misdated": misdated_count(store, accounts)}


@st.cache_data(ttl=TTL, show_spinner=False)
def ranking(url: str, since_hour: str | None, by: str, rates_file: str) -> pl.DataFrame:
    """The leaderboard since an hour (ISO text, so that a minute's reruns share the cache; None:
    all time), by ``tokens`` or ``usd``, priced with the rates of ``rates_file``."""
    since = datetime.fromisoformat(since_hour) if since_hour else None
    return leaderboard(engine(url), since, _rates_at(rates_file), by=by)


def rates() -> RateTable:
    """The rate table in use: CODEXTIME_RATES, or the project's rates.csv."""
    return _rates_at(str(rates_path()))


@st.cache_data(ttl=TTL, show_spinner=False)
def _rates_at(path: str) -> RateTable:
    return load_rates(path)
