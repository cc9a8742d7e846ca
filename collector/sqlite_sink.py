"""The embedded SQLite store with the standard library alone: made, written to and read.

The light install (no SQLAlchemy, SQLModel or pydantic) keeps its store here, and so does every
install for a store of this version: a sync that brings a few new rows, or a report of the store,
would otherwise spend most of its time loading the store layer. A new store is made from
``store.sql.SQLITE_SCHEMA``, the schema the migrations build, with its local account. An existing
store is written and read here only when it has exactly the migrations of
``store.sql.MIGRATION_NAMES`` (and, to write, the local account); anything else, an older schema
to upgrade or PostgreSQL, goes through ``store.db``, the ``store`` extra. The statement, the
values, the plausibility flags, the daily rollups and the read query are ``store.sql``'s, as in
``store.db``: the same rows end up stored, summed and read back, each (account, event_id) once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from store.errors import UserError, database_words
from store.fields import MODEL, SESSION, TS_MS, Row, row_refusal
from store.names import name_key
from store.sql import (
    LOCAL_ACCOUNT,
    MIGRATION_NAMES,
    SQLITE_SCHEMA,
    SQLITE_TS_FORMAT,
    StoreError,
    flag_sql,
    insert_sql,
    make_folder,
    no_store,
    rollup_sql,
    rows_query,
    settle_days,
    stored_ms,
)

#: The insert, as ``store.db.insert_usage`` runs it on SQLite.
INSERT = insert_sql("sqlite")
#: The plausibility flags, the rollups and their kinds of usage, as ``store.plausibility.settle``
#: sets them on SQLite.
FLAGS = flag_sql("sqlite")
ROLLUPS = rollup_sql("sqlite")
#: The local account, as ``store.db.account_id`` makes it (``store.models.Account``'s defaults).
NEW_ACCOUNT = (
    "INSERT INTO account (name, name_key, leaderboard_opt_in, default_label, created_at) "
    "VALUES (?, ?, 0, NULL, ?)"
)


class StoreNotReady(Exception):
    """The file is not (yet) a store this module writes to: use the full store layer."""


class NoStoreYet(StoreNotReady):
    """No store at all yet: no file, or an SQLite file without a table (``create_store``)."""


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL; None for another database, memory or a URI name."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].split("?", 1)[0]
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return Path(path).expanduser()


def connect(path: Path, mode: str) -> sqlite3.Connection:
    """A connection to the existing file ``path``, read-only (``mode`` ``ro``) or not (``rw``);
    transactions as the caller begins them."""
    uri = f"{path.absolute().as_uri()}?mode={mode}"  # (any character of the path escaped)
    return sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)


def open_current(path: Path, mode: str = "rw") -> sqlite3.Connection:
    """A connection to a store file with exactly ``MIGRATION_NAMES`` applied; ``NoStoreYet`` or
    ``StoreNotReady`` for anything else (and ``sqlite3.Error`` for a file SQLite cannot read)."""
    if not path.is_file():
        raise NoStoreYet(f"{path}: no store yet")
    con = connect(path, mode)
    try:
        tables, logs = con.execute(
            "SELECT count(*), total(name = '_migrations') FROM sqlite_master"
        ).fetchone()
        if not logs:  # an empty file (a store being made), or not a store made by us
            raise (NoStoreYet if tables == 0 else StoreNotReady)(f"{path}: no store of ours")
        applied = tuple(r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY name"))
        if applied != MIGRATION_NAMES:
            raise StoreNotReady(f"{path}: schema {applied[-1:]} is not {MIGRATION_NAMES[-1]}")
    except BaseException:
        con.close()
        raise
    return con


def open_ready(path: Path, *, create: bool = False) -> tuple[sqlite3.Connection, int]:
    """A connection to an up-to-date store file and the local account's id; with ``create``, a
    new store is made first where there is none (``create_store``). Raises ``StoreNotReady`` for
    anything else (and ``sqlite3.Error`` for a file SQLite cannot read)."""
    try:
        con = open_current(path)
    except NoStoreYet:
        if not create:
            raise
        create_store(path)
        con = open_current(path)
    try:
        found = con.execute("SELECT id FROM account WHERE name = ?", (LOCAL_ACCOUNT,)).fetchone()
    except BaseException:
        con.close()
        raise
    if found is None:
        con.close()
        raise StoreNotReady(f"{path}: no local account yet")
    return con, found[0]


def schema_statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one at a time (SQLite tells where each ends)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip():
        raise ValueError(f"{SQLITE_SCHEMA}: an unfinished statement at its end")


def create_store(path: Path) -> None:
    """A new store at ``path``: the schema of ``SQLITE_SCHEMA`` and the local account, in one
    transaction that holds the file's exclusive lock, so that of two syncs starting at once one
    makes it and the other finds it made. A file that already holds a table is left as it is;
    a StoreError when the folder or file cannot be made."""
    make_folder(path)
    script = SQLITE_SCHEMA.read_text(encoding="utf-8")
    try:
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot create the store {path}: {database_words(exc)}") from exc
    try:
        con.execute("BEGIN EXCLUSIVE")
        try:
            if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                for statement in schema_statements(script):
                    con.execute(statement)
                now = datetime.now(UTC).strftime(SQLITE_TS_FORMAT)
                con.execute(NEW_ACCOUNT, (LOCAL_ACCOUNT, name_key(LOCAL_ACCOUNT), now))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise StoreError(f"cannot create the store {path}: {database_words(exc)}") from exc
    finally:
        con.close()


def sqlite_utc(ts_ms: int) -> str:
    """A row's time as ``store.db`` keeps SQLite datetimes (UTC text, no offset)."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime(SQLITE_TS_FORMAT)


