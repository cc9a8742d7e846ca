"""From a CODEX_HOME to usage rows: discovery, parallel reading, rows shared between files.

Every file is read once, on any core, by itself. Rows that belong to more than one file are
settled here, as the files come back: a child (fork or subagent) leaves out the rows it copied from
its ancestors, once those ancestors are in (fork rule 2), and a row seen in two files is counted
once (R11). What is held meanwhile: the children still waiting for an ancestor (until the end when
an ancestor is not among the files read), and per response counted a 64-bit id and a 16-byte mark
of its cumulative vector; never the logs' bytes.
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import orjson

from collector.discover import LogFile, discover, rollout_id
from collector.keys import event_hash, hash_key, session_hash
from collector.parse import FileMeta, Record, RolloutParser, Vec, older_state, valid_state
from collector.reader import LineReader, zst_content_size
from collector.workers import unordered_map
from store.fields import (
    EARLIEST,
    EVENT_ID,
    FUTURE_SLACK,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    SESSION,
    Row,
)
from store.fields import refusal as record_refusal

#: Files are handed to workers in batches of about this many bytes (a bigger file goes alone).
BATCH_BYTES = 4 << 20
#: Below this many bytes to read, one process is faster than starting workers. For a sync,
#: whose process holds every file's cursor when it forks (after 1% more bytes, 9 MB in four
#: files, helpers cost it 21 ms more).
PARALLEL_MIN_BYTES = 64 << 20
#: The same for a read that keeps no cursors (a report, a scan), where forked helpers pay from
#: two batches on: a fork costs 1-2 ms, and a report of 8 MB took 5 ms less (14% less on 32 MB).
#: Where processes are spawned instead, each imports everything anew.
PLAIN_PARALLEL_MIN_BYTES = 2 * BATCH_BYTES if hasattr(os, "fork") else PARALLEL_MIN_BYTES
#: How far up a chain of forks and subagents ancestors are followed.
MAX_HOPS = 32
_EVENT_ID = itemgetter(EVENT_ID)  # a row's event_id
#: The mark of a response without a cumulative vector (``hash`` never returns -1).
NO_TOTAL = -1


class Cursor:
    """Where a file was read up to, and the parser's state there.

    The saved form keeps the parser state as JSON text, decoded only for a file that is read on
    from its cursor: a sync loads thousands of cursors and reads on from a few.
    """

    __slots__ = ("size", "mtime_ns", "offset", "thread", "_parser", "_encoded")

    def __init__(
        self,
        size: int,
        mtime_ns: int,
        offset: int,
        parser: dict | None = None,
        *,
        encoded: str | None = None,
        thread: str | None = None,
    ) -> None:
        self.size, self.mtime_ns, self.offset = size, mtime_ns, offset
        self._parser, self._encoded = parser, encoded
        #: The file's thread id (from the parser state's meta), known without decoding it.
        self.thread = _meta_thread(parser) if parser is not None else thread

    @property
    def parser(self) -> dict | None:
        """The parser state; None when its saved text does not decode (damage: read again)."""
        if self._parser is None and self._encoded is not None:
            try:
                self._parser = orjson.loads(self._encoded)
            except orjson.JSONDecodeError:
                self._encoded = None
        return self._parser

    def moved(self, size: int, mtime_ns: int) -> Cursor:
        """The same read position and state for a file whose size or time changed."""
        return Cursor(
            size, mtime_ns, self.offset, self._parser, encoded=self._encoded, thread=self.thread
        )

    def to_json(self) -> list:
        """``[size, mtime_ns, offset, thread, parser state as JSON text]``."""
        encoded = self._encoded
        if encoded is None:
            encoded = orjson.dumps(self._parser).decode()
        return [self.size, self.mtime_ns, self.offset, self.thread, encoded]

    @classmethod
    def from_json(cls, data: object) -> Cursor:
        """The cursor ``to_json`` wrote (or the four-item form of state version 2, the parser
        state as JSON itself); ValueError for anything else. Only what every run uses is checked
        here (cheap, for thousands of files); a file read on from its cursor has its parser
        state checked in full first (``valid_state``)."""
        if not (isinstance(data, list) and len(data) in (4, 5)):
            raise ValueError("a cursor is a list of five items")
        size, mtime_ns, offset = data[:3]
        if not all(type(n) is int and n >= 0 for n in (size, mtime_ns, offset)):
            raise ValueError("a cursor's size, time and offset are whole numbers")
        if len(data) == 4:
            parser = data[3]
            meta = parser.get("meta") if isinstance(parser, dict) else None
            if not (isinstance(meta, list) and meta and isinstance(meta[0], str | None)):
                raise ValueError("a cursor's parser state is damaged")
            return cls(size, mtime_ns, offset, parser)
        thread, encoded = data[3:]
        if not (isinstance(thread, str | None) and isinstance(encoded, str)):
            raise ValueError("a cursor's parser state is damaged")
        return cls(size, mtime_ns, offset, encoded=encoded, thread=thread)


def _meta_thread(parser: dict) -> str | None:
    """The thread id a parser state's meta names, if any."""
    meta = parser.get("meta")
    return meta[0] if isinstance(meta, list) and meta and isinstance(meta[0], str) else None


