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
from store.errors import UserError
from store.migrations import MIGRATIONS
from store.names import name_key
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
print(result.new, sorted({"sqlalchemy", "sqlmodel", "pydantic"} & set(sys.modules)))
"""


def test_no_sync_into_an_embedded_store_loads_the_store_layer(tmp_path):
    """Neither the first sync (which makes the store) nor the next loads SQLAlchemy, SQLModel
    or pydantic."""
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

    assert run() == "3 []"  # the first sync makes the store
    session(home, 2)  # a new session
    assert run() == "3 []"
    assert len(stored(tmp_path / "usage.db")) == 6


# -- a new store, made from store/schema_sqlite.sql --------------------------------------------

REGENERATE = (
    "store/schema_sqlite.sql is not what the migrations build: run python -m store.migrations"
)


def schema_of(path: Path) -> dict:
    """What a store file's schema is, as SQLite reports it: each table's columns, foreign keys
    and indexes (their columns and expressions), and the migrations it records."""
    con = sqlite3.connect(path)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        schema: dict = {
            table: {
                "columns": con.execute(f"PRAGMA table_xinfo({table})").fetchall(),
                "foreign keys": con.execute(f"PRAGMA foreign_key_list({table})").fetchall(),
                "indexes": sorted(
                    (name, unique, origin, con.execute(f"PRAGMA index_xinfo({name})").fetchall())
                    for _, name, unique, origin, _ in con.execute(f"PRAGMA index_list({table})")
                ),
            }
            for table in tables
        }
        # an index on an expression shows no column: its SQL says what it indexes
        schema["expressions"] = sorted(
            con.execute("SELECT name, sql FROM sqlite_master WHERE sql LIKE '%(lower(%'")
        )
        schema["migrations"] = [n for (n,) in con.execute("SELECT name FROM _migrations")]
        return schema
    finally:
        con.close()


def migrated_store(path: Path) -> Path:
    engine = store_db.open_store(f"sqlite:///{path}")
    engine.dispose()
    return path


def test_a_store_made_from_the_schema_file_is_a_migrated_one(tmp_path):
    sqlite_sink.create_store(tmp_path / "new.db")
    made, migrated = schema_of(tmp_path / "new.db"), schema_of(migrated_store(tmp_path / "m.db"))
    assert made["migrations"] == [fn.__name__ for fn in MIGRATIONS]
    assert {"account", "usage", "daily_rollup", "api_token", "sign_in_code"} <= set(made)
    assert made == migrated, REGENERATE


def test_a_migration_added_without_regenerating_the_file_is_noticed(tmp_path, monkeypatch):
    from store import migrations

    def m999_a_column(conn) -> None:
        conn.exec_driver_sql("ALTER TABLE usage ADD COLUMN extra INTEGER")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m999_a_column])
    sqlite_sink.create_store(tmp_path / "new.db")
    assert schema_of(tmp_path / "new.db") != schema_of(migrated_store(tmp_path / "m.db"))
    # and the file written now is what the migrations build
    written = migrations.write_sqlite_schema(tmp_path / "schema.sql")
    monkeypatch.setattr(sqlite_sink, "SQLITE_SCHEMA", written)
    sqlite_sink.create_store(tmp_path / "again.db")
    assert schema_of(tmp_path / "again.db") == schema_of(tmp_path / "m.db")


def test_the_schema_file_in_the_tree_is_the_one_generated():
    from store.migrations import sqlite_schema

    assert sql.SQLITE_SCHEMA.read_text(encoding="utf-8") == sqlite_schema(), REGENERATE


def test_a_new_store_is_one_the_store_layer_opens_as_it_is(tmp_path):
    """The local account as ``store.db.account_id`` makes it, no migration left to apply, and a
    sync through the store layer writes to it as to one it made."""
    path = tmp_path / "usage.db"
    con, account = sqlite_sink.open_ready(path, create=True)
    con.close()
    engine = store_db.open_store(f"sqlite:///{path}")
    from store.migrations import migrate

    assert migrate(engine) == []
    assert store_db.account_id(engine) == account
    other = store_db.account_id(engine, "someone")  # made by the store layer, for comparison
    columns = "name, name_key, leaderboard_opt_in, default_label"
    con = sqlite3.connect(path)
    ours, theirs = (
        con.execute(f"SELECT {columns}, created_at FROM account WHERE id = ?", (a,)).fetchone()
        for a in (account, other)
    )
    con.close()
    engine.dispose()
    for made, name in ((ours, "local"), (theirs, "someone")):
        assert made[:4] == (name, name_key(name), 0, None)
    assert len(ours[4]) == len(theirs[4]) == len("2026-01-01 00:00:00.000000")


def test_syncs_starting_at_once_make_the_store_once(tmp_path):
    """Eight connections make the same new store at the same moment, ten times over: each time
    one makes it and the others find it made, with one local account."""
    import threading

    for attempt in range(10):
        path = tmp_path / f"usage{attempt}.db"
        start = threading.Barrier(8)
        made: list = []
        failed: list = []

        def make(path=path, start=start, made=made, failed=failed) -> None:
            start.wait()
            try:
                con, account = sqlite_sink.open_ready(path, create=True)
                con.close()
                made.append(account)
            except Exception as exc:  # reported below
                failed.append(exc)

        threads = [threading.Thread(target=make) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failed == [] and len(made) == 8 and len(set(made)) == 1
        con = sqlite3.connect(path)
        assert con.execute("SELECT count(*) FROM account").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM _migrations").fetchone() == (len(MIGRATIONS),)
        con.close()


def test_a_file_that_holds_other_tables_is_never_made_a_store_here(tmp_path):
    path = tmp_path / "theirs.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (x)")
    con.close()
    sqlite_sink.create_store(path)
    with pytest.raises(sqlite_sink.StoreNotReady):
        sqlite_sink.open_ready(path, create=True)
    con = sqlite3.connect(path)
    assert con.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]
    con.close()


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(sql.StoreError, match="cannot create the store's folder"):
        sqlite_sink.create_store(tmp_path / "file" / "usage.db")


# -- reading a store back --------------------------------------------------------------------


def filled_store(tmp_path: Path, name: str = "usage.db") -> Path:
    """A store made here with rows on either side of a day, and a second account's row."""
    path = tmp_path / name
    con, account = sqlite_sink.open_ready(path, create=True)
    day = 1_772_323_200_000  # 2026-03-01 00:00 UTC
    rows = [row(day + n * 3_600_000 * 7, event=f"{n:032x}") for n in range(12)]
    sqlite_sink.insert_rows(con, account, rows, "laptop")
    con.execute(
        "INSERT INTO account (name, name_key, leaderboard_opt_in, created_at) "
        "VALUES ('bob', 'bob', 0, '2026-03-01 00:00:00.000000')"
    )
    con.close()
    engine = store_db.open_store(f"sqlite:///{path}")
    bob = store_db.account_id(engine, "bob")
    store_db.insert_usage(engine, bob, [record_from_row(row(day, event="b" * 32)).model_dump()])
    engine.dispose()
    return path


