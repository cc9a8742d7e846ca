"""R1: which files under CODEX_HOME are read, and how copies of one rollout collapse.

Layout (doc section 1): ``sessions/YYYY/MM/DD/rollout-<stamp>-<uuid>.jsonl[.zst]`` and a flat
``archived_sessions/``; plain beats zst, active beats archived; nothing else is ever read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.discover import CodexHomeError, default_codex_home, discover, rollout_id
from tests.rollout import (
    RATE_LIMITS_050,
    Thread,
    at,
    encode,
    meta,
    ms,
    parts,
    scan_home,
    session_path,
    summed,
    token_event,
    token_info,
    turn,
    usage,
    write,
)

A = "019a0000-0000-7000-8000-0000000000a1"
B = "019a0000-0000-7000-8000-0000000000b2"
C = "019a0000-0000-7000-8000-0000000000c3"
D = "019a0000-0000-7000-8000-0000000000d4"


def rollout(sid: str, day: str, calls: list[tuple[int, int, int, int]]) -> list[dict]:
    """A small 0.47-style rollout of ``sid`` on ``day`` with one response per call."""
    t = Thread(RATE_LIMITS_050)
    lines = [meta(at(f"{day} 10:00:00"), sid), turn(at(f"{day} 10:00:01"), "gpt-5-codex")]
    for i, call in enumerate(calls):
        lines.append(t.respond(at(f"{day} 10:0{i + 1}:00"), *call))
        lines.append(t.reemit(at(f"{day} 10:0{i + 1}:00.5")))
    return lines


CALLS = [(1000, 200, 100, 10), (2000, 1500, 50, 0), (3000, 2800, 70, 30)]
CALLS_SUM = (6000, 4500, 220, 40)


def decoy_usage_line() -> bytes:
    """A token_count row that would add 10^6 input tokens if a non-rollout file were read."""
    u = usage(1_000_000, 0, 1, 0)
    return encode([token_event(at("2025-10-24 12:00:00"), token_info(u, u))])


# -- what is found -------------------------------------------------------------------------------


def test_r1_finds_nested_sessions_archived_and_zst_and_nothing_else(tmp_path):
    home = tmp_path
    write(session_path(home, "2025-10-24T19-00-00", A), rollout(A, "2025-10-24", CALLS[:1]))
    write(
        session_path(home, "2025-10-25T19-00-00", B).with_suffix(".jsonl.zst"),
        rollout(B, "2025-10-25", CALLS[1:2]),
        compress=True,
    )
    write(
        session_path(home, "2025-09-01T19-00-00", C, archived=True),
        rollout(C, "2025-09-01", CALLS[2:3]),
    )
    write(
        session_path(home, "2025-08-01T19-00-00", D, archived=True).with_suffix(".jsonl.zst"),
        rollout(D, "2025-08-01", [(5, 0, 5, 0)]),
        compress=True,
    )
    decoy = decoy_usage_line()
    day_dir = home / "sessions" / "2025" / "10" / "24"
    for name in (
        "history.jsonl",
        "session_index.jsonl",
        "auth.json",
        "state_5.sqlite",
        "log/codex-tui.log",
        "sessions/2025/10/24/notes.jsonl",
        "sessions/2025/10/24/rollout-2025-10-24T19-00-00-x.json",
        "sessions/2025/10/24/rollout-2025-10-24T19-00-00-x.jsonl.bak",
        "sessions/2025/10/24/history.jsonl",
        "archived_sessions/old.jsonl",
    ):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(decoy)
    assert day_dir.is_dir()
    found = discover(home)
    assert sorted(f.key for f in found.files) == sorted(
        f"rollout-{s}-{i}.jsonl"
        for s, i in (
            ("2025-10-24T19-00-00", A),
            ("2025-10-25T19-00-00", B),
            ("2025-09-01T19-00-00", C),
            ("2025-08-01T19-00-00", D),
        )
    )
    assert (found.collapsed, found.problems) == (0, [])
    rows, _ = scan_home(home)
    assert summed(rows) == (6005, 4500, 225, 40)


def test_r1_a_home_without_sessions_is_empty_not_an_error(tmp_path):
    found = discover(tmp_path)
    assert (found.files, found.collapsed, found.problems) == ([], 0, [])
    assert scan_home(tmp_path)[0] == []


# -- copies collapse -----------------------------------------------------------------------------


def test_r1_plain_and_zst_siblings_collapse_and_the_plain_file_wins(tmp_path):
    """The plain file is still being appended; its compressed sibling is an older snapshot."""
    plain = write(session_path(tmp_path, "2025-10-24T19-00-00", A), rollout(A, "2025-10-24", CALLS))
    write(plain.with_suffix(".jsonl.zst"), rollout(A, "2025-10-24", CALLS[:2]), compress=True)
    found = discover(tmp_path)
    assert [f.path for f in found.files] == [plain]
    assert found.collapsed == 1
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == CALLS_SUM
    assert (stats.collapsed, stats.duplicates) == (1, 0)


def test_r1_active_and_archived_copies_collapse_and_the_active_copy_wins(tmp_path):
    active = write(
        session_path(tmp_path, "2025-10-24T19-00-00", A), rollout(A, "2025-10-24", CALLS)
    )
    write(
        session_path(tmp_path, "2025-10-24T19-00-00", A, archived=True),
        rollout(A, "2025-10-24", CALLS[:1]),
    )
    found = discover(tmp_path)
    assert [f.path for f in found.files] == [active]
    assert found.collapsed == 1
    assert summed(scan_home(tmp_path)[0]) == CALLS_SUM


def test_r1_active_zst_beats_an_archived_plain_copy(tmp_path):
    packed = write(
        session_path(tmp_path, "2025-10-24T19-00-00", A).with_suffix(".jsonl.zst"),
        rollout(A, "2025-10-24", CALLS),
        compress=True,
    )
    write(
        session_path(tmp_path, "2025-10-24T19-00-00", A, archived=True),
        rollout(A, "2025-10-24", CALLS[:1]),
    )
    assert [f.path for f in discover(tmp_path).files] == [packed]
    assert summed(scan_home(tmp_path)[0]) == CALLS_SUM


def test_r1_four_copies_of_one_rollout_count_once(tmp_path):
    lines = rollout(A, "2025-10-24", CALLS)
    active = session_path(tmp_path, "2025-10-24T19-00-00", A)
    archived = session_path(tmp_path, "2025-10-24T19-00-00", A, archived=True)
    for path in (active, archived):
        write(path, lines)
        write(path.with_suffix(".jsonl.zst"), lines, compress=True)
    found = discover(tmp_path)
    assert [f.path for f in found.files] == [active]
    assert found.collapsed == 3
    rows, _ = scan_home(tmp_path)
    assert [parts(r) for r in rows] == CALLS


def test_r1_archived_only_and_zst_only_rollouts_are_counted(tmp_path):
    write(
        session_path(tmp_path, "2025-10-24T19-00-00", A, archived=True),
        rollout(A, "2025-10-24", CALLS[:1]),
    )
    write(
        session_path(tmp_path, "2025-10-10T19-00-00", B).with_suffix(".jsonl.zst"),
        rollout(B, "2025-10-10", CALLS[1:]),
        compress=True,
    )
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == CALLS_SUM
    assert (stats.files, stats.collapsed) == (2, 0)


def test_r1_and_r9_directory_date_does_not_decide_anything(tmp_path):
    """A rollout filed under the writer's local date (the day before in UTC) is still counted
    at its line timestamps, and a misfiled copy in another day folder collapses by name."""
    lines = rollout(A, "2025-10-24", CALLS)
    filed = write(session_path(tmp_path, "2025-10-25T01-00-00", A), lines)
    write(tmp_path / "sessions" / "2025" / "10" / "24" / filed.name, lines)
    rows, stats = scan_home(tmp_path)
    assert [r[0] for r in rows] == [
        ms(at("2025-10-24 10:01:00")),
        ms(at("2025-10-24 10:02:00")),
        ms(at("2025-10-24 10:03:00")),
    ]
    assert stats.collapsed == 1


# -- a wrong CODEX_HOME --------------------------------------------------------------------------


def test_missing_codex_home_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope" / ".codex"
    with pytest.raises(CodexHomeError, match=r"does not exist .*CODEX_HOME"):
        discover(missing)
    with pytest.raises(CodexHomeError) as info:
        discover(missing)
    assert str(missing) in str(info.value)


def test_codex_home_that_is_a_file_is_a_clear_error(tmp_path):
    afile = tmp_path / "codex-home.txt"
    afile.write_text("not a folder")
    with pytest.raises(CodexHomeError, match="is not a directory"):
        discover(afile)


def test_codex_home_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "elsewhere"))
    assert default_codex_home() == tmp_path / "elsewhere"
    monkeypatch.delenv("CODEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_codex_home() == tmp_path / "home" / ".codex"


def test_cli_with_a_wrong_codex_home_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "missing"
    result = CliRunner().invoke(
        app, ["report", "daily", "--codex-home", str(missing), "--timezone", "UTC", "--json"]
    )
    assert result.exit_code == 2
    assert "error:" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


# -- what cannot be read ---------------------------------------------------------------------


def test_dangling_symlink_is_one_problem_and_the_rest_is_counted(tmp_path):
    write(session_path(tmp_path, "2025-10-24T19-00-00", A), rollout(A, "2025-10-24", CALLS))
    link = session_path(tmp_path, "2025-10-24T19-30-00", B)
    link.symlink_to(tmp_path / "vanished.jsonl")
    found = discover(tmp_path)
    assert len(found.problems) == 1 and str(link) in found.problems[0]
    rows, stats = scan_home(tmp_path)
    assert summed(rows) == CALLS_SUM
    assert len(stats.problems) == 1


def test_unreadable_day_directory_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    """Simulated (the tests may run as root, whom chmod does not stop)."""
    write(session_path(tmp_path, "2025-10-24T19-00-00", A), rollout(A, "2025-10-24", CALLS))
    locked = session_path(tmp_path, "2025-10-25T19-00-00", B)
    write(locked, rollout(B, "2025-10-25", CALLS))
    real_scandir = os.scandir

    def guarded(path="."):
        if Path(path) == locked.parent:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    found = discover(tmp_path)
    assert len(found.problems) == 1 and "Permission denied" in found.problems[0]
    assert summed(scan_home(tmp_path)[0]) == CALLS_SUM


def test_r17_timer_sidecars_and_their_temp_files_are_not_logs(tmp_path):
    """``*.jsonl.timers.json`` and ``*.timers.json.tmp-*`` sit next to rollouts, hold a private
    prompt and no usage: exact suffixes leave them alone."""
    log = session_path(tmp_path, "2026-09-29T10-00-00", "01a0eda9-0000-7000-8000-00000000000c")
    log.parent.mkdir(parents=True)
    log.write_bytes(b"")
    for name in (
        log.name + ".timers.json",
        log.name + ".timers.json.tmp-0b4a8b0e-0000-4000-8000-000000000000",
        log.name + ".zst.bak",
    ):
        (log.parent / name).write_text('[{"timer": {"prompt": "private"}}]')
    assert [f.path.name for f in discover(tmp_path).files] == [log.name]


def test_r1_rollout_id_is_the_uuid_after_the_underscore_else_the_thread():
    thread = "01a0bd11-0000-7000-8000-000000000001"
    rollout = "01a0c0f2-0000-7000-8000-000000000002"
    assert rollout_id(f"rollout-2026-09-20T10-12-03-{thread}.jsonl") == thread
    assert rollout_id(f"rollout-2026-09-20T10-12-03-{thread}_{rollout}.jsonl") == rollout
