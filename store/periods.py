"""Where a local day starts, and the periods usage is summed over: one home for both.

The CLI report (``collector.report``) and the dashboard (``store.queries``) cut days in the
viewer's time zone and sum them into days, weeks and months. Both take the period's names, keys
and rules from here, so a week is the same Monday-to-Sunday span on the command line and in the
app. Standard library only: the collector imports this on its fast path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

#: How far a local clock can be from UTC: zones in use run from UTC-12 to UTC+14, so a local day
#: lies within 14 hours either side of the UTC day of the same date.
ZONE_REACH = timedelta(hours=14)


def utc_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC instants ``[low, high)`` that hold local dates ``since`` to ``until`` (inclusive) in
    every time zone: a loose bound a store can filter on before the exact cut in one zone. None
    leaves that end open."""
    low = _utc_midnight(since) - ZONE_REACH if since else None
    high = _utc_midnight(until) + timedelta(days=1) + ZONE_REACH if until else None
    return low, high


def _utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """A span usage is summed over, with every name it goes by."""

    unit: str  # the app's name, the word in "per day", and DuckDB's date_trunc unit
    report: str  # the CLI's name: ``codextime report daily``
    rows: str  # the list of rows in ``report --json``
    key: str  # a row's key in ``report --json``
    heading: str  # the first column of the report's table

    @property
    def label(self) -> str:
        """The app's button: Daily, Weekly, Monthly."""
        return self.report.capitalize()

    def start(self, day: date) -> date:
        """The first day of the period ``day`` falls in: itself, its Monday, its month's 1st."""
        if self.unit == "week":
            return day - timedelta(days=day.weekday())
        if self.unit == "month":
            return day.replace(day=1)
        return day

    def key_of(self, day: date) -> str:
        """The report's key of the period ``day`` falls in: the date of the day or of the week's
        Monday (YYYY-MM-DD), the month as YYYY-MM."""
        first = self.start(day).isoformat()
        return first[:7] if self.unit == "month" else first

    def sql_start(self, column: str) -> str:
        """``start`` as DuckDB SQL over a DATE column (DuckDB's weeks are ISO weeks: they start
        on Monday too)."""
        return f"date_trunc('{self.unit}', {column})::DATE"


DAY = Period(unit="day", report="daily", rows="days", key="date", heading="Day")
WEEK = Period(unit="week", report="weekly", rows="weeks", key="week", heading="Week of")
MONTH = Period(unit="month", report="monthly", rows="months", key="month", heading="Month")
PERIODS = (DAY, WEEK, MONTH)


def by_unit(unit: str) -> Period:
    """The period the app calls ``unit`` (day, week or month); ValueError for any other."""
    for period in PERIODS:
        if period.unit == unit:
            return period
    raise ValueError(f"unknown period {unit!r} (one of {', '.join(p.unit for p in PERIODS)})")
