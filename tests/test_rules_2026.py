"""The counting rules of Codex 0.144-0.160 (docs/counting.md, R1 and R12-R20), from the format doc's
examples, one test per rule and per pitfall the doc names."""

from __future__ import annotations

import copy
import json

import orjson

from collector.parse import RolloutParser
from collector.scan import BASE_MISSING, Cursor, ReadPlan
from store.fields import CACHE_WRITE, MODEL, SESSION, TIER, TS_MS
from tests.rollout import (
    OMIT,
    RATE_LIMITS_2026,
    Thread,
    at,
    compacted_2026,
    encode,
    event,
    feed_all,
    meta_2026,
    ms,
    scan_home,
    session_of,
    session_path,
    settings_applied,
    spawn_source,
    summed,
    token_usage_record,
    trigger,
    turn_2026,
    usage,
    write,
)

T = "01a0bd11-0000-7000-8000-000000000001"  # a thread
R2 = "01a0c0f2-0000-7000-8000-000000000002"  # a revision's rollout id
R3 = "01a0c0f3-0000-7000-8000-000000000003"
P = "01a09e7c-0000-7000-8000-00000000000a"  # a parent
C = "01a0eda9-0000-7000-8000-00000000000c"  # a child
G = "01a0eda9-0000-7000-8000-0000000000aa"  # a guardian review


def revision_path(home, stamp: str, thread: str, rollout: str | None = None):
    """``rollout-<ts>-<thread>[_<rollout>].jsonl`` (R1, R12)."""
    return session_path(home, stamp, f"{thread}_{rollout}" if rollout else thread)


def cut_at(lines: list[dict], count: int) -> int:
    """The byte offset where line ``count`` of ``lines`` begins."""
    return len(encode(lines[:count]))


# -- R12: paginated lineages -----------------------------------------------------------------------


def base_and_revision(*, seeded_reemit: bool = True):
    """A base of two responses, cut after the first (the second is reverted), and a revision
    that re-emits the seeded info, then answers once."""
    t = Thread(RATE_LIMITS_2026)
    base = [
        meta_2026(at("2026-09-20 02:00:00"), T, "0.159.0", ordinal=0, history_mode="paginated"),
        turn_2026(at("2026-09-20 02:00:01"), "gpt-5.5", ordinal=1),
        t.respond(at("2026-09-20 02:00:10"), 1000, 200, 100, 10, ordinal=2),
        t.reemit(at("2026-09-20 02:00:10.1"), ordinal=3),
    ]
    cut, seed = cut_at(base, len(base)), copy.deepcopy(t)
    base += [t.respond(at("2026-09-20 02:01:00"), 3000, 0, 300, 0, ordinal=4)]  # reverted
    history_base = {"thread_id": T, "end_ordinal_exclusive": 4, "end_byte_offset": cut}
    revision = [
        meta_2026(
            at("2026-09-20 02:05:00"),
            T,
            "0.159.0",
            ordinal=4,
            history_mode="paginated",
            history_base=history_base,
            forked_from_id=P,
            subagent_history_start_ordinal=99,
        ),
        turn_2026(at("2026-09-20 02:05:01"), "gpt-5.5", ordinal=5),
    ]
    if seeded_reemit:
        revision.append(seed.reemit(at("2026-09-20 02:05:02"), ordinal=6))
    revision.append(seed.respond(at("2026-09-20 02:05:30"), 500, 100, 50, 5, ordinal=4))
    return base, revision


def test_r12_revision_counts_its_own_rows_from_the_seed_at_the_cut(tmp_path):
    base, revision = base_and_revision()
    write(revision_path(tmp_path, "2026-09-20T10-00-00", T), base)
    write(revision_path(tmp_path, "2026-09-20T10-05-00", T, R2), revision)
    rows, stats = scan_home(tmp_path)
    # The reverted turn counts once, in the base; the seeded re-emit not at all; the revision's
    # ordinal 4 repeats the base's and is a response all the same (R19).
    assert summed(rows) == (1000 + 3000 + 500, 200 + 100, 100 + 300 + 50, 10 + 5)
    assert len(rows) == 3
    assert BASE_MISSING not in stats.skipped


