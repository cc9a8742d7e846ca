"""R10 and R11: forks, subagents, resumes and copies across files (format doc sections 5 and 6).

One parent conversation P is used throughout (2025-10-24, UTC):

    10:00:05  r1  (100, 20, 10, 5)      total (100, 20, 10, 5)     + a re-emit
    10:01:00  r2  (200, 50, 20, 0)      total (300, 70, 30, 5)     + a re-emit
    11:30:00  r3  (1000, 0, 100, 0)     total (1300, 70, 130, 5)   (after the fork and spawn)

so P alone counts (1300, 70, 130, 5). Children copy P's history up to r2 (total (300, 70, 30, 5))
and then make calls of their own; only those may be counted (R10).
"""

from __future__ import annotations

import copy

import pytest

from store.fields import MODEL, SESSION
from tests.rollout import (
    RATE_LIMITS_050,
    RATE_LIMITS_2026,
    Thread,
    at,
    event,
    feed_all,
    meta,
    meta_2026,
    parts,
    scan_home,
    session_of,
    session_path,
    spawn_source,
    summed,
    token_event,
    token_info,
    turn,
    turn_2026,
    usage,
    write,
)

P = "019a1111-0000-7000-8000-00000000000a"
F = "019a2222-0000-7000-8000-00000000000f"
S = "019a3333-0000-7000-8000-000000000005"
S2 = "019a4444-0000-7000-8000-000000000052"

P_ALONE = (1300, 70, 130, 5)
FORK_OWN = (300 + 50, 100 + 40, 30 + 5, 10 + 0)
SUB_OWN = (50 + 60, 0 + 40, 5 + 6, 0 + 1)


def plus(*vectors: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(column) for column in zip(*vectors, strict=True))


def parent() -> tuple[list[dict], list[dict], Thread]:
    """P's lines, the prefix a child copies (everything up to r2's re-emit), and P's counter."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta(at("2025-10-24 10:00:00"), P),
        turn(at("2025-10-24 10:00:01"), "gpt-5-codex"),
        token_event(at("2025-10-24 10:00:01.5"), None, rate_limits=RATE_LIMITS_050),
        t.respond(at("2025-10-24 10:00:05"), 100, 20, 10, 5),
        t.reemit(at("2025-10-24 10:00:05.3")),
        turn(at("2025-10-24 10:00:50"), "gpt-5-codex"),
        t.respond(at("2025-10-24 10:01:00"), 200, 50, 20, 0),
        t.reemit(at("2025-10-24 10:01:00.2")),
    ]
    prefix = copy.deepcopy(lines)
    lines += [
        turn(at("2025-10-24 11:29:50"), "gpt-5-codex"),
        t.respond(at("2025-10-24 11:30:00"), 1000, 0, 100, 0),
    ]
    return lines, prefix, t


def restamp(lines: list[dict], second: str) -> list[dict]:
    """The replay burst: every copied line stamped within one second (``second`` + i ms)."""
    out = copy.deepcopy(lines)
    for i, x in enumerate(out):
        x["timestamp"] = at(f"{second}.{500 + i:03d}")
    return out


def fork_lines(prefix: list[dict], *, burst: bool = False) -> list[dict]:
    """A Desktop-branch fork F of P at 11:00:00: own meta, P's meta and history, own calls."""
    copied = restamp(prefix, "2025-10-24 11:00:00") if burst else copy.deepcopy(prefix)
    t = Thread(RATE_LIMITS_050, total=usage(300, 70, 30, 5))
    return [
        meta(at("2025-10-24 11:00:00"), F, forked_from_id=P, source="vscode"),
        *copied,  # starts with P's own session_meta
        turn(at("2025-10-24 11:00:10"), "gpt-5"),
        t.respond(at("2025-10-24 11:00:20"), 300, 100, 30, 10),
        t.reemit(at("2025-10-24 11:00:20.1")),
        t.respond(at("2025-10-24 11:02:00"), 50, 40, 5, 0),
    ]


def subagent_lines(prefix: list[dict]) -> list[dict]:
    """A subagent S spawned by P at 10:02:00.4: P's history replayed in the spawn second."""
    t = Thread(RATE_LIMITS_050, total=usage(300, 70, 30, 5))
    return [
        meta(at("2025-10-24 10:02:00.4"), S, source=spawn_source(P)),
        *restamp(prefix[1:], "2025-10-24 10:02:00"),
        turn(at("2025-10-24 10:02:00.9"), "gpt-5-codex-mini"),  # its own first turn
        t.respond(at("2025-10-24 10:02:10"), 50, 0, 5, 0),
        t.reemit(at("2025-10-24 10:02:10.5")),
        t.respond(at("2025-10-24 10:02:40"), 60, 40, 6, 1),
    ]


