"""The public board at scale: leaderboard, profile and badge reads, and ingest, on PostgreSQL.

Goals (README, Performance): with 20M records over 20,000 accounts (5,000 opted in), a
leaderboard page and a profile answer in <= 0.5 s at p95 cold, a badge in <= 50 ms at p95 warm,
and 50 collectors sending at once store >= 20,000 records/s while the rollups are kept.

    .venv/bin/python bench/board.py --records 20M --accounts 20000 --opted-in 5000 --keep

The store is built in a schema of its own by ``board_data`` (see there); ``--keep`` leaves it in
place and a later ``--keep`` run with the same load parameters reuses it. Every read runs
``--runs`` times cold and as many times warm:

- cold: a new engine for each run, so a new PostgreSQL connection (its backend's catalog and plan
  caches empty) and nothing cached in this process but the parsed rate table, as a server holds
  it; PostgreSQL's shared buffers and the OS page cache are as earlier reads left them.
  ``--restart-postgres`` adds one pass right after restarting the server and dropping the OS page
  cache (only the first read of that pass finds every cache empty).
- warm: one engine, after a first run that is not counted.

The badge is also fetched through the ingest app itself (``store.api.create_app``, in this
process), whose own cache answers repeated hits. Ingest runs ``codextime serve --workers N`` over
the loaded store, with collectors sending gzip batches at once, as ``collector/upload.py`` does.
The figures end in a table, and in JSON with ``--json FILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import orjson
import psutil
import sqlalchemy as sa
from app import DEFAULT_URL, TIER_SHARES, log, schema_url
from board_data import LOAD_PARAMETERS, drop, parse_count, prepare, rollup_drift, settle
from load import CLI, free_port, run_all

from store.accounts import issue_token
from store.board import badge_tokens, leaderboard, profile, rank_of
from store.fields import TIERS
from store.pricing import load_rates

BOARD_COLD_P95_S = 0.5
BADGE_WARM_P95_S = 0.05
INGEST_RECORDS_PER_S = 20_000
#: The board's page size (pages/lib/board.py).
PER_PAGE = 100
BADGE_PATH = "/api/v1/badges/{name}.svg"
#: What the collectors send: the models and tiers of the last days.
INGEST_MODELS = ("gpt-5.5", "gpt-5.4", "gpt-5-mini", "codex-auto-review")
SESSION_RECORDS = 35


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    name: str
    #: the read, given an engine and the run's number (reads of one account pick it by number)
    run: Callable[[sa.Engine, int], object]
    #: the p95 a cold run must stay within, if any
    goal_s: float | None = None


@dataclass(frozen=True)
class Board:
    """Who the reads ask for, found in the loaded store."""

    opted_in: list[tuple[int, str]]
    heaviest: str
    model: str
    ranked_all_time: int


def find_board(engine: sa.Engine, rng: np.random.Generator) -> Board:
    with engine.connect() as conn:
        opted = conn.execute(
            sa.text("SELECT id, name FROM account WHERE leaderboard_opt_in ORDER BY id")
        ).all()
        heaviest = conn.execute(
            sa.text(
                "SELECT a.name FROM daily_rollup r JOIN account a ON a.id = r.account_id "
                "WHERE a.leaderboard_opt_in AND NOT r.flagged GROUP BY a.name "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        model, ranked = conn.execute(
            sa.text(
                "SELECT (SELECT model FROM daily_rollup WHERE day >= current_date - 29 "
                "GROUP BY model ORDER BY sum(input + output) DESC LIMIT 1), "
                "(SELECT count(DISTINCT account_id) FROM daily_rollup r JOIN account a "
                "ON a.id = r.account_id WHERE a.leaderboard_opt_in AND NOT r.flagged)"
            )
        ).one()
    shuffled = [tuple(opted[i]) for i in rng.permutation(len(opted))]
    return Board(shuffled, heaviest, model, ranked)


def board_reads(found: Board, today: date) -> list[Read]:
    """What the leaderboard and profile pages and the badge ask the store."""
    rates = load_rates()
    windows = (("7 days", today - timedelta(days=6)), ("30 days", today - timedelta(days=29)))
    windows += (("all time", None),)
    month = windows[1][1]
    later = max(0, (found.ranked_all_time // PER_PAGE // 2) * PER_PAGE)

    def board(since: date | None, by: str, **options) -> Callable[[sa.Engine, int], object]:
        return lambda engine, _: leaderboard(engine, rates, since=since, by=by, **options)

    def someone(run: int) -> tuple[int, str]:
        return found.opted_in[run % len(found.opted_in)]

    goal = BOARD_COLD_P95_S
    reads = [
        Read(f"board {label}, by {by}", board(since, by), goal)
        for label, since in windows
        for by in ("tokens", "usd")
    ]
    return [
        *reads,
        Read("board 30 days, search", board(month, "tokens", search="12"), goal),
        Read(f"board 30 days, {found.model}", board(month, "tokens", model=found.model), goal),
        Read(
            f"board all time, page {later // PER_PAGE + 1}", board(None, "usd", offset=later), goal
        ),
        Read(
            "rank of, 30 days",
            lambda engine, run: rank_of(engine, rates, someone(run)[0], since=month),
            goal,
        ),
        Read(
            "profile, random",
            lambda engine, run: profile(engine, rates, someone(run)[1], today=today),
            goal,
        ),
        Read(
            "profile, heaviest",
            lambda engine, _: profile(engine, rates, found.heaviest, today=today),
            goal,
        ),
        Read(
            "badge tokens (store), 30 days",
            lambda engine, run: badge_tokens(engine, someone(run)[1], days=30, today=today),
        ),
    ]


def spread(seconds: list[float]) -> dict:
    return {
        "runs": len(seconds),
        "p50": float(np.percentile(seconds, 50)),
        "p95": float(np.percentile(seconds, 95)),
        "max": max(seconds),
    }


def time_cold(url: str, read: Read, runs: int) -> list[float]:
    taken = []
    for run in range(runs):
        engine = sa.create_engine(url)
        started = time.perf_counter()
        read.run(engine, run)
        taken.append(time.perf_counter() - started)
        engine.dispose()
    return taken


@contextlib.contextmanager
def statement_clock(engine: sa.Engine) -> Iterator[list[tuple[float, str, object]]]:
    """(seconds, statement, parameters) of each statement the engine runs inside the block."""
    ran: list[tuple[float, str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        ran.append((time.perf_counter() - conn.info.pop("started"), statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield ran
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def time_warm(url: str, read: Read, runs: int, explain: bool) -> tuple[list[float], dict]:
    """Warm timings, and how one more warm run splits between SQL and Python (with the plan of
    its slowest statement when ``explain``)."""
    engine = sa.create_engine(url)
    read.run(engine, 0)
    taken = []
    for run in range(runs):
        started = time.perf_counter()
        read.run(engine, run)
        taken.append(time.perf_counter() - started)
    with statement_clock(engine) as ran:
        started = time.perf_counter()
        read.run(engine, 0)
        wall = time.perf_counter() - started
    split = {"wall": wall, "sql": sum(s for s, _, _ in ran), "statements": len(ran)}
    if explain and ran:
        _, statement, parameters = max(ran, key=lambda r: r[0])
        with engine.connect() as conn:
            cursor = conn.connection.cursor()
            cursor.execute("SET work_mem = '64MB'")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            split["plan"] = [line for (line,) in cursor.fetchall()]
    engine.dispose()
    return taken, split


def restart_postgres() -> dict:
    """Restart the local PostgreSQL cluster and drop the OS page cache (where allowed)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    started = time.perf_counter()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True
    )
    dropped = subprocess.run(
        ["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"], capture_output=True
    )
    return {
        "restart_s": time.perf_counter() - started,
        "page_cache_dropped": not dropped.returncode,
    }


