"""Sync after every Codex turn, through the ``notify`` program of Codex's config.toml.

Codex runs the top-level ``notify`` array of ``$CODEX_HOME/config.toml`` (program and arguments)
after each agent turn, with one more argument appended: a JSON payload that carries the user's
prompts and the assistant's last message. Codex waits up to 5 s for that program and kills it
after, so the program must return at once.

``install`` points ``notify`` at ``python -I -m collector.hook run ...``. Everything that program
needs travels in its own arguments, in a fixed layout::

    [<python>, "-I", "-m", "collector.hook", "run",
     "--codex-home", <CODEX_HOME>,
     "--sync-json", <the sync command, as a JSON array>,
     "--chain-toml", <the user's previous notify value, as its TOML source; "" if none>,
     "--made-config", <"1" if install created config.toml, else "0">]

so no other file is needed to run the hook or to undo it: ``uninstall`` puts the previous value
back exactly as it was written, comments and line breaks included (and removes a config.toml that
install created, when nothing else was added to it since).

Codex starts ``notify`` in whatever folder it was started in, and ``python -m`` puts the current
folder first on ``sys.path``: a repository holding ``collector/hook.py`` would run its own code,
with the prompt payload in its arguments. ``-I`` (isolated mode) leaves the current folder,
``PYTHON*`` variables and the user site out of ``sys.path``, so only the installed Codextime runs;
the sync the hook starts is isolated too, and runs in the state folder. The layout written before
isolation (no ``-I``, no ``--made-config``) is still recognised, so uninstall and a new install
handle it.

``run`` starts the sync as a detached process and the user's previous program (with the payload
passed on untouched), and returns. It never reads the payload: it only looks at the fixed
positions of its own options, and whatever follows them is handed on as it is.

``sync_lock`` keeps two syncs of one CODEX_HOME to one destination from running at once (one
started by a turn while another is still going, or a manual ``codextime sync``).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, NamedTuple

from platformdirs import user_state_dir

HOOK_MODULE = "collector.hook"
#: A sync that has held its lock this long (seconds) is reported as possibly hung by a waiter.
LOCK_HUNG_AFTER = 15 * 60
LOG_NAME = "hook.log"
LOG_MAX_BYTES = 1_000_000
#: The hook's options in the layout ``install`` writes, and in the one written before isolation.
_OPTIONS = ("--codex-home", "--sync-json", "--chain-toml", "--made-config")
_OLD_OPTIONS = _OPTIONS[:3]
#: What follows the Python in a notify value of ours: the isolated launcher, then the old one.
_LAUNCHER = ["-I", "-m", HOOK_MODULE, "run"]
_LAUNCHERS = (_LAUNCHER, ["-m", HOOK_MODULE, "run"])
_NEW_FILE_MODE = 0o600  # config.toml can hold provider keys and MCP secrets
#: Processes this (short-lived) process started and deliberately does not wait for.
_launched: list[subprocess.Popen[bytes]] = []


class HookError(ValueError):
    """The config file can't be changed safely; the message is one line and says why."""


class Busy(RuntimeError):
    """Another sync holds the lock; ``hung`` when it has held it past ``LOCK_HUNG_AFTER``."""

    def __init__(self, message: str, *, hung: bool = False) -> None:
        super().__init__(message)
        self.hung = hung


class Layout(NamedTuple):
    """The hook's own arguments, as ``install`` wrote them, and what Codex appended."""

    codex_home: str
    sync_json: str
    #: The TOML source of the user's previous notify value ("" if none).
    previous: str
    #: Whether ``install`` created config.toml (uninstall then removes it if nothing else is in).
    made_config: bool
    #: The payload Codex appended: handed on unread.
    passthrough: list[str]


def parse_layout(args: list[str]) -> Layout | None:
    """The layout of the arguments after ``run`` (either layout), or None if they are not one."""
    new = len(_OPTIONS) * 2
    if len(args) >= new and tuple(args[0:new:2]) == _OPTIONS and args[new - 1] in ("0", "1"):
        return Layout(args[1], args[3], args[5], args[7] == "1", args[new:])
    old = len(_OLD_OPTIONS) * 2
    if len(args) >= old and tuple(args[0:old:2]) == _OLD_OPTIONS:
        return Layout(args[1], args[3], args[5], False, args[old:])
    return None


