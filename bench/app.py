"""Dashboard speed at the size the README promises: 5 million records over 2,000 accounts.

The goal: every page renders in <= 1.5 s at p95 once warm and <= 4 s cold, and the app stays under
1 GB of memory. The bench builds that store on PostgreSQL, in a schema of its own, then renders
each page with Streamlit's AppTest as a viewer of a shared deployment meets it: cold (the first
render in a fresh process, Streamlit's caches empty) and warm (reruns in one process, with the
filters changing as a viewer changes them).

Usage: ``python bench/app.py [--rows 5000000] [--accounts 2000] [--keep]``; see bench/README.md.

``--browser`` measures instead what one person meets after ``codextime start``: the embedded
(SQLite) store with a year of heavy use (300,000 records), served by ``streamlit run`` and drawn by
Chromium: the time from navigation to the page's last chart drawn, for the first page in a fresh
server process and for every later page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import psutil
import psycopg
import sqlalchemy as sa

from collector.commands.starting import HEALTH, dashboard_command
from collector.report import resolve_zone
from store.db import USAGE_COLUMNS
from store.fields import TIERS

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
APP = REPO / "streamlit_app.py"
STATE = BENCH / "out" / "app-store.json"
RESULTS = BENCH / "out" / "app-results.md"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

WARM_P95_S = 1.5
COLD_S = 4.0
RSS_LIMIT = 1 << 30
TIMEOUT_S = 300

PRIVATE = ("overview", "heatmap", "models", "api_equivalent")
PUBLIC = ("leaderboard", "privacy")
VIEWERS = ("heavy", "median", "light")
WINDOWS = ("7 days", "30 days", "All time")
RANKINGS = ("Tokens", "API-equivalent")
BOARD_DEFAULT = ("30 days", "Tokens")
#: The leaderboard's period and ranking controls.
BOARD_KEYS = ("window", "by")
#: What a page shows once it has data: its absence means the render went wrong.
SHOWS = {
    "overview": "metric",
    "heatmap": "metric",
    "models": "dataframe",
    "api_equivalent": "metric",
    "leaderboard": "dataframe",
    "privacy": "markdown",
}

# Flagship models in the order Codex users moved through them, with the day each first appears.
FLAGSHIPS = (
    ("gpt-5", date(2025, 8, 7)),
    ("gpt-5-codex", date(2025, 9, 15)),
    ("gpt-5.1-codex", date(2025, 11, 13)),
    ("gpt-5.1-codex-max", date(2025, 11, 19)),
    ("gpt-5.2-codex", date(2026, 1, 14)),
    ("gpt-5.3-codex", date(2026, 2, 5)),
    ("gpt-5.4", date(2026, 3, 5)),
    ("gpt-5.5", date(2026, 6, 11)),
)
MODELS = (*(name for name, _ in FLAGSHIPS), "gpt-5-mini", "unknown", "codex-auto-review")
MINI, UNKNOWN, REVIEW = (MODELS.index(m) for m in ("gpt-5-mini", "unknown", "codex-auto-review"))
LONG_CONTEXT = tuple(MODELS.index(m) for m in ("gpt-5.4", "gpt-5.5"))
REVIEWS_FROM = date(2026, 1, 20)
LABELS = ("laptop", "desktop", "workstation", "devbox", "ci-runner")
#: How often each service tier (``store.fields.TIERS`` order) is drawn: most logs name none.
TIER_SHARES = (0.25, 0.1, 0.02, 0.01, 0.62)
US = 1_000_000
DAY_US = 86_400 * US


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The store


def schema_url(base: str, schema: str, *options: str) -> str:
    """The store URL whose connections see ``schema`` only (as the test suite isolates stores)."""
    flags = " ".join((f"-csearch_path={schema}", *options))
    return sa.make_url(base).update_query_dict({"options": flags}).render_as_string(False)


def libpq_url(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 32-character hex strings: the shape of Codextime's keyed hashes."""
    pairs = np.array([f"{i:02x}" for i in range(256)], dtype="S2")
    return pairs[rng.integers(0, 256, (n, 16), dtype=np.uint8)].view("S32").ravel()


