"""Reading rollout files: plain or zstd, from a byte offset, yielding only the lines that matter.

Most of a rollout's bytes are prompts and tool output. Lines are cut in large chunks and only those
whose head names a usage-bearing type are handed on, so the bulk is never decoded or parsed.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from io import FileIO
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import orjson

from collector.parse import COMPACT_HEAD, EVENT_KINDS, HEAD, HEAD_WINDOW, LINE_KINDS

CHUNK = 1 << 20
#: Compressed bytes fed to the zstd decoder at a time (64 KiB read fastest: what a piece inflates
#: to then mostly fits one output block). After damage, far fewer: a call that fails loses what it
#: had decoded of its piece, so small pieces keep the lines before the damage.
ZST_PIECE = 64 << 10
ZST_RECOVERY_PIECE = 256
#: The largest zstd window accepted: what a decoder must hold of past output. zstd's levels up to
#: 19 use at most 8 MiB (Codex compresses at a default level); a frame asking more is refused as
#: corrupt rather than allowed to claim memory.
ZST_MAX_WINDOW = 32 << 20
#: A line longer than this that is not usage-bearing is skipped without being held in memory.
CARRY_LIMIT = 8 << 20
#: A usage-bearing line is never this long; past it the line is skipped as corrupt.
LONG_LINE_LIMIT = 64 << 20


def zst_content_size(path: str | Path) -> int | None:
    """The decompressed size a zstd frame declares in its header, if it declares one."""
    zstd = _zstd()
    try:
        with open_regular(path) as fh:
            return zstd.get_frame_info(fh.read(18)).decompressed_size
    except (OSError, zstd.ZstdError):
        return None


def _zstd():
    """The zstd binding, imported at the first compressed file (a history of plain files never
    loads it)."""
    from collector.zst import zstd

    return zstd


class LineReader:
    """Iterate over the candidate lines of one file, starting at ``start`` (uncompressed bytes).

    After iteration: ``offset`` is where the next read should begin (after the last complete line;
    a torn last line is left for the next run), ``torn`` says one was left, ``error`` holds a
    one-line description of a read failure (the lines before it were still yielded), and
    ``long_lines`` counts lines skipped for their size.
    """

    def __init__(
        self,
        path: str | Path,
        start: int = 0,
        chunk: int = CHUNK,
        *,
        drop_repeats: bool = False,
        figures: bool = False,
        stop: int | None = None,
    ) -> None:
        self.path = path
        self.start = start
        #: With ``stop``: only the lines that begin before this byte (of the decompressed data).
        self.stop = stop
        self.chunk = chunk
        self.offset = start
        self.torn = False
        self.error: str | None = None
        self.long_lines = 0
        #: With ``drop_repeats`` (and the C loop built): token_count lines left out as exact
        #: repeats of the one before (R4 re-emits; the parser would skip them).
        self.repeats = 0
        self._drop_repeats = drop_repeats and fresh_candidates is not None
        #: With ``figures`` too: a token_count line in Codex's exact layout comes as the tuple
        #: ``(ts_ms, ordinal, total, last, info, identity)``, its figures read in C (the parser's
        #: ``feed_candidate`` takes either form).
        self._fresh = fresh_rows if figures and fresh_rows is not None else fresh_candidates
        self._previous_info: bytes | None = None
        self._compact: bool | None = None

    def __iter__(self) -> Iterator[bytes]:
        for lines in self.batches():
            yield from lines

    def batches(self) -> Iterator[list[bytes | tuple]]:
        """The candidate lines, a list for each block read (cheaper to loop over than lines)."""
        try:
            raw, size = _open_sized(self.path)
            with raw:
                plain = self._plain(raw, size)
                if plain is not None:
                    yield from self._lines(
                        plain if self.stop is None else self._cut(plain, self.start)
                    )
                    return
                raw.seek(0)
                yield from self._zst_lines(raw)
        except _Truncated:
            self.error = "truncated zstd data (the file ends early)"
        except _Corrupt as exc:
            self.error = f"corrupt zstd data ({exc})"
        except PermissionError:
            self.error = "permission denied"
        except OSError as exc:
            self.error = exc.strerror or str(exc)

    def _zst_lines(self, raw: BinaryIO) -> Iterator[list[bytes | tuple]]:
        """``_lines`` of a zstd file (read from its first byte); ``_Corrupt`` for damage."""
        zstd = _zstd()
        try:
            try:
                blocks = _skipped(_zst_blocks(raw, ZST_PIECE), self.start)
                yield from self._lines(self._cut(blocks, self.start))
            except zstd.ZstdError:
                # Decode again in small pieces from where the complete lines stopped, to keep
                # every line before the damage; the damage itself still ends the read.
                raw.seek(0)
                blocks = _skipped(_zst_blocks(raw, ZST_RECOVERY_PIECE), self.offset)
                yield from self._lines(self._cut(blocks, self.offset))
        except zstd.ZstdError as exc:
            raise _Corrupt(str(exc)) from exc

    def _plain(self, raw: BinaryIO, size: int) -> Iterator[bytes] | None:
        """The blocks of a plain file from ``start`` on; None for zstd data (told by content: a
        name can lie, R17). From the start, the first block read tells, with no read of its own."""
        if self.start or self.chunk < _MAGIC_SIZE:
            if _zstd_magic(raw):
                return None
            raw.seek(self.start)
            return _plain_blocks(raw, self.chunk, size - self.start)
        blocks = _plain_blocks(raw, self.chunk, size)
        first = next(blocks, b"")  # (whole up to its size: a short read is the file's end)
        return None if _zstd_head(first) else chain((first,), blocks)

    def _cut(self, blocks: Iterator[bytes], pos: int) -> Iterator[bytes]:
        """``blocks`` (from byte ``pos`` on) up to ``stop``, and on to the end of the line that
        spans it: every line that begins before ``stop`` is read whole, and no other."""
        if self.stop is None:
            yield from blocks
            return
        for block in blocks:
            if pos + len(block) < self.stop:
                pos += len(block)
                yield block
                continue
            at = self.stop - pos
            if at > 0 and block[at - 1] == 10:  # (a newline: the line at ``stop`` is not read)
                yield block[:at]
                return
            nl = block.find(b"\n", max(at, 0))
            if nl >= 0:
                yield block[: nl + 1]
                return
            pos += len(block)
            yield block

    def _lines(self, blocks: Iterator[bytes]) -> Iterator[list[bytes]]:
        carry = b""
        skipping = False  # inside an over-long line that does not matter
        wanted = self._wanted
        for block in blocks:
            found: list[bytes] = []
            if skipping:
                nl = block.find(b"\n")
                if nl < 0:
                    self.offset += len(block)
                    continue
                self.offset += nl + 1
                block = block[nl + 1 :]
                skipping = False
            # self.offset is where the carried partial line starts; base is where buf starts.
            buf, pos, base = block, 0, self.offset + len(carry)
            if carry:
                # Finish the line begun in the last block without copying the whole new block.
                nl = block.find(b"\n")
                if nl < 0:
                    buf, base = carry + block, self.offset
                else:
                    line = bytes(carry + block[:nl])
                    if wanted(line, 0, len(line)) and self._keep(line):
                        found.append(line)
                    pos = nl + 1
                carry = b""
            find = buf.find
            last = buf.rfind(b"\n", pos)
            if last >= 0:
                nl = find(b"\n", pos)
                if wanted(buf, pos, nl):
                    line = bytes(memoryview(buf)[pos:nl])
                    if self._keep(line):
                        found.append(line)
                if self._compact:
                    # The hot loop of every read: newlines are found with memchr and only each
                    # line's head is matched, so the bulk of a line is never scanned.
                    if nl < last and self._drop_repeats:
                        lines, self._previous_info, dropped = self._fresh(
                            buf, nl + 1, last, self._previous_info
                        )
                        found += lines
                        self.repeats += dropped
                    elif nl < last:
                        found += candidates(buf, nl + 1, last)
                elif nl < last:  # not Codex's compact JSON: the tolerant check, line by line
                    found += tolerant_candidates(buf, nl + 1, last)
                pos = last + 1
            self.offset = base + pos
            carry = buf[pos:]
            if len(carry) > CARRY_LIMIT and (
                len(carry) > LONG_LINE_LIMIT or not wanted(carry, 0, len(carry))
            ):
                self.long_lines += 1
                self.offset += len(carry)
                carry = b""
                skipping = True
            if found:
                yield found
        if carry:
            self._tail(carry)
            carry = bytes(carry)
            if not self.torn and wanted(carry, 0, len(carry)) and self._keep(carry):
                yield [carry]

    def _keep(self, line: bytes) -> bool:
        """With ``drop_repeats``, the hot loop's rule for a line read outside it (the first of a
        block, one that spanned two): whether it is kept."""
        if not (self._drop_repeats and self._compact):
            return True
        keep, self._previous_info = _unrepeated(line, self._previous_info)
        if not keep:
            self.repeats += 1
        return keep

    def _wanted(self, buf: bytes, start: int, end: int) -> bool:
        """Whether the line from ``start`` to ``end`` is usage-bearing: in a file of Codex's
        compact lines, by the same test as the hot loop's (so a line's fate never depends on
        where a block happens to begin); in any other file, by the tolerant one."""
        if self._compact is None:  # the first line read decides
            self._compact = buf.startswith(_TS_HEAD, start)
        if self._compact:
            return _head_kind(buf, start, end) != _NOT_USAGE
        return _tolerant(buf, start, end)

    def _tail(self, tail: bytes) -> None:
        """A last line with no newline is complete if it parses; else Codex is still writing it."""
        try:
            orjson.loads(tail)
        except orjson.JSONDecodeError:
            self.torn = True
            return
        self.offset += len(tail)


_TS_HEAD = b'{"timestamp":"'
#: How Codex's compact lines begin, up to the opening quote of their type.
_COMPACT_PREFIX = re.compile(COMPACT_HEAD)
#: The same, then (as group 1) the kind of a usage-bearing line, if it is one: one match tells a
#: compact line's fate, and no match means another layout.
_COMPACT_KIND = re.compile(
    COMPACT_HEAD
    + rb"((?:"
    + b"|".join(LINE_KINDS)
    + rb'|event_msg","payload":\{"type":"(?:'
    + b"|".join(EVENT_KINDS)
    + rb'))")?'
)
_TOKEN_COUNT_KIND = b'event_msg","payload":{"type":"token_count"'
#: ``_head_kind``'s answers, as the C loop's ``head_kind``.
_NOT_USAGE, _USAGE, _TOKEN_COUNT, _OTHER_LAYOUT = 0, 1, 2, 3


def _tolerant(buf: bytes, start: int, end: int) -> bool:
    """The tolerant line test: ``HEAD`` anywhere in the line's first ``HEAD_WINDOW`` bytes."""
    return HEAD.search(buf, start, min(end, start + HEAD_WINDOW)) is not None


