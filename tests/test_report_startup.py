"""What a plain ``codextime report`` loads: every module is paid for on each run, so the report
path leaves out those it can do without, and works the same where they are needed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from collector.keys import blake2b, event_hash, keyed_hash
from collector.workers import unordered_map
from tests.rollout import meta, session_path, token_count, turn, usage, write

SID = "019a152d-35a0-72a0-91db-8ebe37fac69e"
#: Loaded by nothing a report from the logs needs (OpenSSL's bindings, tempfile and what it pulls;
#: the helper processes' poll needs neither selectors nor signal's enums; no thread is started).
NOT_LOADED = (
    "hashlib",
    "_hashlib",
    "tempfile",
    "shutil",
    "random",
    "bz2",
    "lzma",
    "selectors",
    "signal",
    "threading",
)


def loaded_by_a_report(tmp_path, options: list[str], modules: tuple[str, ...], **env: str):
    """A plain ``codextime report daily --json`` of one session in a fresh interpreter: its
    output, and which of ``modules`` it loaded."""
    home = tmp_path / "codex"
    write(
        session_path(home, "2025-11-02T00-29-00", SID),
        [
            meta(ts="2025-11-01T23:29:00.000Z"),
            turn("2025-11-01T23:29:01.000Z", "gpt-5"),
            token_count("2025-11-01T23:30:00.000Z", usage(1000, 600, 200, 50)),
        ],
    )
    program = (
        "import sys\n"
        f"sys.argv = ['codextime', 'report', 'daily', '--json', *{options!r},\n"
        "            '--codex-home', sys.argv[1]]\n"
        "from collector.commands.entry import run_command_line\n"
        "run_command_line()\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(home)],
        capture_output=True,
        timeout=60,
        check=True,
        env={**os.environ, **env},
    )
    loaded = done.stderr.decode().strip().splitlines()[-1]
    return done.stdout.replace(b" ", b""), loaded


def test_a_plain_report_does_not_load_hashlib_or_tempfile(tmp_path):
    out, loaded = loaded_by_a_report(tmp_path, ["--timezone", "UTC"], NOT_LOADED)
    assert b'"responses":1' in out  # the report did read the log
    assert loaded == "[]"


def test_a_report_in_the_zone_tz_names_does_not_load_tzlocal(tmp_path):
    out, loaded = loaded_by_a_report(tmp_path, [], ("tzlocal",), TZ="Asia/Tokyo")
    assert b'"timezone":"Asia/Tokyo"' in out and b'"responses":1' in out
    assert loaded == "[]"


def test_keyed_hashes_are_hashlibs_blake2b():
    key = b"codextime/usage-record/v1"
    assert blake2b is hashlib.blake2b or blake2b.__name__ == hashlib.blake2b.__name__
    assert keyed_hash(b"x", key) == hashlib.blake2b(b"x", key=key, digest_size=16).hexdigest()
    expected = hashlib.blake2b(b"event\x00id", key=key, digest_size=16).hexdigest()
    assert event_hash(b"id", key) == expected


def _square(n: int) -> int:
    return n * n


def test_results_come_back_through_a_temporary_file_without_memfd(monkeypatch):
    monkeypatch.delattr(os, "memfd_create", raising=False)
    results = sorted(unordered_map(_square, list(range(200)), 2))
    assert results == [n * n for n in range(200)]


def test_the_rate_table_normalises_each_name_once():
    from store.pricing import load_rates, normalise

    normalise.cache_clear()
    table = load_rates()
    names = {r.model for r in (*table.rates, *table.mappings)}
    info = normalise.cache_info()
    assert info.hits > 0  # names met again while the table is checked cost nothing
    assert info.misses <= 4 * len(names)  # models, aliases and mapping targets, once each
    assert normalise(" OpenAI/GPT-5-2025-08-07 ") == "gpt-5"


def _report_json(home, capsys) -> dict:
    import orjson

    from collector.commands.reporting import Period, report

    capsys.readouterr()
    report(Period("daily"), codex_home=home, timezone="UTC", json=True)
    return orjson.loads(capsys.readouterr().out)


def test_a_report_hashes_no_event_ids_and_still_counts_each_response_once(tmp_path, monkeypatch):
    """A report keeps no ids: its rows carry each response's identity, unhashed, and are told
    apart by it exactly as by the keyed hash a sync stores."""
    from collections import Counter

    from collector import scan as scan_mod
    from collector.demo import generate
    from collector.keys import hash_key
    from collector.scan import ReadPlan
    from store.fields import EVENT_ID

    home = tmp_path / "home"
    generate(home, days=90, seed=5)  # archived copies, forks and subagents: rows seen twice
    hashed = ReadPlan(home, keep_cursors=False)
    hashed_rows = Counter(row for result in hashed.results() for row in result.rows)

    def no_hashing(identity: bytes, key: bytes) -> str:
        raise AssertionError("an event id was hashed")

    monkeypatch.setattr(scan_mod, "event_hash", no_hashing)
    plain = ReadPlan(home, keep_cursors=False, event_ids=False)
    plain_rows = [row for result in plain.results() for row in result.rows]
    key = hash_key()
    named = Counter(
        (*row[:EVENT_ID], event_hash(row[EVENT_ID], key), *row[EVENT_ID + 1 :])
        for row in plain_rows
    )
    assert named == hashed_rows
    assert plain.stats.duplicates == hashed.stats.duplicates > 0
    assert plain.stats.responses == hashed.stats.responses == len(plain_rows)


def test_report_reads_without_event_ids(tmp_path, monkeypatch, capsys):
    from collector import scan as scan_mod
    from collector.demo import generate

    home = tmp_path / "home"
    generate(home, days=30, seed=3)
    expected = _report_json(home, capsys)

    def no_hashing(identity: bytes, key: bytes) -> str:
        raise AssertionError("an event id was hashed")

    monkeypatch.setattr(scan_mod, "event_hash", no_hashing)
    assert _report_json(home, capsys) == expected
    assert expected["totals"]["responses"] > 0


def test_the_rate_table_loads_once_the_helpers_read(tmp_path, monkeypatch, capsys):
    """The report's fold and rate table are made while the helper processes already read."""
    from collector import scan as scan_mod
    from collector import workers
    from collector.demo import generate
    from store import pricing

    home = tmp_path / "home"
    generate(home, days=30, seed=3)
    one_process = _report_json(home, capsys)

    started: list[int] = []
    start = workers._Helper.start.__func__

    def counted(cls, *args):
        started.append(1)  # (in this process: a helper never returns from start)
        return start(cls, *args)

    load_rates = pricing.load_rates
    loaded_with: list[int] = []

    def recorded(*args, **kwargs):
        loaded_with.append(len(started))
        return load_rates(*args, **kwargs)

    monkeypatch.setattr(workers._Helper, "start", classmethod(counted))
    monkeypatch.setattr(pricing, "load_rates", recorded)
    monkeypatch.setattr(scan_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan_mod.os, "cpu_count", lambda: 2)
    assert _report_json(home, capsys) == one_process
    assert started == [1] and loaded_with == [1]