def record_values(account: int, row: Row, label: str | None) -> tuple:
    """A scanner row as the insert's values; ValueError, in one line, for a row the record type
    would refuse (``store.fields.row_refusal``)."""
    why = row_refusal(row, label)
    if why is not None:
        raise ValueError(f"a record the store refuses: {why}")
    return (account, sqlite_utc(row[TS_MS]), *row[MODEL : SESSION + 1], label)


def insert_rows(con: sqlite3.Connection, account: int, rows: list[Row], label: str | None) -> int:
    """Insert rows in one transaction, flagging implausible minutes and days and recomputing
    their rollups as ``store.db`` does; return how many were new."""
    values = [record_values(account, row, label) for row in rows]
    if not values:
        return 0
    con.execute("BEGIN IMMEDIATE")
    try:
        new = con.executemany(INSERT, values).rowcount
        if new:
            first, last = (
                datetime.fromtimestamp(ms / 1000, UTC)
                for ms in (min(r[TS_MS] for r in rows), max(r[TS_MS] for r in rows))
            )
            settle_days(con.execute, "sqlite", account, first, last, datetime.now(UTC))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return new


def usage_count(con: sqlite3.Connection, account: int) -> int:
    """How many records the account holds."""
    return con.execute("SELECT count(*) FROM usage WHERE account_id = ?", (account,)).fetchone()[0]


def read_rows(
    path: Path, account: str | None, since: date | None, until: date | None
) -> Iterator[Row]:
    """The rows of an up-to-date store file (read-only), of the account named ``account`` if
    given, between ``since`` and ``until`` (loosely: ``store.sql.rows_query``). A UserError for
    an account the store does not hold; ``StoreNotReady`` for a file this module does not read."""
    con = open_current(path, "ro")
    try:
        if (
            account is not None
            and not con.execute("SELECT 1 FROM account WHERE name = ?", (account,)).fetchone()
        ):
            raise UserError(f"no account named {account!r} in the store")
        cursor = con.execute(*rows_query("sqlite", account, since, until))
    except BaseException:
        con.close()
        raise
    return _converted(con, cursor)


def _converted(con: sqlite3.Connection, cursor: sqlite3.Cursor) -> Iterator[Row]:
    """The cursor's rows with their times as milliseconds; the connection closed at the end."""
    try:
        for ts, *rest in cursor:
            yield (stored_ms(ts), *rest)
    except sqlite3.Error as exc:
        raise StoreError(f"the store failed: {database_words(exc)}") from exc
    finally:
        con.close()


def store_rows(
    url: str,
    account: str | None = None,
    since: date | None = None,
    until: date | None = None,
    *,
    command: str = "reading this store",
) -> Iterator[Row]:
    """The rows of the existing store at ``url`` (reading never creates one), of one account if
    named, between local dates ``since`` and ``until`` (loosely, in UTC): an SQLite file of this
    version through the standard library, any other store (PostgreSQL, an older schema, which is
    upgraded) through ``store.db``, which needs the store layer: without it, one line naming
    the extra ``command`` needs. A UserError for a store or account that is not there."""
    path = sqlite_file(url)
    if path is not None:
        if not path.is_file():
            raise no_store(path)
        try:
            return read_rows(path, account, since, until)
        except StoreNotReady:
            command = f"reading the store {path}"  # an older schema, or no store of ours
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {path}: {database_words(exc)}") from exc
    from collector.extras import require_store

    require_store(command, url)
    from store.db import find_account, open_store, usage_rows

    engine = open_store(url, create=False)
    if account is not None and find_account(engine, account) is None:
        raise UserError(f"no account named {account!r} in the store")
    return usage_rows(engine, account=account, since=since, until=until)