def fork_path(home, name_id, stamp="2025-10-24T20-00-00"):
    return session_path(home, stamp, name_id)


# -- R10: forks that keep the parent's original timestamps ------------------------------------


def test_r10_desktop_fork_with_original_timestamps_parent_present(tmp_path):
    p_lines, prefix, _ = parent()
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(fork_path(tmp_path, F), fork_lines(prefix))
    rows, _ = scan_home(tmp_path)
    by_session = {}
    for r in rows:
        by_session.setdefault(r[SESSION], []).append(r)
    assert summed(by_session[session_of(P)]) == P_ALONE
    assert summed(by_session[session_of(F)]) == FORK_OWN  # a fork is a session of its own
    assert summed(rows) == (1650, 210, 165, 15)
    assert {r[MODEL] for r in by_session[session_of(F)]} == {"gpt-5"}


def test_r10_desktop_fork_with_original_timestamps_parent_missing(tmp_path):
    _, prefix, _ = parent()
    write(fork_path(tmp_path, F), fork_lines(prefix))
    rows, _ = scan_home(tmp_path)
    assert [parts(r) for r in rows] == [(300, 100, 30, 10), (50, 40, 5, 0)]
    assert {r[SESSION] for r in rows} == {session_of(F)}


@pytest.mark.parametrize("with_parent", [True, False], ids=["parent-present", "parent-missing"])
def test_r10_fork_whose_copy_is_stamped_in_the_fork_second(tmp_path, with_parent):
    p_lines, prefix, _ = parent()
    if with_parent:
        write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(fork_path(tmp_path, F), fork_lines(prefix, burst=True))
    rows, _ = scan_home(tmp_path)
    fork_rows = [r for r in rows if r[SESSION] == session_of(F)]
    assert summed(fork_rows) == FORK_OWN
    assert summed(rows) == (plus(P_ALONE, FORK_OWN) if with_parent else FORK_OWN)


def test_r10_fork_first_own_row_without_last_counts_from_the_copied_baseline():
    """Parent missing, the child's first own row has last {}: delta = total - copied total."""
    _, prefix, _ = parent()
    lines = fork_lines(prefix)[:-3]  # meta + copy + own turn_context
    lines.append(token_event(at("2025-10-24 11:00:20"), token_info(usage(700, 170, 70, 5), {})))
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(400, 100, 40, 0)]


def test_r10_parser_alone_skips_a_desktop_fork_copy():
    _, prefix, _ = parent()
    parser, responses = feed_all(fork_lines(prefix))
    assert summed(responses) == FORK_OWN
    assert parser.meta.thread_id == F  # the embedded parent meta does not take over
    assert parser.skipped["copied from parent"] == 2


# -- R10: subagents whose replay is stamped in the spawn second --------------------------------


def test_r10_subagent_replay_burst_parent_present(tmp_path):
    p_lines, prefix, _ = parent()
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(fork_path(tmp_path, S, "2025-10-24T19-02-00"), subagent_lines(prefix))
    rows, _ = scan_home(tmp_path)
    own = [r for r in rows if r[MODEL] == "gpt-5-codex-mini"]
    assert [parts(r) for r in own] == [(50, 0, 5, 0), (60, 40, 6, 1)]
    assert summed(rows) == plus(P_ALONE, SUB_OWN)
    # A subagent's usage belongs to the session of its root.
    assert {r[SESSION] for r in rows} == {session_of(P)}


def test_r10_subagent_replay_burst_parent_missing(tmp_path):
    _, prefix, _ = parent()
    write(fork_path(tmp_path, S, "2025-10-24T19-02-00"), subagent_lines(prefix))
    rows, _ = scan_home(tmp_path)
    assert [parts(r) for r in rows] == [(50, 0, 5, 0), (60, 40, 6, 1)]
    assert {r[SESSION] for r in rows} == {session_of(P)}


def test_r10_subagent_of_a_subagent_belongs_to_the_root_session(tmp_path):
    p_lines, prefix, _ = parent()
    s_lines = subagent_lines(prefix)
    t = Thread(RATE_LIMITS_050, total=usage(410, 110, 41, 6))
    grandchild = [
        meta(at("2025-10-24 10:05:00.2"), S2, source=spawn_source(S, depth=2)),
        *restamp(s_lines[1:], "2025-10-24 10:05:00"),
        turn(at("2025-10-24 10:05:00.95"), "gpt-5-codex-mini"),
        t.respond(at("2025-10-24 10:05:30"), 7, 0, 3, 0),
    ]
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(fork_path(tmp_path, S, "2025-10-24T19-02-00"), s_lines)
    write(fork_path(tmp_path, S2, "2025-10-24T19-05-00"), grandchild)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (1300 + 110 + 7, 70 + 40, 130 + 11 + 3, 5 + 1)
    assert {r[SESSION] for r in rows} == {session_of(P)}