def synthesize(rows: int, accounts: int, months: float, seed: int, now: datetime) -> dict:
    """Usage rows in arrays, sorted by time as a shared store receives them.

    Accounts are skewed (lognormal: a few heavy users, many light ones) and join over the period;
    sessions cluster in each account's working hours, mostly on weekdays; context grows within a
    session until compaction, most of it cached; the model follows what was current that day.
    """
    rng = np.random.default_rng(seed)
    span = round(months * 30.44)
    first_day = epoch_day(now.date()) - span
    weight = rng.lognormal(0.0, 1.6, accounts)
    counts = np.maximum(1, np.floor(weight / weight.sum() * rows)).astype(np.int64)
    counts[np.argmax(counts)] += rows - counts.sum()
    join = rng.beta(1, 3, accounts) * 0.9
    stays = rng.random(accounts) >= 0.15
    leave = np.where(stays, 1.0, join + (1 - join) * rng.uniform(0.3, 1.0, accounts))
    offset = rng.choice([-8, -7, -5, -4, 0, 1, 2, 3, 5.5, 8, 9], accounts)
    label_count = rng.choice(4, accounts, p=[0.3, 0.4, 0.2, 0.1])

    per_account: list[tuple[np.ndarray, ...]] = []
    for a in range(accounts):
        n = int(counts[a])
        k = max(1, round(n / 35))
        cuts = np.sort(rng.choice(np.arange(1, n), k - 1, replace=False)) if k > 1 else []
        lengths = np.diff(np.concatenate(([0], cuts, [n]))).astype(np.int64)
        low, high = first_day + int(join[a] * span), first_day + int(leave[a] * span)
        days = rng.integers(low, high + 1, k)
        weekend = (days + 3) % 7 >= 5
        redraw = weekend & (rng.random(k) < 0.7)
        days[redraw] = rng.integers(low, high + 1, int(redraw.sum()))
        hours = np.clip(rng.normal(14, 3.5, k), 0, 23.9) - offset[a]
        own = rng.choice(len(LABELS), label_count[a], replace=False)
        labels = own[rng.integers(0, len(own), k)] if len(own) else np.full(k, -1)
        per_account.append((np.full(k, a), lengths, days, hours, labels))
    s_account, s_len, s_day, s_hour, s_label = (
        np.concatenate(c) for c in zip(*per_account, strict=True)
    )
    sessions = len(s_len)
    s_start = (s_day * 86_400 + s_hour * 3_600 + rng.uniform(0, 3_600, sessions)) * US

    releases = np.array([epoch_day(d) for _, d in FLAGSHIPS])
    newest = np.searchsorted(releases, s_day, side="right") - 1
    pick = np.maximum(newest - rng.choice(3, sessions, p=[0.62, 0.25, 0.13]), 0)
    s_model = np.where(newest < 0, UNKNOWN, pick)
    s_model = np.where((newest >= 0) & (rng.random(sessions) < 0.05), MINI, s_model)
    s_model = np.where((newest >= 0) & (rng.random(sessions) < 0.005), UNKNOWN, s_model)
    long_ok = np.isin(s_model, LONG_CONTEXT) & (rng.random(sessions) < 0.25)
    s_cap = np.where(long_ok, rng.uniform(300_000, 800_000, sessions), 258_000)
    s_base = np.minimum(rng.lognormal(np.log(18_000), 0.6, sessions), 120_000)
    s_step = rng.lognormal(np.log(2_500), 0.7, sessions)
    s_id = hex_ids(rng, sessions)

    row_session = np.repeat(np.arange(sessions), s_len)
    first_row = np.cumsum(s_len) - s_len
    k = np.arange(rows) - first_row[row_session]
    elapsed = np.cumsum(rng.exponential(40, rows) + 3)
    elapsed -= elapsed[first_row][row_session]
    end_us = int(now.timestamp() * US)
    ts = (s_start[row_session] + elapsed * US).astype(np.int64)
    late = ts >= end_us
    ts[late] = end_us - rng.integers(US, DAY_US, int(late.sum()))

    model = s_model[row_session]
    base, cap = s_base[row_session], s_cap[row_session]
    size = base + np.mod(k * s_step[row_session], cap - base)
    size = (size * rng.uniform(0.97, 1.03, rows)).astype(np.int64)
    share = np.where(k == 0, rng.uniform(0, 0.3, rows), rng.uniform(0.8, 0.98, rows))
    output = np.clip(rng.lognormal(np.log(600), 1.0, rows), 20, 40_000).astype(np.int64)
    review = (ts >= epoch_day(REVIEWS_FROM) * DAY_US) & (rng.random(rows) < 0.05)
    model[review] = REVIEW
    size[review] = rng.lognormal(np.log(12_000), 0.5, int(review.sum())).astype(np.int64)
    share[review] = rng.uniform(0.3, 0.7, int(review.sum()))
    output[review] = np.clip(rng.lognormal(np.log(150), 0.5, int(review.sum())), 10, 2_000)
    reasoning = output * rng.uniform(0, 0.7, rows)
    reasoning[(model == UNKNOWN) & (rng.random(rows) < 0.5)] = 0

    # Cache writes are rare (explicit prompt caching) and sit in the uncached part of the input;
    # the tier is what the thread's settings named, mostly nothing (older logs).
    cached = (size * share).astype(np.int64)
    writes = rng.random(rows) < 0.05
    cache_write = np.where(writes, ((size - cached) * rng.uniform(0, 0.5, rows)), 0).astype(
        np.int64
    )
    tier = rng.choice(len(TIERS), rows, p=TIER_SHARES)

    order = np.argsort(ts, kind="stable")
    return {
        "counts": counts,
        "active_to_end": stays,
        "account": s_account[row_session][order],
        "ts": ts[order],
        "model": model[order],
        "input": size[order],
        "tier": tier[order],
        "cached": cached[order],
        "cache_write": cache_write[order],
        "output": output[order],
        "reasoning": reasoning.astype(np.int64)[order],
        "event_id": hex_ids(rng, rows),
        "session": s_id[row_session][order],
        "label": s_label[row_session][order],
    }


