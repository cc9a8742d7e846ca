"""The ``codextime`` process: run the command line, then end without the interpreter's teardown.

A plain ``codextime report ...`` (the command people time) is run straight from its options,
without loading typer or building the whole command-line app: that is about a sixth of a small
report's time. "Plain" means options and values this module can read with certainty, exactly as
typer reads them (``quick_report``); anything else (help, a misspelt or repeated option, a missing
or odd value, an unknown period) goes to the full app, so help and errors are typer's own, word for
word. tests/test_cli.py checks both paths parse, print and fail alike.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from store.errors import UserError

#: The report's options as collector/cli.py declares them: the parameter each sets, its spellings
#: and how its value is read (None: a flag). A test holds this table to the declaration.
REPORT_OPTIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "codex_home": (("--codex-home",), "path"),
    "db": (("--db", "-d"), "text"),
    "account": (("--account",), "text"),
    "timezone": (("--timezone", "-z"), "text"),
    "since": (("--since", "-s"), "text"),
    "until": (("--until", "-u"), "text"),
    "last_count": (("--last", "-n"), "count"),
    "json": (("--json", "-j"), None),
    "rates": (("--rates",), "path"),
}
SPELLINGS = {flag: (name, kind) for name, (flags, kind) in REPORT_OPTIONS.items() for flag in flags}
#: A value read the same by us and by typer's integer type (int() alone also takes "+3", " 3",
#: "3_0" and other digits: those go to typer).
COUNT = re.compile(r"[0-9]{1,9}")


def main() -> None:
    """The ``codextime`` console command."""
    end_process(run_command_line)


def run_command_line() -> None:
    """A plain report straight from its options, anything else through the typer app."""
    options = quick_report(sys.argv[1:])
    if options is None:
        from collector.cli import app

        app()
        return
    from collector.commands.reporting import report

    with one_line_errors():
        report(**options)


def quick_report(args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``reporting.report`` for ``args`` (the words after
    ``codextime``) when they are a plain report, read as typer would read them; else None."""
    if not args or args[0] != "report" or _completion_requested():
        return None
    from pathlib import Path

    from collector.commands.reporting import Period

    options: dict[str, Any] = {}
    period = None
    words = iter(args[1:])
    for word in words:
        if period is None and word in {p.value for p in Period}:
            period = Period(word)
            continue
        name, kind = SPELLINGS.get(word, (None, None))
        if name is None or name in options:
            return None  # help, an unknown or repeated option, an extra argument, --name=value
        if kind is None:
            options[name] = True
            continue
        value = next(words, "")
        if not value or value.startswith("-") or "\0" in value:
            return None
        if kind == "count":
            if not COUNT.fullmatch(value):
                return None
            options[name] = int(value)
        elif kind == "path":
            # typer's paths must be readable when they exist; it says so itself when not.
            if os.path.exists(value) and not os.access(value, os.R_OK):
                return None
            options[name] = Path(value)
        else:
            options[name] = value
    if period is None:
        return None
    return {"period": period, **options}


def _completion_requested() -> bool:
    """Whether a shell asks for completions (typer's ``_<PROG>_COMPLETE`` variable)."""
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


@contextmanager
def one_line_errors(exit_with: Callable[[int], BaseException] = SystemExit):
    """A ``UserError`` shown as one line on stderr and the exit status 2, never a traceback;
    a KeyboardInterrupt ends with 130 and a closed stdout with 1, as under typer. Any other
    exception is a bug and keeps its traceback."""
    from collector.render import print_error

    try:
        yield
    except UserError as exc:
        print_error(str(exc))
        raise exit_with(2) from None
    except KeyboardInterrupt:
        raise exit_with(130) from None
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        raise exit_with(1) from None


def end_process(command: Callable[[], object]) -> None:
    """Run ``command``, then end the process once its output is flushed, without the
    interpreter's teardown, which only frees what the OS frees anyway (15-20 ms, a tenth of a
    small report). A command that left other threads running ends the usual way."""
    try:
        command()
        code = 0
    except SystemExit as exc:
        code = exc.code
    # Threads are started through threading: while nothing loaded it there are none (loading it
    # only to ask would cost every start about 4M instructions).
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    if "logging" in sys.modules:  # imported by the commands that log (serve) only
        sys.modules["logging"].shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away: what it got is what it wanted
        code = code or 0
    os._exit(code or 0)