# -- where things live ---------------------------------------------------------------------------


def state_dir() -> Path:
    """The collector's state folder (cursors, the sync locks, the hook's log)."""
    return Path(user_state_dir("codextime"))


def log_path() -> Path:
    """Where the hook-started sync writes its output (never the payload)."""
    return state_dir() / LOG_NAME


def config_path(codex_home: Path) -> Path:
    return Path(codex_home) / "config.toml"


# -- the notify value ----------------------------------------------------------------------------


def notify_command(
    codex_home: Path, command: list[str], previous: str = "", *, made_config: bool = False
) -> list[str]:
    """The ``notify`` array that runs the hook; ``previous`` is the TOML source of the old value."""
    values = (str(Path(codex_home).absolute()), json.dumps(command), previous, "01"[made_config])
    options = [item for pair in zip(_OPTIONS, values, strict=True) for item in pair]
    return [sys.executable, *_LAUNCHER, *options]


def installed_layout(value: object) -> Layout | None:
    """The layout of a notify array written by ``install`` (whichever Python it names, either
    layout); None for any other value."""
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return None
    for launcher in _LAUNCHERS:
        if value[1 : 1 + len(launcher)] == launcher:
            layout = parse_layout(value[1 + len(launcher) :])
            return layout if layout is not None and not layout.passthrough else None
    return None


def _is_ours(value: object) -> bool:
    """True for a notify array written by ``install`` (whichever Python it names)."""
    return installed_layout(value) is not None


def _mentions_us(value: object) -> bool:
    """True when another notify program carries our hook in its own arguments (it chains to us)."""
    return isinstance(value, list) and any(isinstance(v, str) and HOOK_MODULE in v for v in value)


