"""The reader's candidate-line loop: the C build and the Python loop agree on every input.

The C loop (collector/_heads.c) is an optional build; collector/reader.py falls back to the Python
loop without it. Both must pick exactly the same lines, whatever the bytes.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector import parse, reader

try:
    from collector import _heads as heads
except ImportError:  # built where a C compiler was there at install; CI requires it
    if os.environ.get("CODEXTIME_REQUIRE_SPEEDUPS") == "1":
        raise
    pytest.skip("collector._heads is not built here (no C compiler)", allow_module_level=True)


def fresh_candidates_in_python(
    buf: bytes, first: int, last: int, previous: bytes | None
) -> tuple[list[bytes], bytes | None, int]:
    """The oracle of the C loop: the reader's candidate lines less the token_count lines that
    repeat the info of the one before (``previous`` carries it from call to call)."""
    found, dropped = [], 0
    for line in reader._candidates(buf, first, last):
        keep, previous = reader._unrepeated(line, previous)
        if keep:
            found.append(line)
        else:
            dropped += 1
    return found, previous, dropped


STAMP = b"2025-10-24T10:00:05.123Z"
KINDS = [
    b'"type":"session_meta","payload":{}',
    b'"type":"turn_context","payload":{}',
    b'"type":"event_msg","payload":{"type":"token_count","info":null}',
    b'"type":"event_msg","payload":{"type":"task_started"}',
    b'"type":"event_msg","payload":{"type":"agent_message"}',
    b'"type":"response_item","payload":{"type":"message"}',
    b'"type":"event_msg","payload":{"type":"token_counts"}',
    b'"type":"turn_contex"',
    b'"type": "turn_context"',
    b'"type":"token_usage_record","payload":{}',
    b'"type":"inter_agent_communication_metadata","payload":{"trigger_turn":true}',
    b'"type":"inter_agent_communication","payload":{}',
    b'"type":"event_msg","payload":{"type":"thread_settings_applied"}',
    b'"payload":{"type":"token_count"},"type":"event_msg"',
]
STAMPS = [STAMP, b"", b"x" * 40, b"x" * 41, b'2025"10', b"2025\n10", b"\xff\xfe"]
#: Lines in other layouts: keys in another order, spaces, the kinds of 2026 (R15, R13, R18).
OTHER_LAYOUTS = [
    b'{"type":"event_msg","timestamp":"' + STAMP + b'","payload":{"type":"token_count"}}',
    b'{"payload": { "type" :\t"token_count"}, "type": "event_msg"}',
    b'{"payload":{"type":"agent_message"},"type":"event_msg"}',
    b'{"type" : "token_usage_record"}',
    b'{"type":"inter_agent_communication_metadata"',
    b'{"type":"inter_agent_communication"',
    b'{"type":"inter_agent_communication_extra"}',
    b'{"payload":{"type":"thread_settings_applied"}}',
    b'{"payload":{"type":"thread_settings_applie"}}',
    b" " * 290 + b'{"type":"turn_context"}',  # ends inside the first 320 bytes
    b" " * 310 + b'{"type":"turn_context"}',
]
ORDINALS = [b"", b'"ordinal":7,', b'"ordinal":,', b'"ordinal":12a,', b'"ordinal":0123456789,']

line = st.one_of(
    st.builds(
        lambda stamp, ordinal, kind, tail: (
            b'{"timestamp":"' + stamp + b'",' + ordinal + kind + tail
        ),
        st.sampled_from(STAMPS),
        st.sampled_from(ORDINALS),
        st.sampled_from(KINDS),
        st.sampled_from([b"}", b"", b'"', b"x" * 100]),
    ),
    st.binary(max_size=120).map(lambda b: b.replace(b"\n", b" ")),
    st.sampled_from(OTHER_LAYOUTS),
    st.builds(lambda n: b'{"timestamp":"' + STAMP[:n], st.integers(0, len(STAMP))),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(line, min_size=1, max_size=30), st.integers(0, 5))
def test_c_and_python_pick_the_same_lines(lines, first_line):
    buf = b"\n".join(lines) + b"\n"
    starts = [0] + [i + 1 for i, byte in enumerate(buf[:-1]) if byte == 10]
    first, last = starts[min(first_line, len(starts) - 1)], len(buf) - 1
    expected = reader._candidates(buf, first, last)
    assert heads.candidates(buf, first, last) == expected
    assert heads.candidates(bytearray(buf), first, last) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(line, min_size=1, max_size=30), st.integers(0, 5))
def test_c_and_python_pick_the_same_lines_of_a_file_in_another_layout(lines, first_line):
    """In a file that does not begin as Codex's compact lines, every line gets the tolerant
    test, in C as in Python (a compact head that names no usage kind is no exception)."""
    buf = b"\n".join(lines) + b"\n"
    starts = [0] + [i + 1 for i, byte in enumerate(buf[:-1]) if byte == 10]
    first, last = starts[min(first_line, len(starts) - 1)], len(buf) - 1
    expected = reader._tolerant_candidates(buf, first, last)
    assert expected == [
        ln for ln in buf[first:last].split(b"\n") if reader._tolerant(ln, 0, len(ln))
    ]
    assert heads.tolerant_candidates(buf, first, last) == expected
    assert heads.tolerant_candidates(bytearray(buf), first, last) == expected


def test_the_tolerant_loop_reads_a_compact_line_by_its_words_not_its_kind():
    """A compact agent_message line whose text names token_count within the window is a
    candidate of the tolerant loop (the parser then finds no usage in it), not of the compact
    one; a line whose words come past the window is neither."""
    inside = b'{"timestamp":"' + STAMP + b'",' + KINDS[4][:-1] + b',"text":"\\"type\\":\\"x\\""'
    inside += b',"payload":{"type":"token_count"}}'
    past = b'{"timestamp":"' + STAMP + b'","text":"' + b"x" * 320 + b'","type":"turn_context"}'
    buf = b"\n".join([inside, past]) + b"\n"
    assert heads.tolerant_candidates(buf, 0, len(buf) - 1) == [inside]
    assert reader._tolerant_candidates(buf, 0, len(buf) - 1) == [inside]
    assert heads.candidates(buf, 0, len(buf) - 1) == []
    with pytest.raises(ValueError):
        heads.tolerant_candidates(b"abc\n", 0, 10)


def test_the_reader_uses_the_c_loop_when_it_is_built():
    assert reader.candidates is heads.candidates
    assert reader.fresh_rows is heads.fresh_rows
    assert reader.tolerant_candidates is heads.tolerant_candidates


def test_lines_in_another_layout_are_tested_tolerantly_by_both_loops():
    """A token_count line whose keys come in another order, in a file of compact lines, is read
    (the tolerant test, as collector.parse.HEAD), and so are the line kinds of 2026."""
    compact = b'{"timestamp":"' + STAMP + b'",' + KINDS[4]
    buf = b"\n".join([compact, *OTHER_LAYOUTS]) + b"\n"
    expected = [
        OTHER_LAYOUTS[i] for i in (0, 1, 3, 4, 5, 7, 9)
    ]  # not agent_message, a longer kind, a misspelt one, nor a head past the window
    assert reader._candidates(buf, 0, len(buf) - 1) == expected
    assert heads.candidates(buf, 0, len(buf) - 1) == expected


def test_a_line_in_another_layout_is_never_compared_as_a_repeat():
    """After a token_count line the loops cannot cut, the next one is kept whatever its info."""
    a = token_line(STAMP, INFOS[0], b',"rate_limits":{}}}')
    odd = b'{"type":"event_msg","timestamp":"' + STAMP + b'","payload":{"type":"token_count"}}'
    buf = b"\n".join([a, odd, a]) + b"\n"
    for fresh in (heads.fresh_candidates, fresh_candidates_in_python):
        assert fresh(buf, 0, len(buf) - 1, None) == ([a, odd, a], INFOS[0], 0)


def test_bad_bounds_are_an_error_not_a_crash():
    for first, last in ((-1, 0), (3, 2), (0, 10)):
        with pytest.raises(ValueError):
            heads.candidates(b"abc\n", first, last)


def test_the_lines_picked_by_hand():
    usage = b'{"timestamp":"' + STAMP + b'",' + KINDS[2]
    with_ordinal = b'{"timestamp":"' + STAMP + b'","ordinal":7,' + KINDS[1]
    noise = [
        b'{"timestamp":"' + STAMP + b'",' + KINDS[4],
        b'{"timestamp":"' + b"x" * 41 + b'",' + KINDS[0],
        b'{"timestamp":"' + STAMP + b'","ordinal":,' + KINDS[0],
        b"",
        b"\xff\xfe not json",
    ]
    # Lines that do not begin as Codex's compact ones (a 41-byte stamp, an empty ordinal) are
    # tested tolerantly: they name session_meta, so they are read.
    buf = b"\n".join([noise[0], usage, *noise[1:], with_ordinal]) + b"\n"
    expected = [usage, noise[1], noise[2], with_ordinal]
    assert reader._candidates(buf, 0, len(buf) - 1) == expected
    assert heads.candidates(buf, 0, len(buf) - 1) == expected


INFOS = [
    b'{"total_token_usage":{"input_tokens":1},"last_token_usage":{"input_tokens":1}}',
    b'{"total_token_usage":{"input_tokens":2},"last_token_usage":{"input_tokens":1}}',
    b"null",
    b'{"model":"gpt-5","last_token_usage":{}}',  # text: cannot be compared
    b"{}",
]


def token_line(stamp: bytes, info: bytes, tail: bytes) -> bytes:
    return (
        b'{"timestamp":"' + stamp + b'","type":"event_msg","payload":{"type":"token_count",'
        b'"info":' + info + tail
    )


token_lines = st.builds(
    token_line,
    st.sampled_from([STAMP, b"2025-10-24T10:00:06.000Z"]),
    st.sampled_from(INFOS),
    st.sampled_from([b',"rate_limits":{"primary":null}}}', b"}}", b"}", b',"rate_limits":']),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(token_lines, token_lines, line), min_size=1, max_size=30),
    st.sampled_from([None, *INFOS]),
)
def test_c_and_python_leave_out_the_same_repeats(lines, previous):
    buf = b"\n".join(lines) + b"\n"
    expected = fresh_candidates_in_python(buf, 0, len(buf) - 1, previous)
    assert heads.fresh_candidates(buf, 0, len(buf) - 1, previous) == expected
    kept, _, dropped = expected
    assert len(kept) + dropped == len(reader._candidates(buf, 0, len(buf) - 1))


def test_repeats_are_the_lines_whose_info_is_the_one_before():
    a, b = (token_line(STAMP, info, b',"rate_limits":{}}}') for info in INFOS[:2])
    null = token_line(STAMP, b"null", b',"rate_limits":{}}}')
    buf = b"\n".join([a, a, null, a, b, a]) + b"\n"
    for fresh in (heads.fresh_candidates, fresh_candidates_in_python):
        # the second a repeats the first; null in between changes nothing; b then a are new
        assert fresh(buf, 0, len(buf) - 1, None) == ([a, null, b, a], INFOS[0], 2)
        assert fresh(buf, 0, len(buf) - 1, INFOS[0])[2] == 3  # carried over from a last call


def test_leaving_repeats_out_while_reading_changes_no_count(tmp_path, monkeypatch):
    """Dropping exact repeats in the reader is only a faster R4: rows and every counter agree."""
    from collector import scan as scan_mod
    from collector.demo import generate

    generate(tmp_path / "home", days=12, compress_older_than_days=4)
    results = {}
    for drop in (True, False):
        # the scan asks for repeats to be dropped; this reader is told what the test wants
        monkeypatch.setattr(
            scan_mod,
            "LineReader",
            lambda path, start=0, *, _d=drop, **_: reader.LineReader(path, start, drop_repeats=_d),
        )
        plan = scan_mod.ReadPlan(tmp_path / "home", keep_cursors=False)
        rows = sorted(row for result in plan.results(workers=1) for row in result.rows)
        results[drop] = (rows, dict(plan.stats.skipped))
    assert results[True] == results[False]
    assert results[True][1]["re-emitted"] > 100
    dropped = 0
    for path in (tmp_path / "home" / "sessions").rglob("*.jsonl"):
        read = reader.LineReader(path, drop_repeats=True)
        list(read)
        dropped += read.repeats
    assert dropped > 100  # (most of the re-emits never reach the parser)


def test_a_scan_without_the_c_build_gives_the_same_rows_and_counters(tmp_path, monkeypatch):
    from collector.demo import generate
    from collector.scan import ReadPlan

    generate(tmp_path / "home", days=12, compress_older_than_days=4)

    def scan():
        plan = ReadPlan(tmp_path / "home", keep_cursors=False)
        rows = sorted(row for result in plan.results(workers=1) for row in result.rows)
        return rows, dict(plan.stats.skipped)

    with_c = scan()
    monkeypatch.setattr(reader, "candidates", reader._candidates)
    monkeypatch.setattr(reader, "fresh_candidates", None)
    monkeypatch.setattr(reader, "tolerant_candidates", reader._tolerant_candidates)
    assert scan() == with_c


def test_both_loops_hand_out_bytes_from_a_reused_bytearray_buffer():
    buf = bytearray(b'{"timestamp":"' + STAMP + b'",' + KINDS[1] + b"\n")
    for loop in (heads.candidates, reader._candidates):
        assert [type(x) for x in loop(buf, 0, len(buf) - 1)] == [bytes]


# -- fresh_rows: the figures of a token_count line in Codex's exact layout, read in C ----------

USAGE_A = (
    b'{"input_tokens":9559,"cached_input_tokens":2944,"cache_write_input_tokens":7,'
    b'"output_tokens":1207,"reasoning_output_tokens":867,"total_tokens":10766}'
)
USAGE_B = (  # before 0.145: no cache writes
    b'{"input_tokens":20,"cached_input_tokens":0,"output_tokens":5,'
    b'"reasoning_output_tokens":1,"total_tokens":25}'
)
RATE_LIMITS = (
    b',"rate_limits":{"limit_id":"codex","limit_name":null,"primary":{"used_percent":15.5,'
    b'"window_minutes":300,"resets_at":1793754000},"credits":{"has_credits":false},"x":[1,-2.5,[]]}}}'
)


def exact_line(
    stamp=STAMP, ordinal=b'"ordinal":23,', total=USAGE_A, last=USAGE_B, window=b"258400", tail=None
):
    info = b'{"total_token_usage":' + total + b',"last_token_usage":' + last
    info += (b',"model_context_window":' + window if window is not None else b"") + b"}"
    line = (
        b'{"timestamp":"' + stamp + b'",' + ordinal + b'"type":"event_msg","payload":'
        b'{"type":"token_count","info":' + info + (RATE_LIMITS if tail is None else tail)
    )
    return line, info


def rows_of(line: bytes) -> list:
    buf = line + b"\n"
    return heads.fresh_rows(buf, 0, len(buf) - 1, None)[0]


def test_a_token_count_line_in_the_exact_layout_comes_with_its_figures():
    line, info = exact_line()
    ts_ms = 1761300005123  # 2025-10-24T10:00:05.123Z
    total, last = (9559, 2944, 1207, 867, 10766, 7), (20, 0, 5, 1, 25, 0)
    identity = b"1761300005123|9559,2944,1207,867,10766|20,0,5,1,25"
    assert identity == parse._IDENTITY % (ts_ms, *total[:5], *last[:5])
    expected = (ts_ms, 23, total, last, info, identity)
    assert rows_of(line) == [expected]
    bare, bare_info = exact_line(ordinal=b"", window=None, tail=b"}}")
    assert rows_of(bare) == [(ts_ms, None, total, last, bare_info, identity)]
    big = b"9" * 18
    line, info = exact_line(total=USAGE_B.replace(b":20,", b":" + big + b","))
    (row,) = rows_of(line)
    assert row[2][0] == int(big)
    assert row[5] == parse._IDENTITY % (row[0], *row[2][:5], *row[3][:5])


#: Lines the C loop must hand on as bytes: the parser's decoding path decides them.
NOT_EXACT = {
    "float figure": exact_line(total=USAGE_B.replace(b":20,", b":20.0,"))[0],
    "null figure": exact_line(last=USAGE_B.replace(b":5,", b":null,"))[0],
    "negative figure": exact_line(last=USAGE_B.replace(b":5,", b":-5,"))[0],
    "19 digits": exact_line(total=USAGE_B.replace(b":20,", b":" + b"9" * 19 + b","))[0],
    "over 2^63": exact_line(total=USAGE_B.replace(b":20,", b":99999999999999999999,"))[0],
    "leading zero": exact_line(total=USAGE_B.replace(b":20,", b":020,"))[0],
    "missing key": exact_line(last=USAGE_B.replace(b'"reasoning_output_tokens":1,', b""))[0],
    "keys in another order": exact_line(
        last=b'{"cached_input_tokens":0,"input_tokens":20,"output_tokens":5,'
        b'"reasoning_output_tokens":1,"total_tokens":25}'
    )[0],
    "no last usage": exact_line(last=b"null")[0],
    "extra info key": exact_line(window=b'1,"model":"gpt-5"')[0],
    "spaces": exact_line(last=USAGE_B.replace(b":5,", b": 5,"))[0],
    "February 30": exact_line(stamp=b"2025-02-30T10:00:05.123Z")[0],
    "February 29, 2025": exact_line(stamp=b"2025-02-29T10:00:05.123Z")[0],
    "microseconds": exact_line(stamp=b"2025-10-24T10:00:05.123456Z")[0],
    "an offset": exact_line(stamp=b"2025-10-24T10:00:05.123+00:00")[0],
    "before 2000": exact_line(stamp=b"1999-12-31T23:59:59.999Z")[0],
    "hour 24": exact_line(stamp=b"2025-10-24T24:00:05.123Z")[0],
    "ordinal with a leading zero": exact_line(ordinal=b'"ordinal":07,')[0],
    "escaped text": exact_line(tail=b',"rate_limits":{"a":"\\u00e9"}}}')[0],
    "non-ASCII text": exact_line(tail=b',"rate_limits":{"a":"\xc3\xa9"}}}')[0],
    "invalid UTF-8": exact_line(tail=b',"rate_limits":{"a":"\xff"}}}')[0],
    "torn tail": exact_line(tail=b',"rate_limits":{"a":')[0],
    "exponent": exact_line(tail=b',"rate_limits":{"a":1e400}}}')[0],
    "a key after rate limits": exact_line(tail=b',"rate_limits":{},"info":null}}')[0],
    "trailing space": exact_line(tail=b',"rate_limits":{}}} ')[0],
    "bare word": exact_line(tail=b',"rate_limits":nul}}')[0],
}


@pytest.mark.parametrize("why", sorted(NOT_EXACT))
def test_any_other_token_count_line_comes_as_bytes(why):
    line = NOT_EXACT[why]
    assert rows_of(line) == [line]


def fed(parser_items: list) -> tuple:
    """What a parser makes of these items: responses, counters and its state."""
    from collector.parse import RolloutParser

    parser = RolloutParser()
    responses = [parser.feed_candidate(item) for item in parser_items]
    responses += parser.finish()
    return responses, dict(parser.skipped), parser.to_state()


META = b'{"timestamp":"' + STAMP + b'","type":"session_meta","payload":{"id":"t1"}}'
TURN = b'{"timestamp":"' + STAMP + b'","type":"turn_context","payload":{"model":"gpt-5.1"}}'
figures_lines = st.builds(
    lambda stamp, ordinal, total, last, window, tail: exact_line(
        stamp, ordinal, total, last, window, tail
    )[0],
    st.sampled_from([STAMP, b"2025-10-24T10:00:06.000Z", b"2025-02-29T10:00:05.123Z"]),
    st.sampled_from([b"", b'"ordinal":3,', b'"ordinal":9,', b'"ordinal":03,']),
    st.sampled_from([USAGE_A, USAGE_B, USAGE_B.replace(b":20,", b":21,")]),
    st.sampled_from([USAGE_B, USAGE_A, USAGE_B.replace(b":5,", b":5.0,"), b"null"]),
    st.sampled_from([b"258400", None, b"null"]),
    st.sampled_from([None, b"}}", b',"rate_limits":{"a":"\xff"}}}', b',"rate_limits":']),
)


#: The same infos in a line whose keys come in another order (the reader cannot compare it).
reordered_lines = st.builds(
    lambda stamp, total, last: (
        b'{"type":"event_msg","timestamp":"' + stamp + b'","payload":{"type":"token_count",'
        b'"info":' + exact_line(stamp, b"", total, last)[1] + b"}}"
    ),
    st.sampled_from([STAMP, b"2025-10-24T10:00:06.000Z"]),
    st.sampled_from([USAGE_A, USAGE_B]),
    st.sampled_from([USAGE_B, USAGE_A]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(figures_lines, figures_lines, reordered_lines, token_lines, line), max_size=25
    ),
    st.booleans(),
    st.booleans(),
)
def test_the_parser_counts_the_same_from_figures_as_from_bytes(lines, with_meta, with_model):
    """Whatever the lines, a parser fed the C loop's figures counts exactly what it counts from
    the same lines as bytes (the Python loop): responses, every counter, its state."""
    lines = [META] * with_meta + [TURN] * with_model + lines
    buf = b"\n".join(lines) + b"\n"
    items, previous, dropped = heads.fresh_rows(buf, 0, len(buf) - 1, None)
    as_bytes, previous_too, dropped_too = fresh_candidates_in_python(buf, 0, len(buf) - 1, None)
    assert (previous, dropped) == (previous_too, dropped_too)
    assert len(items) == len(as_bytes)
    for item, line in zip(items, as_bytes, strict=True):  # a line's figures, or the line itself
        assert [item] == (rows_of(line) if type(item) is tuple else [line])
    assert fed(items) == fed(as_bytes)


def test_a_scan_reads_most_token_count_lines_as_figures(tmp_path, monkeypatch):
    from collector import scan as scan_mod
    from collector.demo import generate

    generate(tmp_path / "home", days=6, compress_older_than_days=100000)
    kinds = {bytes: 0, tuple: 0}

    def counting_reader(*args, **options):
        for batch in reader.LineReader(*args, **options).batches():
            for item in batch:
                kinds[type(item)] += 1
        return reader.LineReader(*args, **options)

    monkeypatch.setattr(scan_mod, "LineReader", counting_reader)
    plan = scan_mod.ReadPlan(tmp_path / "home", keep_cursors=False)
    assert sum(len(result.rows) for result in plan.results(workers=1)) > 100
    assert kinds[tuple] > kinds[bytes] > 0


def test_a_late_copy_the_reader_could_not_compare_makes_the_next_line_a_plain_repeat():
    """t1, t2, t1 in another layout (a late re-emit), t1 again: the last line repeats the one
    before byte for byte, which the parser tells from figures as it does from bytes."""
    first, _ = exact_line(total=USAGE_A)
    second, _ = exact_line(total=USAGE_A.replace(b":9559,", b":9560,"))
    late = b'{"type":"event_msg","timestamp":"' + STAMP + b'","payload":{"type":"token_count",'
    late += b'"info":' + exact_line(total=USAGE_A)[1] + b"}}"
    buf = b"\n".join([META, TURN, first, second, late, first]) + b"\n"
    items = heads.fresh_rows(buf, 0, len(buf) - 1, None)[0]
    assert [type(item) for item in items] == [bytes, bytes, tuple, tuple, bytes, tuple]
    from_figures = fed(items)
    assert from_figures == fed(fresh_candidates_in_python(buf, 0, len(buf) - 1, None)[0])
    assert from_figures[1] == {"re-emitted late": 1, "re-emitted": 1}