def wait_for(url: str) -> None:
    for _ in range(100):
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return
        except sa.exc.OperationalError:
            time.sleep(0.2)
        finally:
            engine.dispose()
    raise RuntimeError("PostgreSQL did not come back after the restart")


# -- the badge through the app ----------------------------------------------------------------


def badge_through_app(url: str, names: list[str], runs: int) -> dict | None:
    """The badge route's figures: the first hit on a new app (its cache empty), repeated hits
    (its cache warm) and first hits of other names on a warm app; None without the route."""
    from fastapi.testclient import TestClient

    from store.api import create_app
    from store.settings import ServerSettings

    settings = ServerSettings(db_url=url, rate_limit_per_minute=10**9)

    def fetch(client: TestClient, name: str) -> float:
        started = time.perf_counter()
        answer = client.get(BADGE_PATH.format(name=name))
        taken = time.perf_counter() - started
        if answer.status_code != 200 or "svg" not in answer.headers.get("content-type", ""):
            raise RuntimeError(f"badge of {name}: HTTP {answer.status_code}")
        return taken

    first = []
    for run in range(runs):
        app = create_app(settings)
        if BADGE_PATH not in app.openapi()["paths"]:
            app.state.engine.dispose()
            return None
        with TestClient(app) as client:
            first.append(fetch(client, names[run % len(names)]))
        app.state.engine.dispose()
    app = create_app(settings)
    with TestClient(app) as client:
        fetch(client, names[0])
        warm = [fetch(client, names[0]) for _ in range(runs)]
        others = [fetch(client, names[1 + i % (len(names) - 1)]) for i in range(runs)]
    app.state.engine.dispose()
    return {"new app": spread(first), "warm": spread(warm), "other names": spread(others)}