def test_r10_2026_subagent_with_thread_source_and_session_id_parent_missing(tmp_path):
    """2026 metas: thread_source "subagent", session_id = root, parent_thread_id at top level."""
    _, prefix, _ = parent()
    t = Thread(RATE_LIMITS_2026, total=usage(300, 70, 30, 5))
    lines = [
        meta_2026(
            at("2026-04-08 14:10:00.1"),
            S,
            "0.144.0",
            session_id=P,
            thread_source="subagent",
            parent_thread_id=P,
            agent_path="/root/worker",
            source=spawn_source(P),
        ),
        *restamp(prefix, "2026-04-08 14:10:00"),
        event(at("2026-04-08 14:10:00.9"), "task_started", turn_id="s1"),
        turn_2026(at("2026-04-08 14:10:00.95"), "gpt-5.4-mini"),
        t.respond(at("2026-04-08 14:10:15"), 900, 800, 90, 60),
    ]
    write(fork_path(tmp_path, S, "2026-04-08T22-10-00"), lines)
    rows, _ = scan_home(tmp_path)
    assert [(r[MODEL], *parts(r), r[SESSION]) for r in rows] == [
        ("gpt-5.4-mini", 900, 800, 90, 60, session_of(P))
    ]


# -- R10 fork rule 1: ordinals decide -----------------------------------------------------------


def ordinal_parent() -> tuple[list[dict], Thread]:
    """A >= 0.151 parent with an ordinal on every line; its copyable history is ordinals 0-7."""
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(at("2026-09-01 10:00:00"), P, "0.151.0", ordinal=0, session_id=P),
        event(at("2026-09-01 10:00:01"), "task_started", turn_id="u1", ordinal=1),
        turn_2026(at("2026-09-01 10:00:01.1"), "gpt-5.5", ordinal=2),
        t.respond(at("2026-09-01 10:00:20"), 1000, 0, 100, 50, ordinal=3),
        t.reemit(at("2026-09-01 10:00:20.1"), ordinal=4),
        event(at("2026-09-01 10:01:00"), "task_started", turn_id="u2", ordinal=5),
        turn_2026(at("2026-09-01 10:01:00.1"), "gpt-5.5", ordinal=6),
        t.respond(at("2026-09-01 10:01:30"), 2000, 900, 200, 100, ordinal=7),
    ]
    return lines, t


def ordinal_subagent(parent_lines: list[dict], *, spread: bool) -> list[dict]:
    """S spawned at 10:02:00.2 with subagent_history_start_ordinal 8 (copy = ordinals 1-7).

    ``spread``: the copy is stamped over four seconds, so timing alone would count part of it.
    Otherwise the copy is one burst and S's first own call follows 1.1 s after the spawn, where
    timing alone would take it for replay. Either way only the ordinals tell them apart.
    """
    t = Thread(RATE_LIMITS_2026, total=usage(3000, 900, 300, 150))
    copied = copy.deepcopy(parent_lines[1:])
    if spread:
        stamps = ["00.3", "00.9", "01.5", "02.1", "02.7", "03.3", "03.9"]
        own = ["04.0", "04.05", "20", "20.1", "50"]
    else:
        stamps = ["00.30", "00.31", "00.32", "00.33", "00.34", "00.35", "00.36"]
        own = ["00.4", "00.45", "01.3", "01.4", "30"]
    for x, s in zip(copied, stamps, strict=True):
        x["timestamp"] = at(f"2026-09-01 10:02:{s}")
    own = [at(f"2026-09-01 10:02:{s}") for s in own]
    return [
        meta_2026(
            at("2026-09-01 10:02:00.2"),
            S,
            "0.153.0",
            ordinal=0,
            session_id=P,
            thread_source="subagent",
            source=spawn_source(P),
            subagent_history_start_ordinal=8,
        ),
        *copied,  # ordinals 1..7: inherited
        event(own[0], "task_started", turn_id="s1", ordinal=8),
        turn_2026(own[1], "gpt-5.5-mini", ordinal=9),
        t.respond(own[2], 400, 100, 40, 4, ordinal=10),
        t.reemit(own[3], ordinal=11),
        t.respond(own[4], 500, 450, 20, 0, ordinal=12),
    ]


