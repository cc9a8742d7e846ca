"""Load: many collectors uploading at once to `codextime serve` on PostgreSQL, on this machine.

50 concurrent collectors x 20,000 records each (defaults), in gzip batches of 2,000, against a
fresh PostgreSQL schema. Prints records/s and request latency, then checks that every record was
stored exactly once (and that sending them all again stores nothing). Only loopback addresses.

    .venv/bin/python bench/load.py [--collectors 50] [--records 20000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import sqlalchemy as sa

PG = os.environ.get("CODEXTIME_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLI = [sys.executable, "-c", "from collector.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batches(collector: int, records: int, size: int) -> list[bytes]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out, batch = [], []
    for i in range(records):
        batch.append(
            {
                "ts": (start + timedelta(seconds=i * 7 + collector)).isoformat(),
                "model": ("gpt-5.1-codex", "gpt-5.4", "gpt-5-mini")[i % 3],
                "tier": ("standard", "priority", "unknown")[i % 3],
                "input": 20_000 + i % 5000,
                "cached": 10_000,
                "cache_write": 500 * (i % 4),
                "output": 300 + i % 700,
                "reasoning": 100,
                "event_id": uuid.UUID(int=collector << 64 | i).hex,
                "session": uuid.UUID(int=collector << 64 | i // 200).hex,
            }
        )
        if len(batch) == size:
            out.append(gzip.compress(orjson.dumps({"records": batch}), 6))
            batch = []
    if batch:
        out.append(gzip.compress(orjson.dumps({"records": batch}), 6))
    return out


async def collector(client, url, token, payloads, latencies) -> int:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    new = 0
    for body in payloads:
        started = time.perf_counter()
        answer = await client.post(url, content=body, headers=headers)
        latencies.append(time.perf_counter() - started)
        answer.raise_for_status()
        new += answer.json()["new"]
    return new


async def run_all(url, tokens, payloads) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(tokens))
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        news = await asyncio.gather(
            *(
                collector(client, url, t, p, latencies)
                for t, p in zip(tokens, payloads, strict=True)
            )
        )
        return time.perf_counter() - started, latencies, sum(news)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collectors", type=int, default=50)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    schema = f"load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    db = sa.make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
    db_url = db.render_as_string(hide_password=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            "--open-signup",
            "--rate-limit",
            "10000000",
            "--workers",
            str(args.workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        tokens = [
            httpx.post(base + "/api/v1/accounts", json={"name": f"collector-{i}"}).json()["token"]
            for i in range(args.collectors)
        ]
        payloads = [batches(i, args.records, args.batch) for i in range(args.collectors)]
        total = args.collectors * args.records
        wall, latencies, new = asyncio.run(run_all(base + "/api/v1/usage", tokens, payloads))
        again_wall, _, again_new = asyncio.run(run_all(base + "/api/v1/usage", tokens, payloads))
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("select count(*) from usage")).scalar_one()
            per_account = conn.execute(
                sa.text(
                    "select min(n), max(n) from "
                    "(select count(*) n from usage group by account_id) t"
                )
            ).one()
        engine.dispose()
        q = statistics.quantiles(latencies, n=20)
        print(f"collectors x records     {args.collectors} x {args.records:,} = {total:,}")
        print(f"server                   codextime serve --workers {args.workers}, PostgreSQL")
        print(f"wall time                {wall:.2f} s")
        print(f"throughput               {total / wall:,.0f} records/s (target >= 20,000)")
        print(
            f"request latency          p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {q[18] * 1000:.0f} ms ({len(latencies)} requests of {args.batch:,})"
        )
        print(
            f"stored                   {stored:,} (new reported: {new:,}); per account "
            f"{per_account[0]:,}..{per_account[1]:,}"
        )
        print(f"everything sent again    {again_new:,} new in {again_wall:.2f} s")
        ok = stored == total == new and again_new == 0 and per_account == (args.records,) * 2
        print("exactly once             " + ("OK" if ok else "FAILED"))
        if not ok:
            sys.exit(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