# -- ingest -----------------------------------------------------------------------------------


def new_records(rng: np.random.Generator, n: int, now: datetime) -> list[dict]:
    """``n`` new responses of the last 36 hours, in time order, shaped as a collector sends them."""
    ago = np.sort(rng.uniform(0, 36 * 3600, n))[::-1]
    sessions = n // SESSION_RECORDS + 1
    session_ids = [uuid.uuid4().hex for _ in range(sessions)]
    session_tier = rng.choice(len(TIERS), sessions, p=TIER_SHARES)
    model = rng.choice(len(INGEST_MODELS), n, p=(0.55, 0.3, 0.1, 0.05))
    inp = np.minimum(rng.lognormal(np.log(60_000), 0.8, n), 900_000).astype(np.int64)
    cached = (inp * rng.uniform(0.6, 0.95, n)).astype(np.int64)
    output = np.clip(rng.lognormal(np.log(600), 1.0, n), 20, 40_000).astype(np.int64)
    records = []
    for i in range(n):
        session = i // SESSION_RECORDS
        records.append(
            {
                "ts": (now - timedelta(seconds=float(ago[i]))).isoformat(),
                "model": INGEST_MODELS[model[i]],
                "tier": TIERS[session_tier[session]],
                "input": int(inp[i]),
                "cached": int(cached[i]),
                "cache_write": 0,
                "output": int(output[i]),
                "reasoning": int(output[i]) // 3,
                "event_id": uuid.uuid4().hex,
                "session": session_ids[session],
                "label": "laptop",
            }
        )
    return records


@contextlib.contextmanager
def served(url: str, workers: int) -> Iterator[tuple[str, psutil.Process]]:
    """``codextime serve`` over ``url`` on a free loopback port: its base URL and process."""
    port = free_port()
    command = [*CLI, "serve", "--db", url, "--port", str(port), "--rate-limit", "1000000000"]
    with tempfile.TemporaryFile() as log_file:
        server = subprocess.Popen(
            [*command, "--workers", str(workers)],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
        )
        try:
            yield wait_until_up(server, f"http://127.0.0.1:{port}", log_file)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def wait_until_up(server: subprocess.Popen, base: str, log_file) -> tuple[str, psutil.Process]:
    for _ in range(300):
        if server.poll() is not None:
            log_file.seek(0)
            raise RuntimeError("the server stopped: " + log_file.read().decode()[-500:])
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return base, psutil.Process(server.pid)
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not answer")


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of a process and its children so far."""
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            times = each.cpu_times()
            total += times.user + times.system
    return total


def ingest(url: str, args: argparse.Namespace, rng: np.random.Generator) -> dict:
    """Collectors of existing accounts sending new records at once; records/s and latency."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = list(conn.execute(sa.text("SELECT name FROM account ORDER BY id")).scalars())
    chosen = [names[i] for i in rng.choice(len(names), args.collectors, replace=False)]
    tokens = [issue_token(engine, name) for name in chosen]
    now = datetime.now(UTC)
    payloads = [
        [
            gzip.compress(orjson.dumps({"records": new_records(rng, args.batch, now)}), 6)
            for _ in range(args.batches)
        ]
        for _ in chosen
    ]
    sent = args.collectors * args.batches * args.batch
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM usage")).scalar_one()
        last_loaded = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM usage")).scalar_one()
    with served(url, args.workers) as (base, server):
        cpu_before, own_before = tree_cpu(server), time.process_time()
        wall, latencies, new = asyncio.run(run_all(base + "/api/v1/usage", tokens, payloads))
        server_cpu, own_cpu = tree_cpu(server) - cpu_before, time.process_time() - own_before
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM usage")).scalar_one() - before
    engine.dispose()
    if not new == stored == sent:
        raise RuntimeError(f"ingest stored {stored:,} of {sent:,} records ({new:,} said new)")
    return {
        "last_loaded_id": last_loaded,
        "collectors": args.collectors,
        "batch": args.batch,
        "records": sent,
        "workers": args.workers,
        "wall_s": wall,
        "records_per_s": sent / wall,
        "latency": spread(latencies),
        "load_average": os.getloadavg()[0],
        "server_cpu_s": server_cpu,
        "load_generator_cpu_s": own_cpu,
    }


