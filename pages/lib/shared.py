"""What every page shares: the store, the rates, the filters (in the sidebar and the URL), the token
gate of a shared deployment, and the empty state."""

from __future__ import annotations

import os
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl
import streamlit as st

from pages.lib.text import inline_text
from store.accounts import account_for_token, token_digest
from store.db import open_store
from store.pricing import RateTable, load_rates, rates_path
from store.queries import (
    Filters,
    choices,
    cost_groups,
    flag_counts,
    in_days,
    load_usage,
    localize,
    misdated_count,
    signed_in_name,
)
from store.settings import default_db_url

ESTIMATE_NOTE = (
    "API-equivalent = these tokens priced at OpenAI's published API list prices: an educational "
    "estimate, **not a bill and not an official price**. Codextime is not affiliated with OpenAI."
)
#: Under a chart in USD.
COST_NOTE = (
    "USD: API-equivalent at OpenAI's published API list prices, each day at the prices in force "
    "that day: an estimate, **not a bill and not an official price**."
)
DEMO_LABEL = "demo"
TTL = "10m"
#: The session's key for the signed-in account's id. An id, never a name: a name can be given up
#: and taken by another account while a session is open.
#: The signed-in account's id, and the digest of the token it signed in with (never the token):
#: the session follows the account through renames and ends when that token is revoked.
SIGNED_IN = "account_id"
SIGNED_TOKEN = "token_sha256"


# -- configuration --------------------------------------------------------------------------


def _secret(name: str, default=None):
    try:
        return st.secrets.get(name, default)
    except FileNotFoundError:  # no secrets file at all: fine
        return default
    except Exception:  # a malformed secrets file must not take the app down
        return default


def db_url() -> str:
    """CODEXTIME_DB, then the ``db_url`` secret, then the embedded store."""
    return os.environ.get("CODEXTIME_DB") or _secret("db_url") or default_db_url()


def shared_deployment() -> bool:
    """A store of many accounts: private pages then ask each viewer for their token."""
    flag = os.environ.get("CODEXTIME_APP_SHARED") or _secret("shared", False)
    return str(flag).lower() in ("1", "true", "yes")


# -- cached data ----------------------------------------------------------------------------


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


def rates() -> RateTable:
    """The rate table in use: CODEXTIME_RATES, or the project's rates.csv."""
    return _rates_at(str(rates_path()))


@st.cache_data(ttl=TTL, show_spinner=False)
def _rates_at(path: str) -> RateTable:
    return load_rates(path)


# -- the viewer and the filters -------------------------------------------------------------


@dataclass
class View:
    """Who is looking, in which time zone, at which slice of the data."""

    url: str
    accounts: tuple[int, ...]
    zone: str
    start: date | None
    end: date | None
    models: tuple[str, ...]
    labels: tuple[str, ...]
    tiers: tuple[str, ...]
    available: dict = field(default_factory=dict)

    @property
    def demo(self) -> bool:
        return DEMO_LABEL in self.available.get("labels", [])

    @property
    def empty(self) -> bool:
        return self.available.get("first") is None

    def frame(self) -> pl.DataFrame:
        """Records in the chosen date range, in local time."""
        return in_days(self.all_dates(), self.start, self.end, column="day")

    def all_dates(self) -> pl.DataFrame:
        """The same, ignoring the date range (for all-time, 30-day, 7-day and today figures)."""
        return local_usage(self.url, self.accounts, self.models, self.labels, self.tiers, self.zone)

    def all_groups(self, at: date | None = None) -> pl.DataFrame:
        """Priced groups of every date (see ``priced_groups``)."""
        keys = (self.url, self.accounts, self.models, self.labels, self.tiers, self.zone)
        return priced_groups(*keys, at, str(rates_path()))

    def groups(self, at: date | None = None) -> pl.DataFrame:
        """Priced groups of the chosen date range."""
        return in_days(self.all_groups(at), self.start, self.end)

    def set_aside(self) -> dict:
        """The viewer's flagged and misdated records, all time (see ``set_aside``)."""
        return set_aside(self.url, self.accounts)

    def today(self) -> date:
        return datetime.now(zoneinfo.ZoneInfo(self.zone)).date()


ROUTER = "streamlit_app.py"


def routed() -> None:
    """Called by the entry point, on every run, before it runs the page."""
    st.session_state["_routed"] = True


def page_view(page: str) -> View:
    """The view a page draws.

    Streamlit runs a page straight from ``pages/`` (without the entry point) until some session
    has run the entry point: a deep link that is the first visit to a fresh server, or every run
    under AppTest. A session's first such run hands over to the entry point, which comes back to
    this page with the same URL parameters; later ones draw the shared sidebar themselves.
    """
    if st.session_state.pop("_routed", False) and "view" in st.session_state:
        return st.session_state["view"]
    if "view" not in st.session_state:
        st.session_state["_goto"] = (page, st.query_params.to_dict())
        st.switch_page(ROUTER)
    view = st.session_state["view"] = sidebar()
    return view


def resume_deep_link() -> None:
    """In the entry point, after st.navigation: finish a hand-over begun by ``page_view``."""
    goto = st.session_state.pop("_goto", None)
    if goto is not None:
        page, params = goto
        st.switch_page(page, query_params=params)


