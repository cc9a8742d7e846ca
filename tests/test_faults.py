"""Faults during upload, against a real server process: nothing lost, nothing doubled.

The server is `codextime serve` in a subprocess (uvicorn), the collector `codextime sync` in
another; each is killed with SIGKILL at a moment when part of the records has been stored.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import sqlalchemy as sa

from collector.scan import ReadPlan
from store.fields import INPUT
from tests.rollout import meta, session_path, token_count, turn, usage, write

CLI = [sys.executable, "-c", "from collector.cli import main; main()"]
SESSIONS, RESPONSES = 30, 60


def make_home(home) -> tuple[int, int]:
    """Many sessions of many responses; returns (records, input tokens) as the logs count them."""
    for s in range(SESSIONS):
        sid = f"019a152d-35a0-72a0-91db-{s:012x}"
        lines = [
            meta(sid=sid, ts=f"2026-03-01T{s % 24:02d}:00:{s // 24:02d}.000Z"),
            turn(f"2026-03-01T{s % 24:02d}:00:30.000Z"),
        ]
        total = [0, 0, 0, 0]
        for r in range(RESPONSES):
            last = usage(1000 + r + s, 100, 40 + r, 10)
            total = [
                total[0] + last["input_tokens"],
                total[1] + 100,
                total[2] + 40 + r,
                total[3] + 10,
            ]
            ts = f"2026-03-01T{s % 24:02d}:{1 + r // 60:02d}:{r % 60:02d}.{s:03d}Z"
            lines.append(token_count(ts, usage(*total), last))
        write(session_path(home, f"2026-03-01T{s % 24:02d}-00-{s // 24:02d}", sid), lines)
    rows = [row for result in ReadPlan(home).results() for row in result.rows]
    return len(rows), sum(r[INPUT] for r in rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: str):
        self.db, self.port, self.proc = db, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *CLI,
                "serve",
                "--db",
                self.db,
                "--port",
                str(self.port),
                "--open-signup",
                "--rate-limit",
                "100000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def stored(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        count, tokens = conn.execute(
            sa.text("select count(*), coalesce(sum(input), 0) from usage")
        ).one()
    return int(count), int(tokens)


def wait_until_partly_stored(engine, total: int, proc) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        count = stored(engine)[0]
        if 0 < count < total:
            return count
        if proc.poll() is not None:
            pytest.fail(f"the sync ended before the fault could be injected ({count} stored)")
        time.sleep(0.005)
    pytest.fail("nothing was stored in time")


@pytest.fixture
def setup(tmp_path, store_url, monkeypatch):
    home = tmp_path / "codex"
    expected = make_home(home)
    server = Server(store_url)
    server.start()
    token = httpx.post(server.url + "/api/v1/accounts", json={"name": "alice"}).json()["token"]
    monkeypatch.setenv("CODEXTIME_UPLOAD_BATCH", "15")  # many small requests: room to interrupt
    engine = sa.create_engine(store_url)
    yield home, server, token, expected, engine
    engine.dispose()
    if server.proc.poll() is None:
        server.kill()


def sync_command(home, server, token):
    return [*CLI, "sync", "--codex-home", str(home), "--server", server.url, "--token", token]


def test_server_killed_and_restarted_mid_upload(setup):
    home, server, token, expected, engine = setup
    collector = subprocess.Popen(sync_command(home, server, token), stderr=subprocess.PIPE)
    wait_until_partly_stored(engine, expected[0], collector)
    server.kill()
    time.sleep(1.0)  # the collector meets refused connections and backs off
    server.start()
    _, errors = collector.communicate(timeout=120)
    assert collector.returncode == 0, errors.decode()
    assert stored(engine) == expected


def test_collector_killed_mid_upload_then_rerun(setup):
    home, server, token, expected, engine = setup
    collector = subprocess.Popen(sync_command(home, server, token))
    partly = wait_until_partly_stored(engine, expected[0], collector)
    os.kill(collector.pid, signal.SIGKILL)
    collector.wait()
    assert stored(engine)[0] >= partly
    rerun = subprocess.run(sync_command(home, server, token), capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert stored(engine) == expected
    again = subprocess.run(sync_command(home, server, token), capture_output=True, timeout=120)
    assert again.returncode == 0 and stored(engine) == expected


def test_login_saves_a_private_config_that_sync_uses(setup):
    from typer.testing import CliRunner

    from collector.cli import app
    from collector.config import config_path

    home, server, _token, expected, engine = setup
    runner = CliRunner()
    signed = runner.invoke(app, ["login", "--server", server.url, "--name", "bob"])
    assert signed.exit_code == 0, signed.output
    assert config_path().stat().st_mode & 0o777 == 0o600
    assert runner.invoke(app, ["sync", "--codex-home", str(home)]).exit_code == 0
    assert stored(engine) == expected
    taken = runner.invoke(app, ["login", "--server", server.url, "--name", "bob"])
    assert taken.exit_code == 2 and "taken" in taken.output
    wrong = runner.invoke(app, ["login", "--server", server.url, "--token", "ctk_nope"])
    assert wrong.exit_code == 2 and "does not know this token" in wrong.output
