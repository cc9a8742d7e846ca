"""The demo's leaderboard: a dozen demo accounts, opted in, with varied usage labelled demo, added
to a demo store only (never to PostgreSQL, a store of real usage, an empty or a missing one)."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.demo.board import DEMO_ACCOUNTS, DemoBoardError, seed_demo_board
from store.db import StoreError, open_store
from tests.test_cli import home  # noqa: F401 (a fixture: real logs of two responses)

END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
runner = CliRunner()


def synced(codex_home: Path, db: Path) -> str:
    url = f"sqlite:///{db}"
    result = runner.invoke(app, ["sync", "--codex-home", str(codex_home), "--db", url])
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture(scope="module")
def synced_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store synced from a demo home, as ``codextime start`` makes one."""
    from collector.demo import generate

    made = tmp_path_factory.mktemp("demo")
    generate(made / "demo-home", days=10, end=END)
    synced(made / "demo-home", made / "demo.db")
    return made / "demo.db"


@pytest.fixture
def demo_store(synced_demo: Path, tmp_path: Path) -> str:
    """A copy of the synced demo store, for one test to change."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(synced_demo, copy)
    return f"sqlite:///{copy}"


def rows(url: str, sql: str) -> list[tuple]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def test_a_dozen_demo_accounts_opted_in_with_varied_usage(demo_store):
    added = seed_demo_board(demo_store, seed=7, end=END)
    accounts = dict(rows(demo_store, "select name, leaderboard_opt_in from account"))
    demo = {name: opted for name, opted in accounts.items() if name != "local"}
    assert sorted(demo) == sorted(DEMO_ACCOUNTS) and len(demo) >= 12
    assert all(name.startswith("demo-") for name in demo) and all(demo.values())
    assert not accounts["local"]  # the demo person's own choice is left alone
    per_account = dict(
        rows(
            demo_store,
            "select a.name, sum(u.input + u.output) from usage u join account a "
            "on a.id = u.account_id where a.name like 'demo-%' group by a.name",
        )
    )
    assert len(per_account) == len(DEMO_ACCOUNTS)
    assert max(per_account.values()) >= 3 * min(per_account.values())  # varied volumes
    assert sum(n for (n,) in rows(demo_store, "select count(*) from usage where label = 'demo'"))
    assert rows(demo_store, "select count(*) from usage where label is not 'demo'") == [(0,)]
    assert (
        added
        == rows(
            demo_store,
            "select count(*) from usage u join account a on "
            "a.id = u.account_id where a.name like 'demo-%'",
        )[0][0]
    )
    models = Counter(
        m
        for (m,) in rows(
            demo_store,
            "select model from usage u join account a "
            "on a.id = u.account_id where a.name != 'local'",
        )
    )
    assert len(models) >= 4
    assert rows(demo_store, "select count(*) from usage where flag is not null") == [(0,)]


def test_weekdays_are_busier_than_weekends_on_the_board(demo_store):
    seed_demo_board(demo_store, seed=7, end=END, days=56)
    stamps = rows(
        demo_store,
        "select u.ts from usage u join account a on a.id = u.account_id where a.name != 'local'",
    )
    days = Counter(datetime.fromisoformat(ts).weekday() for (ts,) in stamps)
    weekday = sum(days[d] for d in range(5)) / 5
    weekend = sum(days[d] for d in (5, 6)) / 2
    assert weekday >= 2 * weekend


def test_seeding_again_changes_nothing_and_a_later_end_adds_only_new_days(demo_store):
    first = seed_demo_board(demo_store, seed=7, end=END)
    before = rows(demo_store, "select event_id, ts, input from usage order by event_id")
    assert seed_demo_board(demo_store, seed=7, end=END) == 0
    assert rows(demo_store, "select event_id, ts, input from usage order by event_id") == before
    later = seed_demo_board(demo_store, seed=7, end=END + timedelta(days=3))
    assert 0 < later < first
    after = rows(demo_store, "select event_id, ts, input from usage order by event_id")
    assert set(before) <= set(after)
    assert len(rows(demo_store, "select name from account")) == len(DEMO_ACCOUNTS) + 1


def test_the_board_ranks_the_demo_accounts(demo_store):
    from store.pricing import load_rates
    from tests.board_oracle import leaderboard

    seed_demo_board(demo_store, seed=7, end=END)
    ranked = leaderboard(open_store(demo_store), None, load_rates())
    assert sorted(ranked["name"].to_list()) == sorted(DEMO_ACCOUNTS)
    assert ranked["tokens"].n_unique() == len(DEMO_ACCOUNTS)


def test_never_a_postgresql_store(demo_store):
    with pytest.raises(DemoBoardError, match="only into an SQLite demo store"):
        seed_demo_board("postgresql+psycopg://postgres@127.0.0.1:5432/test", end=END)
    with pytest.raises(DemoBoardError, match="only into an SQLite demo store"):
        seed_demo_board("postgres://user:secret@db.example.org/usage", end=END)


def test_never_a_store_of_real_usage(home, tmp_path):  # noqa: F811
    url = synced(home, tmp_path / "real.db")
    before = rows(url, "select * from account"), rows(url, "select * from usage")
    with pytest.raises(DemoBoardError, match="real usage"):
        seed_demo_board(url, end=END)
    assert (rows(url, "select * from account"), rows(url, "select * from usage")) == before


def test_never_an_empty_or_a_missing_store(tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(empty).dispose()
    with pytest.raises(DemoBoardError, match="no demo data"):
        seed_demo_board(empty, end=END)
    assert rows(empty, "select count(*) from account") == [(0,)]
    missing = tmp_path / "nowhere" / "demo.db"
    with pytest.raises(StoreError):
        seed_demo_board(f"sqlite:///{missing}", end=END)
    assert not missing.parent.exists()
