"""The ``codextime`` process: run the command line, then end without the interpreter's teardown."""

from __future__ import annotations

import errno
import os
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

from store.errors import UserError


def main() -> None:
    """The ``codextime`` console command."""
    end_process(run_command_line)


def run_command_line() -> None:
    from collector.cli import app

    app()


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
    if threading.active_count() > 1:
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
