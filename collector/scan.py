"""From a CODEX_HOME to usage rows: discovery, families of related files, parallel parsing.

Files that can share rows (a session and its forks and subagents, copies of one file under other
names) form a *family*, read together by one worker: rows a child copied from its parent are
recognised against the parent's totals (fork rule 2), and a row seen in two files is counted once
(R11). Families are independent, so they are spread over the CPU cores, and memory stays bounded by
the largest family, not by the size of the history.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collector.discover import LogFile, discover
from collector.keys import event_hash, hash_key, session_hash
from collector.parse import FileMeta, RolloutParser
from collector.reader import LineReader, zst_content_size

#: ts_ms, model, input, cached, output, reasoning, event_id, session
Row = tuple[int, str, int, int, int, int, str, str]

#: Below this many bytes to read, one process is faster than starting workers.
PARALLEL_MIN_BYTES = 64 << 20
HEAD_LIMIT = 4 << 20


@dataclass
class Cursor:
    """Where a file was read up to, and the parser's state there."""

    size: int
    mtime_ns: int
    offset: int
    parser: dict

    def to_json(self) -> list:
        return [self.size, self.mtime_ns, self.offset, self.parser]

    @classmethod
    def from_json(cls, data: list) -> Cursor:
        return cls(*data)


@dataclass
class ScanStats:
    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    collapsed: int = 0
    responses: int = 0
    duplicates: int = 0
    torn: int = 0
    skipped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def merge(self, other: ScanStats) -> None:
        self.files_read += other.files_read
        self.bytes_read += other.bytes_read
        self.responses += other.responses
        self.duplicates += other.duplicates
        self.torn += other.torn
        self.skipped.update(other.skipped)
        self.problems.extend(other.problems)


@dataclass
class FamilyResult:
    rows: list[Row]
    cursors: dict[str, Cursor]
    stats: ScanStats


@dataclass
class Task:
    files: list[LogFile]
    metas: list[FileMeta | None]
    starts: list[Cursor | None]
    key: bytes

    @property
    def size(self) -> int:
        return sum(
            f.size - (c.offset if c else 0) for f, c in zip(self.files, self.starts, strict=True)
        )