def test_r12_seed_gives_the_delta_of_a_row_without_last(tmp_path):
    base, revision = base_and_revision(seeded_reemit=False)
    del revision[-1]["payload"]["info"]["last_token_usage"]
    write(revision_path(tmp_path, "2026-09-20T10-00-00", T), base)
    write(revision_path(tmp_path, "2026-09-20T10-05-00", T, R2), revision)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (1000 + 3000 + 500, 300, 450, 15)


def test_r12_compressed_base_is_cut_in_decompressed_bytes(tmp_path):
    base, revision = base_and_revision()
    write(revision_path(tmp_path, "2026-09-20T10-00-00", T), base, compress=True)
    write(revision_path(tmp_path, "2026-09-20T10-05-00", T, R2), revision)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (4500, 300, 450, 15)


def test_r12_base_missing_counts_per_response_and_says_so(tmp_path):
    _, revision = base_and_revision()
    write(revision_path(tmp_path, "2026-09-20T10-05-00", T, R2), revision)
    rows, stats = scan_home(tmp_path)
    # The seeded re-emit cannot be told: it counts once (the doc's known limit), and is flagged.
    assert summed(rows) == (1000 + 500, 300, 150, 15)
    assert stats.skipped[BASE_MISSING] == 1


def test_r12_a_cut_in_inherited_history_takes_the_base_s_own_seed(tmp_path):
    """Revision 3 cuts revision 2 before any token_count of its own: 2's seed is in force."""
    base, revision = base_and_revision()
    second = revision[:2]  # meta and turn, no response yet
    history_base = {"thread_id": R2, "end_ordinal_exclusive": 6, "end_byte_offset": 0}
    history_base["end_byte_offset"] = cut_at(second, 2)
    seed = Thread(RATE_LIMITS_2026, total=usage(1000, 200, 100, 10))
    seed.last = usage(1000, 200, 100, 10)
    third = [
        meta_2026(at("2026-09-20 02:10:00"), T, "0.159.0", ordinal=6, history_base=history_base),
        seed.reemit(at("2026-09-20 02:10:01"), ordinal=6),
        seed.respond(at("2026-09-20 02:10:30"), 70, 0, 7, 0, ordinal=7),
    ]
    write(revision_path(tmp_path, "2026-09-20T10-00-00", T), base)
    write(revision_path(tmp_path, "2026-09-20T10-05-00", T, R2), revision)
    write(revision_path(tmp_path, "2026-09-20T10-10-00", T, R3), third)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (4500 + 70, 300, 457, 15)


# -- R1: a file's identity is its name -------------------------------------------------------------


def test_r1_revisions_sharing_a_thread_id_are_all_counted(tmp_path):
    """tokei#96: keeping one file per session id lost a third of the tokens."""
    base, revision = base_and_revision()
    write(revision_path(tmp_path, "2026-09-20T10-00-00", T), base)
    write(revision_path(tmp_path, "2026-09-20T10-05-00", T, R2), revision)
    # An archived copy of the revision under its own name collapses; the base stays.
    archived = tmp_path / "archived_sessions" / f"rollout-2026-09-20T10-05-00-{T}_{R2}.jsonl"
    write(archived, revision)
    plan = ReadPlan(tmp_path)
    rows = [row for result in plan.results(workers=1) for row in result.rows]
    assert plan.stats.files == 2 and plan.stats.collapsed == 1
    assert summed(rows) == (4500, 300, 450, 15)


# -- R13, R14: response records and compactions ----------------------------------------------------


def record_file(middle: list[dict], thread: str = T) -> list[dict]:
    return [
        meta_2026(at("2026-09-29 14:55:00"), thread, "0.159.0", session_id=thread),
        turn_2026(at("2026-09-29 14:55:01"), "gpt-6-sol"),
        *middle,
    ]