class Limits(NamedTuple):
    """What the ingest service accepts of one response (``store.fields``), as integers, so
    the common case is told by comparisons alone: this is checked once per response."""

    earliest_ms: int
    latest_ms: int
    max_input: int
    max_output: int

    @classmethod
    def now(cls) -> Limits:
        latest = datetime.now(UTC) + FUTURE_SLACK
        return cls(_ms(EARLIEST), _ms(latest), MAX_INPUT_TOKENS, MAX_OUTPUT_TOKENS)

    def refusal(
        self, ts_ms: int, inp: int, cached: int, cache_write: int, out: int, reasoning: int
    ) -> str | None:
        """Why a response would be refused (``store.fields.refusal``); None if accepted."""
        if (
            self.earliest_ms <= ts_ms <= self.latest_ms
            and cached >= 0
            and cache_write >= 0
            and cached + cache_write <= inp <= self.max_input
            and 0 <= reasoning <= out <= self.max_output
        ):
            return None
        try:
            when = datetime.fromtimestamp(ts_ms / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return "timestamp out of range"
        return record_refusal(when, inp, cached, cache_write, out, reasoning)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


class ScanStats(Record):
    __slots__ = (
        "files",
        "files_read",
        "bytes_read",
        "collapsed",
        "responses",
        "duplicates",
        "torn",
        "skipped",
        "refused",
        "problems",
    )

    def __init__(
        self,
        files: int = 0,
        collapsed: int = 0,
        problems: list[str] | None = None,
        skipped: Counter | None = None,
    ) -> None:
        self.files = files
        self.files_read = 0
        self.bytes_read = 0
        self.collapsed = collapsed
        self.responses = 0
        self.duplicates = 0
        #: Logs whose last line is unfinished: being written by Codex right now.
        self.torn: list[str] = []
        self.skipped = Counter() if skipped is None else skipped
        #: Responses left out because the ingest service would refuse them, by reason.
        self.refused: Counter = Counter()
        self.problems = [] if problems is None else problems

    def merge(self, other: ScanStats) -> None:
        self.files_read += other.files_read
        self.bytes_read += other.bytes_read
        self.responses += other.responses
        self.duplicates += other.duplicates
        self.torn.extend(other.torn)
        self.skipped.update(other.skipped)
        self.refused.update(other.refused)
        self.problems.extend(other.problems)


class ScanResult(Record):
    """What ``ReadPlan.results`` yields: rows ready to use, with the cursors of the files they came
    from (a cursor is only handed out with all of its file's rows)."""

    __slots__ = ("rows", "cursors")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.cursors: dict[str, Cursor] = {}


class FileScan(Record):
    """One file as a worker read it, before rows shared with other files are settled."""

    __slots__ = ("key", "meta", "rows", "marks", "cursor", "whole", "may_copy", "folder")

    def __init__(
        self,
        key: str,
        meta: FileMeta,
        rows: list[Row],
        marks: array,
        cursor: Cursor | None,
        *,
        whole: bool,
        may_copy: bool,
        folder: str | None,
    ) -> None:
        self.key = key
        self.meta = meta
        self.rows = rows
        #: ``ts_ms, hash(cumulative vector)`` per row, flat (``NO_TOTAL`` where a row has none).
        self.marks = marks
        self.cursor = cursor
        #: Read from its first byte: ``marks`` cover every response the file holds.
        self.whole = whole
        #: Began this read inside a child's copied prefix: rows may be copies (fork rule 2).
        self.may_copy = may_copy
        #: The name of the folder the session ran in, for local display only (never in a row).
        self.folder = folder


class Batch(Record):
    __slots__ = ("files", "starts", "key", "keep_cursors", "limits", "bases", "event_ids")

    def __init__(self, key: bytes, keep_cursors: bool, limits: Limits | None) -> None:
        self.files: list[LogFile] = []
        self.starts: list[Cursor | None] = []
        self.key = key
        self.keep_cursors = keep_cursors
        self.limits = limits
        #: Every file found, by rollout id: the history bases of revisions and paginated forks
        #: (R12).
        self.bases: dict[str, LogFile] = {}
        #: False: each row's event id slot holds its identity, unhashed (``ReadPlan``).
        self.event_ids = True

    @property
    def size(self) -> int:
        return sum(
            f.size - (c.offset if c else 0) for f, c in zip(self.files, self.starts, strict=True)
        )


class ReadPlan:
    """A planned read of a CODEX_HOME: what changed since ``cursors`` (everything, without them).

    ``stats`` holds the discovery's figures at once and the reading's as ``results()`` runs.
    ``keep_cursors=False`` skips the per-file state that only an incremental sync needs.
    ``event_ids=False`` leaves each row's identity in its event id slot, unhashed: rows are still
    told apart exactly (a keyed hash only names an identity), for a report that keeps no ids;
    such rows are never to be stored or sent.
    """

    def __init__(
        self,
        codex_home: Path,
        cursors: dict[str, Cursor] | None = None,
        workers: int | None = None,
        *,
        keep_cursors: bool = True,
        event_ids: bool = True,
    ) -> None:
        found = discover(codex_home)
        self.stats = ScanStats(
            files=len(found.files),
            collapsed=found.collapsed,
            problems=found.problems,
            skipped=Counter(found.skipped),
        )
        cursors = cursors or {}
        todo: list[tuple[LogFile, Cursor | None]] = []
        #: Cursors to save with the file's new size and time, though nothing new was read.
        self.refreshed: dict[str, Cursor] = {}
        for f in found.files:
            cursor = cursors.get(f.key)
            start = _resume_point(f, cursor)
            if isinstance(start, Cursor) and older_state(start.parser):
                # Saved by an older version (fewer token figures): read again, and the event ids
                # of what was sent before are unchanged, so nothing doubles.
                self.stats.skipped[OLDER_STATE] += 1
                start = None
            if isinstance(start, Cursor) and not valid_state(start.parser):
                self.stats.problems.append(
                    f"{f.key}: damaged sync state, reading this log again from the start "
                    "(no duplicates result)"
                )
                start = None
            if start is not False:
                todo.append((f, start))
            elif cursor is not None and (cursor.size, cursor.mtime_ns) != (f.size, f.mtime_ns):
                self.refreshed[f.key] = cursor.moved(f.size, f.mtime_ns)
        #: Files whose thread ids the cursors tell: an ancestor not read in full in this run can
        #: still be read for its children's sake.
        self.by_thread = {
            c.thread: f for f in found.files if (c := cursors.get(f.key)) is not None and c.thread
        }
        self.workers = workers or os.cpu_count() or 1
        self.keep_cursors = keep_cursors
        self.batches = _batches(todo, hash_key(), keep_cursors, Limits.now() if todo else None)
        bases = {rollout_id(f.key): f for f in found.files}
        for batch in self.batches:
            batch.bases = bases  # (one dict for all: forked workers inherit it)
            batch.event_ids = event_ids
        self.total_bytes = sum(b.size for b in self.batches)
        #: session -> the name of the folder it ran in, filled as ``results()`` runs: a hint for
        #: ``report session`` on this machine, never part of a row (nor of what a sync sends).
        self.folders: dict[str, str] = {}

    def results(
        self,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
        started: Callable[[], object] | None = None,
    ) -> Iterator[ScanResult]:
        """Rows and cursors, a batch of files at a time, in no fixed order; ``progress(bytes)``
        is called as batches finish. ``workers=1`` reads in this process. ``started()`` runs
        once the other processes read, before this one does (``workers.unordered_map``)."""
        workers = workers or self.workers
        least = PARALLEL_MIN_BYTES
        if not self.keep_cursors:
            least = min(least, PLAIN_PARALLEL_MIN_BYTES)
        if self.total_bytes < least:
            workers = 1
        settle = _Settler(self.stats, self.by_thread, self.folders)
        batches = unordered_map(_scan_batch, self.batches, workers, started)
        for size, files, stats in batches:
            self.stats.merge(stats)
            result = settle.add(files)
            if progress:
                progress(size)
            if result.rows or result.cursors:
                yield result
        result = settle.finish()
        if result.rows or result.cursors:
            yield result


def _batches(
    todo: list[tuple[LogFile, Cursor | None]], key: bytes, keep: bool, limits: Limits | None
) -> list[Batch]:
    """Biggest first, so the last batches to finish are small ones and both cores end together."""
    todo = sorted(todo, key=lambda fc: fc[0].size - (fc[1].offset if fc[1] else 0), reverse=True)
    batches: list[Batch] = []
    current, size = Batch(key, keep, limits), 0
    for f, cursor in todo:
        current.files.append(f)
        current.starts.append(cursor)
        size += f.size - (cursor.offset if cursor else 0)
        if size >= BATCH_BYTES:
            batches.append(current)
            current, size = Batch(key, keep, limits), 0
    if current.files:
        batches.append(current)
    return batches


def _resume_point(f: LogFile, cursor: Cursor | None) -> Cursor | None | bool:
    """False: nothing new. None: read from the start. A cursor: read on from it."""
    if cursor is None:
        return None
    if f.size == cursor.size and f.mtime_ns == cursor.mtime_ns:
        return False  # the very file that was read, unchanged
    if f.compressed:
        # Compressing a synced file changes its size and time, not its content.
        declared = zst_content_size(f.location)
        if declared is not None and declared == cursor.offset:
            return False
        return cursor
    if f.size == cursor.offset and f.mtime_ns == cursor.mtime_ns:
        return False
    if f.size < cursor.offset:
        return None  # replaced or truncated: read again; event ids keep the store exact
    return cursor


# -- one file, in a worker ------------------------------------------------------------------


def _scan_batch(batch: Batch) -> tuple[int, list[FileScan], ScanStats]:
    stats = ScanStats()
    files = [
        scan_file(
            f,
            start,
            batch.key,
            stats,
            batch.keep_cursors,
            batch.limits,
            batch.bases,
            batch.event_ids,
        )
        for f, start in zip(batch.files, batch.starts, strict=True)
    ]
    return batch.size, files, stats


def scan_file(
    f: LogFile,
    start: Cursor | None,
    key: bytes,
    stats: ScanStats,
    keep_cursor: bool = True,
    limits: Limits | None = None,
    bases: dict[str, LogFile] | None = None,
    event_ids: bool = True,
) -> FileScan:
    """Read one file (from its cursor, if any): every response it records, copies included.

    A file that references a history base (R12) starts from the cumulative figures in force at
    its cut, read from the base among ``bases`` (by rollout id).

    With ``limits``, a response the ingest service would refuse (out of its time window, or
    counts no response can have) is left out and counted in ``stats.refused``: sent, it would
    block every upload after it; it is never usage either.

    ``event_ids=False``: a row's event id slot holds the response's identity, not its keyed hash
    (about 3 % of a report's reading, for a name nothing shows).
    """
    parser = RolloutParser.from_state(start.parser) if start else RolloutParser()
    # Exact repeats of the token_count line before (R4) are left out while reading, and the
    # figures of the others read in C where the line is in Codex's exact layout.
    reader = LineReader(f.location, start.offset if start else 0, drop_repeats=True, figures=True)
    feed = parser.feed_candidate
    responses = []
    batches = reader.batches()
    if start is None:
        for lines in batches:  # the first line is the meta: it tells whether a seed is needed
            responses += filter(None, [feed(lines[0])])
            if parser.meta.base_id is not None:
                _seed(parser, bases or {}, stats)
            responses += filter(None, map(feed, lines[1:]))
            break
    for lines in batches:
        responses += filter(None, map(feed, lines))
    responses += parser.finish()
    stats.files_read += 1
    stats.bytes_read += reader.offset - reader.start
    if parser.skipped:
        stats.skipped.update(parser.skipped)
    if reader.repeats:
        stats.skipped["re-emitted"] += reader.repeats
    if reader.long_lines:
        stats.skipped["over-long line"] += reader.long_lines
    if reader.torn:
        stats.torn.append(str(f.path))
    if reader.error:
        stats.problems.append(f"{f.path}: {reader.error}; not read, tried again next time")
    meta = parser.meta
    # A subagent without its root named belongs to the root above its parent, which only the
    # settling of all files can tell; until then it is filed under its parent.
    session = session_hash(_session_id(meta, {}, f.key), key)
    rows: list[Row] = []
    marks = array("q")
    for r in responses:
        if limits is not None:
            why = limits.refusal(r.ts_ms, r.input, r.cached, r.cache_write, r.output, r.reasoning)
            if why is not None:
                stats.refused[why] += 1
                continue
        rows.append(
            (
                r.ts_ms,
                r.model,
                r.tier,
                r.input,
                r.cached,
                r.cache_write,
                r.output,
                r.reasoning,
                event_hash(r.identity, key) if event_ids else r.identity,
                session,
            )
        )
        marks.append(r.ts_ms)
        marks.append(hash(r.total) if r.total else NO_TOTAL)
    # After a read error the file keeps its old cursor (if any): the next run tries it again.
    keep_cursor = keep_cursor and reader.error is None
    cursor = Cursor(f.size, f.mtime_ns, reader.offset, parser.to_state()) if keep_cursor else None
    may_copy = start is None or start.parser.get("in_replay", True)
    return FileScan(
        f.key,
        meta,
        rows,
        marks,
        cursor,
        whole=start is None,
        may_copy=may_copy,
        folder=parser.folder,
    )


#: Why a file was read again from its start though a cursor was saved (``ScanStats.skipped``).
OLDER_STATE = "logs read again from the start: sync state of an older version"
#: A revision or paginated fork whose base is not among the logs (R12): a re-emit of the figures
#: it started from, if it writes one before its first response, is counted once.
BASE_MISSING = "logs whose history base is missing (their first re-emit may count once)"


def _seed(parser: RolloutParser, bases: dict[str, LogFile], stats: ScanStats) -> None:
    """R12: seed a file that references a history base with the total in force at its cut."""
    meta = parser.meta
    base = bases.get(meta.base_id or "")
    if base is None:
        stats.skipped[BASE_MISSING] += 1
        return
    parser.seed(total_at_cut(base, meta.base_offset or 0, bases))


def total_at_cut(f: LogFile, end: int, bases: dict[str, LogFile], hops: int = 0) -> Vec | None:
    """The cumulative vector in force at byte ``end`` of ``f`` (decompressed): the last one on a
    line that begins before ``end``, else the base's own seed, recursively (R12)."""
    parser = RolloutParser()
    first = True
    # Repeats left out and figures read in C, as for any read: only the last total matters here.
    for lines in LineReader(f.location, stop=end, drop_repeats=True, figures=True).batches():
        for line in lines:
            parser.feed_candidate(line)
            if first:
                first = False
                base = bases.get(parser.meta.base_id or "")
                if base is not None and base.key != f.key and hops < MAX_HOPS:
                    parser.seed(total_at_cut(base, parser.meta.base_offset or 0, bases, hops + 1))
    return parser.prev_total


# -- settling rows shared between files, in the main process --------------------------------


class _Settler:
    """Takes files as they are read and hands out their rows once nothing can change them.

    A child waits until all its ancestors are read (or until the end, for ancestors that are not
    among the files read); every other file's rows go out at once. A child that may still hold
    copies is checked against its ancestors' whole files: one this run read only from a cursor,
    or not at all, is read again for that. A row already handed out from another file is dropped
    (R11); the 64-bit hash of each event id tells rows apart.
    """

    def __init__(
        self,
        stats: ScanStats,
        files: dict[str, LogFile] | None = None,
        folders: dict[str, str] | None = None,
    ) -> None:
        self.stats = stats
        #: session -> folder name: the root thread's, else the first another file of it names
        self.folders = {} if folders is None else folders
        self.key = hash_key()
        self.metas: dict[str, FileMeta] = {}
        #: thread id -> marks of that thread's file, for its children
        self.marks: dict[str, array] = {}
        #: threads whose marks cover their whole file
        self.whole: set[str] = set()
        #: thread id -> its file, for ancestors this run did not read from the start
        self.files = files or {}
        self.waiting: list[FileScan] = []
        self.seen: set[int] = set()

    def add(self, files: list[FileScan]) -> ScanResult:
        out = ScanResult()
        for fs in files:
            thread = fs.meta.thread_id
            if thread and (fs.whole or thread not in self.whole):
                self.metas[thread] = fs.meta
                self.marks[thread] = fs.marks
                if fs.whole:
                    self.whole.add(thread)
            if _waits(fs.meta):
                self.waiting.append(fs)
            else:
                self._emit(fs, fs.rows, out)
        if self.waiting:
            waiting, self.waiting = self.waiting, []
            for fs in waiting:
                if self._ancestors_read(fs.meta):
                    self._emit_child(fs, out)
                else:
                    self.waiting.append(fs)
        return out

    def finish(self) -> ScanResult:
        out = ScanResult()
        waiting, self.waiting = self.waiting, []
        for fs in sorted(waiting, key=lambda fs: fs.meta.started_ms or 0):
            self._emit_child(fs, out)
        return out

    def _ancestors_read(self, meta: FileMeta) -> bool:
        parent, hops = meta.parent_id, 0
        while parent and hops < MAX_HOPS:
            up = self.metas.get(parent)
            if up is None:
                return False
            parent, hops = up.parent_id, hops + 1
        return True

    def _emit_child(self, fs: FileScan, out: ScanResult) -> None:
        """Leave out the rows whose cumulative vector an ancestor had reached by the child's
        start (fork rule 2), and file a subagent under the root of its tree."""
        meta = fs.meta
        # Ordinals tell a copied prefix exactly (R18 rule 1): no matching by figures then.
        matching = fs.may_copy and meta.child and meta.history_start is None
        inherited = self._ancestor_totals(meta) if matching else set()
        rows = fs.rows
        if inherited:
            marks = fs.marks
            kept = [row for i, row in enumerate(rows) if marks[2 * i + 1] not in inherited]
            copied = len(rows) - len(kept)
            if copied:
                self.stats.skipped["copied from parent"] += copied
                rows = kept
        if meta.subagent and not meta.root_id and rows:
            session = session_hash(_session_id(meta, self.metas, fs.key), self.key)
            if session != rows[0][SESSION]:
                rows = [(*row[:SESSION], session) for row in rows]
        self._emit(fs, rows, out)

    def _ancestor_totals(self, meta: FileMeta) -> set[int]:
        if meta.started_ms is None:
            return set()
        found: set[int] = set()
        parent, hops = meta.parent_id, 0
        while parent and hops < MAX_HOPS:
            marks = self._whole_marks(parent)
            if marks:
                found.update(
                    marks[i + 1]
                    for i in range(0, len(marks), 2)
                    if marks[i] <= meta.started_ms and marks[i + 1] != NO_TOTAL
                )
            up = self.metas.get(parent)
            parent, hops = (up.parent_id if up else None), hops + 1
        return found

    def _whole_marks(self, thread: str) -> array | None:
        """The marks of a whole ancestor file: an ancestor this run read from a cursor, or not at
        all (it had not changed), is read again here, for its marks only."""
        if thread not in self.whole and thread in self.files:
            again = scan_file(
                self.files[thread], None, self.key, ScanStats(), keep_cursor=False, event_ids=False
            )
            if again.meta.thread_id == thread:
                self.metas[thread] = again.meta
                self.marks[thread] = again.marks
            self.whole.add(thread)
        return self.marks.get(thread)

    def _emit(self, fs: FileScan, rows: list[Row], out: ScanResult) -> None:
        seen = self.seen
        keys = list(map(hash, map(_EVENT_ID, rows)))
        if seen.isdisjoint(keys) and len(set(keys)) == len(keys):
            seen.update(keys)  # the usual case, checked without a Python loop
            fresh = rows
        else:
            fresh = []
            for row, key in zip(rows, keys, strict=True):
                if key not in seen:
                    seen.add(key)
                    fresh.append(row)
        if fs.folder and rows:
            session = rows[0][SESSION]
            if not fs.meta.subagent or session not in self.folders:
                self.folders[session] = fs.folder
        self.stats.duplicates += len(rows) - len(fresh)
        self.stats.responses += len(fresh)
        out.rows.extend(fresh)
        if fs.cursor is not None:
            out.cursors[fs.key] = fs.cursor


def _waits(meta: FileMeta) -> bool:
    """Whether a file's rows wait for its ancestors: a child's may be copies of theirs, and a
    subagent that does not name its root belongs to the root above its parent."""
    return meta.child or (meta.subagent and not meta.root_id)


def _session_id(meta: FileMeta, by_thread: dict, key: str) -> str:
    """The session a file's usage belongs to: a subagent's belongs to the root of its tree."""
    if meta.subagent:
        if meta.root_id:
            return meta.root_id
        node, hops = meta, 0
        while node.subagent and node.parent_id and hops < MAX_HOPS:
            up = by_thread.get(node.parent_id)
            if up is None:
                return node.parent_id
            node, hops = up, hops + 1
        return node.thread_id or key
    return meta.thread_id or key
