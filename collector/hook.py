"""Sync after every Codex turn: as Codex's Stop lifecycle hook, or through its ``notify`` program.

The Stop hook (the default where ``codex --version`` is recent enough and ``[features]`` doesn't
turn hooks off) is one ``[[hooks.Stop]]`` group appended after the user's own, in config.toml, or
in hooks.json when that folder already declares its hooks there. Its command (one string, run by
``$SHELL -lc``) is ``python -I -m collector.hook stop --codex-home H --made M -- <sync...>``. Codex
runs it only once the user approves it in ``/hooks``; the approval is never written here.
``run_stop`` starts the sync detached, drains its standard input unread (it carries the last
assistant message), prints nothing and never exits 2 (Codex's "continue the turn").

The notify hook is described below.

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

``collector.sync.sync_lock`` keeps two syncs of one CODEX_HOME to one destination from running at
once (one started by a turn while another is still going, or a manual ``codextime sync``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, NamedTuple

from collector.config import state_dir
from store.errors import UserError

HOOK_MODULE = "collector.hook"
LOG_NAME = "hook.log"
LOG_MAX_BYTES = 1_000_000
#: The hook's options in the layout ``install`` writes, and in the one written before isolation.
_OPTIONS = ("--codex-home", "--sync-json", "--chain-toml", "--made-config")
_OLD_OPTIONS = _OPTIONS[:3]
#: What follows the Python in a notify value of ours: the isolated launcher, then the old one.
_LAUNCHER = ["-I", "-m", HOOK_MODULE, "run"]
_LAUNCHERS = (_LAUNCHER, ["-m", HOOK_MODULE, "run"])
_NEW_FILE_MODE = 0o600  # config.toml can hold provider keys and MCP secrets
HOOK_KINDS = ("stop", "notify")
#: The first Codex release with lifecycle hooks on by default (``[features] hooks``) and reviewed
#: by the user in ``/hooks`` before they run.
LIFECYCLE_HOOKS_SINCE = (0, 130, 0)
#: Seconds Codex gives the Stop hook; it returns in well under one (the sync runs detached).
STOP_TIMEOUT = 30
#: What follows the Python in a Stop hook command of ours.
_STOP_LAUNCHER = ["-I", "-m", HOOK_MODULE, "stop"]
#: What install added for the Stop hook: the file, hooks.json's ``hooks`` key, its ``Stop`` key,
#: or only a group.
_MADE = ("file", "hooks", "event", "group")
_APPROVE = "approve it in Codex's /hooks (Codex runs a new or changed hook only after that)."
_EDITED = (
    "the codextime Stop hook there was edited by hand; remove its group yourself (left unchanged)"
)
_DRAIN_CHUNK = 4096
_JSON = json.JSONDecoder()
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
#: Processes this (short-lived) process started and deliberately does not wait for.
_launched: list[subprocess.Popen[bytes]] = []


class HookError(UserError, ValueError):
    """The config file can't be changed safely; the message is one line and says why."""


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
    """Whether Codex runs the hook, as ``notify`` or as a Stop hook (False if unreadable)."""
    return installed_kind(codex_home) is not None


def installed_kind(codex_home: Path) -> str | None:
    """Which kind of hook is installed ("stop" first, then "notify"), None if none is or the
    files can't be read."""
    try:
        return (
            "stop"
            if _stop_installed(codex_home)
            else "notify"
            if _notify_installed(codex_home)
            else None
        )
    except HookError:
        return None


