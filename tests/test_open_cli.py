"""`codextime open`: the shared dashboard in the browser, signed in by a one-time code from a real
server (SQLite and PostgreSQL), never by the token; and its one-line errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

from typer.testing import CliRunner

from collector.cli import app
from store.accounts import revoke_tokens
from tests.test_leaderboard_cli import log_in_as, logged_in, one_line_error, serving

__all__ = ["logged_in"]  # a fixture, used by name
runner = CliRunner()
DASHBOARD = "https://dash.example.org/"


def open_in_a_process(tmp_path, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`codextime open ARGS` as a process whose browser ($BROWSER) writes down what it was given."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {opened}\n')
    browser.chmod(stat.S_IRWXU)
    env = {**os.environ, "BROWSER": f"{browser} %s"}
    done = subprocess.run(
        [sys.executable, "-m", "collector", "open", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return done, opened.read_text().splitlines() if opened.exists() else []


def test_open_signs_in_through_a_one_time_code_and_never_shows_the_token(logged_in, tmp_path):
    from collector.config import load_config

    done, opened = open_in_a_process(tmp_path, "--app-url", DASHBOARD)
    assert done.returncode == 0, done.stderr
    assert len(opened) == 1
    url = urlsplit(opened[0])
    assert f"{url.scheme}://{url.netloc}{url.path}" == DASHBOARD
    code = parse_qs(url.query)["signin"][0]
    assert code and code != logged_in.token
    assert opened[0] in done.stdout and "single use" in done.stdout
    assert logged_in.token not in done.stdout + done.stderr
    assert load_config()["app_url"] == DASHBOARD
    again, reopened = open_in_a_process(tmp_path)  # the saved address, a fresh code
    assert again.returncode == 0, again.stderr
    assert parse_qs(urlsplit(reopened[-1]).query)["signin"][0] != code


def test_a_server_that_knows_its_dashboard_gives_the_address(store_url, tmp_path):
    with serving(store_url, app_url="https://board.example.org") as service:
        log_in_as(service, "alice")
        done, opened = open_in_a_process(tmp_path)
    assert done.returncode == 0, done.stderr
    assert opened[0].startswith("https://board.example.org/?signin=")
    assert service.token not in done.stdout + done.stderr + opened[0]


def test_without_a_dashboard_address_it_says_how_to_give_one(logged_in):
    one_line_error(runner.invoke(app, ["open"]), "--app-url URL")


def test_an_address_that_is_not_the_web_is_refused_and_not_saved(logged_in):
    from collector.config import load_config

    refused = runner.invoke(app, ["open", "--app-url", "javascript:alert(1)"])
    one_line_error(refused, "--app-url is not an http(s) address")
    assert "app_url" not in load_config()


def test_a_revoked_token_is_one_line(logged_in):
    revoke_tokens(logged_in.engine, "alice")
    one_line_error(runner.invoke(app, ["open", "--app-url", DASHBOARD]), "does not know this token")


def test_without_a_login_it_points_to_the_local_dashboard():
    one_line_error(runner.invoke(app, ["open"]), "not logged in", "`codextime start`")
