"""Incremental sync: read only what is new since the last run and send it to a sink.

The cursors (per file: how far it was read, and the parser's state there) live with the collector,
in the user's state directory, never in the store. They advance only after the sink has confirmed a
file's rows, and are written atomically, so a crash or a kill loses nothing: the next run reads
those bytes again, and the store's (account, event_id) uniqueness drops what it already has.

The state also remembers how many records the destination held after the last sync: a store file
removed, rows deleted or an account's records erased on the server show as fewer, and then every
record is sent again (the destination keeps each one once).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from collector.config import state_dir
from collector.scan import Cursor, ReadPlan, ScanStats
from collector.sqlite_sink import sqlite_file
from store.errors import UserError, database_words
from store.fields import Row

#: Takes rows, returns how many were new to the destination; raises if they were not stored.
Sink = Callable[[list[Row]], int]
SAVE_EVERY_SECONDS = 5.0
#: Rows handed to the sink at a time, at most (one transaction, or a few uploads, each).
SINK_ROWS = 20_000
#: A sync that has held its lock this long (seconds) is reported as possibly hung by a waiter.
LOCK_HUNG_AFTER = 15 * 60
#: Version 3 keeps each parser state as JSON text, decoded only for a file read on from it.
STATE_VERSION = 3
#: Versions whose cursors are still read (version 2's parser states are JSON themselves).
READABLE_VERSIONS = (2, STATE_VERSION)


#: What a failed sync says last: the cursors only move past what the destination confirmed.
NOTHING_LOST = (
    "nothing was lost: the destination keeps what was sent, and the next sync sends the rest "
    "(no duplicates result)"
)


class SyncError(UserError):
    """A sync that could not finish: the message says what failed, in one line."""


@dataclass
class SyncResult:
    sent: int
    new: int
    stats: ScanStats
    #: Said once when the destination had lost records and everything was sent again.
    notice: str | None = None


def store_sink(engine, account: int, label: str | None) -> Sink:
    """A sink into a store: rows become records (the allow-list) and are inserted idempotently."""
    from sqlalchemy.exc import SQLAlchemyError

    from store.db import insert_usage
    from store.record import record_from_row

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
                f"cannot write to the store {where}: {database_words(exc)}; {NOTHING_LOST}"
            ) from exc

    return sink


@dataclass(frozen=True)
class Tally:
    """How many records the destination held after a sync, and (a SQLite file) what its file
    looked like then: a file that has not changed since holds as many, without being opened."""

    records: int
    mark: list | None = None

    def to_json(self) -> list:
        return [self.records, self.mark]

    @classmethod
    def from_json(cls, data: object) -> Tally | None:
        """The tally ``to_json`` wrote; None for anything else (no check at the next sync)."""
        if not (isinstance(data, list) and len(data) == 2):
            return None
        records, mark = data
        if type(records) is not int or records < 0 or not isinstance(mark, list | None):
            return None
        return cls(records, mark)


class Destination:
    """A sink that can also tell how many records the destination holds for this account, so a
    store or an account emptied since the last sync is noticed and filled again."""

    #: What the destination is called in messages.
    noun = "destination"

    def __call__(self, rows: list[Row]) -> int:
        raise NotImplementedError

    def held(self, last: Tally | None) -> int | None:
        """Records held now (``last``: the tally of the last sync); None when it cannot tell."""
        return None

    def mark(self) -> list | None:
        """What the destination looks like now, cheaply; None when there is no such sign."""
        return None

    def close(self) -> None:
        """Let go of what was opened (the sync is over)."""


class StoreDestination(Destination):
    """The store at ``url``, the embedded account's records; opened only when needed: a sync
    with nothing new into a SQLite file nobody else touched never loads the database layer."""

    noun = "store"

    def __init__(self, url: str, label: str | None) -> None:
        self.url = url
        self.label = label
        self.file = sqlite_file(url)
        self._opened: tuple | None = None  # (engine, account id, sink)
        self._sqlite: tuple | None = None  # (sqlite3 connection, account id)
        #: Whether the standard library's path may still be tried (a SQLite file, not refused).
        self.file_ready = self.file is not None

    def _open(self) -> tuple:
        if self._opened is None:
            from collector.extras import require_store

            where = f"the store {self.file}" if self.file else "this store"
            require_store(f"syncing into {where}", self.url)
            from store.db import account_id, open_store

            engine = open_store(self.url)
            account = account_id(engine)
            self._opened = (engine, account, store_sink(engine, account, self.label))
        return self._opened

    def _fast(self) -> tuple | None:
        """(connection, account id) through the standard library, for a SQLite file of this
        version, made now if there is none yet; None otherwise (or after a failure: the full
        layer then says what is wrong)."""
        if self._sqlite is None and self.file is not None and self._opened is None:
            from collector import sqlite_sink

            try:
                self._sqlite = sqlite_sink.open_ready(self.file, create=True)
            except (sqlite_sink.StoreNotReady, sqlite3.Error):
                self.file_ready = False
        return self._sqlite

    def __call__(self, rows: list[Row]) -> int:
        fast = self._fast() if self.file_ready else None
        if fast is None:
            return self._open()[2](rows)
        from collector.sqlite_sink import insert_rows

        try:
            return insert_rows(*fast, rows, self.label)
        except (sqlite3.Error, ValueError) as exc:
            raise SyncError(
                f"cannot write to the store {self.url}: {database_words(exc)}; {NOTHING_LOST}"
            ) from exc

    def held(self, last: Tally | None) -> int:
        if self.file and last and last.mark is not None and last.mark == self.mark():
            return last.records
        fast = self._fast() if self.file_ready else None
        if fast is not None:
            from collector.sqlite_sink import usage_count as count

            return count(*fast)
        engine, account, _ = self._open()  # (says which extra is missing, if one is)
        from store.accounts import usage_count

        return usage_count(engine, account)

    def close(self) -> None:
        """Close the standard library's connection, if one was opened."""
        if self._sqlite is not None:
            self._sqlite[0].close()
            self._sqlite = None

    def mark(self) -> list | None:
        """The SQLite file's identity, size and time: any write or a new file changes them (the
        store keeps SQLite's rollback journal, so every commit writes the file itself)."""
        if self.file is None:
            return None
        try:
            st = os.stat(self.file)
        except OSError:
            return None
        return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def state_path(codex_home: Path, destination: str) -> Path:
    """One cursor file per (logs, destination) pair: two stores never share a cursor."""
    ident = f"{codex_home.resolve()}\n{destination}".encode()
    name = hashlib.sha256(ident).hexdigest()[:16]
    return state_dir() / f"cursors-{name}.json"