def _head_kind(buf: bytes, start: int, end: int) -> int:
    """Whether the line from ``start`` to ``end`` is usage-bearing, as the C loop tells it: by its
    compact head (``_TOKEN_COUNT`` for a token_count line), or, for a line that does not begin as
    Codex's compact lines do (another key order, say), by the tolerant test (``_OTHER_LAYOUT``):
    no usage line is lost for its layout."""
    head = _COMPACT_KIND.match(buf, start, end)
    if head is None:
        return _OTHER_LAYOUT if _tolerant(buf, start, end) else _NOT_USAGE
    if head.start(1) < 0:
        return _NOT_USAGE
    return _TOKEN_COUNT if buf.startswith(_TOKEN_COUNT_KIND, head.start(1), end) else _USAGE


def _candidates(buf: bytes, first: int, last: int) -> list[bytes]:
    """The lines from ``first`` to the newline at ``last`` that ``_head_kind`` lets through."""
    found = []
    find, match, view = buf.find, _COMPACT_KIND.match, memoryview(buf)
    start = first
    while start <= last:
        nl = find(b"\n", start, last + 1)
        if nl < 0:  # (``last`` should be a newline; as the C loop, stop before it all the same)
            nl = last
        head = match(buf, start, nl)
        if (head.start(1) >= 0) if head else _tolerant(buf, start, nl):
            found.append(bytes(view[start:nl]))  # bytes, as the C loop's, from a bytearray too
        start = nl + 1
    return found


