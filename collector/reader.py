"""Reading rollout files: plain or zstd, from a byte offset, yielding only the lines that matter.

Most of a rollout's bytes are prompts and tool output. Lines are cut in large chunks and only those
whose head names a usage-bearing type are handed on, so the bulk is never decoded or parsed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson
import zstandard

from collector.parse import HEAD, HEAD_WINDOW

CHUNK = 4 << 20
#: A line longer than this that is not usage-bearing is skipped without being held in memory.
CARRY_LIMIT = 8 << 20
#: A usage-bearing line is never this long; past it the line is skipped as corrupt.
LONG_LINE_LIMIT = 64 << 20


def is_compressed(path: Path) -> bool:
    return path.name.endswith(".zst")


def zst_content_size(path: Path) -> int | None:
    """The decompressed size a zstd frame declares in its header, if it declares one."""
    try:
        with path.open("rb") as fh:
            size = zstandard.frame_content_size(fh.read(18))
    except (OSError, zstandard.ZstdError):
        return None
    return size if size >= 0 else None


class LineReader:
    """Iterate over the candidate lines of one file, starting at ``start`` (uncompressed bytes).

    After iteration: ``offset`` is where the next read should begin (after the last complete line;
    a torn last line is left for the next run), ``torn`` says one was left, ``error`` holds a
    one-line description of a read failure (the lines before it were still yielded), and
    ``long_lines`` counts lines skipped for their size.
    """

    def __init__(self, path: Path, start: int = 0, chunk: int = CHUNK) -> None:
        self.path = path
        self.start = start
        self.chunk = chunk
        self.offset = start
        self.torn = False
        self.error: str | None = None
        self.long_lines = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            with self.path.open("rb") as raw:
                if is_compressed(self.path):
                    dctx = zstandard.ZstdDecompressor()
                    with dctx.stream_reader(raw, read_size=1 << 20) as stream:
                        _skip(stream, self.start)
                        yield from self._lines(stream)
                else:
                    raw.seek(self.start)
                    yield from self._lines(raw)
        except zstandard.ZstdError as exc:
            self.error = f"corrupt zstd data ({exc})"
        except PermissionError:
            self.error = "permission denied"
        except OSError as exc:
            self.error = exc.strerror or str(exc)

    def _lines(self, stream: BinaryIO) -> Iterator[bytes]:
        carry = b""
        skipping = False  # inside an over-long line that does not matter
        search = HEAD.search
        while True:
            block = stream.read(self.chunk)
            if not block:
                break
            if skipping:
                nl = block.find(b"\n")
                if nl < 0:
                    self.offset += len(block)
                    continue
                self.offset += nl + 1
                block = block[nl + 1 :]
                skipping = False
            buf = carry + block if carry else block
            find = buf.find
            pos = 0
            while True:
                nl = find(b"\n", pos)
                if nl < 0:
                    break
                if search(buf, pos, min(nl, pos + HEAD_WINDOW)):
                    yield buf[pos:nl]
                pos = nl + 1
            self.offset += pos
            carry = buf[pos:]
            if len(carry) > CARRY_LIMIT and (
                len(carry) > LONG_LINE_LIMIT or not search(carry, 0, HEAD_WINDOW)
            ):
                self.long_lines += 1
                self.offset += len(carry)
                carry = b""
                skipping = True
        if carry:
            self._tail(carry)
            if not self.torn and search(carry, 0, HEAD_WINDOW):
                yield carry

    def _tail(self, tail: bytes) -> None:
        """A last line with no newline is complete if it parses; else Codex is still writing it."""
        try:
            orjson.loads(tail)
        except orjson.JSONDecodeError:
            self.torn = True
            return
        self.offset += len(tail)


def _skip(stream: BinaryIO, count: int) -> None:
    while count > 0:
        block = stream.read(min(count, CHUNK))
        if not block:
            return
        count -= len(block)
