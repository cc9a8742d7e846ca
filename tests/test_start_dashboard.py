"""``codextime start``'s dashboard server: the launcher serves the app and says nothing about
its early imports; the frames it caches before serving are the ones a first visit would make."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import pages.lib.data as data
from collector.commands.starting import HEALTH, answers, dashboard_command
from tests import test_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: A personal store: 40 responses over 80 days, three models, two machines.
store = test_app.store


@pytest.fixture(autouse=True)
def empty_caches():
    """Streamlit's caches live as long as the process: each test starts and leaves them empty."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def overview() -> dict[str, str]:
    """The Overview's cards (label and value) as a first visit (in UTC) shows them."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [f"{m.label}: {m.value}" for m in at.metric]
    assert len(shown) == 8  # four cards, tokens and estimate each
    return shown


def test_the_warm_up_caches_what_a_first_visit_reads(store, monkeypatch):
    first_visit = overview()
    st.cache_data.clear()
    data.warm_up("UTC")

    def asked(*args, **kwargs):
        raise AssertionError("the page asked again what the warm-up had cached")

    # Each of the page's reads of the store and computations over its records.
    for name in ("load_slots", "set_aside", "localize", "cost_groups"):
        monkeypatch.setattr(data, name, asked)
    assert overview() == first_visit


def test_the_warm_up_leaves_a_shared_deployment_and_a_broken_store_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEXTIME_DB", f"sqlite:///{tmp_path / 'missing' / 'x' / 'store.db'}")
    monkeypatch.setattr(data, "open_store", lambda url: (_ for _ in ()).throw(OSError("no")))
    data.warm_up("UTC")  # the page will say why: nothing raised here
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    monkeypatch.setattr(data, "load_slots", lambda *a: pytest.fail("read a shared store"))
    data.warm_up("UTC")


def test_the_launcher_serves_the_dashboard_quietly(store):
    port = free_port()
    command = dashboard_command(ROOT / "streamlit_app.py", port, "UTC", "--server.headless", "true")
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert answers(f"http://127.0.0.1:{port}", server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        server.terminate()
        output, errors = server.communicate(timeout=30)
    assert f":{port}" in output
    # Streamlit's warnings about caches used before it runs are not shown to the user.
    assert "No runtime found" not in errors and "ScriptRunContext" not in errors, errors


def test_a_server_that_ends_before_answering_is_told_apart():
    ended = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert answers(f"http://127.0.0.1:{free_port()}", ended) is False
    assert ended.returncode == 3
    assert HEALTH == "/_stcore/health"


class Launched:
    """In place of the dashboard's process: notes its command and answers at once."""

    commands: list[list[str]] = []

    def __init__(self, command: list[str], **options):
        self.commands.append(command)
        self.returncode = None

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        self.returncode = 0
        return 0

    def kill(self):
        pass


def test_start_announces_the_port_the_dashboard_really_gets_once_it_answers(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from collector.cli import app
    from collector.commands import starting

    answered = []
    monkeypatch.setattr(subprocess, "Popen", Launched)
    monkeypatch.setattr(starting, "answers", lambda base, server: answered.append(base) or True)
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["start", "--db", f"sqlite:///{tmp_path / 's.db'}", "--port", str(port)]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    command = Launched.commands[-1]
    served = int(command[command.index("--server.port") + 1])
    assert served != port and command[1:3] == ["-c", starting.LAUNCHER]
    assert answered == [f"http://localhost:{served}"]
    assert f"Dashboard: http://localhost:{served} " in result.stdout


def test_start_says_when_the_dashboard_stops_before_it_serves(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from collector.cli import app
    from collector.commands import starting

    monkeypatch.setattr(subprocess, "Popen", Launched)
    monkeypatch.setattr(starting, "answers", lambda base, server: False)
    result = CliRunner().invoke(app, ["start", "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 2, result.output
    assert "the dashboard stopped before it served" in result.stderr
    assert "Dashboard:" not in result.stdout


@pytest.mark.parametrize(
    ("machine", "browser"), [("Etc/UTC", "UTC"), ("Europe/Paris", "Europe/Paris")]
)
def test_the_first_visit_is_made_for_the_zone_the_browser_names(machine, browser):
    command = dashboard_command(ROOT / "streamlit_app.py", 8501, machine)
    assert command[3:6] == [str(ROOT), browser, "run"]