def test_r13_a_record_with_its_advancing_token_count_counts_once():
    """The doc's live 0.159.0 pair: record, then its token_count (last = usage)."""
    t = Thread(RATE_LIMITS_2026, total=usage(950, 100, 40, 5))
    last = usage(1200, 200, 50, 10, cache_write=0)
    lines = record_file(
        [
            token_usage_record(at("2026-09-29 14:55:23.701"), last, thread_id=T, response_id="r6"),
            t.respond(at("2026-09-29 14:55:24.013"), 1200, 200, 50, 10, cache_write=0),
        ]
    )
    _, responses = feed_all(lines)
    assert [(r.ts_ms, r.input, r.output) for r in responses] == [
        (ms(at("2026-09-29 14:55:24.013")), 1200, 50)
    ]


def test_r13_only_the_first_advancing_token_count_can_account_for_a_record():
    """A later response that happens to use the record's figures does not swallow it."""
    t = Thread(RATE_LIMITS_2026)
    lines = record_file(
        [
            token_usage_record(at("2026-09-29 15:00:00"), usage(5, 0, 1, 0), thread_id=T),
            t.respond(at("2026-09-29 15:00:01"), 3, 0, 1, 0),
            t.respond(at("2026-09-29 15:00:02"), 5, 0, 1, 0),
        ]
    )
    _, responses = feed_all(lines)
    assert sorted((r.input, r.ts_ms) for r in responses) == [
        (3, ms(at("2026-09-29 15:00:01"))),
        (5, ms(at("2026-09-29 15:00:00"))),
        (5, ms(at("2026-09-29 15:00:02"))),
    ]


def test_r13_records_read_the_same_in_any_layout_and_without_usage_are_skipped():
    """The typed fast path and the general path (spaces, floats) agree."""
    record = token_usage_record(
        at("2026-09-29 15:00:00"), usage(5, 0, 1, 0, cache_write=2), thread_id=T
    )
    spaced = json.dumps(record).encode()  # ", " and ": ": the general path
    floats = copy.deepcopy(record)
    floats["payload"]["usage"]["input_tokens"] = 5.0
    counted = []
    for variant in (record, spaced, floats):
        _, responses = feed_all(record_file([variant]))
        counted.append([(r.input, r.cache_write, r.identity) for r in responses])
    assert counted[0] == counted[1] == counted[2] == [(5, 2, f"record|{T}|resp_1".encode())]
    empty = copy.deepcopy(record)
    del empty["payload"]["usage"]
    parser, responses = feed_all(record_file([empty]))
    assert responses == [] and parser.skipped["response record without usage"] == 1


def test_r13_a_hostile_response_id_is_kept_as_a_digest():
    huge = "r" * 100_000
    record = token_usage_record(
        at("2026-09-29 15:00:00"), usage(5, 0, 1, 0), thread_id=T, response_id=huge
    )
    _, responses = feed_all(record_file([record]))
    assert [len(r.identity) for r in responses] == [len(f"record|{T}|") + 128]


def test_r13_a_record_whose_thread_total_matches_is_accounted_for():
    """(c): the token_count's total equals the record's thread_token_usage, its last differs."""
    t = Thread(RATE_LIMITS_2026)
    row = t.respond(at("2026-09-29 14:55:24"), 1200, 200, 50, 10)
    record = token_usage_record(
        at("2026-09-29 14:55:23"), usage(1, 0, 1, 0), thread_id=T, thread_usage=t.total
    )
    _, responses = feed_all(record_file([record, row]))
    assert [(r.input, r.output) for r in responses] == [(1200, 50)]


def remote_compaction(marker_first: bool) -> tuple[list[dict], dict]:
    """Remote v2: record and marker in either order, then a token_count that re-states the total
    with an estimate-only last; the record's usage is billed nowhere else."""
    t = Thread(RATE_LIMITS_2026)
    compaction = usage(5363, 0, 400, 0)
    record = token_usage_record(
        at("2026-09-29 15:00:00"), compaction, thread_id=T, response_id="resp_c"
    )
    marker = compacted_2026(at("2026-09-29 15:00:00.5"), "resp_c", latest=record["payload"])
    pair = [marker, record] if marker_first else [record, marker]
    lines = record_file(
        [
            token_usage_record(at("2026-09-29 14:56:00"), usage(1000, 0, 100, 0), thread_id=T),
            t.respond(at("2026-09-29 14:56:00.1"), 1000, 0, 100, 0),
            turn_2026(at("2026-09-29 14:59:00"), "gpt-6-luna"),
            *pair,
            t.estimate(at("2026-09-29 15:00:01"), 1250),
        ]
    )
    return lines, compaction