def viewer_accounts(url: str) -> tuple[int, ...] | None:
    """Whose data the private pages show: everything in a personal store; in a shared one, the
    account whose token this session entered (None until then, or once it no longer exists).
    Its current name is shown in the sidebar, looked up by id on every run."""
    if not shared_deployment():
        return ()
    account = st.session_state.get(SIGNED_IN)
    if account is None:
        return None
    name = signed_in_name(engine(url), account, st.session_state.get(SIGNED_TOKEN, ""))
    if name is None:
        for key in (SIGNED_IN, SIGNED_TOKEN):
            st.session_state.pop(key, None)
        return None
    st.sidebar.caption(f"Signed in as {inline_text(name)}")
    return (account,)


def sidebar() -> View:
    """The filters every page shares. They live in the URL, so a view can be shared as a link."""
    url = db_url()
    accounts = viewer_accounts(url)
    available = store_choices(url, accounts) if accounts is not None else {}
    st.sidebar.header("Filters")
    browser_zone = st.context.timezone or "UTC"
    zones = sorted(zoneinfo.available_timezones())
    zone = st.sidebar.selectbox(
        "Time zone",
        zones,
        index=zones.index(browser_zone) if browser_zone in zones else zones.index("UTC"),
        key="tz",
        bind="query-params",
        help="Days, weeks and hours are cut in this zone.",
    )
    start = end = None
    first, last = available.get("first"), available.get("last")
    if first and last:
        span = (
            first.astimezone(zoneinfo.ZoneInfo(zone)).date(),
            last.astimezone(zoneinfo.ZoneInfo(zone)).date(),
        )
        picked = st.sidebar.date_input(
            "Dates",
            value=span,
            min_value=span[0],
            max_value=max(span[1], date.today()),
            key="dates",
            bind="query-params",
        )
        # While the second date is being picked, the widget holds one date only.
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            start, end = picked
        elif isinstance(picked, (tuple, list)) and len(picked) == 1:
            start = picked[0]
    models = _chosen("Models", available, "models", "All models")
    labels = _chosen("Machines / seats", available, "labels", "All labels")
    tiers = _chosen(
        "Service tiers",
        available,
        "tiers",
        "All tiers",
        help="The tier each response ran at, as Codex logged it; unknown when the log does not "
        "say (older Codex versions, older collectors).",
    )
    return View(
        url=url,
        accounts=accounts or (),
        zone=zone,
        start=start,
        end=end,
        models=models,
        labels=labels,
        tiers=tiers,
        available=available,
    )


def _chosen(title: str, available: dict, key: str, everything: str, help: str | None = None):
    """A sidebar multiselect over the store's ``available[key]``, kept in the URL under ``key``;
    nothing chosen means everything."""
    picked = st.sidebar.multiselect(
        title,
        available.get(key, []),
        key=key,
        bind="query-params",
        placeholder=everything,
        help=help,
    )
    return tuple(picked)


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


def banners(view: View) -> bool:
    """Demo and empty-store notices; False when there is nothing to show."""
    if view.empty:
        st.info(
            "No usage yet. Fill the store with your Codex logs, or try a demo data set:\n\n"
            "```sh\ncodextime sync\n"
            "codextime demo --out codextime-demo && codextime sync --codex-home codextime-demo\n```"
        )
        return False
    if view.demo:
        st.warning(
            "**DEMO DATA**: synthetic Codex logs, not anybody's real usage.",
            icon=":material/science:",
        )
    return True


def chosen_usage(view: View) -> pl.DataFrame | None:
    """The records the dates and filters choose; None (the page says so) when there are none."""
    frame = view.frame()
    if frame.is_empty():
        st.info("No usage in the chosen dates and filters.")
        return None
    return frame


def period_picker(label: str, default: str, key: str) -> str:
    """Day, week or month, as a row of buttons."""
    names = {"day": "Daily", "week": "Weekly", "month": "Monthly"}
    picked = st.segmented_control(
        label, list(names), default=default, key=key, format_func=names.__getitem__
    )
    return picked or default


PRICES_OF_THE_TIME = "At the prices of the time"
TODAYS_PRICES = "At today's prices"


def prices_picker(key: str = "prices") -> date | None:
    """Which prices an estimate uses: each day's own (None), or today's (today's date)."""
    picked = st.segmented_control(
        "Prices",
        [PRICES_OF_THE_TIME, TODAYS_PRICES],
        default=PRICES_OF_THE_TIME,
        key=key,
        help="Prices change: each response at the price in force on its own day, or every "
        "response at the price in force today.",
    )
    return date.today() if picked == TODAYS_PRICES else None


def measure_picker(key: str) -> str:
    """Tokens or their API-equivalent in USD (an estimate)."""
    names = {"tokens": "Tokens", "cost": "API-equivalent (USD)"}
    picked = st.segmented_control(
        "Show", list(names), default="tokens", key=key, format_func=names.__getitem__
    )
    return picked or "tokens"


def compact(n: float | int | None) -> str:
    if n is None:
        return "–"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,.0f}"


def usd(value: float | None) -> str:
    return "–" if value is None else f"${value:,.2f}"


#: Where a model has no price: the estimate is never $0, it is missing, and says why.
NO_PRICE = "— no published price"


def usd_or_reason(value: float | None) -> str:
    """A price, or the reason there is none."""
    return NO_PRICE if value is None else usd(value)
