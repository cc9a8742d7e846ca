"""Incremental sync: only new bytes are read, nothing is lost or doubled, whatever happens."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import zstandard

import collector.scan as scan_mod
import collector.sync as sync_mod
from collector.report import Report, resolve_zone
from collector.scan import ReadPlan
from collector.sync import load_state, state_path, store_sink, sync
from store.db import account_id, open_store, usage_rows
from store.fields import INPUT
from tests.rollout import encode, meta, session_path, token_count, turn, usage, write

SID = "019a152d-35a0-72a0-91db-8ebe37fac690"


def responses(
    start: int, count: int, *, total: tuple = (0, 0, 0, 0), hour: int = 8
) -> tuple[list, tuple]:
    """`count` genuine responses (each re-emitted once, as cli 0.47 does), from second `start`."""
    lines = []
    inp, cached, out, reasoning = total
    for i in range(count):
        last = usage(1000 + i, 400, 100 + i, 20)
        inp, cached, out, reasoning = inp + 1000 + i, cached + 400, out + 100 + i, reasoning + 20
        tot = usage(inp, cached, out, reasoning)
        ts = f"2025-10-24T{hour:02d}:{(start + i) // 60:02d}:{(start + i) % 60:02d}.000Z"
        lines += [token_count(ts, tot, last), token_count(ts.replace(".000", ".500"), tot, last)]
    return lines, (inp, cached, out, reasoning)


def first_part(n: int = 0):
    sid = SID[:-1] + str(n)
    head = [meta(sid=sid, ts=f"2025-10-24T07:44:3{n}.755Z"), turn("2025-10-24T07:44:40.000Z")]
    rows, total = responses(0, 3, hour=8 + n)
    return head + rows, total


class Store:
    def __init__(self, url: str, home):
        self.url, self.home = url, home
        self.engine = open_store(url)
        self.sink = store_sink(self.engine, account_id(self.engine), None)
        self.state = state_path(home, url)

    def sync(self):
        return sync(self.home, self.sink, self.state)

    def input_total(self) -> int:
        return sum(r[INPUT] for r in usage_rows(self.engine))

    def count(self) -> int:
        return len(list(usage_rows(self.engine)))


def full_report_input(home) -> int:
    rep = Report("daily", resolve_zone("UTC"))
    for result in ReadPlan(home).results():
        rep.add_rows(result.rows)
    return rep.to_json()["totals"]["input"]


@pytest.fixture
def home(tmp_path):
    return tmp_path / "codex"


def test_resync_reads_only_new_bytes(home, store_url):
    lines, total = first_part()
    path = write(session_path(home, "2025-10-24T09-44-35", SID), lines)
    store = Store(store_url, home)
    first = store.sync()
    assert (first.new, first.sent) == (3, 3)
    assert first.stats.bytes_read == path.stat().st_size

    again = store.sync()
    assert (again.new, again.stats.files_read, again.stats.bytes_read) == (0, 0, 0)

    more, _ = responses(10, 2, total=total)
    added = encode(more)
    with path.open("ab") as fh:
        fh.write(added)
    grown = store.sync()
    assert grown.new == 2
    assert grown.stats.bytes_read == len(added)  # cost proportional to the new bytes
    assert store.input_total() == full_report_input(home) == 3003 + 2001


def test_torn_last_line_waits_for_the_next_run(home, store_url):
    lines, total = first_part()
    more, _ = responses(10, 1, total=total)
    whole = encode(lines + more)
    cut = len(encode(lines)) + 40  # half of the next token_count line
    path = session_path(home, "2025-10-24T09-44-35", SID)
    path.parent.mkdir(parents=True)
    path.write_bytes(whole[:cut])
    store = Store(store_url, home)
    assert store.sync().new == 3
    cursors = load_state(store.state).cursors
    assert cursors[path.name].offset == len(encode(lines))  # not past the torn line
    path.write_bytes(whole)
    assert store.sync().new == 1
    assert store.count() == 4
    assert store.input_total() == full_report_input(home)


def test_lost_state_rereads_without_duplicates(home, store_url):
    lines, _ = first_part()
    write(session_path(home, "2025-10-24T09-44-35", SID), lines)
    store = Store(store_url, home)
    assert store.sync().new == 3
    store.state.unlink()
    again = store.sync()
    assert (again.sent, again.new) == (3, 0)
    store.state.write_text("{not json")
    broken = store.sync()
    assert broken.new == 0 and any("unreadable sync state" in p for p in broken.stats.problems)
    assert store.count() == 3


def test_compressing_or_archiving_a_synced_file_reads_nothing(home, store_url):
    lines, _ = first_part()
    path = write(session_path(home, "2025-10-24T09-44-35", SID), lines)
    store = Store(store_url, home)
    assert store.sync().new == 3
    # Codex compresses cold rollouts in place: same content, new name, new size.
    zst = path.with_name(path.name + ".zst")
    zst.write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
    path.unlink()
    quiet = store.sync()
    assert (quiet.new, quiet.stats.bytes_read) == (0, 0)
    # Archiving moves it, keeping the name.
    archive = home / "archived_sessions"
    archive.mkdir()
    shutil.move(zst, archive / zst.name)
    quiet = store.sync()
    assert (quiet.new, quiet.stats.bytes_read) == (0, 0)
    assert store.count() == 3


def test_a_failing_destination_loses_and_doubles_nothing(home, store_url, monkeypatch):
    monkeypatch.setattr(scan_mod, "BATCH_BYTES", 1)  # one file per batch
    monkeypatch.setattr(sync_mod, "SINK_ROWS", 1)  # and one send per batch: three sends
    for n in range(3):
        lines, _ = first_part(n)
        write(session_path(home, "2025-10-24T09-44-35", SID[:-1] + str(n)), lines)
    store = Store(store_url, home)
    calls = 0

    def flaky(rows):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("server went away")
        return store.sink(rows)

    with pytest.raises(ConnectionError):
        sync(home, flaky, store.state)
    stored_before = store.count()
    assert stored_before == 3  # the first file only
    result = store.sync()
    assert result.new == 6
    assert store.count() == 9
    assert store.input_total() == full_report_input(home)


def test_rows_of_many_files_reach_the_sink_in_few_calls(home, store_url, monkeypatch):
    """A store commits once per call: a first sync of many files must not commit per file."""
    monkeypatch.setattr(scan_mod, "BATCH_BYTES", 1)  # every file comes back on its own
    for n in range(6):
        lines, _ = first_part(n)
        write(session_path(home, "2025-10-24T09-44-35", SID[:-1] + str(n)), lines)
    store = Store(store_url, home)
    calls = []

    def counting(rows):
        calls.append(len(rows))
        return store.sink(rows)

    result = sync(home, counting, store.state)
    assert calls == [18] and result.new == 18 == store.count()
    monkeypatch.setattr(sync_mod, "SINK_ROWS", 5)
    calls.clear()
    Path(store.state).unlink()
    assert sync(home, counting, store.state).new == 0  # all known already
    assert calls == [6, 6, 6]  # three rows a file: sent once five or more are waiting
