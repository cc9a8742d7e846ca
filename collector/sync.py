"""Incremental sync: read only what is new since the last run and send it to a sink.

The cursors (per file: how far it was read, and the parser's state there) live with the collector,
in the user's state directory, never in the store. They advance only after the sink has confirmed a
file's rows, and are written atomically, so a crash or a kill loses nothing: the next run reads
those bytes again, and the store's (account, event_id) uniqueness drops what it already has.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import orjson
from platformdirs import user_state_dir

from collector.scan import Cursor, Row, Scan, ScanStats

#: Takes rows, returns how many were new to the destination; raises if they were not stored.
Sink = Callable[[list[Row]], int]
SAVE_EVERY_SECONDS = 5.0
#: Rows handed to the sink at a time, at most (one transaction, or a few uploads, each).
SINK_ROWS = 20_000
STATE_VERSION = 2


#: What a failed sync says last: the cursors only move past what the destination confirmed.
NOTHING_LOST = (
    "nothing was lost: the destination keeps what was sent, and the next sync sends the rest "
    "(no duplicates result)"
)


class SyncError(Exception):
    """A sync that could not finish: the message says what failed, in one line."""


@dataclass
class SyncResult:
    sent: int
    new: int
    stats: ScanStats


def store_sink(engine, account: int, label: str | None) -> Sink:
    """A sink into a store: rows become records (the allow-list) and are inserted idempotently."""
    from sqlalchemy.exc import SQLAlchemyError

    from collector.record import record_from_row
    from store.db import insert_usage

    where = engine.url.render_as_string()  # the password hidden
    # The rows go through the driver's own cursor: its errors are not SQLAlchemy's.
    failures = (engine.dialect.loaded_dbapi.Error, SQLAlchemyError)

    def sink(rows: list[Row]) -> int:
        try:
            return insert_usage(
                engine, account, (record_from_row(r, label).model_dump() for r in rows)
            )
        except failures as exc:
            raise SyncError(
                f"cannot write to the store {where}: {_first_line(exc)}; {NOTHING_LOST}"
            ) from exc

    return sink


def _first_line(exc: BaseException) -> str:
    """The database's own words, without SQLAlchemy's statement and parameters."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def lazy_store_sink(url: str, label: str | None) -> Sink:
    """``store_sink`` on the store at ``url``, opened only when there is something to send (a
    sync with nothing new never loads the database layer)."""
    opened: list[Sink] = []

    def sink(rows: list[Row]) -> int:
        if not opened:
            from store.db import account_id, open_store

            engine = open_store(url)
            opened.append(store_sink(engine, account_id(engine), label))
        return opened[0](rows)

    return sink


def state_path(codex_home: Path, destination: str) -> Path:
    """One cursor file per (logs, destination) pair: two stores never share a cursor."""
    ident = f"{codex_home.resolve()}\n{destination}".encode()
    name = hashlib.sha256(ident).hexdigest()[:16]
    return Path(user_state_dir("codextime")) / f"cursors-{name}.json"


def load_cursors(path: Path) -> tuple[dict[str, Cursor], str | None]:
    """The saved cursors, and a warning when some or all were unreadable: a damaged entry is left
    out (its log is read again from the start), an unreadable file means a full re-read."""
    try:
        data = orjson.loads(path.read_bytes())
        if data.get("version") != STATE_VERSION:
            return {}, None
        saved = data["files"].items()
    except FileNotFoundError:
        return {}, None
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return {}, f"{path}: unreadable sync state, reading all logs again (no duplicates result)"
    cursors: dict[str, Cursor] = {}
    damaged = 0
    for key, value in saved:
        try:
            cursors[key] = Cursor.from_json(value)
        except ValueError:
            damaged += 1
    if not damaged:
        return cursors, None
    logs = "log is" if damaged == 1 else "logs are"
    return cursors, (
        f"{path}: {damaged:,} damaged entr{'y' if damaged == 1 else 'ies'} in the sync state left "
        f"out; {'its' if damaged == 1 else 'their'} {logs} read again from the start "
        "(no duplicates result)"
    )


def save_cursors(path: Path, cursors: dict[str, Cursor]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(
        {"version": STATE_VERSION, "files": {k: c.to_json() for k, c in cursors.items()}}
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cursors-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sync(
    codex_home: Path,
    sink: Sink,
    state_file: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Send what is new since the cursors in ``state_file``; raises ``collector.hook.Busy`` at
    once while another sync of the same logs to the same destination runs."""
    from collector.hook import lock_path, sync_lock

    lock = lock_path(state_file)
    with ExitStack() as held:
        try:
            held.enter_context(sync_lock(lock))
        except OSError as exc:
            raise SyncError(
                f"cannot take the sync lock {lock}: {exc.strerror or exc}; nothing was sent"
            ) from exc
        return _sync_locked(codex_home, sink, state_file, progress)


def _save(path: Path, cursors: dict[str, Cursor]) -> None:
    """``save_cursors``, a failure (a full disk, a read-only folder) told in one line."""
    try:
        save_cursors(path, cursors)
    except OSError as exc:
        raise SyncError(
            f"cannot save the sync state {path}: {exc.strerror or exc}; {NOTHING_LOST}"
        ) from exc


def _sync_locked(
    codex_home: Path,
    sink: Sink,
    state_file: Path,
    progress: Callable[[int, int], None] | None,
) -> SyncResult:
    cursors, warning = load_cursors(state_file)
    plan = Scan(codex_home, cursors)
    if warning:
        plan.stats.problems.append(warning)
    sent = new = 0
    done = 0
    last_save = time.monotonic()
    cursors.update(plan.refreshed)
    dirty = bool(plan.refreshed)

    def advance(nbytes: int) -> None:
        nonlocal done
        done += nbytes
        if progress:
            progress(done, plan.total_bytes)

    rows: list[Row] = []
    read: dict[str, Cursor] = {}  # cursors of the files whose rows are in ``rows``

    def flush() -> None:
        nonlocal new, sent, dirty
        if rows:
            new += sink(rows)
            sent += len(rows)
        cursors.update(read)  # only now: the sink has the rows
        dirty = dirty or bool(read)
        rows.clear()
        read.clear()

    for result in plan.results(progress=advance):
        rows += result.rows
        read.update(result.cursors)
        if len(rows) >= SINK_ROWS:  # a store commits once per call: not too many calls
            flush()
        if time.monotonic() - last_save > SAVE_EVERY_SECONDS:
            flush()
            _save(state_file, cursors)
            last_save, dirty = time.monotonic(), False
    flush()
    if dirty or not state_file.exists():
        _save(state_file, cursors)
    return SyncResult(sent, new, plan.stats)
