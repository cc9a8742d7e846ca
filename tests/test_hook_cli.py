"""The hook end to end: installed by the CLI, run as Codex runs it, syncing in the background."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_data_dir
from typer.testing import CliRunner

import collector.sync as sync_mod
from collector.cli import app
from collector.hook import log_path
from collector.sync import lock_path, state_path, sync_lock
from store.settings import default_db_url
from tests.rollout import meta, session_path, token_count, turn, usage, write

runner = CliRunner()


def test_codex_turn_triggers_a_background_sync(tmp_path):
    home = tmp_path / "codex"
    a = usage(1000, 200, 50, 10)
    write(
        session_path(home, "2026-03-01T10-00-00", "019a152d-35a0-72a0-91db-8ebe37fac69e"),
        [
            meta(ts="2026-03-01T10:00:00.000Z"),
            turn("2026-03-01T10:00:01.000Z"),
            token_count("2026-03-01T10:00:05.000Z", a, a),
        ],
    )
    config = home / "config.toml"
    config.write_text(
        'model = "gpt-5.1-codex"\nnotify = ["notify-send", "Codex"]\n\n[tui]\nx = 1\n'
    )
    original = config.read_text()

    installed = runner.invoke(app, ["hook", "install", "--codex-home", str(home)])
    assert installed.exit_code == 0, installed.output
    notify = tomllib.loads(config.read_text())["notify"]
    assert notify[0] == sys.executable and "collector.hook" in notify

    payload = json.dumps({"type": "agent-turn-complete", "input-messages": ["SECRET-PROMPT"]})
    started = time.monotonic()
    # The user's own notify-send is not installed here: the hook must still return at once.
    done = subprocess.run([*notify, payload], capture_output=True, timeout=10)
    assert time.monotonic() - started < 3
    assert b"SECRET-PROMPT" not in done.stdout + done.stderr

    assert stored_records() == 1

    removed = runner.invoke(app, ["hook", "uninstall", "--codex-home", str(home)])
    assert removed.exit_code == 0, removed.output
    assert config.read_text() == original


def stored_records(timeout: float = 60) -> int:
    """The embedded store's record count, once the background sync has put any there."""
    db = Path(user_data_dir("codextime")) / "codextime.db"
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        if db.exists():
            engine = sa.create_engine(f"sqlite:///{db}")
            try:
                with engine.connect() as conn:
                    count = conn.execute(sa.text("select count(*) from usage")).scalar_one()
            except sa.exc.OperationalError:
                count = 0  # the schema is still being created
            engine.dispose()
            if count:
                break
        time.sleep(0.2)
    return count


#: What a repository could hold to run its code as ours: ``-m`` looks in the current folder first.
HOSTILE_FILES = (
    "collector.py",
    *(f"collector/{n}.py" for n in ("__init__", "hook", "__main__", "cli")),
)
HOSTILE = "import pathlib, sys\npathlib.Path({marker!r}).write_text(repr(sys.argv))\n"


def test_the_hook_runs_only_the_installed_codextime_whatever_folder_codex_is_in(tmp_path):
    """Codex starts notify in the folder it was started in: a repository there holding its own
    ``collector`` must not run, neither as the hook nor as the sync the hook starts."""
    home = tmp_path / "codex"
    a = usage(1000, 200, 50, 10)
    write(
        session_path(home, "2026-03-01T10-00-00", "019a152d-35a0-72a0-91db-8ebe37fac69e"),
        [meta(ts="2026-03-01T10:00:00.000Z"), token_count("2026-03-01T10:00:05.000Z", a, a)],
    )
    installed = runner.invoke(app, ["hook", "install", "--codex-home", str(home)])
    assert installed.exit_code == 0, installed.output
    notify = tomllib.loads((home / "config.toml").read_text())["notify"]

    repo = tmp_path / "hostile-repo"
    marker = tmp_path / "hostile-code-ran"
    code = HOSTILE.format(marker=str(marker))
    for name in HOSTILE_FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(code)
    env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONSTARTUP": str(repo / "collector.py")}

    payload = json.dumps({"type": "agent-turn-complete", "input-messages": ["SECRET-PROMPT"]})
    done = subprocess.run([*notify, payload], cwd=repo, env=env, capture_output=True, timeout=10)

    assert done.returncode == 0, done.stderr
    assert stored_records() == 1  # the real sync started, and did its work
    assert not marker.exists(), marker.read_text()


def test_a_second_sync_waits_its_turn(tmp_path):
    home = tmp_path / "codex"
    (home / "sessions").mkdir(parents=True)
    elsewhere = f"sqlite:///{tmp_path / 'other.db'}"
    with sync_lock(lock_path(state_path(home, default_db_url()))):
        busy = runner.invoke(app, ["sync", "--codex-home", str(home)])
        quiet = runner.invoke(app, ["sync", "--codex-home", str(home), "--background"])
        other = runner.invoke(app, ["sync", "--codex-home", str(home), "--db", elsewhere])
    assert busy.exit_code == 2 and "another codextime sync is running" in busy.output
    assert len(busy.output.strip().splitlines()) == 1
    assert quiet.exit_code == 0 and quiet.output == ""
    assert other.exit_code == 0, other.output  # another destination has a lock of its own


def test_a_hung_sync_is_reported_in_the_hook_log(tmp_path, monkeypatch):
    home = tmp_path / "codex"
    (home / "sessions").mkdir(parents=True)
    lock = lock_path(state_path(home, default_db_url()))
    monkeypatch.setattr(sync_mod, "LOCK_HUNG_AFTER", -1)  # as if it had held the lock long
    with sync_lock(lock):
        quiet = runner.invoke(app, ["sync", "--codex-home", str(home), "--background"])
    assert quiet.exit_code == 0
    logged = log_path().read_text()
    assert f"process {os.getpid()} has held it" in logged and "may be hung" in logged


def test_a_background_sync_past_its_time_limit_stops(tmp_path):
    """A server that accepts the connection and never answers: the sync would wait 30 s per
    try, with retries; the time limit ends it, and says so in the hook log."""
    home = tmp_path / "codex"
    a = usage(1000, 200, 50, 10)
    write(
        session_path(home, "2026-03-01T10-00-00", "019a152d-35a0-72a0-91db-8ebe37fac69e"),
        [meta(ts="2026-03-01T10:00:00.000Z"), token_count("2026-03-01T10:00:05.000Z", a, a)],
    )
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    script = (
        "import collector.cli as cli, sys; cli.BACKGROUND_TIME_LIMIT = 2; "
        "sys.argv = ['codextime', 'sync', '--background']; cli.main()"
    )
    env = {
        **os.environ,
        "CODEX_HOME": str(home),
        "CODEXTIME_SERVER": f"http://127.0.0.1:{port}",
        "CODEXTIME_TOKEN": "ctk_never_answered",
    }
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", script], env=env, timeout=60)
    finally:
        silent.close()
    assert done.returncode == 3 and time.monotonic() - started < 30
    assert "time limit of a background sync" in log_path().read_text()