def csv_chunks(data: dict, ids: np.ndarray, size: int = 500_000):
    """The rows as CSV text for COPY, a chunk at a time (NULL label = empty field)."""
    models = dict(enumerate(MODELS))
    labels = {-1: None, **dict(enumerate(LABELS))}
    tiers = dict(enumerate(TIERS))
    for lo in range(0, len(data["ts"]), size):
        part = slice(lo, lo + size)
        yield (
            pl.DataFrame(
                {
                    "account_id": ids[data["account"][part]],
                    "ts": pl.Series(data["ts"][part]).cast(pl.Datetime("us", "UTC")),
                    "model": pl.Series(data["model"][part]).replace_strict(
                        models, return_dtype=pl.String
                    ),
                    "tier": pl.Series(data["tier"][part]).replace_strict(
                        tiers, return_dtype=pl.String
                    ),
                    "input": data["input"][part],
                    "cached": data["cached"][part],
                    "cache_write": data["cache_write"][part],
                    "output": data["output"][part],
                    "reasoning": data["reasoning"][part],
                    "event_id": data["event_id"][part].astype("U32"),
                    "session": data["session"][part].astype("U32"),
                    "label": pl.Series(data["label"][part]).replace_strict(
                        labels, return_dtype=pl.String
                    ),
                }
            )
            .select(USAGE_COLUMNS)
            .write_csv(include_header=False)
        )


