"""What keeps the dashboard fast: the store sums records into slots before the app reads them,
with every figure the same as from the records themselves; the first page imports only what it
draws with."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from store.db import account_id, insert_usage, open_store
from store.pricing import load_rates
from store.queries import (
    Filters,
    calendar,
    cost_groups,
    hour_of_week,
    load_slots,
    load_usage,
    localize,
    summary,
)

ROOT = Path(__file__).resolve().parent.parent
RATES = load_rates()
#: A quarter-hour edge (14:45 UTC) and a local midnight in India (18:30 UTC): records either side
#: of either edge must stay apart.
EDGE = datetime(2026, 6, 1, 14, 45, tzinfo=UTC)
MIDNIGHT_IN_INDIA = datetime(2026, 6, 1, 18, 30, tzinfo=UTC)


def record(n: int, ts: datetime, model: str = "gpt-5.4", session: int = 0, **counts) -> dict:
    figures = dict(input=20_000 + n, cached=5_000, cache_write=0, output=700, reasoning=100)
    return dict(
        ts=ts,
        model=model,
        tier="standard",
        event_id=f"{n:032x}",
        session=f"{session:032x}",
        label="laptop",
        **(figures | counts),
    )


def records() -> list[dict]:
    second = timedelta(seconds=1)
    rows = [record(n, EDGE - timedelta(minutes=14) + n * second) for n in range(30)]  # one slot
    rows += [
        record(30, EDGE - second),
        record(31, EDGE),  # the next slot
        record(32, EDGE + second, session=1),  # same slot, another session
        record(33, EDGE + 2 * second, input=300_000, cached=0),  # over gpt-5.4's 272K threshold
        record(34, EDGE + 3 * second, model="gpt-5.5", input=272_001, cached=0),
        record(35, MIDNIGHT_IN_INDIA - second),
        record(36, MIDNIGHT_IN_INDIA),
        record(37, EDGE + 4 * second, model="no-such-model"),  # unpriced
        # Counts no response can have (kept from before the bounds): each a slot of its own.
        record(38, EDGE + 5 * second, input=3 * 10**18, cached=0, output=10**18),
        record(39, EDGE + 6 * second, input=3 * 10**18, cached=0, output=10**18),
    ]
    return rows


@pytest.fixture
def engine(store_url):
    engine = open_store(store_url)
    insert_usage(engine, account_id(engine), records())
    yield engine
    engine.dispose()


def test_the_store_sums_records_into_slots(engine):
    slots = load_slots(engine, Filters(), RATES)
    assert slots["responses"].sum() == len(records())
    # 30 records of one session in one quarter hour are one row.
    first = slots.filter(pl.col("ts") == EDGE - timedelta(minutes=15))
    assert first["responses"].to_list() == [31]  # the 30, and the one a second before the edge
    assert first["input"].to_list() == [sum(20_000 + n for n in (*range(30), 30))]
    # The slot after the edge: sessions, long-context classes and outliers apart.
    after = slots.filter(pl.col("ts") == EDGE).sort("responses", "input")
    assert after.height == 7
    assert slots.height == 10


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
def test_slots_give_the_figures_of_the_records(engine, zone):
    """Totals, sessions, days, hours and the estimate with its long-context surcharges, in zones
    a quarter or a half hour off UTC."""
    by_slot = localize(load_slots(engine, Filters(), RATES), zone)
    by_record = localize(load_usage(engine, Filters()), zone)
    assert summary(by_slot) == summary(by_record)
    assert summary(by_slot)["responses"] == len(records())
    assert hour_of_week(by_slot).equals(hour_of_week(by_record))
    assert calendar(by_slot, 2026).equals(calendar(by_record, 2026))
    priced_slots, priced_records = cost_groups(by_slot, RATES), cost_groups(by_record, RATES)
    assert priced_slots.drop("usd").equals(priced_records.drop("usd"))
    assert priced_slots["usd"].to_list() == pytest.approx(priced_records["usd"].to_list())
    assert priced_slots["long"].sum() == 2  # the gpt-5.4 and gpt-5.5 responses over 272K


def test_filters_are_applied_in_the_store(engine):
    slots = load_slots(engine, Filters(models=("gpt-5.5",)), RATES)
    assert slots["model"].to_list() == ["gpt-5.5"]
    assert load_slots(engine, Filters(labels=("desk",)), RATES).is_empty()


def test_the_first_page_does_not_import_pandas(tmp_path):
    """A text cache lifetime ("10m") made Streamlit import pandas (a third of a second) on the
    first page; nothing the dashboard draws needs it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(url)
    insert_usage(engine, account_id(engine), records()[:5])
    engine.dispose()
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'streamlit_app.py')!r}, default_timeout=60)\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "assert at.get('vega_lite_chart'), 'no chart drawn'\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "CODEXTIME_DB": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
