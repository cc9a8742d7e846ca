"""A sync that cannot finish says why in one line (no traceback) and loses nothing: a read-only
store, a state folder that is full or read-only, a damaged entry in the sync state."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import collector.sync as sync_mod
from collector.cli import app
from collector.sync import StoreDestination, state_path
from store.db import open_store, usage_rows
from tests.rollout import meta, session_path, token_count, turn, usage, write

runner = CliRunner()


def session(home: Path, n: int, responses: int = 3) -> Path:
    """Rollout file ``n`` of ``home``: its own session, ``responses`` model responses."""
    sid = f"019a152d-35a0-72a0-91db-8ebe37fac6{n:02d}"
    lines = [meta(sid=sid, ts="2026-03-01T10:00:00.000Z"), turn("2026-03-01T10:00:01.000Z")]
    total = [0, 0, 0, 0]
    for i in range(responses):
        last = usage(1000 + i, 200, 50 + i, 10)
        total = [total[0] + 1000 + i, total[1] + 200, total[2] + 50 + i, total[3] + 10]
        ts = f"2026-03-01T1{n % 10}:01:{i:02d}.000Z"
        lines.append(token_count(ts, usage(*total), last))
    return write(session_path(home, f"2026-03-01T1{n % 10}-00-00", sid), lines)


def stored(db: str) -> int:
    return len(list(usage_rows(open_store(db))))


def sync(home: Path, db: str):
    return runner.invoke(app, ["sync", "--codex-home", str(home), "--db", db])


def one_clear_error(result, *words: str) -> str:
    """The error line, after checking it is the only thing said and the exit code says failure."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` unwritable for this process, root included: root ignores file modes, so it gets
    the immutable attribute (``chattr +i``), which stops every write to the file or folder."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def half_synced(tmp_path) -> tuple[Path, str]:
    """A store holding one session's records, and logs holding a second one not sent yet."""
    home = tmp_path / "codex"
    (tmp_path / "store").mkdir()
    db = f"sqlite:///{tmp_path / 'store' / 'usage.db'}"
    session(home, 1)
    assert sync(home, db).exit_code == 0
    session(home, 2)
    return home, db


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_is_one_clear_error_and_loses_nothing(half_synced, what):
    home, db = half_synced
    target = Path(db.removeprefix("sqlite:///"))
    with read_only(target if what == "file" else target.parent):
        refused = sync(home, db)
    one_clear_error(refused, "cannot write to the store", "nothing was lost")
    assert stored(db) == 3
    assert sync(home, db).exit_code == 0  # writable again: the rest arrives, once
    assert stored(db) == 6


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_state_folder_that_takes_no_writes_is_one_clear_error(half_synced, monkeypatch, code):
    home, db = half_synced

    def no_room(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(sync_mod.tempfile, "mkstemp", no_room)
    line = one_clear_error(sync(home, db), "cannot save the sync state", "nothing was lost")
    assert os.strerror(code) in line
    assert stored(db) == 6  # the store has what was sent
    monkeypatch.undo()
    again = sync(home, db)
    assert again.exit_code == 0, again.output
    assert stored(db) == 6  # sent again, stored once


def test_a_lock_that_cannot_be_taken_is_one_clear_error(half_synced, monkeypatch):
    home, db = half_synced
    lock = state_path(home, db).with_suffix(".lock")
    lock.unlink()
    with read_only(lock.parent):
        refused = sync(home, db)
    one_clear_error(refused, "cannot take the sync lock", "nothing was sent")
    assert stored(db) == 3


DAMAGED_ENTRIES = {
    "not a list": "garbage",
    "too short": [1, 2],
    "text for a number": [10, 5, "x", {"meta": [None] * 7}],
    "meta not a list": [10, 5, 0, {"meta": 5}],
    "vector of text": [10, 5, 0, {"meta": [None, None, None, None, False, None, False],
                                  "prev_total": ["a", "b", "c", "d", "e"]}],
    # The current form keeps the parser state as JSON text, decoded only for a log that grew.
    "thread id not text": [10, 5, 0, 7, "{}"],
    "parser text not JSON": [10, 5, 0, None, "{not json"],
    "parser text of a list": [10, 5, 0, None, "[1, 2]"],
    "parser text of a damaged state": [10, 5, 0, None, '{"v": 2, "meta": 5}'],
}  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGED_ENTRIES.values(), ids=DAMAGED_ENTRIES.keys())
def test_a_damaged_cursor_entry_is_rebuilt_alone(tmp_path, damage):
    home = tmp_path / "codex"
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    damaged, kept = session(home, 1), session(home, 2)
    assert sync(home, db).exit_code == 0
    state = state_path(home, db)
    saved = orjson.loads(state.read_bytes())
    saved["files"][damaged.name] = damage
    state.write_bytes(orjson.dumps(saved))
    # The damaged log has grown (a cursor is only read for a file that changed).
    with damaged.open("ab") as fh:
        fh.write(orjson.dumps(token_count("2026-03-01T11:05:00.000Z", None)) + b"\n")

    result = sync_mod.sync(home, StoreDestination(db, None), state)
    assert result.stats.files_read == 1  # the damaged log alone
    assert len(result.stats.problems) == 1, result.stats.problems
    assert "again from the start" in result.stats.problems[0]
    assert stored(db) == 6  # read again, stored once
    rebuilt = orjson.loads(state.read_bytes())["files"]
    assert rebuilt[damaged.name] != damage and rebuilt[kept.name] == saved["files"][kept.name]
    quiet = sync(home, db)
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_the_cli_warns_of_a_damaged_entry_in_one_line(tmp_path):
    home = tmp_path / "codex"
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    damaged = session(home, 1)
    assert sync(home, db).exit_code == 0
    state = state_path(home, db)
    saved = orjson.loads(state.read_bytes())
    saved["files"][damaged.name] = [1, 2]
    state.write_bytes(orjson.dumps(saved))
    again = sync(home, db)
    assert again.exit_code == 0, again.output
    assert again.stderr.count("\n") == 1 and again.stderr.startswith("warning: ")
    assert "1 damaged entry" in again.stderr and "read again from the start" in again.stderr