def bulk_copy(url: str, chunks) -> None:
    """COPY into ``usage`` with its indexes and constraints set aside, then rebuilt the way the
    migrations left them: one sort per index instead of 5 million random index inserts."""
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = 'usage'::regclass"
        ).fetchall()
        constraints.sort(key=lambda c: "puf".index(c[2]) if c[2] in "puf" else 3)
        indexes = conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'usage'::regclass "
            "AND i.oid NOT IN (SELECT conindid FROM pg_constraint WHERE conindid <> 0)"
        ).fetchall()
        with conn.transaction():
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            for name, _, _ in reversed(constraints):
                conn.execute(f'ALTER TABLE usage DROP CONSTRAINT "{name}"')
            # TRUNCATE in the same transaction lets COPY write the rows frozen and all-visible,
            # as a long-lived, vacuumed store would have them.
            conn.execute("TRUNCATE usage")
            statement = (
                f"COPY usage ({', '.join(USAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv, FREEZE)"
            )
            with conn.cursor().copy(statement) as copy:
                for text in chunks:
                    copy.write(text)
        started = time.perf_counter()
        with conn.transaction():
            for name, definition, _ in constraints:
                conn.execute(f'ALTER TABLE usage ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:
                conn.execute(definition)
        log(f"  indexes and constraints rebuilt in {time.perf_counter() - started:.1f} s")
        conn.execute("ANALYZE usage")
        conn.execute("ANALYZE account")
        conn.execute("ANALYZE api_token")


def build_store(url: str, args: argparse.Namespace) -> dict:
    """Fill an empty schema; return who the bench logs in as (names, tokens, row counts)."""
    from store.accounts import create_account, update_account
    from store.db import open_store, rebuild_rollups

    timings: dict[str, float] = {}
    started = time.perf_counter()
    now = datetime.now(UTC)
    data = synthesize(args.rows, args.accounts, args.months, args.seed, now)
    timings["generate"] = time.perf_counter() - started
    log(f"  {args.rows:,} rows generated in {timings['generate']:.1f} s")

    started = time.perf_counter()
    engine = open_store(schema_url(url, args.schema, "-csynchronous_commit=off"))
    rng = np.random.default_rng(args.seed + 1)
    opted = rng.random(args.accounts) < 1 / 3
    ids, tokens = np.zeros(args.accounts, dtype=np.int64), []
    for i in range(args.accounts):
        ids[i], token = create_account(engine, f"user-{i:04d}")
        tokens.append(token)
        if opted[i]:
            update_account(engine, int(ids[i]), {"leaderboard_opt_in": True})
    engine.dispose()
    timings["accounts"] = time.perf_counter() - started
    log(
        f"  {args.accounts:,} accounts ({int(opted.sum())} on the leaderboard) in "
        f"{timings['accounts']:.1f} s"
    )

    started = time.perf_counter()
    bulk_copy(schema_url(url, args.schema), csv_chunks(data, ids))
    engine = open_store(schema_url(url, args.schema))
    rebuild_rollups(engine)  # the board reads daily rollups, which COPY does not keep
    engine.dispose()
    timings["copy"] = time.perf_counter() - started
    log(f"  COPY, indexes and ANALYZE in {timings['copy']:.1f} s")

    counts = data["counts"]
    order = np.argsort(counts, kind="stable")
    steady = [int(i) for i in order if data["active_to_end"][i]]

    def who(i: int) -> dict:
        return {"name": f"user-{i:04d}", "token": tokens[i], "rows": int(counts[i])}

    heaviest = [int(i) for i in order[::-1]]
    return {
        "schema": args.schema,
        "rows": args.rows,
        "accounts": args.accounts,
        "opted_in": int(opted.sum()),
        "load_s": timings,
        "viewers": {
            "heavy": who(heaviest[0]),
            "median": who(steady[len(steady) // 2]),
            "light": who(steady[len(steady) // 10]),
        },
        "fill": [who(i) for i in heaviest[1 : 1 + args.fill]],
    }


def store_facts(url: str) -> dict:
    with psycopg.connect(libpq_url(url)) as conn:
        return {
            "postgres": conn.execute("SHOW server_version").fetchone()[0],
            "shared_buffers": conn.execute("SHOW shared_buffers").fetchone()[0],
            "table_size": conn.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('usage'))"
            ).fetchone()[0],
            "rows": conn.execute("SELECT count(*) FROM usage").fetchone()[0],
        }


# --------------------------------------------------------------------------------------------
# Rendering pages (runs in child processes, so each measured process holds the app alone)


class PageError(RuntimeError):
    """A page raised, or did not show what it should: the bench stops rather than time it."""


def new_app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)


def check(at, page: str) -> None:
    if at.exception:
        raise PageError(f"{page}: " + " | ".join(str(e.value) for e in at.exception))
    notes = [i.value for i in at.info]
    if page in PRIVATE and any("Enter the token" in n for n in notes):
        raise PageError(f"{page}: still asks for a token after logging in")
    if not at.get(SHOWS[page]) and not any("No usage in the chosen" in n for n in notes):
        raise PageError(f"{page}: rendered without its {SHOWS[page]}")


def timed(action: Callable[[], object], at, page: str) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    check(at, page)
    return elapsed


def path(page: str) -> str:
    return f"pages/{page}.py"


def log_in(at, token: str, page: str) -> float:
    """Fill the token form and submit it in one run, as a viewer does."""
    at.text_input[0].input(token)
    return timed(lambda: at.button[0].click().run(), at, page)


def rss_peak() -> int:
    """This process's own high-water mark. ``ru_maxrss`` would not do: Linux carries it over
    exec from the forking parent, which held the generated rows."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_cold(spec: dict, page: str, viewer: str, board: tuple[str, str]) -> dict:
    """The first render of one page in this fresh process: a deep link, then the token."""
    started = time.perf_counter()
    at = new_app()
    at.run()
    if at.exception:
        raise PageError(f"entry point: {at.exception[0].value}")
    first_paint = time.perf_counter() - started
    if page in PRIVATE:
        at.switch_page(path(page)).run()
        cold = log_in(at, spec["viewers"][viewer]["token"], page)
    else:
        cold = timed(lambda: at.switch_page(path(page)).run(), at, page)
        if page == "leaderboard" and board != BOARD_DEFAULT:
            at.button_group(key=BOARD_KEYS[0]).set_value(board[0])
            at.button_group(key=BOARD_KEYS[1]).set_value(board[1])
            cold = timed(at.run, at, page)
    return {"cold": cold, "first_paint": first_paint, "rss": rss_peak()}


def prefer(options: list[str], wanted: tuple[str, ...]) -> list[str]:
    found = [m for m in wanted if m in options]
    return found or list(options[:2])


def interactions(at, page: str) -> list[tuple[str, Callable[[], object]]]:
    """What a viewer does between reruns of ``page``: the shared filters, then the page's own."""
    span = tuple(at.date_input(key="dates").value)
    first, last = span

    def dates(days: int | None):
        value = span if days is None else (max(first, last - timedelta(days=days - 1)), last)
        return lambda: at.date_input(key="dates").set_value(value)

    def pick(key: str, value):
        return lambda: at.multiselect(key=key).set_value(value)

    models = prefer(at.multiselect(key="models").options, ("gpt-5.5", "gpt-5.4", "gpt-5.3-codex"))
    labels = at.multiselect(key="labels").options
    steps = [
        ("rerun", lambda: None),
        ("dates: 30 days", dates(30)),
        ("dates: 90 days", dates(90)),
        ("dates: all", dates(None)),
        (f"model: {models[0]}", pick("models", models[:1])),
        ("models: " + ", ".join(models[:2]), pick("models", models[:2])),
        ("models: all", pick("models", [])),
    ]
    if labels:
        steps += [
            (f"label: {labels[0]}", pick("labels", labels[:1])),
            ("labels: all", pick("labels", [])),
        ]

    def button(key: str, value: str):
        return lambda: at.button_group(key=key).set_value(value)

    def slider(key: str, value):
        return lambda: at.slider(key=key).set_value(value)

    if page == "overview":
        steps += [(f"timeline: {p}", button("period", p)) for p in ("week", "month", "day")]
    elif page == "models":
        steps += [(f"mix per {p}", button("mix_period", p)) for p in ("day", "month", "week")]
    elif page == "api_equivalent":
        steps += [
            ("rates x0.8", slider("multiplier", 0.8)),
            ("rates x1.5", slider("multiplier", 1.5)),
            ("cached share on", lambda: at.toggle(key="share_on").set_value(True)),
            ("cached share 80%", slider("share", 80)),
            ("cached share off", lambda: at.toggle(key="share_on").set_value(False)),
            ("rates x1", slider("multiplier", 1.0)),
        ]
    return steps


def warm_page(at, page: str, runs: int) -> dict:
    first = timed(lambda: at.switch_page(path(page)).run(), at, page)
    full_span = tuple(at.date_input(key="dates").value)
    steps = interactions(at, page)
    samples, names = [], []
    for i in range(runs):
        name, change = steps[i % len(steps)]
        change()
        samples.append(timed(at.run, at, page))
        names.append(name)
    at.date_input(key="dates").set_value(full_span)
    at.multiselect(key="models").set_value([])
    at.multiselect(key="labels").set_value([])
    at.run()
    check(at, page)
    return {"first": first, "samples": samples, "steps": names}


def child_warm(spec: dict, runs: int) -> dict:
    """Reruns in one process, one session per viewer, as one server serves them all."""
    process = psutil.Process()
    results: list[dict] = []
    for viewer in VIEWERS:
        at = new_app()
        at.run()
        login = log_in(at, spec["viewers"][viewer]["token"], "overview")
        for page in PRIVATE:
            result = warm_page(at, page, runs)
            results.append({"page": page, "viewer": viewer, "login": login, **result})
            log(f"  warm {page} / {viewer}: p95 {np.percentile(result['samples'], 95):.2f} s")

    at = new_app()
    at.run()
    at.switch_page(path("privacy")).run()
    samples = [timed(at.run, at, "privacy") for _ in range(runs)]
    results.append(
        {"page": "privacy", "viewer": "anyone", "samples": samples, "steps": ["rerun"] * runs}
    )

    at.switch_page(path("leaderboard")).run()
    combos = [(w, b) for w in WINDOWS for b in RANKINGS]
    by_combo: dict[tuple[str, str], list[float]] = {c: [] for c in combos}
    for lap in range(runs + 1):
        for combo in combos:
            at.button_group(key=BOARD_KEYS[0]).set_value(combo[0])
            at.button_group(key=BOARD_KEYS[1]).set_value(combo[1])
            elapsed = timed(at.run, at, "leaderboard")
            if lap:  # the first lap computes each board once: that is not warm
                by_combo[combo].append(elapsed)
    for combo, samples in by_combo.items():
        results.append(
            {
                "page": "leaderboard",
                "viewer": " · ".join(combo),
                "samples": samples,
                "steps": ["switch ranking"] * len(samples),
            }
        )
    warm_rss = process.memory_info().rss

    # More viewers: each heavy account's first overview adds its frames to Streamlit's caches.
    firsts = []
    for other in spec["fill"]:
        at = new_app()
        at.run()
        firsts.append(log_in(at, other["token"], "overview"))
    return {
        "results": results,
        "fill": firsts,
        "rss_after_warm": warm_rss,
        "rss_after_fill": process.memory_info().rss,
        "rss_peak": rss_peak(),
    }


# --------------------------------------------------------------------------------------------
# The browser: the embedded store as `codextime start` serves it, drawn by Chromium

#: Browser goals: the first page drawn this long after the server answers, every later page.
FIRST_PAGE_S = 3.0
LATER_PAGE_S = 1.0
EMBEDDED_STORE = BENCH / "out" / "embedded-{rows}-{seed}.db"
#: The pages a viewer visits after the first, through the sidebar: link, title, charts drawn.
TOUR = (
    ("Heatmap", "Heatmap", 2),
    ("Models", "Models", 1),
    ("API-equivalent", "API-equivalent", 1),
    ("Overview", "Codex usage", 3),
)
#: True once the page titled ``title`` has finished its run and drawn at least ``charts`` charts
#: (Vega's SVG scene in place, the plot laid out).
DRAWN = """([title, charts]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.dataset.testScriptState !== "notRunning") return false;
  const heading = document.querySelector("[data-testid='stMain'] h1");
  if (!heading || !heading.textContent.startsWith(title)) return false;
  const drawn = [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
    .filter(c => c.querySelector("svg.marks g.role-frame.root"));
  return drawn.length >= charts;
}"""


def embedded_store(rows: int, seed: int) -> Path:
    """A personal SQLite store of ``rows`` records over the last year, built once per size and
    seed (the records ``synthesize`` makes for one account)."""
    from store.db import account_id, insert_usage, open_store

    path = Path(str(EMBEDDED_STORE).format(rows=rows, seed=seed))
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    data = synthesize(rows, 1, 12, seed, datetime.now(UTC))
    labels = (None, *LABELS)

    def records():
        for i in range(rows):
            yield {
                "ts": datetime.fromtimestamp(data["ts"][i] / US, UTC),
                "model": MODELS[data["model"][i]],
                "tier": TIERS[data["tier"][i]],
                **{k: int(data[k][i]) for k in ("input", "cached", "cache_write", "output")},
                "reasoning": int(data["reasoning"][i]),
                "event_id": data["event_id"][i].decode(),
                "session": data["session"][i].decode(),
                "label": labels[data["label"][i] + 1],
            }

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = open_store(f"sqlite:///{partial}")
    insert_usage(engine, account_id(engine), records())
    engine.dispose()
    partial.rename(path)
    return path


def start_server(store: Path, preload: bool) -> tuple[subprocess.Popen, str, float]:
    """``streamlit run`` over ``store`` in a fresh process, with .pyc files written and read as a
    user's Python does; returns the process, its address and how long it took to answer."""
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    flags = ["--server.headless", "true", "--server.fileWatcherType", "none"]
    flags += ["--browser.gatherUsageStats", "false"]
    if preload:  # as `codextime start` serves it
        command = dashboard_command(APP, port, resolve_zone(None).key, *flags)
    else:
        command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port)]
        command += flags
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["CODEXTIME_DB"] = f"sqlite:///{store}"
    started = time.perf_counter()
    server = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < TIMEOUT_S:
        try:
            if httpx.get(base + HEALTH, timeout=1).text == "ok":
                return server, base, time.perf_counter() - started
        except httpx.HTTPError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("streamlit did not answer")