class Scan:
    """A planned read of a CODEX_HOME: what changed since ``cursors`` (everything, without them).

    ``stats`` holds the discovery's figures at once and the reading's as ``results()`` runs.
    """

    def __init__(
        self,
        codex_home: Path,
        cursors: dict[str, Cursor] | None = None,
        workers: int | None = None,
    ) -> None:
        self._pool = None
        found = discover(codex_home)
        self.stats = ScanStats(
            files=len(found.files), collapsed=found.collapsed, problems=found.problems
        )
        cursors = cursors or {}
        todo: list[tuple[LogFile, Cursor | None]] = []
        #: Cursors to save with the file's new size and time, though nothing new was read.
        self.refreshed: dict[str, Cursor] = {}
        for f in found.files:
            cursor = cursors.get(f.key)
            start = _resume_point(f, cursor)
            if start is not False:
                todo.append((f, start))
            elif cursor is not None and (cursor.size, cursor.mtime_ns) != (f.size, f.mtime_ns):
                self.refreshed[f.key] = Cursor(f.size, f.mtime_ns, cursor.offset, cursor.parser)
        workers = workers or os.cpu_count() or 1
        big = sum(f.size - (c.offset if c else 0) for f, c in todo) >= PARALLEL_MIN_BYTES
        # One pool serves both passes (the heads now, the families in results()).
        self._pool = _pool(workers) if workers > 1 and big else None
        fresh = [f.path for f, cursor in todo if cursor is None]
        heads = dict(zip(fresh, self._map(read_head, fresh), strict=True))
        self.tasks = _families(todo, heads, hash_key())
        self._seen: set[int] = set()
        self.total_bytes = sum(t.size for t in self.tasks)

    def _map(self, fn, items: list) -> list:
        if self._pool is None:
            return [fn(item) for item in items]
        return self._pool.map(fn, items, chunksize=max(1, len(items) // 64))

    def results(
        self, workers: int | None = None, progress: Callable[[int], None] | None = None
    ) -> Iterator[FamilyResult]:
        """Each family's rows and cursors, in no fixed order; ``progress(bytes)`` is called as
        families finish. ``workers=1`` reads in this process."""
        tasks = sorted(self.tasks, key=lambda t: t.size, reverse=True)
        try:
            if self._pool is not None and workers != 1 and len(tasks) > 1:
                # Small batches keep both cores busy without a round trip per family.
                batch = max(1, min(16, len(tasks) // 64))
                done = self._pool.imap_unordered(_scan_sized, tasks, chunksize=batch)
            else:
                done = map(_scan_sized, tasks)
            seen = self._seen
            for size, result in done:
                # R11 across families too: a copy under another name, id and start is still
                # the same rows. 64 bits of each event id are plenty to tell them apart.
                fresh = []
                for row in result.rows:
                    key = int(row[6][:16], 16)
                    if key not in seen:
                        seen.add(key)
                        fresh.append(row)
                result.stats.duplicates += len(result.rows) - len(fresh)
                result.stats.responses = len(fresh)
                result.rows = fresh
                self.stats.merge(result.stats)
                if progress:
                    progress(size)
                yield result
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    def __del__(self) -> None:
        self.close()


def _pool(workers: int):
    methods = multiprocessing.get_all_start_methods()
    # fork starts workers in milliseconds and this process holds nothing they must not inherit.
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return context.Pool(workers)


def _scan_sized(task: Task) -> tuple[int, FamilyResult]:
    return task.size, scan_family(task)


def _resume_point(f: LogFile, cursor: Cursor | None) -> Cursor | None | bool:
    """False: nothing new. None: read from the start. A cursor: read on from it."""
    if cursor is None:
        return None
    if f.size == cursor.size and f.mtime_ns == cursor.mtime_ns:
        return False  # the very file that was read, unchanged
    if f.compressed:
        # Compressing a synced file changes its size and time, not its content.
        declared = zst_content_size(f.path)
        if declared is not None and declared == cursor.offset:
            return False
        return cursor
    if f.size == cursor.offset and f.mtime_ns == cursor.mtime_ns:
        return False
    if f.size < cursor.offset:
        return None  # replaced or truncated: read again; event ids keep the store exact
    return cursor


# -- families -------------------------------------------------------------------------------


def read_head(path: Path) -> FileMeta | None:
    """The file's own session_meta: its first line (legacy files have none)."""
    parser = RolloutParser()
    for line in LineReader(path, chunk=64 << 10):
        parser.feed_candidate(line)
        break
    return parser.meta if parser.meta.thread_id or parser.meta.started_ms else None


def _families(
    todo: list[tuple[LogFile, Cursor | None]],
    heads: dict[Path, FileMeta | None],
    key: bytes,
) -> list[Task]:
    """Group files whose rows a child may have copied: one lineage (ids, parents, roots) or one
    start instant (a copy of a file under another id)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    metas: list[FileMeta | None] = []
    for f, cursor in todo:
        meta = FileMeta(*cursor.parser["meta"]) if cursor else heads[f.path]
        metas.append(meta)
        node = "f:" + f.key
        find(node)
        if meta is None:
            continue
        for ident in (meta.thread_id, meta.root_id, meta.parent_id):
            if ident:
                union(node, "t:" + ident)
        if meta.started_ms is not None:
            union(node, f"s:{meta.started_ms}")
    groups: dict[str, Task] = {}
    for (f, cursor), meta in zip(todo, metas, strict=True):
        task = groups.setdefault(find("f:" + f.key), Task([], [], [], key))
        task.files.append(f)
        task.metas.append(meta)
        task.starts.append(cursor)
    return list(groups.values())


def scan_family(task: Task) -> FamilyResult:
    """Read the files of one family, parents first, and leave out rows a child copied from its
    parent. (Rows present in two files are dropped later, once, across all families.)"""
    stats = ScanStats()
    cursors: dict[str, Cursor] = {}
    order = sorted(
        range(len(task.files)),
        key=lambda i: (task.metas[i].started_ms or 0) if task.metas[i] else 0,
    )
    by_thread = {m.thread_id: m for m in task.metas if m and m.thread_id}
    totals: dict[str, list[tuple[int, tuple]]] = {}
    rows: list[Row] = []
    for i in order:
        f, start = task.files[i], task.starts[i]
        parser = RolloutParser.from_state(start.parser) if start else RolloutParser()
        reader = LineReader(f.path, start.offset if start else 0)
        responses = []
        for line in reader:
            response = parser.feed_candidate(line)
            if response is not None:
                responses.append(response)
        stats.files_read += 1
        stats.bytes_read += reader.offset - reader.start
        stats.skipped.update(parser.skipped)
        if reader.long_lines:
            stats.skipped["over-long line"] += reader.long_lines
        if reader.torn:
            stats.torn += 1
        if reader.error:
            stats.problems.append(f"{f.path}: {reader.error}")
        cursors[f.key] = Cursor(f.size, f.mtime_ns, reader.offset, parser.to_state())
        meta = parser.meta
        if meta.thread_id:
            totals[meta.thread_id] = [(r.ts_ms, r.total) for r in responses if r.total]
        inherited = _ancestor_totals(meta, by_thread, totals)
        session = session_hash(_session_id(meta, by_thread, f), task.key)
        for r in responses:
            if r.total in inherited:
                stats.skipped["copied from parent"] += 1
                continue
            event_id = event_hash(r.identity, task.key)
            rows.append(
                (r.ts_ms, r.model, r.input, r.cached, r.output, r.reasoning, event_id, session)
            )
    stats.responses = len(rows)
    return FamilyResult(rows, cursors, stats)


def _ancestor_totals(meta: FileMeta, by_thread: dict, totals: dict) -> set[tuple]:
    """Cumulative vectors the ancestors had reached by the child's start (fork rule 2)."""
    if not meta.child or meta.started_ms is None:
        return set()
    found: set[tuple] = set()
    parent, hops = meta.parent_id, 0
    while parent and hops < 32:
        found.update(total for ts, total in totals.get(parent, ()) if ts <= meta.started_ms)
        up = by_thread.get(parent)
        parent, hops = (up.parent_id if up else None), hops + 1
    return found


def _session_id(meta: FileMeta, by_thread: dict, f: LogFile) -> str:
    """The session a file's usage belongs to: a subagent's belongs to the root of its tree."""
    if meta.subagent:
        if meta.root_id:
            return meta.root_id
        node, hops = meta, 0
        while node.subagent and node.parent_id and hops < 32:
            up = by_thread.get(node.parent_id)
            if up is None:
                return node.parent_id
            node, hops = up, hops + 1
        return node.thread_id or f.key
    return meta.thread_id or f.key