def _tolerant_candidates(buf: bytes, first: int, last: int) -> list[bytes]:
    """The lines from ``first`` to the newline at ``last`` that ``_tolerant`` lets through."""
    found = []
    find, view = buf.find, memoryview(buf)
    start = first
    while start <= last:
        nl = find(b"\n", start, last + 1)
        if nl < 0:  # (as ``_candidates``)
            nl = last
        if _tolerant(buf, start, nl):
            found.append(bytes(view[start:nl]))
        start = nl + 1
    return found


_TOKEN_COUNT_HEAD = re.compile(COMPACT_HEAD + rb'event_msg","payload":\{"type":"token_count"')


def _info_of(line: bytes, start: int) -> bytes | None:
    """The serialized info of a compact token_count line whose head ends at ``start``, when it
    can be cut exactly: after ``,"info":``, up to ``,"rate_limits":`` (or the line's closing
    ``}}``), with no text in it."""
    if not line.startswith(b',"info":', start):
        return None
    start += len(b',"info":')
    end = line.find(b',"rate_limits":', start)
    if end < 0:
        if len(line) - start < 2 or not line.endswith(b"}}"):
            return None
        end = len(line) - 2
    if line.find(b'":"', start, end) >= 0:
        return None
    return line[start:end]


def _unrepeated(line: bytes, previous: bytes | None) -> tuple[bool, bytes | None]:
    """Whether a candidate line is kept, and the info the next token_count line is compared
    with: a token_count line whose info is byte for byte the one before's is a re-emit (R4)."""
    head = _TOKEN_COUNT_HEAD.match(line)
    if head is None:
        if _COMPACT_PREFIX.match(line) is None:
            return True, None  # another layout, maybe a token_count: the next is not compared
        return True, previous
    info = _info_of(line, head.end())
    if info is None:
        return True, None  # cannot tell: the next line is not compared
    if info == b"null":
        return True, previous
    return info != previous, info