def is_installed(codex_home: Path) -> bool:
    """Whether config.toml's top-level ``notify`` runs the hook (False if unreadable)."""
    try:
        data = tomllib.loads(config_path(codex_home).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return _is_ours(data.get("notify"))


# -- install / uninstall -------------------------------------------------------------------------


def install(codex_home: Path, command: list[str]) -> str:
    """Make Codex start ``command`` (the sync) after each turn; return what was done, in one line.

    An existing ``notify`` program is kept: the hook runs it too, and ``uninstall`` restores it.
    Installing again is a no-op, or refreshes the sync command while keeping the saved program.
    ``command`` runs as given (with ``CODEX_HOME`` set), so it should carry any flag telling the
    sync it was started by the hook, e.g. to exit quietly when ``sync_lock`` is busy.
    """
    if not command or not all(isinstance(c, str) and c for c in command):
        raise HookError("the sync command must be a non-empty list of non-empty strings")
    if os.path.dirname(command[0]) and not os.path.isabs(command[0]):
        raise HookError(f"the sync command's program must be an absolute path: {command[0]}")
    if not sys.executable:
        raise HookError("cannot tell which Python runs codextime (sys.executable is empty)")
    _check_isolated_import()

    path = config_path(codex_home)
    made_config = not os.path.lexists(path)
    target, text, mode = _read(path)
    doc = _parse(path, text)
    before = tomllib.loads(text)
    current = before.get("notify")
    ours = installed_layout(current)

    if ours is not None:
        previous = ours.previous
        wanted = notify_command(codex_home, command, previous, made_config=ours.made_config)
        if current == wanted:
            return f"The codextime hook is already installed in {path}; nothing changed."
        verb = "Updated"
    elif _mentions_us(current):
        return (
            f"The codextime hook is already run by another notify program ({current[0]}) "
            f"in {path}; nothing changed."
        )
    else:
        if current is not None and not (
            isinstance(current, list) and all(isinstance(v, str) for v in current)
        ):
            raise HookError(
                f"{path}: notify is not an array of strings; fix or remove it first "
                "(left unchanged)"
            )
        previous = "" if current is None else doc.item("notify").as_string()
        wanted = notify_command(codex_home, command, previous, made_config=made_config)
        verb = "Installed"

    doc["notify"] = wanted  # replaced in place, or put before the first table
    new_text = doc.as_string()
    if current is None:
        new_text = _inserted_alone(text, new_text, before, wanted)
    _write(path, target, text, new_text, mode, before, wanted)
    message = f"{verb} the codextime hook in {path}: Codex syncs after each turn"
    if previous:
        chained = _chained_program(previous)
        if chained:
            message += f", and still runs your previous notify program ({chained[0]})"
    return message + "."


def _check_isolated_import() -> None:
    """Refuse to install a hook that could not start: under ``-I`` this Python must import this
    very Codextime (an install, editable or not), not a copy found in the current folder."""
    probe = f"import {HOOK_MODULE} as m; print(m.__file__)"
    try:
        found = subprocess.run(
            [sys.executable, "-I", "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise HookError(f"cannot run {sys.executable} to check the install ({exc})") from None
    here = os.path.realpath(__file__)
    if found.returncode != 0 or os.path.realpath(found.stdout.strip() or "-") != here:
        raise HookError(
            f"codextime is not installed in {sys.executable} (an isolated Python cannot import "
            "it); install it with pip first"
        )


def uninstall(codex_home: Path) -> str:
    """Remove the hook, putting back the user's previous ``notify`` exactly (or no key at all);
    a config.toml that install created, and that holds nothing else, is removed."""
    import tomlkit

    path = config_path(codex_home)
    if not os.path.lexists(path):
        return f"The codextime hook is not installed ({path} does not exist); nothing changed."
    target, text, mode = _read(path)
    doc = _parse(path, text)
    before = tomllib.loads(text)
    current = before.get("notify")
    ours = installed_layout(current)

    if ours is None:
        if _mentions_us(current):
            return (
                f"The codextime hook is run by another notify program ({current[0]}) in {path}; "
                "remove it there. Nothing changed."
            )
        return f"The codextime hook is not installed in {path}; nothing changed."

    previous = ours.previous
    if previous:
        try:
            item = tomlkit.parse(f"notify = {previous}\n").item("notify")
            restored = tomllib.loads(f"notify = {previous}\n")["notify"]
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            raise HookError(
                f"{path}: the saved previous notify value is damaged ({_one_line(exc)}); "
                "left unchanged"
            ) from None
        doc["notify"] = item
        new_text = doc.as_string()
        message = f"Removed the codextime hook from {path} and restored your previous notify."
    else:
        restored = None
        new_text = _without_line(text, current, before)
        if new_text is None:
            del doc["notify"]
            new_text = doc.as_string()
        message = f"Removed the codextime hook from {path}."
        if ours.made_config and new_text == "":
            _remove(path, target)
            return f"Removed the codextime hook and the {path} it had created."
    _write(path, target, text, new_text, mode, before, restored)
    return message


def _read(path: Path) -> tuple[Path, str, int]:
    """The real file to replace (through a symlink), its text ('' if missing) and its mode."""
    target = Path(os.path.realpath(path))
    try:
        data = target.read_bytes()
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return target, "", _NEW_FILE_MODE
    except OSError as exc:
        raise HookError(f"{path}: cannot read it ({_one_line(exc)})") from None
    try:
        return target, data.decode("utf-8"), mode
    except UnicodeDecodeError:
        raise HookError(f"{path}: not UTF-8 text; left unchanged") from None


def _parse(path: Path, text: str) -> Any:
    """A round-trip document, refusing anything that strict TOML (as Codex reads it) rejects."""
    import tomlkit

    try:
        tomllib.loads(text)
        return tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise HookError(f"{path}: not valid TOML ({_one_line(exc)}); left unchanged") from None


def _write(
    path: Path,
    target: Path,
    old_text: str,
    new_text: str,
    mode: int,
    before: dict[str, Any],
    notify: list[str] | None,
) -> None:
    """Replace the file atomically, after checking that only ``notify`` changed in meaning."""
    if not _only_notify_changed(before, new_text, notify):
        raise HookError(
            f"{path}: could not edit notify alone without a change elsewhere; left unchanged"
        )
    if new_text == old_text and target.exists():
        return
    _check_writable(path, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise HookError(
            f"{path}: cannot write next to it ({_one_line(exc)}); left unchanged"
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new_text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise HookError(f"{path}: cannot write it ({_one_line(exc)}); left unchanged") from None
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _check_writable(path: Path, target: Path) -> None:
    """A config.toml its owner made read-only stays as it is: replacing it through its folder
    would work, but would overrule that choice (and root passes ``os.access`` whatever the mode)."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise HookError(f"{path}: cannot read it ({_one_line(exc)})") from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise HookError(f"{path}: read-only; left unchanged")


def _remove(path: Path, target: Path) -> None:
    """Delete the config.toml that install created (it holds nothing but the hook now)."""
    _check_writable(path, target)
    try:
        target.unlink()
    except OSError as exc:
        raise HookError(f"{path}: cannot remove it ({_one_line(exc)}); left unchanged") from None


def _only_notify_changed(before: dict[str, Any], new_text: str, notify: list[str] | None) -> bool:
    """Whether ``new_text`` means ``before`` with the top-level notify set to ``notify``."""
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        return False
    others_before = {k: v for k, v in before.items() if k != "notify"}
    others_after = {k: v for k, v in after.items() if k != "notify"}
    return others_after == others_before and after.get("notify") == notify


def _inserted_alone(text: str, rendered: str, before: dict[str, Any], notify: list[str]) -> str:
    """``text`` with only tomlkit's new notify line added where tomlkit put it.

    tomlkit may also add a blank line or a final newline around a new key; this keeps the rest of
    the file byte for byte, so that uninstall gives back exactly the original.
    """
    lines = rendered.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("notify") and _only_notify_changed({}, line, notify):
            prefix = "".join(lines[:i])
            if text and not text.endswith("\n") and prefix.rstrip("\r\n") == text:
                # Added at the end of a file with no final newline: the line gets none either,
                # which is how uninstall knows to take the newline before it away too.
                newline = "\r\n" if "\r\n" in text else "\n"
                candidate = text + newline + line.rstrip("\r\n")
            elif text.startswith(prefix) and (not prefix or prefix.endswith("\n")):
                candidate = prefix + line + text[len(prefix) :]
            else:
                break
            if _only_notify_changed(before, candidate, notify):
                return candidate
            break
    return rendered


def _without_line(text: str, notify: list[str], before: dict[str, Any]) -> str | None:
    """``text`` less the single line that holds our notify value, or None if that's not clean."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("notify") and _only_notify_changed({}, line, notify):
            kept = lines[:i] + lines[i + 1 :]
            if i and i == len(lines) - 1 and not line.endswith("\n"):
                kept[-1] = kept[-1].rstrip("\r\n")  # the file had no final newline before
            candidate = "".join(kept)
            return candidate if _only_notify_changed(before, candidate, None) else None
    return None


def _chained_program(previous: str) -> list[str]:
    """The previous notify array from its saved TOML source; [] when absent, empty or damaged."""
    if not previous:
        return []
    try:
        value = tomllib.loads(f"notify = {previous}\n")["notify"]
    except tomllib.TOMLDecodeError:
        return []
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value) and value[0]:
        return value
    return []


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- the program Codex runs ----------------------------------------------------------------------


def run(argv: list[str]) -> int:
    """Start the sync and the user's previous notify program, detached; return at once.

    ``argv`` is what follows ``run``: the fixed option layout written by ``install``, then the
    payload Codex appended. Only the layout's positions are looked at; the rest is passed on
    unread. Nothing is printed (Codex's TUI owns the terminal); problems go to the hook's log.
    Returns 0 when everything was started, 1 if something could not be, 2 on a broken layout.
    """
    layout = parse_layout(argv)
    if layout is None:
        log_line("hook: arguments are not in the layout `install` writes; reinstall the hook")
        return 2
    status = 0
    try:
        command = json.loads(layout.sync_json)
        if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
            raise ValueError("not an array of strings")
    except ValueError:
        log_line("hook: the saved sync command is damaged; reinstall the hook")
        command, status = None, 1
    if command is not None:
        status |= _start_sync(command, layout.codex_home)
    chained = _chained_program(layout.previous)
    if chained:
        # the payload: handed to the user's own program, never read here
        status |= _start_chained(chained + layout.passthrough)
    return status


def _start_sync(command: list[str], codex_home: str) -> int:
    """Launch the sync in its own session, output to the log, so it outlives this process."""
    env = {**os.environ, "CODEX_HOME": codex_home}  # the home this hook was installed for
    log = _open_log()
    try:
        # A fixed folder of our own: never the one Codex was started in (see the module's notes).
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        proc = subprocess.Popen(
            command,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            env=env,
            close_fds=True,
            **_detached(),
        )
    except OSError as exc:
        log_line(f"hook: could not start the sync ({command[0]}): {type(exc).__name__}", log)
        return 1
    finally:
        if log:
            log.close()
    _launched.append(proc)
    return 0


def _start_chained(argv: list[str]) -> int:
    """Run the user's previous notify program as Codex would have: same stdio, same session."""
    try:
        proc = subprocess.Popen(argv, close_fds=True)
    except OSError as exc:
        # Only the program's name: the error text could include the arguments, hence the payload.
        log_line(
            f"hook: could not start your previous notify program ({argv[0]}): {type(exc).__name__}"
        )
        return 1
    _launched.append(proc)
    return 0


def _detached() -> dict[str, Any]:
    """Popen options that cut the child loose from this process and from Codex's terminal."""
    if sys.platform == "win32":
        flags = (
            subprocess.DETACHED_PROCESS
            | subprocess.CREATE_NEW_PROCESS_GROUP
            | subprocess.CREATE_NO_WINDOW
        )
        return {"creationflags": flags}
    return {"start_new_session": True}


def _open_log() -> IO[bytes] | None:
    """The hook log for appending (rotated past LOG_MAX_BYTES); None if it can't be opened."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
            os.replace(path, path.with_name(LOG_NAME + ".1"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "ab")
    except OSError:
        return None


def log_line(line: str, log: IO[bytes] | None = None) -> None:
    """Append a timestamped line to the hook log; logging must never fail the hook."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    fh = log or _open_log()
    if fh is None:
        return
    try:
        fh.write(f"{stamp} {line}\n".encode())
        fh.flush()
    except OSError:
        pass
    finally:
        if log is None:
            fh.close()


# -- the sync lock -------------------------------------------------------------------------------


def lock_path(cursor_file: Path) -> Path:
    """The lock of one sync's cursor file (one CODEX_HOME and destination): syncs to two
    destinations never wait on each other."""
    return Path(cursor_file).with_suffix(".lock")


@contextmanager
def sync_lock(path: Path) -> Iterator[None]:
    """Hold the sync lock ``path`` for the block, or raise ``Busy`` at once if another process
    holds it.

    The lock is an OS lock on the file (``flock`` on POSIX, ``msvcrt.locking`` on Windows), so it
    is released when its holder exits or dies: no stale lock can remain. The holder writes its pid
    and when it took the lock, so a waiter can tell a holder that seems hung. The file itself
    stays; deleting it would let two holders lock two different files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            hung = _hung_holder(path)
            message = f"another codextime sync is running (lock: {path})"
            raise Busy(f"{message}: {hung}" if hung else message, hung=bool(hung))
        try:
            if sys.platform != "win32":  # a locked byte can't be rewritten on Windows
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {time.time():.0f}\n".encode(), 0)
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _hung_holder(path: Path) -> str | None:
    """A live holder of the lock ``path`` past ``LOCK_HUNG_AFTER``, described; else None."""
    try:
        pid_text, since_text = path.read_text(encoding="ascii").split()
        pid, since = int(pid_text), float(since_text)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    held = time.time() - since
    if held > LOCK_HUNG_AFTER and _alive(pid):
        return (
            f"process {pid} has held it for {held / 60:.0f} minutes and may be hung; stop it if so"
        )
    return None


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (it may be another user's)."""
    if sys.platform == "win32":  # os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# -- python -m collector.hook --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m collector.hook run ...`` (the command Codex runs)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["run"]:
        return run(args[1:])
    log_line("hook: expected `run` as the first argument")
    return 2


if __name__ == "__main__":
    sys.exit(main())
