"""The reading bar: on a terminal only, and only once a read has lasted ``BAR_AFTER`` seconds,
so a small report never pays for making it."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from collector import render
from tests.test_report_table import piped_home

ROOT = Path(__file__).resolve().parent.parent


class TerminalStderr(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal_err(monkeypatch) -> io.StringIO:
    """A stderr that says it is a terminal, and an err console drawing on it."""
    shown = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", shown)
    monkeypatch.setattr(
        render, "err", render._LazyConsole(file=shown, force_terminal=True, width=80)
    )
    return shown


def test_a_short_read_draws_no_bar(monkeypatch):
    shown = terminal_err(monkeypatch)
    with render.progress("Reading Codex logs") as update:
        update(10, 100)
        update(100, 100)
    assert shown.getvalue() == ""
    assert render.err._console is None  # not even a console made


def test_a_read_that_lasts_draws_the_bar_and_takes_it_away(monkeypatch):
    shown = terminal_err(monkeypatch)
    monkeypatch.setattr(render, "BAR_AFTER", 0)
    with render.progress("Reading Codex logs") as update:
        update(10, 100)
        drawn = shown.getvalue()
        update(100, 100)
    assert "Reading Codex logs" in drawn and "10/100 bytes" in drawn
    assert shown.getvalue().count("\x1b[2K") > drawn.count("\x1b[2K")  # erased when done


def test_a_piped_stderr_gets_no_bar_at_all(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(render, "BAR_AFTER", 0)
    with render.progress("Reading Codex logs") as update:
        assert update is None


def test_a_small_report_on_a_terminal_loads_no_progress_display(tmp_path):
    """stdout and stderr on a terminal: the table is styled, and the read ends before a bar."""
    listing = tmp_path / "modules.txt"
    program = (
        "import sys\n"
        "home, listing = sys.argv[1:]\n"
        "sys.argv = ['codextime', 'report', 'daily', '-z', 'UTC', '--codex-home', home]\n"
        "from collector.commands.entry import run_command_line\n"
        "run_command_line()\n"
        "open(listing, 'w').write(' '.join(sorted(sys.modules)))\n"
    )
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    with subprocess.Popen(
        [sys.executable, "-c", program, str(piped_home(tmp_path)), str(listing)],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=ROOT,
    ) as process:
        os.close(follower)
        shown = b""
        while chunk := _read(leader):
            shown += chunk
        assert process.wait(timeout=60) == 0, shown
    os.close(leader)
    assert b"\x1b[1m2026-03-01" in shown
    modules = listing.read_text().split()
    assert "rich.console" in modules and "rich.progress" not in modules


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal closes with the process
        return b""
