"""`codextime leaderboard join|leave` against a real ingest service (uvicorn in a thread) over a
store on SQLite and on PostgreSQL, errors included; ``serving`` and ``logged_in`` also serve
tests/test_accounts_cli.py and tests/test_open_cli.py."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from collector.cli import app
from store.accounts import create_account, revoke_tokens
from store.db import account_id, insert_usage

runner = CliRunner()


@dataclass
class Service:
    """A running ingest service: its address, its store and a logged-in account's token."""

    url: str
    engine: object
    token: str = ""

    def me(self, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.get(f"{self.url}/api/v1/me", headers=headers, timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(store_url: str, **settings) -> Iterator[Service]:
    """`codextime serve`'s app over ``store_url``, on a free loopback port, until the block ends."""
    import uvicorn

    from store.api import create_app
    from store.settings import ServerSettings

    api = create_app(ServerSettings(db_url=store_url, rate_limit_per_minute=100_000, **settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield Service(f"http://127.0.0.1:{port}", api.state.engine)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        api.state.engine.dispose()


@pytest.fixture
def logged_in(store_url) -> Iterator[Service]:
    """A server with the account "alice", and this machine logged in to it as alice (through
    `codextime login`, into the test's own config folder)."""
    with serving(store_url) as service:
        log_in_as(service, "alice")
        yield service


def log_in_as(service: Service, name: str) -> None:
    """A new account ``name`` on the service, and this machine logged in to it with its token."""
    _, service.token = create_account(service.engine, name)
    done = runner.invoke(app, ["login", "--server", service.url, "--token", service.token])
    assert done.exit_code == 0, done.output


def usage_rows(count: int, *, input_tokens: int = 100, minute: int = 0) -> list[dict]:
    """``count`` responses of one session, a second apart, from 10:``minute`` on 1 March 2026."""
    return [
        dict(
            ts=datetime(2026, 3, 1, 10, minute, i % 60, tzinfo=UTC),
            model="gpt-5",
            input=input_tokens,
            cached=0,
            output=10,
            reasoning=0,
            event_id=f"{minute:08x}{i:024x}",
            session="a" * 32,
            label=None,
        )
        for i in range(count)
    ]


def one_line_error(result, *words: str) -> None:
    """Exit status 2 and one line on stderr holding every word, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_join_with_a_name_renames_and_opts_in_at_once(logged_in):
    assert logged_in.me().json()["leaderboard_opt_in"] is False  # off until asked
    joined = runner.invoke(app, ["leaderboard", "join", "--name", "Alice B"])
    assert joined.exit_code == 0, joined.output
    assert "Alice B is on the leaderboard" in joined.stdout
    me = logged_in.me().json()
    assert (me["name"], me["leaderboard_opt_in"]) == ("Alice B", True)


def test_join_keeps_the_name_and_leave_keeps_the_records(logged_in):
    insert_usage(logged_in.engine, account_id(logged_in.engine, "alice"), usage_rows(3))
    assert runner.invoke(app, ["leaderboard", "join"]).exit_code == 0
    assert logged_in.me().json()["name"] == "alice"
    left = runner.invoke(app, ["leaderboard", "leave"])
    assert left.exit_code == 0, left.output
    assert "alice has left the leaderboard" in left.stdout and "records stay" in left.stdout
    me = logged_in.me().json()
    assert (me["leaderboard_opt_in"], me["records"]) == (False, 3)


def test_a_name_taken_or_refused_is_one_line_with_the_servers_reason(logged_in):
    create_account(logged_in.engine, "Bob")
    one_line_error(runner.invoke(app, ["leaderboard", "join", "--name", "bob"]), "refused", "taken")
    one_line_error(
        runner.invoke(app, ["leaderboard", "join", "--name", "!!"]), "refused", "a name has"
    )
    me = logged_in.me().json()
    assert (me["name"], me["leaderboard_opt_in"]) == ("alice", False)  # nothing changed


def test_a_revoked_token_or_a_server_that_is_gone_is_one_line(logged_in, monkeypatch):
    revoke_tokens(logged_in.engine, "alice")
    one_line_error(runner.invoke(app, ["leaderboard", "join"]), "does not know this token")
    monkeypatch.setenv("CODEXTIME_SERVER", f"http://127.0.0.1:{free_port()}")
    one_line_error(runner.invoke(app, ["leaderboard", "leave"]), "cannot reach")


@pytest.mark.parametrize("words", [["leaderboard", "join"], ["leaderboard", "leave"]])
def test_without_a_login_it_says_how_to_log_in(words):
    one_line_error(runner.invoke(app, words), "not logged in", "codextime login --server")
