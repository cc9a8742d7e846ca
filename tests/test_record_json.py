"""The upload record without pydantic (``store.fields.record_json``) is the record type's own:
for any scanner row and label, the same JSON values when ``store.record.UsageRecord`` accepts the
row, a refusal when it refuses it, and the same bytes on the wire."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from store.fields import (
    LABEL_MAX,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    RECORD_FIELDS,
    TIERS,
    record_json,
    row_refusal,
)
from store.record import record_from_row

HEX = "0123456789abcdef"
#: Counts around every bound: zero, small, the input and output limits and just past them.
counts = st.one_of(
    st.integers(0, 5_000),
    st.sampled_from([MAX_OUTPUT_TOKENS, MAX_OUTPUT_TOKENS + 1, MAX_INPUT_TOKENS]),
    st.sampled_from([MAX_INPUT_TOKENS + 1, -1]),
    st.just(True),  # a bool is no count
)
texts = st.one_of(
    st.text(max_size=LABEL_MAX + 2),
    st.sampled_from(["", "gpt-5.4", "a" * LABEL_MAX, "a" * (LABEL_MAX + 1), "é" * LABEL_MAX]),
    st.text(alphabet="ab\x00\n\x7f\x85\u2028 ", max_size=5),  # control characters and not
)
hashes = st.one_of(
    st.text(alphabet=HEX, min_size=32, max_size=32),
    st.sampled_from(["A" * 32, "a" * 31, "a" * 33, "a" * 32 + "\n", ""]),
)
rows = st.tuples(
    st.integers(1_743_465_600_000, 4_102_444_800_000),  # 2025-04-01 to 2100
    texts,
    st.one_of(st.sampled_from(TIERS), st.sampled_from(["Standard", "", "auto"])),
    counts,
    counts,
    counts,
    counts,
    counts,
    hashes,
    hashes,
)
labels = st.one_of(st.none(), texts)


def valid_row(ts_ms: int, inp: int, cached: int, cache_write: int, out: int, reasoning: int):
    return (
        ts_ms,
        "gpt-5.4",
        "priority",
        inp,
        cached,
        cache_write,
        out,
        reasoning,
        HEX * 2,
        "f" * 32,
    )


@settings(max_examples=600, deadline=None)
@given(rows, labels)
def test_record_json_is_the_record_types_json_or_its_refusal(row, label):
    try:
        expected = record_from_row(row, label).model_dump(mode="json")
    except ValidationError:
        assert row_refusal(row, label) is not None
        with pytest.raises(ValueError, match="^a record the record type refuses: "):
            record_json(row, label)
        return
    assert row_refusal(row, label) is None
    assert record_json(row, label) == expected
    assert list(record_json(row, label)) == list(RECORD_FIELDS)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1_743_465_600_000, 4_102_444_800_000),
    *(st.integers(0, 2_000_000) for _ in range(5)),
    st.one_of(st.none(), st.text(max_size=LABEL_MAX)),
)
def test_the_bytes_sent_are_the_record_types(
    ts_ms, inp, cached, cache_write, out, reasoning, label
):
    """What ``scan --json`` prints and a sync uploads (orjson of record_json) is byte for byte
    what pydantic writes, for every record the type accepts."""
    row = valid_row(ts_ms, inp, cached, cache_write, out, reasoning)
    try:
        record = record_from_row(row, label)
    except ValidationError:
        return
    assert orjson.dumps(record_json(row, label)) == record.model_dump_json().encode()


def test_the_time_is_iso_text_to_the_millisecond():
    record = record_json(valid_row(1_772_366_400_123, 10, 1, 2, 5, 1), "laptop")
    assert record["ts"] == "2026-03-01T12:00:00.123Z"
    assert record["label"] == "laptop" and record["tier"] == "priority"
