"""Operators' account commands and reports over a shared store; the signed-in account's
`codextime account`, `account rename` and `account delete` against a real server."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from collector.cli import app
from store.accounts import account_for_token
from store.db import account_id, insert_usage, open_store
from tests.test_leaderboard_cli import logged_in, one_line_error, usage_rows

__all__ = ["logged_in"]  # a fixture, used by name
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, list(args))


def test_create_revoke_and_reissue_tokens(store_url):
    made = cli("account", "create", "alice", "--db", store_url)
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    engine = open_store(store_url)
    assert account_for_token(engine, token).name == "alice"
    assert cli("account", "create", "alice", "--db", store_url).exit_code == 2
    revoked = cli("account", "revoke", "alice", "--db", store_url)
    assert "Revoked 1 token" in revoked.output
    assert account_for_token(engine, token) is None
    fresh = cli("account", "token", "alice", "--db", store_url).output.strip()
    assert account_for_token(engine, fresh).name == "alice"
    assert cli("account", "revoke", "nobody", "--db", store_url).exit_code == 2
    engine.dispose()


def test_report_over_a_store_for_all_or_one_account(store_url):
    engine = open_store(store_url)
    rows = usage_rows(2, input_tokens=100) + usage_rows(1, input_tokens=400, minute=1)
    insert_usage(engine, account_id(engine, "alice"), rows[:2])
    insert_usage(engine, account_id(engine, "bob"), rows[2:])
    every = orjson.loads(cli("report", "daily", "--db", store_url, "--json").stdout)
    alice = orjson.loads(
        cli("report", "daily", "--db", store_url, "--json", "--account", "alice").stdout
    )
    assert every["totals"]["input"] == 600 and alice["totals"]["input"] == 200
    engine.dispose()


# -- the signed-in account on a server ----------------------------------------------------------


def test_account_shows_the_signed_in_account(logged_in):
    engine = logged_in.engine
    alice = account_id(engine, "alice")
    insert_usage(engine, alice, usage_rows(2, minute=1))
    # 40 responses of 4M tokens in one minute: more than one person's sessions can make.
    insert_usage(engine, alice, usage_rows(40, input_tokens=4_000_000, minute=2))
    shown = cli("account")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Account: alice (id ") and lines[0].endswith(logged_in.url)
    assert "Leaderboard: not joined" in shown.stdout
    assert "Records: 42, from 2026-03-01 10:01 UTC to 2026-03-01 10:02 UTC" in shown.stdout
    assert "Flagged as implausible (kept, never ranked): 40 (tokens_per_minute 40)" in shown.stdout
    assert logged_in.token not in shown.output


def test_the_account_group_still_runs_the_operators_commands(logged_in, store_url):
    assert "Revoked 1 token" in cli("account", "revoke", "alice", "--db", store_url).output
    assert "does not know this token" in cli("account").output


def test_rename_and_its_refusals(logged_in):
    renamed = cli("account", "rename", "Alice B")
    assert renamed.exit_code == 0 and "now named Alice B" in renamed.stdout
    assert logged_in.me().json()["name"] == "Alice B"
    cli("account", "create", "carol", "--db", str(logged_in.engine.url))
    one_line_error(cli("account", "rename", "CAROL"), "taken")
    one_line_error(cli("account", "rename", "a/b"), "a name has")
    assert logged_in.me().json()["name"] == "Alice B"


def test_delete_asks_for_the_name_then_deletes_everything_and_logs_out(logged_in):
    from collector.config import load_config

    insert_usage(logged_in.engine, account_id(logged_in.engine, "alice"), usage_rows(5))
    wrong = runner.invoke(app, ["account", "delete"], input="alicia\n")
    assert wrong.exit_code == 2 and "nothing was deleted" in wrong.stderr
    assert "its 5 records, for good" in wrong.stdout
    assert logged_in.me().json()["records"] == 5
    deleted = runner.invoke(app, ["account", "delete"], input="alice\n")
    assert deleted.exit_code == 0, deleted.output
    assert "Deleted the account alice and its 5 records" in deleted.stdout
    assert logged_in.me().status_code == 401
    assert "server" not in load_config() and "token" not in load_config()
    one_line_error(cli("account"), "not logged in")


def test_delete_yes_asks_nothing(logged_in):
    deleted = runner.invoke(app, ["account", "delete", "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert "Deleted the account alice and its 0 records" in deleted.stdout
    assert logged_in.me().status_code == 401


def test_a_server_without_the_route_says_so_in_one_line(logged_in, monkeypatch):
    """A server that answers 404 (an older ingest service, or a wrong address)."""
    monkeypatch.setenv("CODEXTIME_SERVER", f"{logged_in.url}/not-here")
    one_line_error(cli("account"), "does not offer /api/v1/me (HTTP 404)")


def test_account_shows_the_rank_and_profile_once_on_the_leaderboard(store_url):
    from datetime import UTC, datetime, timedelta

    from tests.test_leaderboard_cli import log_in_as, serving

    with serving(store_url, app_url="https://board.example.org") as service:
        log_in_as(service, "alice")
        recent = usage_rows(3)
        for row in recent:
            row["ts"] = datetime.now(UTC) - timedelta(hours=1)
            row["event_id"] = row["event_id"][::-1]
        insert_usage(service.engine, account_id(service.engine, "alice"), recent)
        assert "Profile:" not in cli("account").stdout  # not on the leaderboard yet
        assert cli("leaderboard", "join").exit_code == 0
        shown = cli("account")
    assert "Leaderboard: joined, rank 1 over the last 30 days" in shown.stdout, shown.output
    assert "Profile: https://board.example.org/profile?name=alice" in shown.stdout