def server_destination(server: str, token: str) -> str:
    """What names a server's cursor file: the server and the token's account, so another
    account on the same server starts afresh (the token itself is never written)."""
    return f"{server.rstrip('/')}#{hashlib.sha256(token.encode()).hexdigest()[:12]}"


@dataclass
class SavedState:
    """What the last sync left: its cursors, its tally, and a warning when some or all of the
    file was unreadable."""

    cursors: dict[str, Cursor] = field(default_factory=dict)
    tally: Tally | None = None
    warning: str | None = None
    #: Written by an older version in a form still read: saved again in the current one.
    outdated: bool = False


def load_state(path: Path) -> SavedState:
    """The saved state: a damaged cursor entry is left out (its log is read again from the
    start), an unreadable file means a full re-read."""
    try:
        data = orjson.loads(path.read_bytes())
        version = data.get("version")
        if version not in READABLE_VERSIONS:
            return SavedState()
        saved = data["files"].items()
        tally = Tally.from_json(data.get("held"))
    except FileNotFoundError:
        return SavedState()
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return SavedState(
            warning=f"{path}: unreadable sync state, reading all logs again (no duplicates result)"
        )
    cursors: dict[str, Cursor] = {}
    damaged = 0
    for key, value in saved:
        try:
            cursors[key] = Cursor.from_json(value)
        except ValueError:
            damaged += 1
    outdated = version != STATE_VERSION
    if not damaged:
        return SavedState(cursors, tally, outdated=outdated)
    logs = "log is" if damaged == 1 else "logs are"
    return SavedState(
        cursors,
        tally,
        f"{path}: {damaged:,} damaged entr{'y' if damaged == 1 else 'ies'} in the sync state left "
        f"out; {'its' if damaged == 1 else 'their'} {logs} read again from the start "
        "(no duplicates result)",
        outdated,
    )


