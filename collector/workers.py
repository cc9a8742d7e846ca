"""Running one function over many items on every core, results in the order they finish.

This process takes items too, so with N cores there are N - 1 helpers and no core waits on a
coordinator. Helpers are forked (they inherit the items, nothing is sent to them) and take the next
item's number from a shared pipe, so a core that finishes early takes more. Each helper sends its
results back, pickled, on a pipe of its own. Where ``fork`` does not exist, a process pool does the
same job more slowly.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import selectors
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

T = TypeVar("T")
R = TypeVar("R")

_INDEX = struct.Struct("<Q")
_LENGTH = struct.Struct("<Q")
#: Writes of up to this many bytes to a pipe are atomic, so readers always get whole indices.
_ATOMIC = min(4096, getattr(select, "PIPE_BUF", 512)) // _INDEX.size * _INDEX.size
_QUEUE_PIPE = 1 << 20  # item numbers waiting to be taken (Linux: 131,072 of them at once)
_RESULT_PIPE = 1 << 20  # room for a helper's results while this process is busy with its own


class WorkerError(RuntimeError):
    """A helper process failed or disappeared."""


def unordered_map(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """``fn(item)`` for every item, in completion order, on up to ``workers`` processes."""
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
    elif hasattr(os, "fork"):
        yield from _forked(fn, items, min(workers, len(items)))
    else:  # pragma: no cover - Windows
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            yield from pool.imap_unordered(fn, items)


def _forked(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    queue_r, queue_w = os.pipe()
    os.set_blocking(queue_w, False)
    _widen(queue_w, _QUEUE_PIPE)
    helpers: dict[int, _Helper] = {}
    watch = selectors.DefaultSelector()
    # Item numbers not yet in the queue. While some are left, this process takes its own work
    # from them, never from the queue: a read there could wait for numbers only it can write.
    pending = list(range(len(items) - 1, -1, -1))
    try:
        for _ in range(workers - 1):
            helper = _Helper.start(fn, items, queue_r, queue_w, list(helpers))
            if helper is None:
                break  # no more processes to be had: fewer helpers, same results
            helpers[helper.fd] = helper
            watch.register(helper.fd, selectors.EVENT_READ)
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
        watch.close()
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


def _collect(
    helpers: dict[int, _Helper], watch: selectors.BaseSelector, *, block: bool
) -> Iterator[Any]:
    """Results the helpers have sent so far (all of them, until they finish, with ``block``)."""
    for key, _ in watch.select(None if block else 0):
        helper = helpers[key.fd]
        yield from helper.receive()
        if helper.finished:
            watch.unregister(key.fd)
            del helpers[key.fd]
            helper.stop()


class _Helper:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.buffer = bytearray()
        self.finished = False

    @classmethod
    def start(
        cls, fn: Callable, items: Sequence, queue_r: int, queue_w: int, others: list[int]
    ) -> _Helper | None:
        read_fd, write_fd = os.pipe()
        _widen(write_fd, _RESULT_PIPE)
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # the helper: never returns
            for fd in (read_fd, queue_w, *others):
                os.close(fd)  # the other ends: only this process's own pipe and the queue stay
            _serve(fn, items, queue_r, write_fd)
        os.close(write_fd)
        os.set_blocking(read_fd, False)  # drain all that is there, never wait for more
        return cls(pid, read_fd)

    def receive(self) -> Iterator[Any]:
        """The results that arrived whole; at the end of the pipe, whether the helper ended well."""
        buf = self.buffer
        while True:
            try:
                chunk = os.read(self.fd, _RESULT_PIPE)
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
            at = 0
            while len(buf) - at >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(buf, at)
                if len(buf) - at - _LENGTH.size < size:
                    break
                start = at + _LENGTH.size
                status, value = pickle.loads(memoryview(buf)[start : start + size])
                at = start + size
                if status == "error":
                    raise WorkerError(f"a helper process failed: {value}")
                yield value
            del buf[:at]

    def stop(self) -> None:
        """Close the pipe and reap the helper (killing it first if it is still at work)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.pid:
            if not self.finished:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


def _serve(fn: Callable, items: Sequence, queue_r: int, out: int) -> None:
    """A helper's life: take item numbers until the queue is empty, send each result back."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends helpers at once, quietly
        while (index := _take(queue_r)) is not None:
            _send(out, ("ok", fn(items[index])))
    except BaseException as exc:  # every failure goes back to the coordinator
        status = 1
        with contextlib.suppress(BaseException):  # the exit status still tells
            _send(out, ("error", f"{type(exc).__name__}: {exc}"))
    finally:
        os._exit(status)  # no atexit handlers, no flushing of buffers copied from the parent


def _send(out: int, message: tuple) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(out, view) :]
