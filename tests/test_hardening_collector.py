"""The collector against hostile logs and unlucky machines: records the server would refuse,
unreadable files, damaged state, and output that must stay plain text."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from collector.cli import app
from store.fields import MAX_INPUT_TOKENS, MAX_OUTPUT_TOKENS
from tests.rollout import meta, session_path, token_count, turn, usage, write

runner = CliRunner()
SID = "019a152d-35a0-72a0-91db-8ebe37fac69e"


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def one_session(
    home: Path, lines: list, sid: str = SID, stamp: str = "2026-03-01T10-00-00"
) -> Path:
    """A rollout file holding ``lines`` after its session_meta and turn_context."""
    head = [meta(ts="2026-03-01T10:00:00.000Z", sid=sid), turn("2026-03-01T10:00:01.000Z")]
    return write(session_path(home, stamp, sid), head + lines)


def responses(stamps_and_usages: list[tuple[str, dict]]) -> list:
    """token_count lines, one per response, with their cumulative totals."""
    lines, total = [], [0, 0, 0, 0]
    for ts, last in stamps_and_usages:
        parts = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
        total = [t + last[k] for t, k in zip(total, parts, strict=True)]
        lines.append(token_count(ts, usage(*total), last))
    return lines


GOOD = usage(1000, 200, 50, 10)


@pytest.fixture
def refusable_home(tmp_path) -> Path:
    """Two genuine responses among four the ingest service would refuse."""
    future = iso(datetime.now(UTC) + timedelta(days=3))
    home = tmp_path / "codex"
    one_session(
        home,
        responses(
            [
                ("2026-03-01T10:00:05.000Z", GOOD),
                ("2025-03-01T10:00:06.000Z", GOOD),  # before Codex CLI existed
                (future, GOOD),  # a clock far ahead
                ("2026-03-01T10:00:08.000Z", usage(MAX_INPUT_TOKENS + 1, 0, 5, 0)),
                ("2026-03-01T10:00:09.000Z", usage(10, 0, MAX_OUTPUT_TOKENS + 1, 0)),
                ("2026-03-01T10:00:10.000Z", GOOD),
            ]
        ),
    )
    return home


REASONS = (
    "dated before 2025-04-01",
    "dated over a day in the future",
    f"over {MAX_INPUT_TOKENS:,} input tokens",
    f"over {MAX_OUTPUT_TOKENS:,} output tokens",
)


def test_scan_leaves_out_what_the_server_would_refuse_and_says_why(refusable_home):
    listed = runner.invoke(app, ["scan", "--codex-home", str(refusable_home), "--json"])
    assert listed.exit_code == 0, listed.output
    records = orjson.loads(listed.stdout)["records"]
    assert [r["ts"] for r in records] == ["2026-03-01T10:00:05.000Z", "2026-03-01T10:00:10.000Z"]

    summary = runner.invoke(app, ["scan", "--codex-home", str(refusable_home)])
    assert summary.exit_code == 0, summary.output
    assert "Records: 2 model responses" in summary.stdout
    for reason in REASONS:
        assert sum(reason in line for line in summary.stdout.splitlines()) == 1, reason


def test_a_report_leaves_them_out_too_and_says_so(refusable_home):
    shown = runner.invoke(app, ["report", "daily", "--codex-home", str(refusable_home), "--json"])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.stdout)["totals"]["responses"] == 2
    notes = [line for line in shown.stderr.splitlines() if "the server would refuse" in line]
    assert len(notes) == 4 and all(any(r in n for n in notes) for r in REASONS)


def test_a_sync_sends_the_rest_and_moves_on(refusable_home, tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    first = runner.invoke(app, ["sync", "--codex-home", str(refusable_home), "--db", db])
    assert first.exit_code == 0, first.output
    assert sum("the server would refuse" in line for line in first.stderr.splitlines()) == 4

    from store.db import open_store, usage_rows

    assert len(list(usage_rows(open_store(db)))) == 2
    again = runner.invoke(app, ["sync", "--codex-home", str(refusable_home), "--db", db])
    assert again.exit_code == 0, again.output
    assert "refuse" not in again.stderr  # the cursor went past them: nothing read again


def test_a_sync_to_a_server_is_not_blocked_by_a_refusable_record(refusable_home, tmp_path):
    """The ingest service refuses a whole batch over one bad record: none must be sent."""
    from fastapi.testclient import TestClient

    from collector.sync import state_path, sync
    from collector.upload import HttpSink
    from store.accounts import create_account
    from store.api import create_app
    from store.db import open_store
    from store.settings import ServerSettings

    url = f"sqlite:///{tmp_path / 'server.db'}"
    _, token = create_account(open_store(url), "alice")
    client = TestClient(create_app(ServerSettings(db_url=url)))
    sink = HttpSink("http://testserver", token, client=client, sleep=lambda _: None)

    result = sync(refusable_home, sink, state_path(refusable_home, "http://testserver"))

    assert (result.sent, result.new) == (2, 2)
    assert sum(result.stats.refused.values()) == 4


def test_counts_beyond_64_bits_are_left_out_not_a_crash(tmp_path):
    home = tmp_path / "codex"
    huge = [
        b'{"timestamp":"2026-03-01T10:00:05.000Z","type":"event_msg","payload":{"type":'
        b'"token_count","info":{"total_token_usage":{"input_tokens":%d,"cached_input_tokens":0,'
        b'"output_tokens":5,"reasoning_output_tokens":0,"total_tokens":%d},"last_token_usage":'
        b'{"input_tokens":%d,"cached_input_tokens":0,"output_tokens":5,'
        b'"reasoning_output_tokens":0,"total_tokens":%d}},"rate_limits":{}}}' % ((n,) * 4)
        for n in (2**63, 2**64 + 5)
    ]
    one_session(home, huge)
    for command in (["scan", "--json"], ["scan"], ["report", "daily", "--json"]):
        result = runner.invoke(app, [*command, "--codex-home", str(home)])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
    listed = runner.invoke(app, ["scan", "--json", "--codex-home", str(home)])
    assert orjson.loads(listed.stdout)["records"] == []
    summary = runner.invoke(app, ["scan", "--codex-home", str(home)])
    assert f"2  over {MAX_INPUT_TOKENS:,} input tokens" in summary.stdout


# -- files that cannot be read, or must not be --------------------------------------------------


def deny_reading(monkeypatch, path: Path) -> None:
    """Make ``path`` unreadable: chmod 000, or for root (who reads anyway) an EACCES from open."""
    if os.geteuid() != 0:
        path.chmod(0o000)
        return
    real_open = os.open

    def refusing_open(target, flags, *args, **kwargs):
        if Path(target) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real_open(target, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)


def test_a_file_unreadable_at_the_first_sync_is_read_at_the_next(tmp_path, monkeypatch):
    home = tmp_path / "codex"
    path = one_session(home, responses([("2026-03-01T10:00:05.000Z", GOOD)]))
    db = f"sqlite:///{tmp_path / 'store.db'}"

    with monkeypatch.context() as patched:
        deny_reading(patched, path)
        first = runner.invoke(app, ["sync", "--codex-home", str(home), "--db", db])
        path.chmod(0o644)
    assert first.exit_code == 0, first.output
    assert f"{path}: permission denied" in first.stderr

    second = runner.invoke(app, ["sync", "--codex-home", str(home), "--db", db])
    assert second.exit_code == 0, second.output
    from store.db import open_store, usage_rows

    assert len(list(usage_rows(open_store(db)))) == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])
def test_a_fifo_named_like_a_log_is_skipped_not_waited_on(tmp_path, suffix):
    home = tmp_path / "codex"
    one_session(home, responses([("2026-03-01T10:00:05.000Z", GOOD)]))
    fifo = home / "sessions" / "2026" / "03" / "01" / f"rollout-2026-03-01T11-00-00-x{suffix}"
    os.mkfifo(fifo)
    env = {**os.environ, "CODEXTIME_DB": f"sqlite:///{tmp_path / 'store.db'}"}
    for command in (["scan"], ["report", "daily", "--json"], ["sync"]):
        done = subprocess.run(
            [sys.executable, "-m", "collector", *command, "--codex-home", str(home)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert done.returncode == 0, done.stderr
    summary = subprocess.run(
        [sys.executable, "-m", "collector", "scan", "--codex-home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "1  not a regular file" in summary.stdout


def test_the_reader_refuses_a_fifo_swapped_in_after_discovery(tmp_path):
    from collector.reader import LineReader

    fifo = tmp_path / "rollout-x.jsonl"
    os.mkfifo(fifo)
    reader = LineReader(fifo)
    assert list(reader) == [] and reader.error == "not a regular file (a FIFO)"


# -- a zstd bomb --------------------------------------------------------------------------------

BOMB_GIB = 1


def write_bomb(path: Path, fill: bytes, gib: int = BOMB_GIB) -> None:
    """``gib`` GiB of ``fill`` and no newline, compressed as a stream (to a few hundred KB)."""
    import zstandard

    path.parent.mkdir(parents=True, exist_ok=True)
    block = fill * ((1 << 20) // len(fill))
    with path.open("wb") as fh, zstandard.ZstdCompressor(level=1).stream_writer(fh) as out:
        for _ in range(gib << 10):
            out.write(block)


PEAK = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "collector", *sys.argv[1:]], capture_output=True)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, peak_kib, done.stderr.decode(errors="replace")[-300:].replace("\\n", " "))
"""