def test_r14_remote_compaction_counts_through_its_record_in_either_order():
    for marker_first in (False, True):
        lines, _ = remote_compaction(marker_first)
        _, counted = feed_all(lines)
        assert [(r.input, r.output, r.model, r.ts_ms) for r in counted] == [
            (1000, 100, "gpt-6-sol", ms(at("2026-09-29 14:56:00.1"))),
            (5363, 400, "gpt-6-luna", ms(at("2026-09-29 15:00:00"))),
        ], marker_first


def test_r14_the_compaction_record_counts_once_in_a_scan_and_its_copy_never(tmp_path):
    lines, _ = remote_compaction(marker_first=False)
    write(revision_path(tmp_path, "2026-09-29T22-55-00", T), lines)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (1000 + 5363, 0, 100 + 400, 0)


def test_r13_local_compaction_record_and_token_count_count_once():
    t = Thread(RATE_LIMITS_2026)
    lines = record_file(
        [
            token_usage_record(at("2026-09-29 15:00:00"), usage(800, 0, 90, 0), thread_id=T),
            t.respond(at("2026-09-29 15:00:00.2"), 800, 0, 90, 0),
            compacted_2026(at("2026-09-29 15:00:00.3"), "resp_1"),
            t.estimate(at("2026-09-29 15:00:01"), 300),
        ]
    )
    _, responses = feed_all(lines)
    assert [(r.input, r.output) for r in responses] == [(800, 90)]


def test_r13_records_of_another_thread_or_a_copied_prefix_never_count():
    t = Thread(RATE_LIMITS_2026)
    lines = record_file(
        [
            token_usage_record(at("2026-09-29 15:00:00"), usage(9, 0, 9, 0), thread_id=P),
            t.respond(at("2026-09-29 15:00:05"), 10, 0, 1, 0),
        ]
    )
    parser, responses = feed_all(lines)
    assert summed(responses) == (10, 0, 1, 0)
    assert parser.skipped["response record of another thread"] == 1


def test_r13_a_counted_record_is_deduplicated_across_files(tmp_path):
    """(thread_id, response_id) names a counted record: a copy under another name is one."""
    lines, _ = remote_compaction(marker_first=False)
    write(revision_path(tmp_path, "2026-09-29T22-55-00", T), lines)
    write(revision_path(tmp_path, "2026-09-29T22-55-00", T, R2), lines)
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == (6363, 0, 500, 0)
    assert stats.duplicates == 2


def test_r13_a_record_read_before_its_token_count_counts_once_across_reads(tmp_path):
    """A read that ends between a record and its token_count counts the record; the next read
    then leaves the token_count out."""
    t = Thread(RATE_LIMITS_2026)
    record = token_usage_record(at("2026-09-29 15:00:00"), usage(700, 0, 70, 0), thread_id=T)
    head = record_file([record])
    tail = [t.respond(at("2026-09-29 15:00:00.2"), 700, 0, 70, 0)]
    path = write(revision_path(tmp_path, "2026-09-29T22-55-00", T), head)
    first = ReadPlan(tmp_path)
    rows = [r for result in first.results(workers=1) for r in result.rows]
    cursors = {
        k: Cursor.from_json(orjson.loads(orjson.dumps(c.to_json())))
        for result in ReadPlan(tmp_path).results(workers=1)
        for k, c in result.cursors.items()
    }
    with path.open("ab") as fh:
        fh.write(encode(tail))
    more = [r for result in ReadPlan(tmp_path, cursors).results(workers=1) for r in result.rows]
    assert summed(rows + more) == (700, 0, 70, 0)
    assert len(rows) == 1 and more == []


# -- R15: service tier -----------------------------------------------------------------------------