def _notify_installed(codex_home: Path) -> bool:
    """Whether config.toml's top-level ``notify`` runs the hook (False if unreadable)."""
    try:
        data = tomllib.loads(config_path(codex_home).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return _is_ours(data.get("notify"))


# -- install / uninstall -------------------------------------------------------------------------


def install(codex_home: Path, command: list[str], kind: str | None = None) -> str:
    """Make Codex start ``command`` (the sync) after each turn; return what was done, in one line.

    ``kind`` is "stop" (a lifecycle hook Codex runs once the user approves it in ``/hooks``) or
    "notify"; None picks ``default_kind``. ``command`` runs as given (with ``CODEX_HOME`` set), so
    it should carry any flag telling the sync it was started by the hook, e.g. to exit quietly
    when ``collector.sync.sync_lock`` is busy. Installing again is a no-op, or refreshes the sync
    command.
    """
    if not command or not all(isinstance(c, str) and c for c in command):
        raise HookError("the sync command must be a non-empty list of non-empty strings")
    if os.path.dirname(command[0]) and not os.path.isabs(command[0]):
        raise HookError(f"the sync command's program must be an absolute path: {command[0]}")
    if not sys.executable:
        raise HookError("cannot tell which Python runs codextime (sys.executable is empty)")
    kind = kind or default_kind(codex_home)
    if kind not in HOOK_KINDS:
        raise HookError(f"unknown hook kind {kind!r}: use one of {', '.join(HOOK_KINDS)}")
    other = installed_kind(codex_home)
    if other not in (None, kind):
        raise HookError(
            f"the codextime hook is already installed as {other}; run `codextime hook "
            f"uninstall` first to switch to {kind}"
        )
    _check_isolated_import()
    if kind == "stop":
        return _install_stop(codex_home, command)
    return _install_notify(codex_home, command)


def _install_notify(codex_home: Path, command: list[str]) -> str:
    """Point ``notify`` at the hook. An existing ``notify`` program is kept: the hook runs it
    too, and ``uninstall`` restores it."""
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
    """Remove the hook, whichever kind is installed, putting every file back as it was."""
    removed_stop = _uninstall_stop(codex_home)
    if removed_stop is None:
        return _uninstall_notify(codex_home)
    if _notify_installed(codex_home):  # both kinds, e.g. installed by an older and a newer run
        return f"{removed_stop} {_uninstall_notify(codex_home)}"
    return removed_stop


def _uninstall_notify(codex_home: Path) -> str:
    """Remove the notify hook, putting back the user's previous ``notify`` exactly (or no key at
    all); a config.toml that install created, and that holds nothing else, is removed."""
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
    _replace(path, target, old_text, new_text, mode)


def _replace(path: Path, target: Path, old_text: str, new_text: str, mode: int) -> None:
    """Write ``new_text`` over the real file ``target`` (named ``path``) atomically, keeping its
    mode; a read-only file or folder is one clear error and the file stays as it was."""
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


# -- the Stop lifecycle hook ---------------------------------------------------------------------


class StopLayout(NamedTuple):
    """The arguments of the Stop hook command, as ``install`` wrote them."""

    codex_home: str
    #: What install added, so uninstall takes exactly that away (one of ``_MADE``).
    made: str
    #: The sync command to start.
    sync: list[str]


def parse_stop_layout(args: list[str]) -> StopLayout | None:
    """The layout of the arguments after ``stop``, or None if they are not one."""
    if (
        len(args) > 5
        and args[0] == "--codex-home"
        and args[2] == "--made"
        and args[3] in _MADE
        and args[4] == "--"
    ):
        return StopLayout(args[1], args[3], args[5:])
    return None


def stop_command(codex_home: Path, command: list[str], made: str) -> str:
    """The Stop hook's ``command``: one string, which Codex hands to the user's shell."""
    home = str(Path(codex_home).absolute())
    argv = [sys.executable, *_STOP_LAUNCHER, "--codex-home", home, "--made", made, "--", *command]
    if sys.platform == "win32":
        return subprocess.list2cmdline(argv)  # Codex runs it with `cmd /C`
    return " ".join(_shell_word(arg) for arg in argv)


def _shell_word(arg: str) -> str:
    """``arg`` as one word that sh, bash, zsh and fish all read back unchanged (Codex runs the
    command with ``$SHELL -lc``): bare when plain, else in single quotes, which none of them
    expand. A quote, backslash or control character would need shell-specific escaping: refused."""
    if re.fullmatch(r"[\w@%+=:,./-]+", arg, re.ASCII):
        return arg
    if "'" in arg or "\\" in arg or not arg.isprintable():
        raise HookError(
            f"cannot pass {arg!r} through Codex's shell safely (quote, backslash or control "
            "character); use the notify hook"
        )
    return f"'{arg}'"


def installed_stop_layout(command: object) -> StopLayout | None:
    """The layout of a Stop hook command written by ``install`` (whichever Python it names);
    None for any other command."""
    if not isinstance(command, str):
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if argv[1 : 1 + len(_STOP_LAUNCHER)] != _STOP_LAUNCHER:
        return None
    return parse_stop_layout(argv[1 + len(_STOP_LAUNCHER) :])


def stop_group(command: str) -> dict[str, Any]:
    """The ``[[hooks.Stop]]`` group that runs ``command``, as Codex reads it from either file.

    No ``async``: Codex releases that know the key skip an async handler altogether ("async hooks
    are not supported yet"), so the hook is a plain one that returns at once instead.
    """
    return {"hooks": [{"type": "command", "command": command, "timeout": STOP_TIMEOUT}]}


def hooks_json_path(codex_home: Path) -> Path:
    return Path(codex_home) / "hooks.json"


def stop_hook_file(codex_home: Path) -> Path:
    """Where the Stop hook goes: hooks.json when the folder already declares its hooks there (and
    not in config.toml), else config.toml. Codex reads both but warns when one folder uses both."""
    json_file = hooks_json_path(codex_home)
    if not os.path.lexists(json_file):
        return config_path(codex_home)
    _, text, _ = _read(config_path(codex_home))
    declared = _parse(config_path(codex_home), text).get("hooks", {})
    events = (
        {k: v for k, v in declared.items() if k != "state"} if isinstance(declared, dict) else 1
    )
    return config_path(codex_home) if events else json_file


# -- which kind a Codex supports


def codex_version() -> tuple[int, int, int] | None:
    """The version ``codex --version`` reports, None when there is no ``codex`` on PATH or it
    says nothing usable."""
    program = shutil.which("codex")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\b(\d+)\.(\d+)\.(\d+)\b", done.stdout)
    if done.returncode != 0 or found is None:
        return None
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def hooks_switched_off(codex_home: Path) -> bool:
    """Whether config.toml turns lifecycle hooks off (``[features] hooks = false``, or the older
    ``codex_hooks = false`` when ``hooks`` is not set); False if it can't be read."""
    try:
        data = tomllib.loads(config_path(codex_home).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    features = data.get("features")
    if not isinstance(features, dict):
        return False
    return features.get("hooks", features.get("codex_hooks")) is False


def supports_stop_hook(codex_home: Path, version: tuple[int, int, int] | None) -> bool:
    """Whether a Codex of ``version`` runs a Stop hook from ``codex_home``: a release with
    lifecycle hooks on by default and reviewed in ``/hooks``, not switched off in its config.
    An unknown version is not trusted to: notify works in every release."""
    return (
        version is not None
        and version >= LIFECYCLE_HOOKS_SINCE
        and not hooks_switched_off(codex_home)
    )


def default_kind(codex_home: Path) -> str:
    """ "stop" where the installed Codex supports lifecycle hooks, else "notify"."""
    return "stop" if supports_stop_hook(codex_home, codex_version()) else "notify"


# -- install / uninstall the Stop hook


def _install_stop(codex_home: Path, command: list[str]) -> str:
    """Add the Stop hook group after any the user has (theirs keep their positions, which is
    what their approvals in ``/hooks`` are keyed by)."""
    path = stop_hook_file(codex_home)
    is_json = path.name == "hooks.json"
    made_file = not os.path.lexists(path)
    target, text, mode = _read(path)
    before = _load(path, text, is_json)
    groups = _stop_groups(path, before)
    found = _our_stop_group(groups)
    if found is not None:
        index, layout, old = found
        wanted = stop_command(codex_home, command, layout.made)
        if old == wanted:
            return f"The codextime Stop hook is already installed in {path}; nothing changed."
        new_text = _swap_command(path, text, old, wanted, is_json)
        _check_stop_edit(path, new_text, is_json, before, index, stop_group(wanted))
        _replace(path, target, text, new_text, mode)
        return f"Updated the codextime Stop hook in {path}; {_APPROVE}"
    made = _json_made(before) if is_json else "file" if made_file else "group"
    wanted = stop_command(codex_home, command, made)
    new_text = (_json_added if is_json else _toml_added)(text, wanted, made)
    _check_stop_edit(path, new_text, is_json, before, len(groups), stop_group(wanted))
    _replace(path, target, text, new_text, mode)
    return f"Installed the codextime Stop hook in {path}: Codex syncs after each turn; {_APPROVE}"


def _uninstall_stop(codex_home: Path) -> str | None:
    """Remove the Stop hook from whichever file holds it; None when neither does."""
    for path in (hooks_json_path(codex_home), config_path(codex_home)):
        if not os.path.lexists(path):
            continue
        is_json = path.name == "hooks.json"
        target, text, mode = _read(path)
        current = _load(path, text, is_json)
        found = _our_stop_group(_stop_groups(path, current))
        if found is None:
            continue
        index, layout, command = found
        new_text = (_json_removed if is_json else _toml_removed)(path, text, current, command)
        after = _load(path, new_text, is_json)
        if after != _without_group(current, index, like=after):
            raise HookError(f"{path}: {_EDITED}")
        if layout.made == "file" and new_text == "":
            _remove(path, target)
            return f"Removed the codextime Stop hook and the {path} it had created."
        _replace(path, target, text, new_text, mode)
        return f"Removed the codextime Stop hook from {path}."
    return None


def _stop_installed(codex_home: Path) -> bool:
    """Whether hooks.json or config.toml holds our Stop hook; HookError if one can't be read."""
    for path in (hooks_json_path(codex_home), config_path(codex_home)):
        if os.path.lexists(path):
            _, text, _ = _read(path)
            data = _load(path, text, path.name == "hooks.json")
            if _our_stop_group(_stop_groups(path, data)) is not None:
                return True
    return False


def _parse_json(path: Path, text: str) -> dict[str, Any]:
    """hooks.json as Codex reads it: an object, no key given twice (where this edits)."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except ValueError as exc:
        raise HookError(f"{path}: not valid JSON ({_one_line(exc)}); left unchanged") from None
    if not isinstance(data, dict):
        raise HookError(f"{path}: not a JSON object; left unchanged")
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is given twice")
    return dict(pairs)


def _stop_groups(path: Path, data: dict[str, Any]) -> list[Any]:
    """The Stop groups declared in a parsed file ([] when none); HookError if the shape is not
    the one Codex reads."""
    hooks = data.get("hooks", {})
    groups = hooks.get("Stop", []) if isinstance(hooks, dict) else None
    if not isinstance(groups, list):
        raise HookError(f"{path}: hooks or hooks.Stop is not what Codex expects; left unchanged")
    return groups


def _our_stop_group(groups: list[Any]) -> tuple[int, StopLayout, str] | None:
    """The position, layout and command of the group install added, if there is one."""
    for index, group in enumerate(groups):
        handlers = group.get("hooks") if isinstance(group, dict) else None
        if isinstance(handlers, list) and len(handlers) == 1 and isinstance(handlers[0], dict):
            command = handlers[0].get("command")
            layout = installed_stop_layout(command)
            if layout is not None:
                return index, layout, command
    return None


def _without_group(data: dict[str, Any], index: int, like: dict[str, Any]) -> dict[str, Any]:
    """``data`` less its Stop group ``index``; an emptied ``Stop`` or ``hooks`` goes too, unless
    ``like`` has it (the file had it before)."""
    hooks = dict(data["hooks"])
    hooks["Stop"] = [g for i, g in enumerate(hooks["Stop"]) if i != index]
    had = like.get("hooks") if isinstance(like.get("hooks"), dict) else {}
    if not hooks["Stop"] and "Stop" not in had:
        del hooks["Stop"]
    result = {**data, "hooks": hooks}
    if not hooks and "hooks" not in like:
        del result["hooks"]
    return result


def _check_stop_edit(
    path: Path,
    new_text: str,
    is_json: bool,
    before: dict[str, Any],
    index: int,
    group: dict[str, Any],
) -> None:
    """Refuse an edit that means anything but ``before`` with ``group`` at Stop ``index`` (added
    after the others, or replacing ours)."""
    groups = _stop_groups(path, before)
    rest = before if index == len(groups) else _without_group(before, index, like=before)
    try:
        after = _load(path, new_text, is_json)
        ok = after["hooks"]["Stop"][index] == group
        ok = ok and _without_group(after, index, like=before) == rest
    except (HookError, KeyError, IndexError, TypeError):
        ok = False
    if not ok:
        raise HookError(
            f"{path}: could not add the Stop hook without a change elsewhere (is hooks.Stop "
            "written as an inline array?); left unchanged"
        )


def _load(path: Path, text: str, is_json: bool) -> dict[str, Any]:
    """The parsed hooks.json or config.toml; HookError (one line) if it is not valid."""
    if is_json:
        return _parse_json(path, text)
    _parse(path, text)
    return tomllib.loads(text)


def _toml_block(command: str, newline: str) -> str:
    """The text install appends to config.toml: one Stop group, every line ending ``newline``."""
    lines = [
        "# codextime: a background sync after each turn (`codextime hook uninstall` removes it)",
        "[[hooks.Stop]]",
        "[[hooks.Stop.hooks]]",
        'type = "command"',
        f"command = {json.dumps(command, ensure_ascii=False)}",
        f"timeout = {STOP_TIMEOUT}",
    ]
    return newline.join(lines) + newline


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _toml_added(text: str, command: str, made: str) -> str:
    """``text`` with the Stop group appended after a blank line; a file without a final newline
    gets a block without one, which tells uninstall to take both separating newlines away."""
    newline = _newline_of(text)
    block = _toml_block(command, newline)
    if not text:
        return block
    if text.endswith("\n"):
        return text + newline + block
    return text + newline + newline + block[: -len(newline)]


def _toml_removed(path: Path, text: str, current: dict[str, Any], command: str) -> str:
    """``text`` less the block ``_toml_added`` appended (wherever it now stands)."""
    newline = _newline_of(text)
    block = _toml_block(command, newline)
    unterminated = newline + newline + block[: -len(newline)]
    if text == block:
        return ""
    if text.endswith(unterminated):
        return text[: -len(unterminated)]
    if newline + block in text:
        return text.replace(newline + block, "", 1)
    raise HookError(f"{path}: {_EDITED}")


def _swap_command(path: Path, text: str, old: str, new: str, is_json: bool) -> str:
    """``text`` with the Stop hook's command string ``old`` written as ``new`` (an update)."""
    quoted_old = json.dumps(old, ensure_ascii=False)
    if text.count(quoted_old) != 1:
        raise HookError(f"{path}: {_EDITED}")
    return text.replace(quoted_old, json.dumps(new, ensure_ascii=False))


def _json_made(data: dict[str, Any]) -> str:
    """What install adds to hooks.json: the ``hooks`` key, its ``Stop`` key, or one group."""
    if "hooks" not in data:
        return "hooks"
    return "event" if "Stop" not in data["hooks"] else "group"


def _json_piece(command: str, made: str) -> str:
    """The text install writes into hooks.json for ``made``, compact and on one line."""
    group = json.dumps(stop_group(command), ensure_ascii=False)
    return {"hooks": f'"hooks": {{"Stop": [{group}]}}', "event": f'"Stop": [{group}]'}.get(
        made, group
    )


def _json_added(text: str, command: str, made: str) -> str:
    """``text`` with the piece for ``made`` written after the last member of the root object
    ("hooks"), of ``hooks`` ("event") or after the last group of ``Stop`` ("group")."""
    opening, members = _json_container(text, made)
    at, separator = (members[-1][1][1], ", ") if members else (opening + 1, "")
    return text[:at] + separator + _json_piece(command, made) + text[at:]


def _json_removed(path: Path, text: str, current: dict[str, Any], command: str) -> str:
    """``text`` less the piece install wrote; when the user has since added keys beside it or
    rewritten the file, only our group goes, and the rest stays as the user wrote it."""
    made = installed_stop_layout(command).made  # type: ignore[union-attr]
    if made in ("hooks", "event") and current["hooks"]["Stop"] == [stop_group(command)]:
        opening, spans = _json_container(text, "event" if made == "event" else "hooks")
        keys = [key for key, _ in spans]
        index = keys.index("Stop" if made == "event" else "hooks")
        start = spans[index - 1][1][1] if index else opening + 1
        piece = (", " if index else "") + _json_piece(command, made)
        if text[start : spans[index][1][1]] == piece:
            return text[:start] + text[start + len(piece) :]
    _, elements = _json_container(text, "group")
    index = current["hooks"]["Stop"].index(stop_group(command))
    spans = [span for _, span in elements]
    if index:  # from the end of the group before ours: the comma goes with ours
        start, end = spans[index - 1][1], spans[index][1]
    elif len(spans) > 1:  # ours first: the comma after it goes with it
        start, end = spans[0][0], spans[1][0]
    else:
        start, end = spans[0]
    return text[:start] + text[end:]


def _json_container(text: str, made: str) -> tuple[int, list[tuple[str, tuple[int, int]]]]:
    """Where the object or array that ``made`` adds to opens, and its members, in order, as
    (key, (value start, value end)) ("" for an array's elements): the root object ("hooks"), the
    ``hooks`` object ("event") or the ``Stop`` array ("group")."""
    opening = _skip_space(text, 0)
    if made != "hooks":
        opening = dict(_member_spans(text, opening))["hooks"][0]
        if made == "group":
            opening = dict(_member_spans(text, opening))["Stop"][0]
            return opening, [("", span) for span in _element_spans(text, opening)]
    return opening, _member_spans(text, opening)


def _skip_space(text: str, at: int) -> int:
    return _JSON_SPACE.match(text, at).end()


def _member_spans(text: str, opening: int) -> list[tuple[str, tuple[int, int]]]:
    """The members of the JSON object opening at ``opening``, in order: (key, (where its value
    starts, where it ends))."""
    spans = []
    at = _skip_space(text, opening + 1)
    while text[at] != "}":
        key, after_key = json.decoder.scanstring(text, at + 1)
        value = _skip_space(text, _skip_space(text, after_key) + 1)
        _, end = _JSON.raw_decode(text, value)
        spans.append((key, (value, end)))
        at = _skip_space(text, end)
        at = _skip_space(text, at + 1) if text[at] == "," else at
    return spans


def _element_spans(text: str, opening: int) -> list[tuple[int, int]]:
    """Where each element of the JSON array opening at ``opening`` starts and ends."""
    spans = []
    at = _skip_space(text, opening + 1)
    while text[at] != "]":
        _, end = _JSON.raw_decode(text, at)
        spans.append((at, end))
        at = _skip_space(text, end)
        at = _skip_space(text, at + 1) if text[at] == "," else at
    return spans


# -- the Stop hook Codex runs


def run_stop(argv: list[str], stdin: IO[bytes] | None = None) -> int:
    """Start the sync, detached, then drain and discard the hook's input; return at once.

    Codex writes the turn's details to standard input, the last assistant message among them:
    that is never parsed, kept or logged, only read in small chunks and dropped so Codex's write
    completes. Nothing is printed (Codex would read it as the hook's answer). The status is 0, or
    1 when the sync could not be started; never 2, which Codex takes as "continue the turn".
    """
    layout = parse_stop_layout(argv)
    if layout is None:
        log_line("hook: Stop hook arguments are not in the layout `install` writes; reinstall")
        status = 1
    else:
        status = _start_sync(layout.sync, layout.codex_home)
    _discard(stdin if stdin is not None else sys.stdin.buffer)
    return status


def _discard(stream: IO[bytes]) -> None:
    """Read ``stream`` to its end in fixed small chunks, keeping none of them."""
    with suppress(OSError, ValueError):
        if stream.isatty():
            return
        while stream.read(_DRAIN_CHUNK):
            pass


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


# -- python -m collector.hook --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m collector.hook run ...`` (the command Codex runs)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["run"]:
        return run(args[1:])
    if args[:1] == ["stop"]:
        return run_stop(args[1:])
    log_line("hook: expected `run` as the first argument")
    return 2


if __name__ == "__main__":
    sys.exit(main())
