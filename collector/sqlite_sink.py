"""Inserting rows into an embedded SQLite store with the standard library alone.

A sync that brings a few new rows would otherwise spend most of its time loading SQLAlchemy,
SQLModel and pydantic (about half a second). This path is taken only for a store file that the
full store layer has already created and brought up to date (every migration of
``store.sql.MIGRATION_NAMES`` applied, the local account present); anything else, a new file or an
older schema, goes through ``store.db`` as before. The statement, the values, the plausibility
flags and the daily rollups are ``store.sql``'s, as in ``store.db.insert_usage``: the same rows
end up stored and summed, each (account, event_id) once.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from store.fields import (
    CACHE_WRITE,
    CACHED,
    EVENT_ID,
    INPUT,
    LABEL_MAX,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    MODEL,
    OUTPUT,
    REASONING,
    SESSION,
    TIER,
    TIERS,
    TS_MS,
    Row,
    has_control_chars,
)
from store.sql import (
    LOCAL_ACCOUNT,
    MIGRATION_NAMES,
    SQLITE_TS_FORMAT,
    flag_sql,
    insert_sql,
    rollup_sql,
    settle_days,
)

#: The insert, as ``store.db.insert_usage`` runs it on SQLite.
INSERT = insert_sql("sqlite")
#: The plausibility flags and the rollups, as ``store.plausibility.settle`` sets them on SQLite.
FLAGS = flag_sql("sqlite")
ROLLUPS = rollup_sql("sqlite")

_HASH = re.compile(r"[0-9a-f]{32}")


class StoreNotReady(Exception):
    """The file is not (yet) a store this module writes to: use the full store layer."""


def open_ready(path: Path) -> tuple[sqlite3.Connection, int]:
    """A connection to an existing, up-to-date store file and the local account's id; raises
    ``StoreNotReady`` for anything else (and ``sqlite3.Error`` for a file SQLite cannot read)."""
    if not path.is_file():
        raise StoreNotReady(f"{path}: no store yet")
    con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30, isolation_level=None)
    try:
        applied = tuple(r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY name"))
        if applied != MIGRATION_NAMES:
            raise StoreNotReady(f"{path}: schema {applied[-1:]} is not {MIGRATION_NAMES[-1]}")
        found = con.execute("SELECT id FROM account WHERE name = ?", (LOCAL_ACCOUNT,)).fetchone()
        if found is None:
            raise StoreNotReady(f"{path}: no local account yet")
        return con, found[0]
    except sqlite3.OperationalError as exc:  # no _migrations table: not a store made by us
        con.close()
        raise StoreNotReady(f"{path}: {exc}") from exc
    except BaseException:
        con.close()
        raise


def sqlite_utc(ts_ms: int) -> str:
    """A row's time as ``store.db`` keeps SQLite datetimes (UTC text, no offset)."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime(SQLITE_TS_FORMAT)


def record_values(account: int, row: Row, label: str | None) -> tuple:
    """A scanner row as the insert's values; ValueError, in one line, for a row the record type
    (``store.record.UsageRecord``) would refuse."""
    why = row_refusal(row, label)
    if why is not None:
        raise ValueError(f"a record the store refuses: {why}")
    return (account, sqlite_utc(row[TS_MS]), *row[MODEL : SESSION + 1], label)


def row_refusal(row: Row, label: str | None) -> str | None:
    """Why the record type would refuse this row with this label; None when it accepts it."""
    counts = row[INPUT], row[CACHED], row[CACHE_WRITE], row[OUTPUT], row[REASONING]
    if not all(type(n) is int for n in (row[TS_MS], *counts)):
        return "a time or count that is not a whole number"
    inp, cached, cache_write, out, reasoning = counts
    if not (min(cached, cache_write) >= 0 and cached + cache_write <= inp <= MAX_INPUT_TOKENS):
        return "input counts out of bounds"
    if not 0 <= reasoning <= out <= MAX_OUTPUT_TOKENS:
        return "output counts out of bounds"
    if row[TIER] not in TIERS:
        return "unknown service tier"
    for text, most in ((row[MODEL], LABEL_MAX), (label, LABEL_MAX)):
        if text is not None and not (
            isinstance(text, str) and 0 < len(text) <= most and not has_control_chars(text)
        ):
            return "a model name or label that is empty, too long or has control characters"
    if not all(isinstance(h, str) and _HASH.fullmatch(h) for h in (row[EVENT_ID], row[SESSION])):
        return "an event id or session that is not a hash"
    return None


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