def cpu_seconds(*processes: psutil.Process) -> float:
    """CPU time used so far by ``processes`` and their children (the browser's renderers)."""
    total = 0.0
    for process in processes:
        for each in (process, *process.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                used = each.cpu_times()
                total += used.user + used.system
    return total


def drawn_after(
    page, title: str, charts: int, action: Callable[[], object], server: psutil.Process
) -> dict:
    """Seconds from ``action`` until the page titled ``title`` has drawn its charts, and the CPU
    seconds the server and the browser spent meanwhile (what a busy machine stretches)."""
    me = psutil.Process()
    server_before, browser_before = cpu_seconds(server), cpu_seconds(me)
    started = time.perf_counter()
    action()
    page.wait_for_function(DRAWN, arg=[title, charts], timeout=TIMEOUT_S * 1000, polling=50)
    return {
        "wall": time.perf_counter() - started,
        "server_cpu": cpu_seconds(server) - server_before,
        "browser_cpu": cpu_seconds(me) - browser_before,
    }


def browser_run(store: Path, preload: bool) -> dict:
    """One fresh server: the first page, the tour of the others through the sidebar, then the
    first page again in a new tab (a new session, the caches warm)."""
    import shutil

    from playwright.sync_api import sync_playwright

    server, base, answered = start_server(store, preload)
    serving = psutil.Process(server.pid)
    try:
        with sync_playwright() as p:
            chromium = shutil.which("chromium") or shutil.which("chromium-browser")
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            first = drawn_after(page, "Codex usage", 3, lambda: page.goto(base), serving)
            later = {}
            for link, title, charts in TOUR:
                nav = page.get_by_test_id("stSidebarNav").get_by_role("link", name=link)
                later[link] = drawn_after(page, title, charts, nav.click, serving)
            again = browser.new_page(viewport={"width": 1400, "height": 1000})
            revisit = drawn_after(again, "Codex usage", 3, lambda: again.goto(base), serving)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"answered": answered, "first": first, "later": later, "new_tab": revisit}


