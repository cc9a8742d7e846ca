"""The standard library's path into an embedded SQLite store: taken only for a store the store
layer has made current, stores exactly what ``store.db.insert_usage`` stores, and spares a sync
with a few new rows the import of SQLAlchemy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from collector import sqlite_sink
from collector.sync import StoreDestination, SyncError, sync
from store import db as store_db
from store import sql
from store.migrations import MIGRATIONS
from store.record import record_from_row
from tests.test_sync_errors import session

EVENT = "0123456789abcdef" * 2


def row(ts_ms: int, inp: int = 1000, *, event: str = EVENT, model: str = "gpt-6") -> tuple:
    return (ts_ms, model, "priority", inp, 200, 30, 50, 10, event, "f" * 32)


def test_one_definition_of_the_insert_and_flags_serves_both_write_paths():
    """The standard library's path and the store layer write with ``store.sql``'s statements;
    its migration names are the store layer's."""
    assert tuple(sorted(fn.__name__ for fn in MIGRATIONS)) == sql.MIGRATION_NAMES
    assert sql.insert_sql("sqlite") == sqlite_sink.INSERT
    assert sql.flag_sql("sqlite") == sqlite_sink.FLAGS
    assert store_db.USAGE_COLUMNS is sql.USAGE_COLUMNS
    assert [bound for _, bound, _ in sqlite_sink.FLAGS] == [
        sql.MAX_TOKENS_PER_MINUTE,
        sql.MAX_TOKENS_PER_DAY,
    ]


@pytest.mark.parametrize("statement", range(len(sql.FLAG_BUCKETS)))
def test_the_sqlite_flags_go_by_the_time_index(tmp_path, statement):
    """On SQLite both halves of each flag UPDATE find the rows by the time index (the days
    inserted into), never by the account's index (its whole history)."""
    con = sqlite3.connect(synced_store(tmp_path))
    reason, bound, update = sql.flag_sql("sqlite")[statement]
    params = {"reason": reason, "bound": bound, "account": 1, "since": "a", "until": "b"}
    plan = " | ".join(row[-1] for row in con.execute(f"EXPLAIN QUERY PLAN {update}", params))
    con.close()
    assert "ix_usage_account_id" not in plan, plan
    assert plan.count("ix_usage_ts") == 2, plan


def synced_store(tmp_path: Path) -> Path:
    """A store file made current by the store layer, holding the local account."""
    path = tmp_path / "usage.db"
    engine = store_db.open_store(f"sqlite:///{path}")
    store_db.account_id(engine)
    engine.dispose()
    return path


def stored(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "SELECT account_id, ts, model, tier, input, cached, cache_write, output, reasoning, "
            "event_id, session, label, flag FROM usage ORDER BY event_id"
        ).fetchall()
    finally:
        con.close()


def test_rows_are_stored_as_the_store_layer_stores_them(tmp_path):
    # Two rows in one minute over its bound (flagged), one in another day, one sent twice.
    minute = 1_790_000_040_000
    rows = [
        row(minute, 3_900_000, event="a" * 32),
        row(minute + 1, 3_900_000, event="b" * 32),
        row(minute + 86_400_000, event="c" * 32),
    ]
    for _ in range(31):  # 31 x 3.9M input: over 120M tokens in the minute
        rows.append(row(minute + 2 + _, 3_900_000, event=f"{_:032x}"))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    fast_file, slow_file = synced_store(ours), synced_store(theirs)

    con, account = sqlite_sink.open_ready(fast_file)
    assert sqlite_sink.insert_rows(con, account, rows, "laptop") == len(rows)
    assert sqlite_sink.insert_rows(con, account, rows[:1], "laptop") == 0  # kept once
    con.close()
    engine = store_db.open_store(f"sqlite:///{slow_file}")
    records = [record_from_row(r, "laptop").model_dump() for r in rows]
    assert store_db.insert_usage(engine, store_db.account_id(engine), records) == len(rows)
    engine.dispose()

    assert stored(fast_file) == stored(slow_file)
    assert {r[-1] for r in stored(fast_file)} == {"tokens_per_minute", None}


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (row(1_790_000_000_000, model="gpt\n6"), "control characters"),
        (row(1_790_000_000_000, inp=100), "input counts out of bounds"),
        (row(1_790_000_000_000, event="not a hash"), "not a hash"),
    ],
)
def test_a_row_the_record_type_refuses_stores_nothing(tmp_path, bad, why):
    path = synced_store(tmp_path)
    con, account = sqlite_sink.open_ready(path)
    with pytest.raises(ValueError, match=why):
        sqlite_sink.insert_rows(con, account, [row(1_790_000_000_000, event="e" * 32), bad], None)
    con.close()
    assert stored(path) == []


def test_only_a_store_made_current_is_written_directly(tmp_path):
    with pytest.raises(sqlite_sink.StoreNotReady):
        sqlite_sink.open_ready(tmp_path / "missing.db")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(sqlite_sink.StoreNotReady):
        sqlite_sink.open_ready(empty)
    path = synced_store(tmp_path)
    con = sqlite3.connect(path)
    con.execute("DELETE FROM _migrations WHERE name = ?", (sql.MIGRATION_NAMES[-1],))
    con.commit()
    con.close()
    with pytest.raises(sqlite_sink.StoreNotReady):
        sqlite_sink.open_ready(path)


def test_a_locked_store_is_one_clear_error_and_loses_nothing(tmp_path):
    home = tmp_path / "codex"
    session(home, 1)
    path = synced_store(tmp_path)
    url = f"sqlite:///{path}"
    state = tmp_path / "state.json"
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer at work: readers still get in
    dest = StoreDestination(url, None)
    try:
        dest._sqlite = sqlite_sink.open_ready(path)
        dest._sqlite[0].execute("PRAGMA busy_timeout = 50")  # (not the 30 s wait of a sync)
        with pytest.raises(SyncError, match="cannot write to the store .*nothing was lost"):
            sync(home, dest, state)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert not state.exists()  # no cursor moved
    assert sync(home, StoreDestination(url, None), state).new == 3


SYNC_AGAIN = """
import sys
from pathlib import Path
from collector.sync import StoreDestination, state_path, sync
home, url = Path(sys.argv[1]), sys.argv[2]
result = sync(home, StoreDestination(url, None), state_path(home, url))
print(result.new, "sqlalchemy" in sys.modules)
"""


def test_a_sync_into_a_current_store_never_loads_sqlalchemy(tmp_path):
    home = tmp_path / "codex"
    session(home, 1)
    url = f"sqlite:///{tmp_path / 'usage.db'}"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", SYNC_AGAIN, str(home), url],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return done.stdout.strip()

    assert run() == "3 True"  # the first sync makes the store
    session(home, 2)  # a new session
    assert run() == "3 False"
    assert len(stored(tmp_path / "usage.db")) == 6