@pytest.mark.parametrize("spread", [True, False], ids=["spread-copy", "fast-first-call"])
@pytest.mark.parametrize("with_parent", [True, False], ids=["parent-present", "parent-missing"])
def test_r10_rule1_ordinals_below_subagent_history_start_are_inherited(
    tmp_path, with_parent, spread
):
    p_lines, _ = ordinal_parent()
    if with_parent:
        write(fork_path(tmp_path, P, "2026-09-01T18-00-00"), p_lines)
    write(fork_path(tmp_path, S, "2026-09-01T18-02-00"), ordinal_subagent(p_lines, spread=spread))
    rows, _ = scan_home(tmp_path)
    own = [parts(r) for r in rows if r[MODEL] == "gpt-5.5-mini"]
    assert own == [(400, 100, 40, 4), (500, 450, 20, 0)]
    parent_part = (3000, 900, 300, 150) if with_parent else (0, 0, 0, 0)
    assert summed(rows) == plus(parent_part, (900, 550, 60, 4))
    assert {r[SESSION] for r in rows} == {session_of(P)}


def test_r10_rule1_forked_from_ordinal_exclusive_for_a_2026_fork():
    p_lines, _ = ordinal_parent()
    t = Thread(RATE_LIMITS_2026, total=usage(3000, 900, 300, 150))
    copied = copy.deepcopy(p_lines)
    for x in copied:  # re-stamped over several seconds after the fork: only ordinals help
        x["timestamp"] = at(f"2026-09-01 11:00:0{x['ordinal']}")
    lines = [
        meta_2026(
            at("2026-09-01 11:00:00"),
            F,
            "0.153.0",
            ordinal=0,
            session_id=F,
            thread_source="user",
            forked_from_id=P,
            forked_from_ordinal_exclusive=8,
        ),
        *copied[1:],  # ordinals 1..7, stamped 11:00:01..07
        event(at("2026-09-01 11:00:09"), "task_started", turn_id="f1", ordinal=8),
        turn_2026(at("2026-09-01 11:00:09.1"), "gpt-5.5", ordinal=9),
        t.respond(at("2026-09-01 11:00:30"), 3100, 3000, 10, 0, ordinal=10),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(3100, 3000, 10, 0)]


# -- resumes: the same file, totals continue ---------------------------------------------------


def test_resumed_session_appending_days_later_counts_only_new_calls(tmp_path):
    p_lines, _, t = parent()
    p_lines += [
        turn(at("2025-10-27 08:00:00"), "gpt-5-codex"),  # `codex resume` three days later
        token_event(at("2025-10-27 08:00:00.5"), None, rate_limits=RATE_LIMITS_050),
        t.reemit(at("2025-10-27 08:00:01")),  # the rebuilt total, re-emitted: not usage
        t.respond(at("2025-10-27 08:00:30"), 4000, 3000, 40, 0),
    ]
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == (5300, 3070, 170, 5) == t.final
    assert len(rows) == 4


# -- R11: copies across files count once; genuine equal calls do not --------------------------


def test_r11_copy_under_another_file_name_and_id_counts_once(tmp_path):
    p_lines, _, _ = parent()
    other = "019a9999-0000-7000-8000-0000000000cc"
    twin = copy.deepcopy(p_lines)
    twin[0]["payload"]["id"] = other
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(session_path(tmp_path, "2025-10-24T19-00-00", other, archived=True), twin)
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == P_ALONE
    assert len(rows) == 3
    assert stats.duplicates == 3


def test_r11_same_id_under_another_file_name_counts_once(tmp_path):
    p_lines, _, _ = parent()
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(session_path(tmp_path, "2025-10-24T19-00-01", P, archived=True), p_lines[:-2])
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == P_ALONE


def test_r11_copy_with_a_rewritten_meta_counts_once(tmp_path):
    p_lines, _, _ = parent()
    other = "019a9999-0000-7000-8000-0000000000cd"
    twin = copy.deepcopy(p_lines)
    twin[0] = meta(at("2025-10-24 12:00:00"), other)  # copied later, under a new identity
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    write(session_path(tmp_path, "2025-10-24T21-00-00", other, archived=True), twin)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == P_ALONE