def browser_bench(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    store = embedded_store(args.rows, args.seed)
    log(f"store {store} ({args.rows:,} records) ready in {time.perf_counter() - started:.1f} s")
    runs = []
    for n in range(args.cold_runs):
        for preload in (False, True):
            run = browser_run(store, preload)
            runs.append({"preload": preload, **run})
            log(
                f"  run {n + 1}{' (preloaded)' if preload else ''}: answered "
                f"{run['answered']:.2f} s, first page {run['first']['wall']:.2f} s, later "
                + ", ".join(f"{k} {v['wall']:.2f} s" for k, v in run["later"].items())
            )
    text = browser_report(runs, args)
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)
    return 0


def browser_report(runs: list[dict], args: argparse.Namespace) -> str:
    def row(name: str, samples: list[dict], goal: float | None = None) -> str:
        walls = [s["wall"] for s in samples]
        cpu = (
            f"{seconds([s['server_cpu'] for s in samples], 50):.2f} s | "
            f"{seconds([s['browser_cpu'] for s in samples], 50):.2f} s"
        )
        met = "" if goal is None else "met" if max(walls) <= goal else "**missed**"
        return (
            f"| {name} | {seconds(walls, 50):.2f} s | {max(walls):.2f} s | {cpu} | "
            f"{'' if goal is None else f'{goal:.0f} s'} | {met} |"
        )

    lines = [
        "# Dashboard in a browser: the embedded store",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · {os.cpu_count()} cores · "
        f"load average {os.getloadavg()[0]:.1f} · Python {platform.python_version()} · "
        f"{args.rows:,} records over a year (SQLite), Chromium at 1400x1000; "
        f"{args.cold_runs} fresh servers each way.",
        "",
        "| | median | slowest | server CPU | browser CPU | goal | |",
        "|---|--:|--:|--:|--:|--:|---|",
    ]
    for preload in (False, True):
        mine = [r for r in runs if r["preload"] is preload]
        how = "`codextime start`'s launcher" if preload else "`streamlit run`"
        lines.append(f"| **server: {how}** | | | | | | |")
        started = [{"wall": r["answered"], "server_cpu": 0.0, "browser_cpu": 0.0} for r in mine]
        lines.append(row("server start to answering", started))
        first = [r["first"] for r in mine]
        lines.append(row("first page (Overview), fresh server", first, FIRST_PAGE_S))
        whole = [{**r["first"], "wall": r["answered"] + r["first"]["wall"]} for r in mine]
        lines.append(row("server start to the first page drawn", whole))
        for link, *_ in TOUR:
            samples = [r["later"][link] for r in mine]
            lines.append(row(f"then {link}, through the sidebar", samples, LATER_PAGE_S))
        lines.append(row("Overview in a new tab", [r["new_tab"] for r in mine], LATER_PAGE_S))
    lines += [
        "",
        "Times run from navigation (or the click) until the page has finished its run and every "
        "chart is drawn. The server is a fresh process each time, with .pyc files as a user's "
        "Python keeps them. CPU: seconds the server and the browser (with its driver) used "
        "meanwhile, medians; on a machine busy with other work the wall times stretch, these "
        "do not.",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Orchestration and the report


def run_child(args: list[str], env: dict) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.run(
            [sys.executable, __file__, *args, "--out", out.name],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-6000:])
            raise SystemExit(f"bench child {' '.join(args)} failed (exit {proc.returncode})")
        return json.loads(Path(out.name).read_text())


