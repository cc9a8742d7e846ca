"""Periods: one rule for where a day starts and what a week or a month is, held by the CLI report
and the dashboard alike."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.report import GROUPINGS, Report
from store.fields import ROW_FIELDS, TIERS
from store.periods import DAY, MONTH, PERIODS, WEEK, by_unit, utc_bounds
from store.pricing import load_rates
from store.queries import USAGE_SCHEMA, cost_groups, localize, timeline

#: Whole, half and quarter hours, both ends of the clock, and zones that change for summer time.
ZONES = (
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
)
MODELS = ("gpt-5", "gpt-5.1-codex", "a-model-no-rate-prices")
FIRST_MS = int(datetime(2025, 4, 1, tzinfo=UTC).timestamp() * 1000)
LAST_MS = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp() * 1000)
FIGURES = ("input", "cached", "cache_write", "output", "reasoning", "total")
RATES = load_rates()


@st.composite
def responses(draw) -> dict:
    """One model response with counts that keep the record's rules (parts within wholes)."""
    inp = draw(st.integers(0, 400_000))
    cached = draw(st.integers(0, inp))
    out = draw(st.integers(0, 100_000))
    return {
        "ts_ms": draw(st.integers(FIRST_MS, LAST_MS)),
        "model": draw(st.sampled_from(MODELS)),
        "tier": draw(st.sampled_from(TIERS)),
        "input": inp,
        "cached": cached,
        "cache_write": draw(st.integers(0, inp - cached)),
        "output": out,
        "reasoning": draw(st.integers(0, out)),
        "event_id": "e",
        "session": draw(st.sampled_from(("s1", "s2"))),
    }


def report_figures(records: list[dict], zone: str, unit: str) -> dict:
    """(period key, model) -> figures, from the CLI report over scanner rows."""
    report = Report(by_unit(unit).report, ZoneInfo(zone), rates=RATES)
    report.add_rows(tuple(r[name] for name in ROW_FIELDS) for r in records)
    doc = report.to_json()
    grouping = GROUPINGS[by_unit(unit).report]
    return {
        (row[grouping.key], model): figures
        for row in doc[grouping.rows]
        for model, figures in row["models"].items()
    }


def timeline_figures(records: list[dict], zone: str, unit: str) -> dict:
    """(period key, model) -> figures, from the dashboard's timeline over the same records."""
    frame = pl.DataFrame(
        [
            {
                **{k: v for k, v in r.items() if k in USAGE_SCHEMA},
                "ts": datetime.fromtimestamp(r["ts_ms"] / 1000, UTC),
                "label": None,
            }
            for r in records
        ],
        schema=USAGE_SCHEMA,
    )
    table = timeline(cost_groups(localize(frame, zone), RATES), unit)
    period = by_unit(unit)
    return {
        (period.key_of(row["period"]), row["model"]): row for row in table.iter_rows(named=True)
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(responses(), min_size=1, max_size=40),
    st.sampled_from(ZONES),
    st.sampled_from([p.unit for p in PERIODS]),
)
def test_the_cli_report_and_the_dashboard_timeline_agree(records, zone, unit):
    cli = report_figures(records, zone, unit)
    app = timeline_figures(records, zone, unit)
    assert cli.keys() == app.keys()
    for cell, figures in cli.items():
        assert {k: figures[k] for k in FIGURES} == {k: int(app[cell][k]) for k in FIGURES}
        if figures["api_equivalent_usd"] is None:
            assert app[cell]["usd"] is None
        else:
            assert app[cell]["usd"] == pytest.approx(figures["api_equivalent_usd"], abs=1e-5)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(FIRST_MS, LAST_MS),
    st.sampled_from(ZONES),
    st.integers(0, 3),
    st.integers(0, 3),
)
def test_utc_bounds_hold_every_instant_of_the_local_dates(ts_ms, zone, before, after):
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    local = moment.astimezone(ZoneInfo(zone)).date()
    low, high = utc_bounds(local - timedelta(days=before), local + timedelta(days=after))
    assert low <= moment < high


def test_utc_bounds_reach_fourteen_hours_past_each_utc_day_and_leave_open_ends_open():
    low, high = utc_bounds(date(2026, 3, 1), date(2026, 3, 31))
    assert low == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert high == datetime(2026, 4, 1, 14, tzinfo=UTC)
    assert utc_bounds(None, None) == (None, None)


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_a_week_is_keyed_by_its_monday_and_a_month_by_year_and_month(day):
    monday = WEEK.start(day)
    assert monday.weekday() == 0 and timedelta(0) <= day - monday < timedelta(days=7)
    assert WEEK.key_of(day) == monday.isoformat()
    assert MONTH.key_of(day) == f"{day.year:04d}-{day.month:02d}"
    assert DAY.key_of(day) == day.isoformat()


def test_every_name_of_a_period_and_an_unknown_one():
    assert [(p.unit, p.report, p.label) for p in PERIODS] == [
        ("day", "daily", "Daily"),
        ("week", "weekly", "Weekly"),
        ("month", "monthly", "Monthly"),
    ]
    assert list(GROUPINGS) == ["daily", "weekly", "monthly", "session"]
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        by_unit("fortnight")


def test_the_periods_module_loads_no_data_frame_or_database_library():
    code = (
        "import sys, store.periods; "
        "print(sorted(m for m in ('polars', 'duckdb', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