@pytest.mark.parametrize(
    ("account", "since", "until"),
    [
        (None, None, None),
        ("local", None, None),
        ("bob", None, None),
        (None, "2026-03-02", None),
        ("local", "2026-03-01", "2026-03-02"),
        (None, None, "2026-03-01"),
    ],
)
def test_reading_a_store_here_gives_the_store_layers_rows(tmp_path, account, since, until):
    from datetime import date

    path = filled_store(tmp_path)
    since, until = (date.fromisoformat(d) if d else None for d in (since, until))
    ours = sorted(sqlite_sink.read_rows(path, account, since, until))
    engine = store_db.open_store(f"sqlite:///{path}", create=False)
    theirs = sorted(store_db.usage_rows(engine, account=account, since=since, until=until))
    engine.dispose()
    assert ours == theirs and ours
    assert ours == sorted(sqlite_sink.store_rows(f"sqlite:///{path}", account, since, until))


READ_IN_A_CHILD = """
import sys
from collector.sqlite_sink import store_rows
rows = list(store_rows(sys.argv[1], "local"))
print(len(rows), sorted({"sqlalchemy", "sqlmodel", "pydantic"} & set(sys.modules)))
"""


def test_reading_a_current_store_loads_no_store_layer(tmp_path):
    path = filled_store(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, f"sqlite:///{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "12 []"


def test_reading_never_makes_a_store_and_names_what_is_missing(tmp_path):
    with pytest.raises(sql.StoreError, match="no store at .*missing.db: run `codextime sync`"):
        sqlite_sink.store_rows(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()
    path = filled_store(tmp_path)
    with pytest.raises(UserError, match="no account named 'carol' in the store"):
        sqlite_sink.store_rows(f"sqlite:///{path}", "carol")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(sql.StoreError, match="cannot open .*junk.db: file is not a database"):
        sqlite_sink.store_rows(f"sqlite:///{tmp_path / 'junk.db'}")


def test_an_older_store_is_upgraded_by_the_store_layer_or_names_its_extra(tmp_path, monkeypatch):
    from collector import extras

    path = filled_store(tmp_path)
    con = sqlite3.connect(path)
    con.execute("DELETE FROM _migrations WHERE name = ?", (sql.MIGRATION_NAMES[-1],))
    con.execute("DROP TABLE rollup_kind")  # what that migration made
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    with monkeypatch.context() as m:  # as in the light install
        m.setattr(extras, "missing_modules", lambda modules: list(modules))
        with pytest.raises(extras.MissingExtra) as caught:
            sqlite_sink.store_rows(url)
        assert str(caught.value) == (
            f"reading the store {path} needs the store extra: pip install 'codextime[store]'"
        )
        with pytest.raises(extras.MissingExtra, match="syncing into the store .* store extra"):
            StoreDestination(url, None)([row(1_790_000_000_000)])
    assert len(list(sqlite_sink.store_rows(url))) == 13  # upgraded on the way
    assert sqlite_sink.open_current(path).close() is None