def seconds(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def measure(spec: dict, spec_file: Path, url: str, args: argparse.Namespace) -> dict:
    env = {**os.environ, "CODEXTIME_DB": url, "CODEXTIME_APP_SHARED": "1", "PYTHONPATH": str(REPO)}
    base = ["--child", "--spec", str(spec_file)]
    jobs = [(p, v, BOARD_DEFAULT) for p in PRIVATE for v in VIEWERS]
    jobs += [("privacy", "anyone", BOARD_DEFAULT)]
    jobs += [("leaderboard", "anyone", (w, b)) for w in WINDOWS for b in RANKINGS]
    cold: dict[tuple[str, str], list[dict]] = {}
    for run in range(args.cold_runs):
        for page, viewer, board in jobs:
            got = run_child([*base, "--cold", page, "--viewer", viewer, "--board", *board], env)
            key = (page, " · ".join(board) if page == "leaderboard" else viewer)
            cold.setdefault(key, []).append(got)
            log(f"  cold {page} / {key[1]} (run {run + 1}): {got['cold']:.2f} s")
    warm = run_child([*base, "--warm", "--runs", str(args.warm_runs)], env)
    return {"cold": {f"{k[0]}|{k[1]}": v for k, v in cold.items()}, "warm": warm}


def report(spec: dict, facts: dict, measured: dict, args: argparse.Namespace) -> tuple[str, bool]:
    mb = 1 << 20
    warm = {(r["page"], r["viewer"]): r for r in measured["warm"]["results"]}
    lines = [
        "| page | viewer | cold p50 | cold max | warm p50 | warm p95 | slowest warm step | n "
        "| cold RSS | goals |",
        "|---|---|--:|--:|--:|--:|---|--:|--:|---|",
    ]
    ok = True
    for key, runs in measured["cold"].items():
        page, viewer = key.split("|")
        colds = [r["cold"] for r in runs]
        result = warm[(page, viewer)]
        samples = result["samples"]
        slowest = int(np.argmax(samples))
        rss = max(r["rss"] for r in runs)
        met = max(colds) <= COLD_S and seconds(samples, 95) <= WARM_P95_S and rss < RSS_LIMIT
        ok &= met
        who = viewer
        if viewer in spec["viewers"]:
            who = f"{viewer} ({spec['viewers'][viewer]['rows']:,} rows)"
        lines.append(
            f"| {page} | {who} | {seconds(colds, 50):.2f} | {max(colds):.2f} "
            f"| {seconds(samples, 50):.2f} | {seconds(samples, 95):.2f} "
            f"| {result['steps'][slowest]} ({samples[slowest]:.2f} s) | {len(samples)} "
            f"| {rss / mb:,.0f} MB | {'met' if met else '**missed**'} |"
        )
    w = measured["warm"]
    cold_rss = max(r["rss"] for runs in measured["cold"].values() for r in runs)
    peak = max(w["rss_peak"], cold_rss)
    ok &= peak < RSS_LIMIT
    fill = w["fill"]
    first_paints = [r["first_paint"] for runs in measured["cold"].values() for r in runs]
    load = spec["load_s"]
    head = [
        "# Dashboard speed",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · {os.cpu_count()} cores · "
        f"{psutil.virtual_memory().total / (1 << 30):.0f} GB RAM · Python "
        f"{platform.python_version()} · PostgreSQL {facts['postgres']} "
        f"(shared_buffers {facts['shared_buffers']})",
        "",
        f"Store: {facts['rows']:,} records over {spec['accounts']:,} accounts "
        f"({spec['opted_in']} on the leaderboard), usage table and indexes "
        f"{facts['table_size']}. Built in {sum(load.values()):.0f} s: generate "
        f"{load['generate']:.0f} s, accounts {load['accounts']:.0f} s, COPY + indexes + ANALYZE "
        f"{load['copy']:.0f} s.",
        "",
        f"Goals: warm p95 <= {WARM_P95_S} s, cold <= {COLD_S} s, memory < 1 GB. Cold: "
        f"{args.cold_runs} fresh processes per row; warm: {args.warm_runs} reruns per row in one "
        "process, changing filters between them.",
        "",
        *lines,
        "",
        f"- Memory: peak RSS of the warm process {w['rss_peak'] / mb:,.0f} MB (after the three "
        f"viewers and the public pages: {w['rss_after_warm'] / mb:,.0f} MB; after "
        f"{len(fill)} more heavy viewers opened the overview: {w['rss_after_fill'] / mb:,.0f} "
        f"MB); largest cold process {cold_rss / mb:,.0f} MB. "
        f"{'Under' if peak < RSS_LIMIT else '**Over**'} 1 GB.",
    ]
    if fill:
        sizes = [f["rows"] for f in spec["fill"]]
        head.append(
            f"- First overview of {len(fill)} other heavy accounts in the warm process "
            f"({min(sizes):,} to {max(sizes):,} rows): "
            f"p50 {seconds(fill, 50):.2f} s, max {max(fill):.2f} s."
        )
    head += [
        f"- Process start to the first paint (imports, the token form): p50 "
        f"{seconds(first_paints, 50):.2f} s; not part of the cold figures.",
        "- Cold = the page's first render after the token is entered (private pages) or on "
        "arrival (public pages), Streamlit's caches empty; PostgreSQL's own cache is warm. A "
        "leaderboard window other than the default is timed when first chosen in a fresh "
        "process. AppTest reruns the whole page where a browser reruns only the what-if "
        "fragment, so the API-equivalent slider figures are an upper bound.",
        "",
        f"All goals {'met' if ok else 'NOT met'}.",
    ]
    return "\n".join(head) + "\n", ok


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server (a database)")
    parser.add_argument("--rows", type=int, help="5,000,000; with --browser 300,000")
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--months", type=float, default=18)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes per page")
    parser.add_argument("--warm-runs", type=int, default=24, help="timed reruns per page")
    parser.add_argument(
        "--fill", type=int, default=64, help="more heavy viewers, up to the cache's 64 entries"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the schema, note it in {STATE}")
    parser.add_argument("--reuse", action="store_true", help=f"measure the store in {STATE}")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--browser",
        action="store_true",
        help="the embedded store in Chromium, as `codextime start` serves it (--rows 300000)",
    )
    child = parser.add_argument_group("child processes (used by the bench itself)")
    child.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    child.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    child.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    child.add_argument("--cold", choices=PRIVATE + PUBLIC, help=argparse.SUPPRESS)
    child.add_argument("--viewer", help=argparse.SUPPRESS)
    child.add_argument("--board", nargs=2, default=BOARD_DEFAULT, help=argparse.SUPPRESS)
    child.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    child.add_argument("--runs", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.rows = args.rows or (300_000 if args.browser else 5_000_000)
    if args.child:
        spec = json.loads(args.spec.read_text())
        if args.cold:
            result = child_cold(spec, args.cold, args.viewer, tuple(args.board))
        else:
            result = child_warm(spec, args.runs)
        args.out.write_text(json.dumps(result))
        return 0

    if args.browser:
        if args.results == RESULTS:
            args.results = RESULTS.with_name("app-browser.md")
        return browser_bench(args)
    admin = sa.create_engine(args.url)
    if args.reuse:
        spec = json.loads(STATE.read_text())
        args.schema = spec["schema"]
    else:
        args.schema = f"bench_app_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{args.schema}"'))
    url = schema_url(args.url, args.schema)
    try:
        if not args.reuse:
            log(f"building the store in schema {args.schema}")
            spec = build_store(args.url, args)
            log(f"store built in {sum(spec['load_s'].values()):.1f} s")
            if args.keep:
                STATE.parent.mkdir(parents=True, exist_ok=True)
                STATE.write_text(json.dumps(spec, indent=1))
        facts = store_facts(url)
        with tempfile.TemporaryDirectory() as tmp:
            spec_file = Path(tmp) / "spec.json"
            spec_file.write_text(json.dumps(spec))
            measured = measure(spec, spec_file, url, args)
        text, ok = report(spec, facts, measured, args)
        print(text)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(text)
        return 0
    finally:
        if not (args.keep or args.reuse):
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{args.schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