def test_r11_equal_per_call_vectors_with_different_totals_are_both_counted_in_one_file():
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta(at("2025-10-24 10:00:00"), P),
        turn(at("2025-10-24 10:00:01")),
        t.respond(at("2025-10-24 10:00:05"), 100, 0, 10, 0),
        t.respond(at("2025-10-24 10:00:09"), 100, 0, 10, 0),
        t.respond(at("2025-10-24 10:00:09"), 100, 0, 10, 0),  # same second, still genuine
    ]
    _, responses = feed_all(lines)
    assert summed(responses) == (300, 0, 30, 0)


def test_r11_two_sessions_with_equal_calls_at_the_same_instant_are_both_counted(tmp_path):
    """Same ms, same last vector, different totals: two genuine calls, never one."""
    stamp = at("2025-10-24 10:00:09.123")
    for sid, before in ((P, (0, 0, 0, 0)), (F, (5000, 100, 50, 0))):
        t = Thread(RATE_LIMITS_050, total=usage(*before))
        lines = [
            meta(at("2025-10-24 10:00:00"), sid),  # same start instant: one family
            turn(at("2025-10-24 10:00:01")),
            t.respond(stamp, 100, 0, 10, 0),
        ]
        write(fork_path(tmp_path, sid), lines)
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == (200, 0, 20, 0)
    assert stats.duplicates == 0


def test_r11_rows_without_totals_are_never_deduped_across_files(tmp_path):
    """Two subagents of P (one family), each a genuine call at the same ms with equal last
    vectors but no total_token_usage: R11 says never dedupe when totals are absent."""
    p_lines, _, _ = parent()
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    stamp = at("2025-10-24 10:03:00.250")
    for sid in (S, S2):
        lines = [
            meta(at("2025-10-24 10:02:00.4"), sid, source=spawn_source(P)),
            turn(at("2025-10-24 10:02:30"), "gpt-5-codex-mini"),
            token_event(stamp, token_info(None, usage(70, 10, 7, 1))),
        ]
        write(fork_path(tmp_path, sid, "2025-10-24T19-02-00"), lines)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == plus(P_ALONE, (70, 10, 7, 1), (70, 10, 7, 1))


# -- incremental reads: a child that appears after its parent was synced -----------------------


def scan_with_cursors(home, cursors=None):
    from collector.scan import ReadPlan

    plan = ReadPlan(home, cursors)
    rows, new = [], {}
    for result in plan.results(workers=1):
        rows += result.rows
        new.update(result.cursors)
    return rows, new


@pytest.mark.parametrize("kind", ["subagent", "fork-original-stamps", "fork-burst"])
def test_r10_child_appearing_after_its_parent_was_synced_counts_like_a_full_scan(tmp_path, kind):
    """The parent is unchanged on the second run (not re-read): the child's copy must still be
    recognised, so sync and a full scan agree."""
    p_lines, prefix, _ = parent()
    write(fork_path(tmp_path, P, "2025-10-24T19-00-00"), p_lines)
    first, cursors = scan_with_cursors(tmp_path)
    if kind == "subagent":
        child, sid, own = subagent_lines(prefix), S, SUB_OWN
    else:
        child, sid, own = fork_lines(prefix, burst=kind == "fork-burst"), F, FORK_OWN
    write(fork_path(tmp_path, sid, "2025-10-24T19-02-00"), child)
    second, _ = scan_with_cursors(tmp_path, cursors)
    full, _ = scan_with_cursors(tmp_path)
    assert summed(first) == P_ALONE
    assert summed(second) == own
    assert sorted(first + second) == sorted(full)


def test_r10_rule2_holds_when_the_parent_was_synced_before_and_only_its_end_is_read(tmp_path):
    """A fork whose copies are stamped after its start (only the parent's totals tell them): the
    parent was synced earlier, so this run reads only its new end; its whole history still has
    to be known to recognise the copies. Sync and a full scan agree."""
    p_lines, prefix, _ = parent()
    before_r3 = p_lines[: len(prefix)]
    write(fork_path(tmp_path, P, "2025-10-24T10-00-00"), before_r3)
    first, cursors = scan_with_cursors(tmp_path)
    write(fork_path(tmp_path, P, "2025-10-24T10-00-00"), p_lines)  # P goes on: r3
    child = fork_lines(prefix)
    late = restamp(child[1 : 1 + len(prefix)], "2025-10-24 11:00:03")  # copies, stamped late
    write(
        fork_path(tmp_path, F, "2025-10-24T11-00-00"), [child[0], *late, *child[1 + len(prefix) :]]
    )
    second, _ = scan_with_cursors(tmp_path, cursors)
    full, _ = scan_with_cursors(tmp_path)
    assert summed(full) == plus(P_ALONE, FORK_OWN)
    assert sorted(first + second) == sorted(full)