def test_helpers_read_from_two_batches_of_bytes_on(tmp_path, monkeypatch):
    """A fork costs far less than reading 4 MB: from two batches on, other cores read too when
    no cursors are kept (a sync's process, which holds them all, forks from 64 MB)."""
    from collector import scan as scan_mod
    from collector.scan import BATCH_BYTES, ReadPlan
    from tests.rollout import message

    used: list[int] = []
    real = scan_mod.unordered_map

    def recorded(fn, items, workers, started=None):
        used.append(workers)
        return real(fn, items, workers, started)

    monkeypatch.setattr(scan_mod, "unordered_map", recorded)
    monkeypatch.setattr(scan_mod.os, "cpu_count", lambda: 2)
    home = tmp_path / "codex"
    padding = "x" * (BATCH_BYTES // 2)
    for n in range(4):  # about two batches' bytes in all
        sid = f"019a152d-35a0-72a0-91db-8ebe37fac6{n:02d}"
        write(
            session_path(home, f"2025-11-0{n + 1}T00-29-00", sid),
            [
                meta(ts=f"2025-11-0{n + 1}T00:29:00.000Z", sid=sid),
                turn(f"2025-11-0{n + 1}T00:29:01.000Z", "gpt-5"),
                message(f"2025-11-0{n + 1}T00:29:02.000Z", padding),
                token_count(f"2025-11-0{n + 1}T00:30:00.000Z", usage(1000, 600, 200, 50)),
            ],
        )
    plan = ReadPlan(home, keep_cursors=False, event_ids=False)
    assert plan.total_bytes >= 2 * BATCH_BYTES and len(plan.batches) == 2
    assert sum(len(result.rows) for result in plan.results()) == 4
    synced = ReadPlan(home)  # (keeps cursors)
    assert sum(len(result.rows) for result in synced.results()) == 4
    assert used == [2, 1]
