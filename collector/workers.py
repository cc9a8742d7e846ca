"""Running one function over many items on every core, results in the order they finish.

This process takes items too, so with N cores there are N - 1 helpers and no core waits on a
coordinator. Helpers are forked (they inherit the items, nothing is sent to them) and take the next
item's number from a shared pipe, so a core that finishes early takes more. Each helper sends its
results back, pickled into a spool file of its own, announcing each on its pipe. Where ``fork`` does
not exist, a process pool does the same job more slowly.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from store.errors import UserError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

T = TypeVar("T")
R = TypeVar("R")

_INDEX = struct.Struct("<Q")
_NOTICE = struct.Struct("<QQ")  # where a result starts in its helper's spool, and its length
#: Writes of up to this many bytes to a pipe are atomic, so readers always get whole indices.
_ATOMIC = min(4096, getattr(select, "PIPE_BUF", 512)) // _INDEX.size * _INDEX.size
_QUEUE_PIPE = 1 << 20  # item numbers waiting to be taken (Linux: 131,072 of them at once)


class WorkerError(UserError, RuntimeError):
    """A helper process failed or disappeared (out of memory, a signal); nothing of its work was
    kept, which its message says."""

    def __str__(self) -> str:
        return f"{super().__str__()}; nothing was sent or saved for it, run again"


def unordered_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    started: Callable[[], object] | None = None,
) -> Iterator[R]:
    """``fn(item)`` for every item, in completion order, on up to ``workers`` processes.

    ``started()`` runs in this process once the helpers are at work (at once when there are
    none), before its own first item: what this process must still prepare is done while they
    work, not before they start."""
    if workers <= 1 or len(items) <= 1:
        _run(started)
        yield from map(fn, items)
    elif hasattr(os, "fork"):
        yield from _forked(fn, items, min(workers, len(items)), started)
    else:  # pragma: no cover - Windows
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.imap_unordered(fn, items)
            _run(started)
            yield from results


def _run(started: Callable[[], object] | None) -> None:
    if started is not None:
        started()


def _forked(
    fn: Callable[[T], R], items: Sequence[T], workers: int, started: Callable[[], object] | None
) -> Iterator[R]:
    queue_r, queue_w = os.pipe()
    os.set_blocking(queue_w, False)
    _widen(queue_w, _QUEUE_PIPE)
    helpers: dict[int, _Helper] = {}
    watch = select.poll()  # (a handful of pipes: the selectors module would cost more to load)
    # Item numbers not yet in the queue. While some are left, this process takes its own work
    # from them, never from the queue: a read there could wait for numbers only it can write.
    pending = list(range(len(items) - 1, -1, -1))
    try:
        for _ in range(workers - 1):
            others = [fd for h in helpers.values() for fd in (h.fd, h.spool)]
            helper = _Helper.start(fn, items, queue_r, queue_w, others)
            if helper is None:
                break  # no more processes to be had: fewer helpers, same results
            helpers[helper.fd] = helper
            watch.register(helper.fd, select.POLLIN)
        _fill(queue_w, pending)  # the helpers' first items, before this process prepares
        _run(started)
        while True:
            if queue_w >= 0:
                _fill(queue_w, pending)
                if not pending:
                    os.close(queue_w)
                    queue_w = -1
                    continue
                index = pending.pop()
            else:
                index = _take(queue_r)
                if index is None:
                    break
            yield fn(items[index])
            yield from _collect(helpers, watch, block=False)
        while helpers:
            yield from _collect(helpers, watch, block=True)
    finally:
        for fd in (queue_r, queue_w):
            if fd >= 0:
                os.close(fd)
        for helper in helpers.values():
            helper.stop()


def _widen(fd: int, size: int) -> None:
    """Linux: a larger pipe buffer, fewer stalls (elsewhere the system's size stays)."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)


def _fill(queue: int, pending: list[int]) -> None:
    """Move what fits of ``pending`` into the queue. Each write is at most ``_ATOMIC`` bytes, so
    it goes in whole or not at all and readers only ever see whole item numbers."""
    per_write = _ATOMIC // _INDEX.size
    while pending:
        chunk = pending[-per_write:]
        try:
            os.write(queue, b"".join(_INDEX.pack(i) for i in reversed(chunk)))
        except BlockingIOError:
            return
        del pending[-len(chunk) :]


def _take(queue: int) -> int | None:
    """The next item number, or None when the queue is closed and empty."""
    data = os.read(queue, _INDEX.size)
    if not data:
        return None
    if len(data) != _INDEX.size:  # cannot happen with atomic writes; never lose an item quietly
        raise WorkerError("the work queue was cut in the middle of an item number")
    return _INDEX.unpack(data)[0]


def _collect(helpers: dict[int, _Helper], watch: select.poll, *, block: bool) -> Iterator[Any]:
    """Results the helpers have sent so far (all of them, until they finish, with ``block``)."""
    # Any event is news: data, or the end of the pipe (POLLHUP), which ``receive`` tells.
    for fd, _ in watch.poll(None if block else 0):
        helper = helpers[fd]
        yield from helper.receive()
        if helper.finished:
            watch.unregister(fd)
            del helpers[fd]
            helper.stop()


class _Helper:
    """One helper process, seen from this one. Its results are written to a spool file of its own
    and announced on its pipe by a small notice (where and how long), so a helper never waits on
    a full pipe for this process, which may be busy with an item of its own."""

    def __init__(self, pid: int, fd: int, spool: int) -> None:
        self.pid = pid
        self.fd = fd
        self.spool = spool
        self.buffer = bytearray()
        self.finished = False

    @classmethod
    def start(
        cls, fn: Callable, items: Sequence, queue_r: int, queue_w: int, others: list[int]
    ) -> _Helper | None:
        read_fd, write_fd = os.pipe()
        made = [read_fd, write_fd]
        try:
            made.append(_spool_file())
            pid = os.fork()
        except OSError:  # out of descriptors, memory or processes: fewer helpers, same results
            for fd in made:
                os.close(fd)
            return None
        spool = made[2]
        if pid == 0:  # the helper: never returns
            for fd in (read_fd, queue_w, *others):
                os.close(fd)  # what is not its own: only its pipe, its spool and the queue stay
            _serve(fn, items, queue_r, write_fd, spool)
        os.close(write_fd)
        os.set_blocking(read_fd, False)  # drain all that is there, never wait for more
        return cls(pid, read_fd, spool)

    def receive(self) -> Iterator[Any]:
        """The results announced so far; at the end of the pipe, whether the helper ended well."""
        buf = self.buffer
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                self.finished = True
                _, status = os.waitpid(self.pid, 0)
                self.pid = 0
                if status or buf:
                    raise WorkerError(f"a helper process ended early (wait status {status})")
                return
            buf += chunk
            whole = len(buf) - len(buf) % _NOTICE.size
            for offset, size in _NOTICE.iter_unpack(memoryview(buf)[:whole]):
                status, value = pickle.loads(_read_at(self.spool, offset, size))
                if status == "error":
                    raise WorkerError(f"a helper process failed: {value}")
                yield value
            del buf[:whole]

    def stop(self) -> None:
        """Close the pipe and the spool, and reap the helper (killing it if still at work)."""
        for fd in (self.fd, self.spool):
            if fd >= 0:
                os.close(fd)
        self.fd = self.spool = -1
        if self.pid:
            if not self.finished:
                import signal  # (loaded only to stop a helper early: the enums cost a start)

                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


def _spool_file() -> int:
    """An anonymous file (no name on disk: gone with its last descriptor)."""
    if hasattr(os, "memfd_create"):  # Linux: spares loading tempfile, 3-4 ms of a report
        return os.memfd_create("codextime-results", os.MFD_CLOEXEC)
    import tempfile

    with tempfile.TemporaryFile() as spool:
        return os.dup(spool.fileno())


def _read_at(fd: int, offset: int, size: int) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:  # (short reads are allowed; they do not happen on regular files)
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise WorkerError("a helper's result was cut short")
        data += more
    return data


def _serve(fn: Callable, items: Sequence, queue_r: int, out: int, spool: int) -> None:
    """A helper's life: take item numbers until the queue is empty, send each result back."""
    status = 0
    end = 0  # of what this helper has written to its spool
    try:
        import signal  # (in the helper, while this process goes on)

        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends helpers at once, quietly
        while (index := _take(queue_r)) is not None:
            end = _send(out, spool, end, ("ok", fn(items[index])))
    except BaseException as exc:  # every failure goes back to the coordinator
        status = 1
        with contextlib.suppress(BaseException):  # the exit status still tells
            _send(out, spool, end, ("error", f"{type(exc).__name__}: {exc}"))
    finally:
        os._exit(status)  # no atexit handlers, no flushing of buffers copied from the parent


def _send(out: int, spool: int, end: int, message: tuple) -> int:
    """Write a result at ``end`` of the spool, then announce it; returns the new end."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(data)
    at = end
    while view:
        written = os.pwrite(spool, view, at)
        view, at = view[written:], at + written
    os.write(out, _NOTICE.pack(end, len(data)))  # 16 bytes: atomic, and never a full pipe
    return at