def test_r15_tier_per_response_in_file_order():
    t = Thread(RATE_LIMITS_2026)
    steps = [
        (None, "unknown"),  # no settings event yet
        ("priority", "priority"),
        (OMIT, "priority"),  # key absent: unchanged
        (None, "priority"),  # null: unchanged
        ("default", "standard"),
        ("fast", "priority"),
        ("standard", "standard"),
        ("flex", "flex"),
        ("ultrafast", "ultrafast"),
        ("turbo", "unknown"),
        (7, "unknown"),
    ]
    lines = record_file([])
    for i, (tier, _) in enumerate(steps):
        if i:
            lines.append(settings_applied(at(f"2026-09-29 15:00:{i:02d}"), tier))
        lines.append(t.respond(at(f"2026-09-29 15:00:{i:02d}.5"), 10 + i, 0, 1, 0))
    _, responses = feed_all(lines)
    assert [r.tier for r in responses] == [want for _, want in steps]


def test_r15_tier_is_not_inherited_from_a_copied_parent_or_another_file(tmp_path):
    t = Thread(RATE_LIMITS_2026)
    parent = [
        meta_2026(at("2026-09-29 15:00:00"), P, "0.159.0", ordinal=0),
        settings_applied(at("2026-09-29 15:00:01"), "priority", ordinal=1),
        t.respond(at("2026-09-29 15:00:02"), 100, 0, 10, 0, ordinal=2),
    ]
    child = [
        child_meta(at("2026-09-29 15:01:00"), subagent_history_start_ordinal=3),
        *parent[1:],  # the copied prefix, its settings event included
        t.respond(at("2026-09-29 15:01:30"), 50, 0, 5, 0, ordinal=3),
    ]
    write(revision_path(tmp_path, "2026-09-29T23-00-00", P), parent)
    write(revision_path(tmp_path, "2026-09-29T23-01-00", C), child)
    rows, _ = scan_home(tmp_path)
    assert sorted((r[TIER], *r[3:4]) for r in rows) == [("priority", 100), ("unknown", 50)]


# -- R16: cache writes -----------------------------------------------------------------------------


def test_r16_cache_writes_per_response_clamped_and_absent_as_zero():
    t = Thread(RATE_LIMITS_2026)
    lines = record_file(
        [
            t.respond(at("2026-09-29 15:00:01"), 100, 40, 10, 0, cache_write=60),
            t.respond(at("2026-09-29 15:00:02"), 100, 40, 10, 0, cache_write=90),  # clamped
            t.respond(at("2026-09-29 15:00:03"), 100, 40, 10, 0),  # absent
            t.respond(at("2026-09-29 15:00:04"), 0, 0, 0, 0, cache_write=0),  # an estimate
        ]
    )
    no_last = t.respond(at("2026-09-29 15:00:05"), 200, 0, 20, 0, cache_write=30)
    del no_last["payload"]["info"]["last_token_usage"]  # the growth of the total then
    _, responses = feed_all([*lines, no_last])
    assert [(r.input, r.cached, r.cache_write) for r in responses] == [
        (100, 40, 60),
        (100, 40, 60),
        (100, 40, 0),
        (200, 0, 30),
    ]


def test_r16_cache_writes_reach_the_scanner_rows(tmp_path):
    t = Thread(RATE_LIMITS_2026)
    lines = record_file([t.respond(at("2026-09-29 15:00:01"), 100, 40, 10, 0, cache_write=60)])
    write(revision_path(tmp_path, "2026-09-29T23-00-00", T), lines)
    rows, _ = scan_home(tmp_path)
    assert [r[CACHE_WRITE] for r in rows] == [60]


def test_r16_a_cursor_of_the_previous_state_version_is_read_again_quietly(tmp_path):
    t = Thread(RATE_LIMITS_2026)
    lines = record_file([t.respond(at("2026-09-29 15:00:01"), 100, 40, 10, 0, cache_write=60)])
    path = write(revision_path(tmp_path, "2026-09-29T23-00-00", T), lines)
    old = {"meta": [T, None, None, None, False, None, False], "prev_total": [1, 0, 1, 0, 2]}
    stat = path.stat()
    cursors = {path.name: Cursor(stat.st_size + 1, stat.st_mtime_ns, 10, old)}
    plan = ReadPlan(tmp_path, cursors)
    rows = [r for result in plan.results(workers=1) for r in result.rows]
    assert summed(rows) == (100, 40, 10, 0) and plan.stats.problems == []


