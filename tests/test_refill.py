"""A destination that lost records since the last sync is filled again, exactly once: a store
file removed, rows deleted, an account's records erased on the server; and `sync --full`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.sync import StoreDestination, state_path, sync
from store.accounts import delete_usage
from store.db import account_id, open_store, usage_rows
from tests.test_sync_errors import session

runner = CliRunner()
REFILL = "holds fewer records than were sent"


@pytest.fixture
def home(tmp_path) -> Path:
    """Logs of two sessions, six responses in all."""
    home = tmp_path / "codex"
    session(home, 1)
    session(home, 2)
    return home


def stored(db: str) -> int:
    return len(list(usage_rows(open_store(db))))


def cli_sync(home: Path, db: str, *extra: str):
    result = runner.invoke(app, ["sync", "--codex-home", str(home), "--db", db, *extra])
    assert result.exit_code == 0, result.output
    return result


def test_a_removed_store_file_is_filled_again(home, tmp_path):
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    assert REFILL not in cli_sync(home, db).stderr
    (tmp_path / "usage.db").unlink()

    again = cli_sync(home, db)
    assert f"The store {REFILL} (0 < 6): sending everything again." in again.stderr
    assert stored(db) == 6
    assert cli_sync(home, db).stderr == ""  # filled: nothing more to say or send
    assert stored(db) == 6


def test_deleted_rows_are_sent_again_once(home, store_url):
    cli_sync(home, store_url)
    engine = open_store(store_url)
    delete_usage(engine, account_id(engine))

    again = cli_sync(home, store_url)
    assert f"The store {REFILL} (0 < 6)" in again.stderr
    assert stored(store_url) == 6
    assert REFILL not in cli_sync(home, store_url).stderr
    assert stored(store_url) == 6


def test_some_rows_deleted_are_noticed_too(home, tmp_path):
    import sqlite3

    db = f"sqlite:///{tmp_path / 'usage.db'}"
    cli_sync(home, db)
    with sqlite3.connect(tmp_path / "usage.db") as conn:
        conn.execute("DELETE FROM usage WHERE id % 2 = 0")
    assert f"The store {REFILL} (3 < 6)" in cli_sync(home, db).stderr
    assert stored(db) == 6


def test_records_added_by_another_sync_are_no_reason_to_send_again(home, tmp_path):
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    cli_sync(home, db)
    other = tmp_path / "other-codex"
    session(other, 3)
    cli_sync(other, db)
    quiet = sync(home, StoreDestination(db, None), state_path(home, db))
    assert (quiet.notice, quiet.sent) == (None, 0)
    assert stored(db) == 9


def test_full_sends_everything_and_stores_it_once(home, tmp_path):
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    cli_sync(home, db)
    full = sync(home, StoreDestination(db, None), state_path(home, db), full=True)
    assert (full.sent, full.new, full.notice) == (6, 0, None)
    assert cli_sync(home, db, "--full").stderr == ""
    assert stored(db) == 6


def test_erased_server_records_are_uploaded_again_once(home, tmp_path):
    from fastapi.testclient import TestClient

    from collector.upload import HttpSink
    from store.accounts import create_account
    from store.api import create_app
    from store.settings import ServerSettings

    url = f"sqlite:///{tmp_path / 'server.db'}"
    _, token = create_account(open_store(url), "alice")
    client = TestClient(create_app(ServerSettings(db_url=url)))
    auth = {"Authorization": f"Bearer {token}"}
    sink = HttpSink("http://testserver", token, client=client, sleep=lambda _: None)
    state = state_path(home, "http://testserver")

    assert sync(home, sink, state).new == 6
    assert client.delete("/api/v1/me/usage", headers=auth).status_code in (200, 204)
    assert client.get("/api/v1/me", headers=auth).json()["records"] == 0

    again = sync(home, sink, state)
    assert again.notice == f"The server {REFILL} (0 < 6): sending everything again."
    assert (again.sent, again.new) == (6, 6)
    assert client.get("/api/v1/me", headers=auth).json()["records"] == 6
    quiet = sync(home, sink, state)
    assert (quiet.notice, quiet.sent) == (None, 0)
    assert stored(url) == 6


def test_a_sync_with_nothing_new_loads_no_database_layer(home, tmp_path):
    """The count of an untouched SQLite store is the one remembered: no SQLAlchemy (a quarter
    of a second) on the hook's sync after every turn."""
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    cli_sync(home, db)
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from collector.sync import StoreDestination, state_path, sync\n"
        f"home, db = Path({str(home)!r}), {db!r}\n"
        "result = sync(home, StoreDestination(db, None), state_path(home, db))\n"
        "assert (result.sent, result.notice) == (0, None), result\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel'}))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