def test_a_state_of_version_2_is_read_on_and_saved_again_as_the_current_one(tmp_path):
    """Cursors saved by the previous version (parser states as JSON themselves) keep working:
    only the grown log is read, from its cursor, and the state is rewritten in the new form."""
    home = tmp_path / "codex"
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    grown, other = session(home, 1), session(home, 2)
    assert sync(home, db).exit_code == 0
    state = state_path(home, db)
    current = orjson.loads(state.read_bytes())
    files = {k: [*v[:3], orjson.loads(v[4])] for k, v in current["files"].items()}
    state.write_bytes(orjson.dumps({**current, "version": 2, "files": files}))
    before = grown.stat().st_size
    with grown.open("ab") as fh:
        last = usage(900, 0, 90, 0)
        fh.write(
            orjson.dumps(token_count("2026-03-01T11:05:00.000Z", usage(3903, 600, 243, 30), last))
            + b"\n"
        )

    result = sync_mod.sync(home, StoreDestination(db, None), state)
    assert (result.stats.files_read, result.new, result.stats.problems) == (1, 1, [])
    assert result.stats.bytes_read == grown.stat().st_size - before
    assert stored(db) == 7
    rewritten = orjson.loads(state.read_bytes())
    assert rewritten["version"] == sync_mod.STATE_VERSION
    assert rewritten["files"][other.name] == current["files"][other.name]


def test_a_sync_with_nothing_new_loads_neither_rich_nor_the_report(tmp_path):
    """A sync piped to a file (or run by the hook) with nothing to say imports only what it
    uses: rich, the report and the rate table cost it a third of its time."""
    home = tmp_path / "codex"
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    session(home, 1)
    assert sync(home, db).exit_code == 0
    script = (
        "import sys\n"
        "from collector.cli import app\n"
        f"app(['sync', '--codex-home', {str(home)!r}, '--db', {db!r}], standalone_mode=False)\n"
        "print(sorted({m.split('.')[0] if m.startswith('rich') else m for m in sys.modules\n"
        "    if m.startswith(('rich', 'collector.report', 'store.pricing', 'sqlalchemy'))}))\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