# -- R18: V2 subagent prefixes and guardian reviews ------------------------------------------------


def parent_history() -> tuple[list[dict], Thread]:
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(at("2026-09-29 15:00:00"), P, "0.159.0", ordinal=0),
        event(at("2026-09-29 15:00:01"), "task_started", turn_id="p1", ordinal=1),
        turn_2026(at("2026-09-29 15:00:01.1"), "gpt-5.5", ordinal=2),
        t.respond(at("2026-09-29 15:00:10"), 1000, 100, 100, 10, ordinal=3),
        trigger(at("2026-09-29 15:00:11"), True, ordinal=4),  # a marker inside the prefix
        t.respond(at("2026-09-29 15:00:20"), 2000, 100, 200, 20, ordinal=5),
    ]
    return lines, t


def child_meta(ts: str, **payload) -> dict:
    return meta_2026(
        ts,
        C,
        "0.159.0",
        ordinal=0,
        session_id=P,
        thread_source="subagent",
        source=spawn_source(P),
        **payload,
    )


def restamped(lines: list[dict], ts: str) -> list[dict]:
    out = copy.deepcopy(lines)
    for x in out:
        x["timestamp"] = ts
    return out


def test_r18_rule1_prefix_ends_at_the_first_line_reaching_the_start_by_position():
    copied, t = parent_history()
    own = Thread(RATE_LIMITS_2026, total=t.total)
    lines = [
        child_meta(at("2026-09-29 15:01:00"), subagent_history_start_ordinal=6),
        copied[1],  # a head line without an ordinal is inherited too
        *restamped(copied[1:], at("2026-09-29 15:01:00")),
        event(at("2026-09-29 15:01:00.5"), "task_started", turn_id="c1", ordinal=6),
        own.respond(at("2026-09-29 15:01:00.6"), 30, 0, 3, 0, ordinal=7),
        own.respond(at("2026-09-29 15:01:00.7"), 40, 0, 4, 0, ordinal=5),  # reused: still own
    ]
    del lines[1]["ordinal"]
    _, responses = feed_all(lines)
    assert summed(responses) == (70, 0, 7, 0)


def test_r18_rule2_copied_meta_then_trigger_turn_ends_the_prefix(tmp_path):
    copied, t = parent_history()
    own = Thread(RATE_LIMITS_2026, total=t.total)
    spawn = at("2026-09-29 15:01:00")
    lines = [
        child_meta(spawn),
        *restamped(copied, spawn),  # the parent's meta, and a trigger_turn: true of its own
        trigger(spawn, False, kind="inter_agent_communication"),
        trigger(spawn, True),
        event(spawn, "task_started", turn_id="c1"),
        own.respond(spawn, 30, 0, 3, 0),
    ]
    # The copied marker is the first trigger after the copied meta: by rule 2 the prefix ends
    # there, so the parent's second response is taken as the child's; rule 1 (the start ordinal)
    # wins when the meta has one.
    _, responses = feed_all(lines)
    assert summed(responses) == (2000 + 30, 100, 203, 20)
    lines[0] = child_meta(spawn, subagent_history_start_ordinal=6)
    for i, x in enumerate(lines[-4:]):
        x["ordinal"] = 6 + i
    _, responses = feed_all(lines)
    assert summed(responses) == (30, 0, 3, 0)


def test_r18_a_paginated_child_with_one_meta_copied_nothing():
    own = Thread(RATE_LIMITS_2026)
    spawn = at("2026-09-29 15:01:00")
    lines = [
        child_meta(spawn, history_mode="paginated"),
        event(spawn, "task_started", turn_id="c1"),
        own.respond(at("2026-09-29 15:01:00.4"), 30, 0, 3, 0),  # in the spawn second: own
    ]
    _, responses = feed_all(lines)
    assert summed(responses) == (30, 0, 3, 0)


