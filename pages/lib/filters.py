"""What a page shows: the View (who is looking, in which zone, at which slice), the sidebar that
chooses it (kept in the page address, so a view can be shared as a link), and the controls and
notices pages put above their charts."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl
import streamlit as st

from pages.lib.access import viewer_accounts
from pages.lib.data import (
    db_url,
    local_usage,
    priced_groups,
    records_set_aside,
    viewer_choices,
)
from pages.lib.text import dates_name
from store.fields import DEMO_LABEL
from store.periods import PERIODS
from store.pricing import rates_path
from store.queries import Filters, in_days


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
    #: The first and last local day with usage (None in an empty store).
    span: tuple[date, date] | None = None

    @property
    def demo(self) -> bool:
        return DEMO_LABEL in self.available.get("labels", [])

    @property
    def all_models(self) -> list[str]:
        """Every model the store knows for the viewer, whatever the filters: the charts' colour
        scale, so that a model keeps its colour on every page."""
        return self.available.get("models", [])

    @property
    def dates_name(self) -> str:
        """The chosen dates as a card names them: ``All time`` when they hold every day with
        usage."""
        whole = self.span is None or (
            (self.start is None or self.start <= self.span[0])
            and (self.end is None or self.end >= self.span[1])
        )
        return "All time" if whole else dates_name(self.start, self.end)

    @property
    def chosen(self) -> Filters:
        """What the sidebar restricts the records to, dates apart (the store applies it)."""
        return Filters(self.accounts, self.models, self.labels, self.tiers)

    @property
    def empty(self) -> bool:
        return self.available.get("first") is None

    def frame(self) -> pl.DataFrame:
        """Records in the chosen date range, in local time."""
        return in_days(self.all_dates(), self.start, self.end, column="day")

    def all_dates(self) -> pl.DataFrame:
        """The same, ignoring the date range (for all-time, 30-day, 7-day and today figures)."""
        return local_usage(self.url, self.chosen, self.zone, str(rates_path()))

    def all_groups(self, at: date | None = None) -> pl.DataFrame:
        """Priced groups of every date (see ``priced_groups``)."""
        return priced_groups(self.url, self.chosen, self.zone, at, str(rates_path()))

    def groups(self, at: date | None = None) -> pl.DataFrame:
        """Priced groups of the chosen date range."""
        return in_days(self.all_groups(at), self.start, self.end)

    def set_aside(self) -> dict:
        """The viewer's flagged and misdated records, all time (``data.records_set_aside``)."""
        return records_set_aside(self.url, self.accounts)

    def today(self) -> date:
        return datetime.now(zoneinfo.ZoneInfo(self.zone)).date()


def sidebar() -> View:
    """The filters every page shares. They live in the URL, so a view can be shared as a link."""
    url = db_url()
    accounts = viewer_accounts(url)
    available = viewer_choices(url, accounts) if accounts is not None else {}
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
    start = end = span = None
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
        span=span,
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
    """Day, week or month (a ``store.periods`` unit), as a row of buttons."""
    names = {period.unit: period.label for period in PERIODS}
    picked = st.segmented_control(
        label, list(names), default=default, key=key, format_func=names.__getitem__
    )
    return picked or default


#: The most days a timeline shows one bar each by default: a bar a day over a longer range is
#: too thin to read (and hundreds more marks to draw); weeks then.
DAILY_UP_TO = 92


def readable_period(frame: pl.DataFrame) -> str:
    """The timeline's default unit for the local days of ``frame``: days, or weeks past
    ``DAILY_UP_TO`` days."""
    first, last = frame["day"].min(), frame["day"].max()
    return "day" if (last - first).days < DAILY_UP_TO else "week"


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


def key_column(heading: str):
    """A table's key column (the model, the tier): pinned, so that it stays in view while the
    table scrolls sideways on a phone."""
    return st.column_config.TextColumn(heading, pinned=True)