@pytest.mark.parametrize("fill", [b"\0", b" "])
def test_a_zstd_bomb_is_read_in_bounded_memory(tmp_path, fill):
    home = tmp_path / "codex"
    one_session(home, responses([("2026-03-01T10:00:05.000Z", GOOD)]))
    bomb = home / "sessions" / "2026" / "03" / "01" / "rollout-2026-03-01T11-00-00-b.jsonl.zst"
    write_bomb(bomb, fill)
    assert bomb.stat().st_size < 1 << 20

    done = subprocess.run(
        [sys.executable, "-c", PEAK, "report", "daily", "--json", "--codex-home", str(home)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    code, peak_kib, stderr = done.stdout.split(" ", 2)
    assert code == "0", stderr
    assert int(peak_kib) < 200 << 10, f"peak {int(peak_kib) >> 10} MiB"


# -- what is printed ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["[red]x[/red]", "gpt\x1b[2J\x1b]0;pwned\x07-5", "[bold]"])
def test_model_names_from_a_store_print_as_written_never_as_markup_or_escapes(tmp_path, model):
    from store.db import account_id, insert_usage, open_store

    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(db)
    record = {
        "ts": datetime(2026, 3, 1, 10, tzinfo=UTC),
        "model": model,
        "input": 100,
        "cached": 0,
        "output": 10,
        "reasoning": 0,
        "event_id": "a" * 32,
        "session": "b" * 32,
        "label": None,
    }
    insert_usage(engine, account_id(engine), [record])

    for period in ("daily", "session"):
        shown = runner.invoke(app, ["report", period, "--db", db], terminal_width=200)
        assert shown.exit_code == 0, shown.output
        assert "\x1b" not in shown.output and "\x07" not in shown.output
        assert model.translate({0x1B: "?", 0x07: "?"}) in shown.output


HEAVY_LIBRARIES = ("pydantic", "sqlalchemy", "sqlmodel")


@pytest.mark.parametrize("command", [["report", "daily"], ["scan"]])
def test_reading_logs_loads_no_record_or_store_library(refusable_home, command):
    """A report or scan from the logs checks every response against the bounds, and refuses some,
    without loading pydantic (a tenth of a second and 10 MB on every report)."""
    program = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from collector.cli import app\n"
        f"shown = CliRunner().invoke(app, {[*command, '--codex-home', str(refusable_home)]!r})\n"
        "assert shown.exit_code == 0, shown.output\n"
        "assert 'the server would refuse' in shown.output, shown.output\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program, *HEAVY_LIBRARIES],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


@pytest.mark.parametrize(
    ("command", "how"), [("sync", "flag"), ("sync", "environment"), ("scan", "flag")]
)
def test_a_label_too_long_is_one_clear_error(tmp_path, monkeypatch, command, how):
    home = tmp_path / "codex"
    one_session(home, responses([("2026-03-01T10:00:05.000Z", GOOD)]))
    label = "x" * 101
    args = [command, "--codex-home", str(home)]
    if how == "flag":
        args += ["--label", label]
    else:
        monkeypatch.setenv("CODEXTIME_LABEL", label)
    done = runner.invoke(app, args)
    assert done.exit_code != 0
    assert (
        "Traceback" not in done.output
        and done.exception is None
        or isinstance(done.exception, SystemExit)
    )
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "101 characters" in lines[0] and "at most 100" in lines[0]


@pytest.mark.parametrize(
    "cached, cache_write, why",
    [
        (0, -1, "negative token count"),
        (0, MAX_INPUT_TOKENS + 1, "input tokens in one response"),
        (600, 500, "cached + cache_write > input"),
        (500, 500, None),
    ],
)
def test_cache_writes_are_bounded_like_input_and_apart_from_cached(cached, cache_write, why):
    from collector.scan import Limits
    from store.fields import refusal

    when = datetime(2026, 3, 1, tzinfo=UTC)
    found = refusal(when, 1000, cached, cache_write, 10, 0)
    assert (found is None) if why is None else (why in found)
    # The scanner's integer shortcut agrees with the record's bounds.
    ms = int(when.timestamp() * 1000)
    assert Limits.now().refusal(ms, 1000, cached, cache_write, 10, 0) == found


@given(
    counts=st.lists(st.integers(-2, MAX_INPUT_TOKENS + 2), min_size=5, max_size=5),
    small=st.lists(st.integers(-2, 3000), min_size=5, max_size=5),
    use_small=st.booleans(),
)
def test_the_scanner_shortcut_refuses_exactly_what_the_record_bounds_refuse(
    counts, small, use_small
):
    from collector.scan import Limits
    from store.fields import refusal

    inp, cached, cache_write, out, reasoning = small if use_small else counts
    when = datetime(2026, 3, 1, tzinfo=UTC)
    ms = int(when.timestamp() * 1000)
    expected = refusal(when, inp, cached, cache_write, out, reasoning)
    assert Limits.now().refusal(ms, inp, cached, cache_write, out, reasoning) == expected
