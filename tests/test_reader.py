"""LineReader (R2 at the byte level): plain and zstd files, offsets, torn tails, long lines,
broken bytes and unreadable files; and what the scan makes of them."""

from __future__ import annotations

import random

import pytest

from collector import reader as reader_mod
from collector.parse import RolloutParser
from collector.reader import LineReader, zst_content_size
from collector.zst import zstd
from tests.rollout import (
    RATE_LIMITS_050,
    T0,
    Thread,
    at,
    compacted,
    encode,
    message,
    meta,
    parts,
    scan_home,
    session_path,
    summed,
    turn,
    write,
)
from tests.test_hardening_collector import deny_reading

SID = "019a152d-35a0-72a0-91db-8ebe37fac69e"


def conversation():
    """meta, turn, prompt, r1 (+ re-emit), compacted, r2: four usage-bearing lines + two rows."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta(at("2025-10-24 10:00:00"), SID),
        turn(at("2025-10-24 10:00:01"), "gpt-5-codex"),
        message(at("2025-10-24 10:00:02"), "a prompt"),
        t.respond(at("2025-10-24 10:00:05"), 100, 20, 10, 5),
        t.reemit(at("2025-10-24 10:00:05.5")),
        compacted(at("2025-10-24 10:00:30")),
        t.respond(at("2025-10-24 10:01:00"), 200, 50, 20, 0),
    ]
    return lines, t


def read(path, start=0, chunk=reader_mod.CHUNK):
    r = LineReader(path, start, chunk=chunk)
    return list(r), r


def count(lines_bytes):
    parser = RolloutParser()
    return [r for r in map(parser.feed, lines_bytes) if r is not None]


def test_only_usage_bearing_lines_are_yielded_in_order(tmp_path):
    lines, _ = conversation()
    path = write(tmp_path / "a.jsonl", lines)
    got, r = read(path)
    data = encode(lines).split(b"\n")
    assert got == [data[0], data[1], data[3], data[4], data[6]]
    assert (r.offset, r.torn, r.error, r.long_lines) == (path.stat().st_size, False, None, 0)


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1000, 4 << 20])
def test_chunk_boundaries_do_not_change_the_lines(tmp_path, chunk):
    lines, _ = conversation()
    path = write(tmp_path / "a.jsonl", lines)
    got, r = read(path, chunk=chunk)
    assert [parts(x) for x in count(got)] == [(100, 20, 10, 5), (200, 50, 20, 0)]
    assert r.offset == path.stat().st_size


def test_which_lines_are_picked_never_depends_on_where_a_block_begins(tmp_path):
    """A reformatted line inside a file of compact ones is judged the same way wherever it
    falls: at the start of a block or in its middle."""
    import json

    lines, _ = conversation()
    data = encode(lines).split(b"\n")
    spaced = json.dumps(json.loads(data[3])).encode()  # a usage line, with spaces
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join([*data[:3], spaced, *data[4:]]))
    picked = {tuple(read(path, chunk=chunk)[0]) for chunk in range(1, len(data[0]) + 200, 7)}
    picked.add(tuple(read(path, chunk=4 << 20)[0]))
    assert len(picked) == 1


def test_start_offset_reads_on_from_a_line_boundary(tmp_path):
    lines, _ = conversation()
    data = encode(lines)
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    start = len(encode(lines[:5]))  # just after r1's re-emit
    got, r = read(path, start)
    assert got == [encode(lines[6:]).rstrip(b"\n")]  # the compacted line is not a candidate
    assert r.offset == len(data)


# -- torn tails ---------------------------------------------------------------------------------


def test_torn_last_line_is_not_yielded_and_the_offset_stays_before_it(tmp_path):
    lines, _ = conversation()
    whole = encode(lines)
    cut = len(whole) - 25  # inside the last token_count line
    path = tmp_path / "a.jsonl"
    path.write_bytes(whole[:cut])
    got, r = read(path)
    assert [parts(x) for x in count(got)] == [(100, 20, 10, 5)]
    assert r.torn
    assert r.offset == len(encode(lines[:-1]))
    # Codex finishes the line: the next read from the offset yields exactly that line.
    path.write_bytes(whole)
    rest, r2 = read(path, r.offset)
    assert rest == [whole[r.offset :].rstrip(b"\n")]
    assert (r2.offset, r2.torn) == (len(whole), False)


def test_complete_last_line_without_newline_is_counted(tmp_path):
    lines, _ = conversation()
    data = encode(lines).rstrip(b"\n")
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    got, r = read(path)
    assert [parts(x) for x in count(got)] == [(100, 20, 10, 5), (200, 50, 20, 0)]
    assert (r.offset, r.torn) == (len(data), False)


def test_complete_non_usage_last_line_without_newline_moves_the_offset(tmp_path):
    lines, _ = conversation()
    data = encode(lines) + encode([message(at("2025-10-24 10:02:00"), "bye")]).rstrip(b"\n")
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    got, r = read(path)
    assert len(got) == 5
    assert (r.offset, r.torn) == (len(data), False)


def test_scan_does_not_count_a_torn_last_line_and_reports_it(tmp_path):
    lines, _ = conversation()
    whole = encode(lines)
    path = session_path(tmp_path, "2025-10-24T19-00-00", SID)
    path.parent.mkdir(parents=True)
    path.write_bytes(whole[:-10])
    rows, stats = scan_home(tmp_path)
    assert [parts(r) for r in rows] == [(100, 20, 10, 5)]
    assert stats.torn == [str(path)]  # named, so a user knows which log Codex is writing


# -- invalid and non-UTF-8 lines ----------------------------------------------------------------


def test_invalid_json_and_non_utf8_lines_are_skipped_by_the_scan(tmp_path):
    lines, _ = conversation()
    bad_utf8 = (
        b'{"timestamp":"2025-10-24T10:00:40.000Z","type":"event_msg","payload":{"type":'
        b'"token_count","info":{"total_token_usage":{"input_tokens":1\xff}}}}'
    )
    bad_json = (
        b'{"timestamp":"2025-10-24T10:00:41.000Z","type":"event_msg",'
        b'"payload":{"type":"token_count",}'
    )
    noise = [b"\x00\x01\x02 binary \xfe\xff", b"<html>", bad_utf8, bad_json, b"{}", b"[]"]
    path = session_path(tmp_path, "2025-10-24T19-00-00", SID)
    write(path, lines[:6] + noise + lines[6:])
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == (300, 70, 30, 5)
    assert stats.skipped["not UTF-8"] == 1
    assert stats.skipped["invalid JSON"] == 1
    assert stats.problems == []


# -- long lines ---------------------------------------------------------------------------------


def test_very_long_non_usage_line_is_skipped_without_losing_what_follows(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_mod, "CARRY_LIMIT", 1024)
    lines, _ = conversation()
    huge = message(at("2025-10-24 10:00:03"), "x" * 50_000)  # a big tool output
    data = encode(lines[:3] + [huge] + lines[3:])
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    got, r = read(path, chunk=256)
    assert [parts(x) for x in count(got)] == [(100, 20, 10, 5), (200, 50, 20, 0)]
    assert r.long_lines == 1
    assert (r.offset, r.torn) == (len(data), False)


def test_long_usage_bearing_line_below_the_hard_limit_is_kept(tmp_path, monkeypatch):
    """A 2026 turn_context can carry long instructions: it is longer than the carry limit but
    still names the model."""
    monkeypatch.setattr(reader_mod, "CARRY_LIMIT", 1024)
    lines, _ = conversation()
    lines[1] = turn(at("2025-10-24 10:00:01"), "gpt-5.4", user_instructions="y" * 20_000)
    path = write(tmp_path / "a.jsonl", lines)
    got, r = read(path, chunk=256)
    responses = count(got)
    assert [(x.model, *parts(x)) for x in responses] == [
        ("gpt-5.4", 100, 20, 10, 5),
        ("gpt-5.4", 200, 50, 20, 0),
    ]
    assert r.long_lines == 0


def test_usage_bearing_line_past_the_hard_limit_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_mod, "CARRY_LIMIT", 512)
    monkeypatch.setattr(reader_mod, "LONG_LINE_LIMIT", 4096)
    lines, _ = conversation()
    lines[1] = turn(at("2025-10-24 10:00:01"), "gpt-5.4", user_instructions="y" * 20_000)
    path = write(tmp_path / "a.jsonl", lines)
    got, r = read(path, chunk=256)
    assert [(x.model, x.input) for x in count(got)] == [("unknown", 100), ("unknown", 200)]
    assert r.long_lines == 1
    assert r.offset == path.stat().st_size


def test_long_torn_line_at_the_end_then_finished_reads_on_to_the_same_result(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_mod, "CARRY_LIMIT", 1024)
    lines, t = conversation()
    huge = encode([message(at("2025-10-24 10:01:30"), "z" * 30_000)])
    tail = [t.respond(at("2025-10-24 10:02:00"), 300, 0, 30, 0)]
    full = encode(lines) + huge + encode(tail)
    path = tmp_path / "a.jsonl"
    path.write_bytes(encode(lines) + huge[:20_000])  # Codex is still writing the big line
    parser = RolloutParser()
    r1 = LineReader(path, chunk=256)
    first = [x for x in map(parser.feed, r1) if x]
    path.write_bytes(full)
    r2 = LineReader(path, r1.offset, chunk=256)
    second = [x for x in map(parser.feed, r2) if x]
    assert [parts(x) for x in first + second] == [
        (100, 20, 10, 5),
        (200, 50, 20, 0),
        (300, 0, 30, 0),
    ]
    assert r2.offset == len(full)


# -- zstd ---------------------------------------------------------------------------------------


def test_zstd_file_yields_the_same_lines_and_offsets_count_uncompressed_bytes(tmp_path):
    lines, _ = conversation()
    plain = write(tmp_path / "a.jsonl", lines)
    packed = write(tmp_path / "a.jsonl.zst", lines, compress=True)
    got_plain, rp = read(plain)
    got_zst, rz = read(packed)
    assert got_zst == got_plain
    assert rz.offset == rp.offset == len(encode(lines))
    start = len(encode(lines[:5]))
    assert read(packed, start)[0] == read(plain, start)[0]


def corrupt_zstd_home(home):
    """A .jsonl.zst of 30 responses in three 10-response parts, each ending a zstd block; the
    block header of part three is broken. Returns the 30 expected (input, ...) vectors."""
    rng = random.Random(7)
    t = Thread(RATE_LIMITS_050)
    blocks = [[meta(at("2025-10-24 09:00:00"), SID), turn(at("2025-10-24 09:00:01"))]]
    for k in (1, 2, 3):
        if k > 1:
            blocks.append([])
        for i in range(10):
            stamp = f"2025-10-24 1{k}:00:{i:02d}"
            blocks[-1].append(message(at(stamp), rng.randbytes(10_000).hex()))
            blocks[-1].append(t.respond(at(stamp + ".5"), 100 * k + i, 0, 10, 0))
    comp = zstd.ZstdCompressor(level=3)
    out = b""
    for block in blocks[:2]:
        out += comp.compress(encode(block), comp.FLUSH_BLOCK)
    broken_at = len(out)
    out += comp.compress(encode(blocks[2]), comp.FLUSH_FRAME)
    bad = bytearray(out)
    bad[broken_at] |= 0b110  # block type 3 = reserved: "corrupted block"
    path = session_path(home, "2025-10-24T18-00-00", SID).with_suffix(".jsonl.zst")
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(bad))
    return list(t.calls)


def test_corrupt_zstd_reports_one_problem_and_counts_nothing_past_the_corruption(tmp_path):
    calls = corrupt_zstd_home(tmp_path)
    rows, stats = scan_home(tmp_path)
    assert len(stats.problems) == 1
    assert "corrupt zstd" in stats.problems[0]
    assert len(rows) <= 20
    assert sorted(parts(r) for r in rows) == sorted(calls[: len(rows)])


def test_corrupt_zstd_still_counts_the_lines_before_the_corruption(tmp_path):
    calls = corrupt_zstd_home(tmp_path)
    rows, stats = scan_home(tmp_path)
    assert len(stats.problems) == 1
    assert 10 <= len(rows) <= 20  # at least the first part; never the broken third
    assert sorted(parts(r) for r in rows) == sorted(calls[: len(rows)])


def test_a_name_that_lies_is_read_by_its_content(tmp_path):
    """R17: zstd is told by its magic bytes, not by the name (either way round)."""
    t = Thread(RATE_LIMITS_050)
    lines = [meta(T0, SID), turn(T0), t.respond("2025-10-24T07:45:00.000Z", 100, 20, 10, 5)]
    plain_named_zst = session_path(tmp_path, "2025-10-24T18-00-00", SID).with_suffix(".jsonl.zst")
    write(plain_named_zst, lines)
    other = "019a152d-35a0-72a0-91db-8ebe37fac6ff"
    zst_named_plain = session_path(tmp_path, "2025-10-24T18-00-01", other)
    own = Thread(RATE_LIMITS_050).respond("2025-10-24T07:47:00.000Z", 100, 20, 10, 5)
    write(zst_named_plain, [meta(T0, other), turn(T0), own], compress=True)
    rows, stats = scan_home(tmp_path)
    assert stats.problems == []
    assert summed(rows) == (200, 40, 20, 10)


def test_every_frame_of_a_multi_frame_file_is_read(tmp_path):
    """R17: a .zst holding two concatenated frames is read to the end of the second."""
    t = Thread(RATE_LIMITS_050)
    first = encode([meta(T0, SID), turn(T0), t.respond("2025-10-24T07:45:00.000Z", 100, 20, 10, 5)])
    second = encode([t.respond("2025-10-24T07:46:00.000Z", 300, 0, 30, 0)])
    path = session_path(tmp_path, "2025-10-24T18-00-00", SID).with_suffix(".jsonl.zst")
    path.parent.mkdir(parents=True)
    path.write_bytes(zstd.compress(first) + zstd.compress(second))
    rows, stats = scan_home(tmp_path)
    assert stats.problems == []
    assert summed(rows) == (400, 20, 40, 5)


def streamed(data: bytes, **options: int) -> bytes:
    """``data`` as one zstd frame written as a stream: no content size in its header, so the
    header names the window (``window_log``) a decoder must hold."""
    comp = zstd.ZstdCompressor(
        options={getattr(zstd.CompressionParameter, k): v for k, v in options.items()}
    )
    return comp.compress(data) + comp.flush()


def skippable(payload: bytes) -> bytes:
    """A zstd skippable frame (RFC 8878 3.1.2): any magic 0x184D2A5?, size, payload."""
    return (0x184D2A53).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload


def test_a_frame_asking_for_a_window_past_the_bound_is_refused_and_one_within_it_read(tmp_path):
    lines, _ = conversation()
    data = encode(lines)
    log = reader_mod.ZST_MAX_WINDOW.bit_length() - 1
    within = tmp_path / "within.jsonl.zst"
    within.write_bytes(streamed(data, window_log=log))
    assert read(within)[0] == read(write(tmp_path / "plain.jsonl", lines))[0]
    past = tmp_path / "past.jsonl.zst"
    past.write_bytes(streamed(data, window_log=log + 1))
    got, r = read(past)
    assert got == [] and r.error.startswith("corrupt zstd data (")


def test_skippable_frames_before_and_between_frames_are_passed_over(tmp_path):
    lines, _ = conversation()
    path = tmp_path / "a.jsonl.zst"
    path.write_bytes(
        skippable(b"x" * 9)
        + zstd.compress(encode(lines[:3]))
        + skippable(b"")
        + streamed(encode(lines[3:]))
    )
    got, r = read(path)
    assert r.error is None
    assert got == read(write(tmp_path / "plain.jsonl", lines))[0]
    assert r.offset == len(encode(lines))


@pytest.mark.parametrize(
    ("tail", "error"),
    [(lambda frame: frame[:-9], "truncated zstd"), (lambda frame: b"garbage!", "corrupt zstd")],
)
def test_damage_in_a_later_frame_keeps_the_lines_of_the_frames_before(tmp_path, tail, error):
    lines, _ = conversation()
    path = tmp_path / "a.jsonl.zst"
    path.write_bytes(zstd.compress(encode(lines[:4])) + tail(zstd.compress(encode(lines[4:]))))
    got, r = read(path)
    assert r.error.startswith(error)
    assert got == read(write(tmp_path / "plain.jsonl", lines[:4]))[0]
    assert r.offset == len(encode(lines[:4]))


def test_decompressed_data_comes_in_bounded_blocks_however_much_a_piece_inflates(tmp_path):
    """64 MiB of zeros compress to a few KB: one compressed piece, yet no block over CHUNK."""
    path = tmp_path / "bomb.zst"
    path.write_bytes(streamed(bytes(64 << 20)))
    assert path.stat().st_size < reader_mod.ZST_PIECE
    with path.open("rb") as raw:
        sizes = [len(block) for block in reader_mod._zst_blocks(raw, reader_mod.ZST_PIECE)]
    assert sum(sizes) == 64 << 20
    assert max(sizes) == reader_mod.CHUNK


def test_the_content_size_is_read_from_the_frame_header_when_it_declares_one(tmp_path):
    data = encode(conversation()[0])
    declared, undeclared, plain = (tmp_path / name for name in ("a.zst", "b.zst", "c.jsonl"))
    declared.write_bytes(zstd.compress(data))
    undeclared.write_bytes(streamed(data))
    plain.write_bytes(data)
    assert zst_content_size(declared) == len(data)
    assert zst_content_size(undeclared) is None
    assert zst_content_size(plain) is None
    assert zst_content_size(tmp_path / "missing.zst") is None


def test_stop_reads_exactly_the_lines_that_begin_before_it(tmp_path):
    """``stop`` (R12's cut) keeps a line that begins before it whole, and none after."""
    lines = [meta(T0, SID), turn(T0), turn("2025-10-24T07:45:00.000Z", "gpt-5")]
    data = encode(lines)
    ends = [i + 1 for i, byte in enumerate(data) if byte == 10]
    for compress in (False, True):
        path = write(tmp_path / f"rollout-{compress}.jsonl", lines, compress=compress)
        for stop, count in ((ends[0], 1), (ends[0] + 1, 2), (ends[1] - 1, 2), (len(data), 3)):
            got = list(LineReader(path, stop=stop, chunk=7))
            assert len(got) == count, (compress, stop)
            assert b"\n".join(got) + b"\n" == data[: ends[count - 1]]
        # From an offset, ``stop`` still counts from the file's first byte.
        got = list(LineReader(path, ends[0], stop=ends[1] + 1, chunk=7))
        assert b"\n".join(got) + b"\n" == data[ends[0] : ends[2]]


# -- unreadable files ---------------------------------------------------------------------------


def test_a_directory_in_place_of_a_file_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "rollout-2025-10-24T19-00-00-x.jsonl"
    path.mkdir()
    got, r = read(path)
    assert got == []
    assert r.error is not None and "directory" in r.error.lower()


def test_file_replaced_by_a_directory_between_planning_and_reading(tmp_path):
    """A real read failure mid-scan (works as root too): one problem, the other file counted."""
    from collector.scan import ReadPlan

    lines, _ = conversation()
    other = "019a152d-35a0-72a0-91db-000000000002"
    gone = write(session_path(tmp_path, "2025-10-24T19-00-00", SID), lines)
    other_lines = [meta(at("2025-10-25 10:00:00"), other), *lines[1:]]
    write(session_path(tmp_path, "2025-10-25T19-00-00", other), other_lines)
    plan = ReadPlan(tmp_path)
    gone.unlink()
    gone.mkdir()
    rows = [row for result in plan.results(workers=1) for row in result.rows]
    assert summed(rows) == (300, 70, 30, 5)
    assert len(plan.stats.problems) == 1 and str(gone) in plan.stats.problems[0]


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    """Permission denied on one file (simulated: the tests may run as root, whom chmod does not
    stop): one problem line naming the file, the other files still counted."""
    lines, _ = conversation()
    path = write(session_path(tmp_path, "2025-10-24T19-00-00", SID), lines)
    deny_reading(monkeypatch, path)
    rows, stats = scan_home(tmp_path)
    assert rows == []
    assert len(stats.problems) == 1
    assert str(path) in stats.problems[0] and "permission denied" in stats.problems[0]


def test_truncated_zstd_is_reported(tmp_path):
    lines, _ = conversation()
    plain = session_path(tmp_path, "2025-10-24T19-00-00", SID)
    path = write(plain.with_name(plain.name + ".zst"), lines, compress=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    rows, stats = scan_home(tmp_path)
    assert len(stats.problems) == 1 and "truncated zstd" in stats.problems[0]


def test_the_zstd_binding_is_loaded_at_the_first_compressed_file_only(tmp_path):
    """A history of plain files never imports the zstd binding (a report starts faster); the
    first .zst file read loads it."""
    import subprocess
    import sys

    plain = tmp_path / "r.jsonl"
    plain.write_bytes(b'{"timestamp":"2025-10-24T10:00:00.000Z","type":"turn_context"}\n')
    packed = tmp_path / "r.jsonl.zst"
    packed.write_bytes(zstd.compress(plain.read_bytes()))
    script = (
        "import sys\n"
        "from collector.reader import LineReader\n"
        "lines = list(LineReader(sys.argv[1]))\n"
        "print(len(lines), 'collector.zst' in sys.modules)\n"
    )
    for path, loaded in ((plain, "False"), (packed, "True")):
        out = subprocess.run(
            [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["1", loaded]