def test_r18_a_paginated_child_whose_second_line_is_a_token_count_copied_nothing():
    own = Thread(RATE_LIMITS_2026)
    spawn = at("2026-09-29 15:01:00")
    lines = [
        child_meta(spawn, history_mode="paginated"),
        own.respond(at("2026-09-29 15:01:00.4"), 30, 0, 3, 0),  # in the spawn second
    ]
    parser, responses = feed_all(lines)
    assert summed(responses) == (30, 0, 3, 0) and parser.prefix == "own"


def test_r18_guardian_review_copies_nothing_and_belongs_to_its_root(tmp_path):
    own = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(
            at("2026-09-29 15:02:00"),
            G,
            "0.159.0",
            session_id=P,
            parent_thread_id=P,
            thread_source="guardian_review",
            source={"subagent": {"other": "guardian"}},
        ),
        settings_applied(at("2026-09-29 15:02:00.1")),  # no service_tier in a review's settings
        turn_2026(at("2026-09-29 15:02:00.2"), "codex-auto-review"),
        own.respond(at("2026-09-29 15:02:00.5"), 900, 0, 20, 0),
    ]
    write(revision_path(tmp_path, "2026-09-29T23-02-00", G), lines)
    rows, _ = scan_home(tmp_path)
    assert [(r[MODEL], r[TIER], r[SESSION], *r[3:4]) for r in rows] == [
        ("codex-auto-review", "unknown", session_of(P), 900)
    ]


# -- two misses found on real logs -----------------------------------------------------------------


def test_replay_stamped_at_the_meta_line_after_the_payload_time_is_not_counted(tmp_path):
    """A subagent whose parent log is absent replays the parent's history at the time of its meta
    line, seconds after the payload's own timestamp."""
    copied, t = parent_history()
    own = Thread(RATE_LIMITS_2026, total=t.total)
    line_time = at("2026-09-29 15:01:03.2")
    first = child_meta(line_time)
    first["payload"]["timestamp"] = at("2026-09-29 15:01:00.1")
    for x in copied:
        del x["ordinal"]
    lines = [
        first,
        *restamped(copied[1:4] + copied[5:], line_time),  # no trigger: told by time (R10)
        turn_2026(at("2026-09-29 15:01:04"), "gpt-5.5-mini"),
        own.respond(at("2026-09-29 15:01:20"), 30, 0, 3, 0),
    ]
    write(revision_path(tmp_path, "2026-09-29T23-01-00", C), lines)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (30, 0, 3, 0)


def test_a_token_count_with_another_key_order_in_a_compact_file_is_counted(tmp_path):
    """The codex-usage-tracker accounting fixture's shape: the first line in Codex's key order, a
    token_count whose "type" comes before "timestamp"; 515 tokens, not 0."""
    t = Thread(RATE_LIMITS_2026)
    row = t.respond(at("2026-09-29 15:00:05"), 400, 100, 115, 15)
    reordered = {"type": row["type"], "timestamp": row["timestamp"], "payload": row["payload"]}
    lines = [
        meta_2026(at("2026-09-29 15:00:00"), T, "0.159.0"),
        turn_2026(at("2026-09-29 15:00:01"), "gpt-5.5"),
        reordered,
    ]
    write(revision_path(tmp_path, "2026-09-29T23-00-00", T), lines)
    rows, _ = scan_home(tmp_path)
    assert [(r[3] + r[6], r[TS_MS]) for r in rows] == [(515, ms(at("2026-09-29 15:00:05")))]


def test_response_record_state_survives_a_json_round_trip():
    """A record waiting at the end of a read is saved in the cursor and read back."""
    lines = record_file(
        [
            token_usage_record(
                at("2026-09-29 15:00:00"), usage(7, 0, 1, 0, cache_write=2), thread_id=T
            )
        ]
    )
    parser = RolloutParser()
    for raw in encode(lines).splitlines():
        assert parser.feed(raw) is None
    again = RolloutParser.from_state(orjson.loads(orjson.dumps(parser.to_state())))
    waiting = parser.finish()
    assert again.finish() == waiting and len(waiting) == 1
