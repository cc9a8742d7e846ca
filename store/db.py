"""The store: an engine from a URL, the schema kept current, and idempotent record inserts.

``sqlite:///path`` (by default a file in the user's data directory) for one person's machine;
``postgresql+psycopg://...`` for a shared deployment. The same code serves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store.errors import database_words
from store.fields import COUNT_FIELDS, FIELD_DEFAULTS, RECORD_FIELDS
from store.migrations import migrate
from store.models import Account
from store.names import name_key
from store.plausibility import settle
from store.settings import default_db_url
from store.sql import (
    LOCAL_ACCOUNT,
    SQLITE_TS_FORMAT,
    insert_sql,
    make_folder,
    no_store,
    rebuild_sql,
    rows_query,
    stored_ms,
    window_params,
)

# Named here too, for callers of this module (their one definition is in store.sql, which the
# standard library's path into an SQLite store shares).
from store.sql import POSTGRES_SCHEMES as POSTGRES_SCHEMES
from store.sql import SUPPORTED_URLS as SUPPORTED_URLS
from store.sql import USAGE_COLUMNS as USAGE_COLUMNS
from store.sql import StoreError as StoreError

#: Rows per executemany call.
BATCH = 5000
#: Counts are stored as BIGINT: a value past this cannot be stored (the record type's bounds are far
#: lower; this guards callers that bypass it).
MAX_STORED_COUNT = 2**63 - 1


@contextmanager
def store_failures() -> Iterator[None]:
    """A database failure inside the block as a ``StoreError`` in one line (the database's own
    words); usable as a decorator too."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"the store failed: {database_words(exc)}") from exc


#: The driver ``POSTGRES_SCHEMES`` are read with: psycopg (the one the extras install;
#: SQLAlchemy would look for psycopg2, or not know ``postgres`` at all).
POSTGRES_DRIVER = "postgresql+psycopg"


def store_url(url: str) -> sa.URL:
    """``url`` parsed, with ``postgres://`` and ``postgresql://`` read as
    ``postgresql+psycopg://``; a ``StoreError`` when it is no database URL at all."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in POSTGRES_SCHEMES:
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of an SQLite store; None for any other store, or one held in memory."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser()


def open_store(url: str | None = None, *, create: bool = True) -> Engine:
    """An engine on an up-to-date schema. With ``create=False`` (reading), an SQLite store that
    does not exist is a ``StoreError`` instead of a new empty file and folder."""
    parsed = store_url(url or default_db_url())
    path = sqlite_path(parsed)
    if path is not None:
        if not create and not path.is_file():
            raise no_store(path)
        make_folder(path)
    shown = parsed.render_as_string()  # the password hidden
    try:
        engine = sa.create_engine(parsed, **_engine_options(parsed))
        migrate(engine)
    except sa.exc.NoSuchModuleError as exc:
        raise StoreError(f"unsupported database URL: {shown}; {SUPPORTED_URLS}") from exc
    except ImportError as exc:
        raise StoreError(
            f"the store URL needs a driver that is not installed: {exc.name or exc} "
            f"(for {shown}); {SUPPORTED_URLS}"
        ) from exc
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot open {shown}: {database_words(exc)}") from exc
    return engine


def _engine_options(url: sa.URL) -> dict:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def find_account(engine: Engine, name: str) -> int | None:
    """The id of the account named exactly ``name``, or None: a reader never creates one."""
    with store_failures(), engine.connect() as conn:
        a = Account.__table__
        return conn.execute(sa.select(a.c.id).where(a.c.name == name)).scalar()


@store_failures()
def account_id(engine: Engine, name: str = LOCAL_ACCOUNT) -> int:
    """The id of the named account, created on first use (the embedded store's owner is 'local')."""
    with Session(engine) as session:
        found = session.exec(select(Account).where(Account.name == name)).first()
        if found is None:
            found = Account(name=name, name_key=name_key(name))
            session.add(found)
            session.commit()
            session.refresh(found)
        assert found.id is not None
        return found.id


def insert_usage(engine: Engine, account: int, rows: Iterable[dict]) -> int:
    """Insert record dicts (the record's fields); return how many were new.

    An (account, event_id) already stored is skipped by the database itself (ON CONFLICT DO
    NOTHING), so a re-sync, a retry or two machines sending the same rows never double a figure.
    The driver's own executemany carries the rows: several times faster than building one large
    statement, and its row count is exact on both dialects. In the same transaction, the
    account's minutes and days these rows fall in are judged for plausibility and those days'
    rollups recomputed (``store.plausibility.settle``); the account's row is locked first, so
    two batches of one account are judged one after the other.
    """
    postgres = engine.dialect.name == "postgresql"
    sql = insert_sql(engine.dialect.name)
    timestamp = _utc if postgres else _sqlite_utc
    new = 0
    first = last = None
    with engine.begin() as conn:
        lock_account(conn, account)
        cursor = conn.connection.cursor()
        batch: list[tuple] = []
        for row in rows:
            batch.append(_usage_values(account, row, timestamp))
            ts = row["ts"]
            first, last = min(first or ts, ts), max(last or ts, ts)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                new += cursor.rowcount
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            new += cursor.rowcount
        cursor.close()
        if new:
            settle(conn, account, first, last)
    return new


@store_failures()
def rebuild_rollups(engine: Engine) -> None:
    """Recompute every daily rollup (and the kinds of usage they hold) from the records, in one
    transaction: for records written past ``insert_usage`` (by hand, or by a test planting
    rows). Inserts keep them current."""
    dialect = engine.dialect.name
    now = datetime.now(UTC)
    params = window_params(dialect, 0, now, now, now)  # (only the time window is used)
    with engine.begin() as conn:
        for statement in rebuild_sql(dialect):
            conn.execute(sa.text(statement), params)


def _usage_values(account: int, row: dict, timestamp) -> tuple:
    """A record dict's values in ``USAGE_COLUMNS`` order (fields the record type defaults may be
    left out); ValueError for a count BIGINT cannot hold."""
    values = {**FIELD_DEFAULTS, **row, "ts": timestamp(row["ts"])}
    for name in COUNT_FIELDS:
        count = values[name]
        if not (isinstance(count, int) and 0 <= count <= MAX_STORED_COUNT):
            raise ValueError(f"token count out of range: {str(count)[:30]}")
    return (account, *(values[name] for name in RECORD_FIELDS))


def lock_account(conn: sa.Connection, account: int) -> None:
    """Serialise one account's writes (inserts, erasure) on PostgreSQL, so its rollups are
    recomputed by one transaction at a time (SQLite lets one writer in at a time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT id FROM account WHERE id = :id FOR UPDATE"), {"id": account})


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return ts.astimezone(UTC)


def _sqlite_utc(ts: datetime) -> str:
    """The text form SQLAlchemy keeps SQLite datetimes in (UTC, no offset), so reads agree."""
    return _utc(ts).strftime(SQLITE_TS_FORMAT)


def usage_rows(
    engine: Engine,
    *,
    account: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Iterator[tuple]:
    """Rows as the scanner yields them (``store.fields.ROW_FIELDS``), optionally one account's;
    dates bound loosely in UTC (``store.sql.rows_query``, which SQLite's light path reads too)."""
    query, params = rows_query(engine.dialect.name, account, since, until)
    with store_failures(), engine.connect() as conn:
        rows = conn.execution_options(yield_per=10_000).execute(sa.text(query), params)
        for ts, *rest in rows:
            yield (stored_ms(ts), *rest)
