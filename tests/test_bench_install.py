"""bench/install.py's cold-start part finds the table's first row, and takes starts in turns."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.install import FIRST_ROW, paired_starts
from tests.test_report_table import piped_home

CODEXTIME = Path(sys.executable).parent / "codextime"


def test_the_first_row_is_a_dated_row_not_a_heading():
    assert FIRST_ROW.match(b"2026-03-01          280.9M      $326.06")
    for line in (b"Day    Total", b"DEMO DATA: synthetic logs", b"Codex token usage by day (UTC)"):
        assert not FIRST_ROW.match(line)


def test_paired_starts_time_each_command_in_turns(tmp_path):
    home = piped_home(tmp_path)
    seconds = paired_starts({"a": CODEXTIME, "b": CODEXTIME}, home, 3)
    assert list(seconds) == ["a", "b"]
    assert all(len(taken) == 3 and all(0 < s < 30 for s in taken) for taken in seconds.values())