def forget_ingested(engine: sa.Engine, last_loaded_id: int) -> None:
    """Take the records the ingest stored out of a kept store again, their days' flags and
    rollups recomputed as the ingest path does, so every run measures the store as loaded. The
    collectors are the same accounts each run (the seed picks them) and send records of the same
    days: left in, each run would pile more records into the days every later batch recomputes,
    and ingest would measure slower run after run."""
    with engine.begin() as conn:
        spans = conn.execute(
            sa.text(
                "SELECT account_id, min(ts), max(ts) FROM usage WHERE id > :last "
                "GROUP BY account_id ORDER BY account_id"
            ),
            {"last": last_loaded_id},
        ).all()
        conn.execute(sa.text("DELETE FROM usage WHERE id > :last"), {"last": last_loaded_id})
        settle(conn, spans, datetime.now(UTC))


# -- the run ----------------------------------------------------------------------------------


def machine(url: str) -> dict:
    """The machine, the server and the store as the reads find it."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        show = {k: conn.execute(sa.text(f"SHOW {k}")).scalar_one() for k in ("server_version",)}
        show["shared_buffers"] = conn.execute(sa.text("SHOW shared_buffers")).scalar_one()
        sizes = conn.execute(
            sa.text(
                "SELECT pg_size_pretty(pg_total_relation_size('usage')), "
                "pg_size_pretty(pg_total_relation_size('daily_rollup')), "
                "(SELECT count(*) FROM daily_rollup), (SELECT count(*) FROM usage), "
                "(SELECT count(*) FROM usage WHERE flag IS NOT NULL), "
                "(SELECT count(*) FROM usage WHERE input > 272000)"
            )
        ).one()
    engine.dispose()
    return {
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "postgres": show["server_version"],
        "shared_buffers": show["shared_buffers"],
        "usage_size": sizes[0],
        "rollup_size": sizes[1],
        "rollup_rows": sizes[2],
        "records": sizes[3],
        "flagged_records": sizes[4],
        "long_context_share": sizes[5] / max(1, sizes[3]),
    }


def table(figures: dict) -> str:
    """The figures as a short text table, goals marked."""

    def ms(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds * 1000:,.0f}"

    store = figures["store"]
    lines = [
        f"{store['records']:,} records ({store['flagged_records']:,} flagged, "
        f"{store['long_context_share']:.1%} long-context), {store['rollup_rows']:,} rollup rows; "
        f"usage {store['usage_size']}, rollups {store['rollup_size']}; PostgreSQL "
        f"{store['postgres']}, shared_buffers {store['shared_buffers']}, {store['cpus']} CPUs",
        "",
        f"{'read (ms)':34} {'cold p50':>8} {'p95':>6} {'max':>6} {'warm p50':>8} {'p95':>6} "
        f"{'sql':>5} {'restart':>7}  goal",
    ]
    for name, read in figures["reads"].items():
        cold, warm = read["cold"], read["warm"]
        goal = read.get("goal_s")
        verdict = "" if goal is None else ("ok" if cold["p95"] <= goal else "MISSED")
        lines.append(
            f"{name:34} {ms(cold['p50']):>8} {ms(cold['p95']):>6} {ms(cold['max']):>6} "
            f"{ms(warm['p50']):>8} {ms(warm['p95']):>6} {ms(read['split']['sql']):>5} "
            f"{ms(read.get('after_restart')):>7}  {verdict}"
        )
    loads = [read["load_average"] for read in figures["reads"].values()]
    lines.append(f"load average (1 min) after each read: {min(loads):.1f} to {max(loads):.1f}")
    badge = figures["badge"]
    if badge is None:
        lines.append(f"badge route ({BADGE_PATH}): not served by this build")
    else:
        ok = "ok" if badge["warm"]["p95"] <= BADGE_WARM_P95_S else "MISSED"
        lines.append(
            f"badge route: new app p95 {ms(badge['new app']['p95'])}, warm p50 "
            f"{ms(badge['warm']['p50'])} p95 {ms(badge['warm']['p95'])} ({ok}), other names p95 "
            f"{ms(badge['other names']['p95'])}"
        )
    taken = figures["ingest"]
    if taken is not None:
        ok = "ok" if taken["records_per_s"] >= INGEST_RECORDS_PER_S else "MISSED"
        lines.append(
            f"ingest: {taken['collectors']} collectors x "
            f"{taken['records'] // taken['collectors']:,} records in batches of "
            f"{taken['batch']:,}, serve --workers {taken['workers']}: "
            f"{taken['records_per_s']:,.0f} records/s ({ok}), batch p50 "
            f"{taken['latency']['p50']:.2f} s, p95 {taken['latency']['p95']:.2f} s; CPU s: "
            f"server {taken['server_cpu_s']:.1f}, senders {taken['load_generator_cpu_s']:.1f}; "
            f"load average {taken['load_average']:.1f}"
        )
    lines.append(f"rollups = GROUP BY of usage: {'OK' if figures['rollup_drift'] == 0 else 'NO'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="the PostgreSQL server")
    parser.add_argument("--schema", help="default: bench_board with --keep, else a new name")
    parser.add_argument("--records", type=parse_count, default=parse_count("2M"))
    parser.add_argument("--accounts", type=parse_count, default=20_000)
    parser.add_argument("--opted-in", type=parse_count, default=5_000)
    parser.add_argument("--months", type=float, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=20, help="runs of each read, cold and warm")
    parser.add_argument("--keep", action="store_true", help="keep the store; reuse a kept one")
    parser.add_argument("--restart-postgres", action="store_true")
    parser.add_argument("--explain", action="store_true", help="plans of reads over their goal")
    parser.add_argument("--collectors", type=int, default=50)
    parser.add_argument("--batches", type=int, default=4, help="batches each collector sends")
    parser.add_argument("--batch", type=int, default=5_000, help="records per batch")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    if args.opted_in > args.accounts:
        parser.error("--opted-in cannot exceed --accounts")
    schema = args.schema or ("bench_board" if args.keep else f"bench_board_{uuid.uuid4().hex[:8]}")
    params = {key: getattr(args, key) for key in LOAD_PARAMETERS}
    url = schema_url(args.url, schema)
    log(f"store: schema {schema}, {args.records:,} records over {args.accounts:,} accounts")
    try:
        reused, load_s = prepare(args.url, schema, params, reuse=args.keep)
        log("  reusing the kept store" if reused else "  loaded")
        figures = measure(url, args, load_s)
    finally:
        if not args.keep:
            drop(args.url, schema)
    print(table(figures))
    for name, read in figures["reads"].items():
        if "plan" in read["split"]:
            print(f"\n{name}: slowest statement, warm\n" + "\n".join(read["split"]["plan"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=1, default=str)


def measure(url: str, args: argparse.Namespace, load_s: dict) -> dict:
    rng = np.random.default_rng(args.seed + 1)
    store = {**machine(url), "load_s": load_s}
    engine = sa.create_engine(url)
    found = find_board(engine, rng)
    engine.dispose()
    reads = board_reads(found, datetime.now(UTC).date())
    results: dict[str, dict] = {}
    for read in reads:
        cold = time_cold(url, read, args.runs)
        missed = read.goal_s is not None and spread(cold)["p95"] > read.goal_s
        warm, split = time_warm(url, read, args.runs, args.explain and missed)
        results[read.name] = {
            "cold": spread(cold),
            "warm": spread(warm),
            "split": split,
            "goal_s": read.goal_s,
            "load_average": os.getloadavg()[0],
        }
        log(f"  {read.name}: cold p95 {spread(cold)['p95'] * 1000:.0f} ms")
    restart = None
    if args.restart_postgres:
        restart = restart_postgres()
        wait_for(url)
        for read in reads:
            results[read.name]["after_restart"] = time_cold(url, read, 1)[0]
    names = [name for _, name in found.opted_in[: max(2, args.runs + 1)]]
    badge = badge_through_app(url, names, args.runs)
    taken = ingest(url, args, rng) if args.collectors else None
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        drift = rollup_drift(conn)
    if taken and args.keep:
        forget_ingested(engine, taken["last_loaded_id"])
    engine.dispose()
    return {
        "store": {**store, "opted_in": len(found.opted_in)},
        "parameters": {key: getattr(args, key) for key in (*LOAD_PARAMETERS, "runs")},
        "restart": restart,
        "reads": results,
        "badge": badge,
        "ingest": taken,
        "rollup_drift": drift,
        "goals": {
            "board_and_profile_cold_p95_s": BOARD_COLD_P95_S,
            "badge_warm_p95_s": BADGE_WARM_P95_S,
            "ingest_records_per_s": INGEST_RECORDS_PER_S,
        },
    }


if __name__ == "__main__":
    sys.exit(main())
