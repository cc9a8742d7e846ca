"""Finding rollout files under CODEX_HOME and collapsing copies of the same file (rule R1).

A file's identity is its name. A session's file can exist as ``x.jsonl`` and ``x.jsonl.zst``
(Codex compresses cold rollouts in place; the plain file wins) and in ``sessions/`` and
``archived_sessions/`` (archiving moves the file under the same name; the active copy wins).
Files are never collapsed by the session id inside them: revisions of one thread share it. Only
rollout files are looked at: never history.jsonl, auth.json, the state databases or anything
else under CODEX_HOME.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from store.errors import UserError
from store.settings import CODEX_HOME

ACTIVE_DIR = "sessions"
ARCHIVE_DIR = "archived_sessions"
#: Exactly these (R17): never ``*.jsonl.timers.json`` sidecars or their ``.tmp-*`` files.
SUFFIXES = (".jsonl", ".jsonl.zst")
NOT_REGULAR = "not a regular file (a FIFO, socket or device named like a log)"


class LogFile(NamedTuple):  # a tuple: thousands are made on every run
    #: The file's path as text: a ``Path`` costs more to make than the file's stat.
    location: str
    #: The file name without ``.zst``: the same for every copy of one rollout.
    key: str
    size: int
    mtime_ns: int
    archived: bool

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def compressed(self) -> bool:
        return self.location.endswith(".zst")


@dataclass
class Discovery:
    files: list[LogFile]
    #: Copies collapsed away (a compressed sibling, an archived copy of an active file).
    collapsed: int
    #: One line per directory or file that could not be read.
    problems: list[str]
    #: Rollout names left alone, by reason (a FIFO or a device would block every read).
    skipped: Counter


class CodexHomeError(UserError):
    """CODEX_HOME is missing or is not a directory."""


def default_codex_home() -> Path:
    env = CODEX_HOME.value()
    return Path(env).expanduser() if env else Path.home() / ".codex"


def discover(codex_home: Path) -> Discovery:
    if not codex_home.exists():
        raise CodexHomeError(f"{codex_home} does not exist (set --codex-home or CODEX_HOME)")
    if not codex_home.is_dir():
        raise CodexHomeError(f"{codex_home} is not a directory")
    problems: list[str] = []
    skipped: Counter = Counter()
    best: dict[str, LogFile] = {}
    collapsed = 0
    for archived, folder in ((False, ACTIVE_DIR), (True, ARCHIVE_DIR)):
        for entry in _walk(str(codex_home / folder), problems):
            try:
                st = entry.stat()
            except OSError as exc:
                problems.append(f"{entry.path}: {exc.strerror or exc}")
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped[NOT_REGULAR] += 1
                continue
            key = entry.name.removesuffix(".zst")
            found = LogFile(entry.path, key, st.st_size, st.st_mtime_ns, archived)
            other = best.get(key)
            if other is not None:
                collapsed += 1
                if _rank(other) <= _rank(found):
                    continue
            best[key] = found
    files = sorted(best.values(), key=lambda f: f.key)
    return Discovery(files, collapsed, problems, skipped)


def rollout_id(key: str) -> str:
    """R1, R12: the id of the physical rollout a file name names: the uuid after ``_``
    (``rollout-<ts>-<thread>_<rollout>.jsonl``), else the thread's (``rollout-<ts>-<thread>``)."""
    stem = key.removesuffix(".jsonl")
    _, sep, rollout = stem.rpartition("_")
    return rollout if sep else stem[-36:]


def _rank(f: LogFile) -> tuple[bool, bool]:
    """Lower wins: active before archived, plain before compressed."""
    return (f.archived, f.compressed)


def _walk(root: str, problems: list[str]) -> Iterator[os.DirEntry]:
    """Rollout files under ``root``, folders in name order; unreadable folders become problems."""
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        problems.append(f"{exc.filename or root}: {exc.strerror or exc}")
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)  # as os.walk: no loops through links
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(entry.path, problems)
        elif entry.name.startswith("rollout-") and entry.name.endswith(SUFFIXES):
            yield entry