def save_state(path: Path, cursors: dict[str, Cursor], tally: Tally | None) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state: dict = {"version": STATE_VERSION, "files": {k: c.to_json() for k, c in cursors.items()}}
    if tally is not None:
        state["held"] = tally.to_json()
    data = orjson.dumps(state)
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
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Send what is new since the cursors in ``state_file`` (``full``: everything, the cursors
    ignored); raises ``Busy`` at once while another sync of the same logs to the
    same destination runs.

    A ``Destination`` is also asked how many records it holds: fewer than after the last sync (a
    store deleted or emptied, an account's records erased) and everything is sent again."""
    lock = lock_path(state_file)
    with ExitStack() as held:
        try:
            held.enter_context(sync_lock(lock))
        except OSError as exc:
            raise SyncError(
                f"cannot take the sync lock {lock}: {exc.strerror or exc}; nothing was sent"
            ) from exc
        if isinstance(sink, Destination):
            held.callback(sink.close)
        return _sync_locked(codex_home, sink, state_file, full, progress)


def _save(path: Path, cursors: dict[str, Cursor], tally: Tally | None) -> None:
    """``save_state``, a failure (a full disk, a read-only folder) told in one line."""
    try:
        save_state(path, cursors, tally)
    except OSError as exc:
        raise SyncError(
            f"cannot save the sync state {path}: {exc.strerror or exc}; {NOTHING_LOST}"
        ) from exc


def lost_records(noun: str, held: int | None, tally: Tally | None) -> str | None:
    """Why everything must be sent again, when the destination holds fewer records than it did
    after the last sync; None when it holds as many or more (or either is unknown)."""
    if held is None or tally is None or held >= tally.records:
        return None
    return (
        f"The {noun} holds fewer records than were sent ({held:,} < {tally.records:,}): "
        "sending everything again."
    )


def _sync_locked(
    codex_home: Path,
    sink: Sink,
    state_file: Path,
    full: bool,
    progress: Callable[[int, int], None] | None,
) -> SyncResult:
    saved = load_state(state_file)
    counted = isinstance(sink, Destination)
    held = sink.held(saved.tally) if counted else None
    notice = None if full else lost_records(getattr(sink, "noun", ""), held, saved.tally)
    cursors = {} if full or notice else saved.cursors
    plan = ReadPlan(codex_home, cursors)
    if saved.warning:
        plan.stats.problems.append(saved.warning)
    sent = new = 0
    done = 0
    last_save = time.monotonic()
    cursors.update(plan.refreshed)
    dirty = bool(plan.refreshed) or cursors is not saved.cursors or saved.outdated

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

    def tally(mark: list | None) -> Tally | None:
        """What the destination holds now: as counted, plus what it took since."""
        return saved.tally if held is None else Tally(held + new, mark)

    for result in plan.results(progress=advance):
        rows += result.rows
        read.update(result.cursors)
        if len(rows) >= SINK_ROWS:  # a store commits once per call: not too many calls
            flush()
        if time.monotonic() - last_save > SAVE_EVERY_SECONDS:
            flush()
            _save(state_file, cursors, tally(None))  # no mark: the next sync counts
            last_save, dirty = time.monotonic(), False
    flush()
    final = tally(sink.mark() if counted else None)
    if dirty or final != saved.tally or not state_file.exists():
        _save(state_file, cursors, final)
    return SyncResult(sent, new, plan.stats, notice)


class Busy(UserError, RuntimeError):
    """Another sync holds the lock; ``hung`` when it has held it past ``LOCK_HUNG_AFTER``."""

    def __init__(self, message: str, *, hung: bool = False) -> None:
        super().__init__(message)
        self.hung = hung


# -- the sync lock ------------------------------------------------------------------------------


def lock_path(cursor_file: Path) -> Path:
    """The lock of one sync's cursor file (one CODEX_HOME and destination): syncs to two
    destinations never wait on each other."""
    return Path(cursor_file).with_suffix(".lock")


@contextmanager
def sync_lock(path: Path) -> Iterator[None]:
    """Hold the sync lock ``path`` for the block, or raise ``Busy`` at once if another process
    holds it.

    The lock is an OS lock on the file (``flock`` on POSIX, ``msvcrt.locking`` on Windows), so it
    is released when its holder exits or dies: no stale lock can remain. The holder writes its pid
    and when it took the lock, so a waiter can tell a holder that seems hung. The file itself
    stays; deleting it would let two holders lock two different files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            hung = _hung_holder(path)
            message = f"another codextime sync is running (lock: {path})"
            if hung:
                message += f": {hung}"
            raise Busy(f"{message}; try again when it has finished", hung=bool(hung))
        try:
            if sys.platform != "win32":  # a locked byte can't be rewritten on Windows
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {time.time():.0f}\n".encode(), 0)
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _hung_holder(path: Path) -> str | None:
    """A live holder of the lock ``path`` past ``LOCK_HUNG_AFTER``, described; else None."""
    try:
        pid_text, since_text = path.read_text(encoding="ascii").split()
        pid, since = int(pid_text), float(since_text)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    held = time.time() - since
    if held > LOCK_HUNG_AFTER and _alive(pid):
        return (
            f"process {pid} has held it for {held / 60:.0f} minutes and may be hung; stop it if so"
        )
    return None


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (it may be another user's)."""
    if sys.platform == "win32":  # os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
