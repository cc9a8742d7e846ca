"""Operators' account commands, and reports over a shared store."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from typer.testing import CliRunner

from store.accounts import account_for_token
from store.db import account_id, insert_usage, open_store

runner = CliRunner()


def cli(*args):
    from collector.cli import app

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
    rows = [
        dict(
            ts=datetime(2026, 3, 1, 10, i, tzinfo=UTC),
            model="gpt-5",
            input=100 * (i + 1),
            cached=0,
            output=10,
            reasoning=0,
            event_id=f"{i:032x}",
            session="a" * 32,
            label=None,
        )
        for i in range(3)
    ]
    insert_usage(engine, account_id(engine, "alice"), rows[:2])
    insert_usage(engine, account_id(engine, "bob"), rows[2:])
    every = orjson.loads(cli("report", "daily", "--db", store_url, "--json").stdout)
    alice = orjson.loads(
        cli("report", "daily", "--db", store_url, "--json", "--account", "alice").stdout
    )
    assert every["totals"]["input"] == 600 and alice["totals"]["input"] == 300
    engine.dispose()
