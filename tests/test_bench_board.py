"""bench/board.py still runs: a tiny store, every read and the ingest measured, the data right.

The figures are never judged here (timings on a shared test machine say nothing); what is checked
is that they are printed and written, and that the loaded store holds what the bench claims: the
accounts, the records, the plausibility flags the store's bounds give, and rollups equal to a
plain aggregation of the records, after the bulk load and after the ingest (whose records a kept
store gives back, days recomputed) alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa

from store.sql import LONG_CONTEXT_TOKENS, MAX_TOKENS_PER_DAY, MAX_TOKENS_PER_MINUTE

BENCH = Path(__file__).resolve().parent.parent / "bench" / "board.py"
RECORDS, ACCOUNTS, OPTED_IN, RUNS = 2_000, 40, 12, 2
COLLECTORS, BATCHES, BATCH = 2, 2, 300


@pytest.fixture
def bench_run(store_url, tmp_path):
    """The bench run once at a tiny scale in the test's own PostgreSQL schema, kept there."""
    url = sa.make_url(store_url)
    schema = url.query["options"].removeprefix("-csearch_path=")
    base = url.difference_update_query(["options"]).render_as_string(hide_password=False)
    figures = tmp_path / "board.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            *("--url", base, "--schema", schema, "--keep", "--json", str(figures)),
            *("--records", str(RECORDS), "--accounts", str(ACCOUNTS)),
            *("--opted-in", str(OPTED_IN), "--runs", str(RUNS), "--workers", "1"),
            *("--collectors", str(COLLECTORS), "--batches", str(BATCHES), "--batch", str(BATCH)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    engine = sa.create_engine(store_url)
    yield done.stdout, json.loads(figures.read_text()), engine
    engine.dispose()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_bench_prints_its_figures_and_loads_what_it_says(bench_run):
    printed, figures, engine = bench_run
    figures_are_printed_and_written(printed, figures)
    the_store_is_what_the_bench_says(figures, engine)


def figures_are_printed_and_written(printed: str, figures: dict) -> None:
    assert set(figures["reads"]) >= {
        "board 7 days, by tokens",
        "board all time, by usd",
        "board 30 days, search",
        "rank of, 30 days",
        "profile, random",
        "profile, heaviest",
    }
    for name, read in figures["reads"].items():
        assert name in printed
        for kind in ("cold", "warm"):
            spread = read[kind]
            assert spread["runs"] == RUNS
            assert 0 < spread["p50"] <= spread["p95"] <= spread["max"]
        assert read["split"]["statements"] >= 1
    badge = figures["badge"]
    for kind in ("new app", "warm", "other names"):
        assert badge[kind]["runs"] == RUNS and badge[kind]["p95"] > 0
    assert "badge route: new app p95" in printed
    taken = figures["ingest"]
    assert taken["records"] == COLLECTORS * BATCHES * BATCH
    assert taken["records_per_s"] > 0 and taken["latency"]["runs"] == COLLECTORS * BATCHES
    assert f"{taken['records_per_s']:,.0f} records/s" in printed
    assert figures["rollup_drift"] == 0
    assert "rollups = GROUP BY of usage: OK" in printed


def the_store_is_what_the_bench_says(figures: dict, engine: sa.Engine) -> None:
    with engine.connect() as conn:
        accounts, opted_in = conn.execute(
            sa.text("SELECT count(*), count(*) FILTER (WHERE leaderboard_opt_in) FROM account")
        ).one()
        records = conn.execute(
            sa.text(
                "SELECT account_id, ts, model, tier, input, cached, cache_write, output, "
                "reasoning, flag FROM usage"
            )
        ).all()
        ids = conn.execute(sa.text("SELECT id FROM usage")).scalars().all()
        rollups = conn.execute(sa.text("SELECT * FROM daily_rollup")).mappings().all()
    assert (accounts, opted_in) == (ACCOUNTS, OPTED_IN)
    # A kept store is left as loaded: the ingested records are taken out again, their days'
    # flags and rollups recomputed (checked below, as for the load).
    assert figures["ingest"]["records"] == COLLECTORS * BATCHES * BATCH
    assert figures["store"]["records"] == len(records)
    assert all(id_ <= figures["ingest"]["last_loaded_id"] for id_ in ids)
    assert len(records) > RECORDS  # the implausible days come on top

    # Flags: exactly the records of a minute or UTC day over the store's bounds.
    minutes, days = Counter(), Counter()
    for account, ts, *_, inp, _cached, _writes, out, _reasoning, _flag in records:
        ts = ts.astimezone(UTC)
        minutes[account, ts.replace(second=0, microsecond=0)] += inp + out
        days[account, ts.date()] += inp + out
    flagged = 0
    for account, ts, *_, flag in records:
        ts = ts.astimezone(UTC)
        over = (
            minutes[account, ts.replace(second=0, microsecond=0)] > MAX_TOKENS_PER_MINUTE
            or days[account, ts.date()] > MAX_TOKENS_PER_DAY
        )
        assert (flag is not None) == over
        flagged += flag is not None
    assert flagged > 0

    # Rollups: a plain aggregation of the records, key by key.
    expected: dict[tuple, Counter] = defaultdict(Counter)
    for account, ts, model, tier, inp, cached, writes, out, reasoning, flag in records:
        key = (account, ts.astimezone(UTC).date(), model, tier, inp > LONG_CONTEXT_TOKENS)
        sums = expected[(*key, flag is not None)]
        sums.update(input=inp, cached=cached, cache_write=writes, output=out)
        sums.update(reasoning=reasoning, responses=1)
    found = {
        (r["account_id"], r["day"], r["model"], r["tier"], r["long_context"], r["flagged"]): {
            k: r[k] for k in ("input", "cached", "cache_write", "output", "reasoning", "responses")
        }
        for r in rollups
    }
    assert found == {key: dict(sums) for key, sums in expected.items()}