try:  # the same loops in C, when they were built (see pyproject.toml)
    from collector._heads import candidates, fresh_candidates, fresh_rows, tolerant_candidates
except ImportError:  # pragma: no cover - depends on the install
    # Leaving repeats out pays only in C: in Python it costs more than the parser's own check,
    # and so would reading figures before the parser decodes them.
    candidates, fresh_candidates, fresh_rows = _candidates, None, None
    tolerant_candidates = _tolerant_candidates


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, unbuffered, if it is a regular file; else OSError.

    Opened without blocking and checked on the open file itself (no race with a swap in
    between): opening a FIFO for reading would wait for a writer forever.
    """
    return _open_sized(path)[0]


def _open_sized(path: Path) -> tuple[BinaryIO, int]:
    """``open_regular``, with the file's size when it was opened."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({_kind(status.st_mode)})")
        # (Left non-blocking: for a regular file the flag changes nothing, and clearing it would
        # cost two more system calls per file.)
        return FileIO(fd, "rb"), status.st_size
    except BaseException:
        os.close(fd)
        raise


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, in two words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "a socket" if stat.S_ISSOCK(mode) else "a device"


class _Truncated(Exception):
    """A zstd file that ends inside a frame."""


class _Corrupt(Exception):
    """zstd data that does not decode (the decoder's message)."""


def _plain_blocks(raw: BinaryIO, size: int, left: int) -> Iterator[bytes]:
    """The file in blocks of at most ``size`` bytes, the first as big as what was left of the
    file when it was opened (``left``: most files are small). Each block is read into memory of
    its own that nothing zeroes first (a bytearray's would be). After a short read (the end of
    the file as it was), a file that grew meanwhile goes on in blocks of the full size.
    """
    want = min(size, max(left, 1 << 12))
    while block := raw.read(want):
        yield block
        if len(block) < want:
            while more := raw.read(size):
                yield more
            return
        want = size


def _zst_blocks(raw: BinaryIO, piece: int) -> Iterator[bytes]:
    """Decompressed data in blocks of at most ``CHUNK`` bytes, frames one after another, fed
    ``piece`` compressed bytes at a time: however much a piece inflates to (a "zstd bomb"), no
    more than a block is held at once. Raises ``_Truncated`` if the data ends inside a frame.

    A frame whose output is lost to damage is lost from the start of the piece it was fed in
    (the call raises): read again in small pieces to keep what came before (``ZST_RECOVERY_PIECE``).
    """
    zstd = _zstd()
    options = {zstd.DecompressionParameter.window_log_max: ZST_MAX_WINDOW.bit_length() - 1}
    dctx = zstd.ZstdDecompressor(options=options)
    pending = b""  # compressed bytes read but not yet given to a decompressor
    inside = False  # the decompressor has been fed and its frame has not ended
    while True:
        if dctx.eof:  # a frame ended: the next one (if any) starts in what it left over
            pending = dctx.unused_data
            dctx, inside = zstd.ZstdDecompressor(options=options), False
        if dctx.needs_input:
            data, pending = pending or raw.read(piece), b""
            if not data:
                break
            inside = True
        else:  # output is left from the last input, held back by the block size
            data = b""
        if out := dctx.decompress(data, CHUNK):
            yield out
    if inside:
        raise _Truncated


_ZSTD_MAGIC = 0xFD2FB528
_MAGIC_SIZE = 4
_SKIPPABLE_MAGIC = 0x184D2A50  # the low four bits are free


def _zstd_magic(raw: BinaryIO) -> bool:
    """Whether the file begins with a zstd frame (or a skippable one); the position is put back
    at 0."""
    head = raw.read(_MAGIC_SIZE)
    raw.seek(0)
    return _zstd_head(head)


def _zstd_head(data: bytes) -> bool:
    """Whether ``data`` begins as a zstd frame (or a skippable one) does. A rollout is JSON text,
    which never begins with these bytes."""
    magic = int.from_bytes(data[:_MAGIC_SIZE], "little")
    return magic == _ZSTD_MAGIC or magic & 0xFFFFFFF0 == _SKIPPABLE_MAGIC


def _skipped(blocks: Iterator[bytes], count: int) -> Iterator[bytes]:
    """``blocks`` without their first ``count`` bytes."""
    for block in blocks:
        if count >= len(block):
            count -= len(block)
            continue
        yield block[count:] if count else block
        count = 0
