"""``report session``: sessions in time order, their start and last activity in the chosen zone,
their duration, and the name of the folder each ran in: read from the logs on this machine,
shown there, and never carried anywhere else (records, --json, the store, the sync state, an
upload)."""

from __future__ import annotations

import gzip
import io
import sqlite3
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from collector import render
from collector.cli import app
from collector.parse import RolloutParser, folder_name
from collector.report import Report, resolve_zone
from collector.scan import ReadPlan
from collector.sync import sync
from collector.upload import HttpSink
from tests.rollout import encode, meta, session_path, token_count, turn, usage, write

#: A folder name no other text in the logs, the code or the store holds.
MARKER = "zq-marker-folder-7731"
LATE = "019a152d-35a0-72a0-91db-8ebe37fac69e"
EARLY = "019a152d-35a0-72a0-91db-8ebe37fac6aa"
runner = CliRunner()


def session_lines(sid: str, cwd: str, stamps: list[str]) -> list[dict]:
    lines = [meta(ts=stamps[0], sid=sid, cwd=cwd), turn(stamps[0], model="gpt-5.1-codex")]
    total = usage(0, 0, 0, 0)
    for stamp in stamps:
        last = usage(1000, 400, 100, 20)
        total = {k: total[k] + last[k] for k in total}
        lines.append(token_count(stamp, total, last))
    return lines


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The later session ran in MARKER and went on past midnight (Tokyo); the earlier one ran
    in a Windows folder. Files are written later session first: order comes from the times."""
    home = tmp_path / "codex"
    late = ["2026-03-01T13:30:00.000Z", "2026-03-01T14:10:00.000Z", "2026-03-01T16:05:00.000Z"]
    write(
        session_path(home, "2026-03-01T22-30-00", LATE),
        session_lines(LATE, f"/home/sam/src/{MARKER}", late),
    )
    early = ["2026-03-01T01:00:00.000Z", "2026-03-01T01:45:00.000Z"]
    write(
        session_path(home, "2026-03-01T10-00-00", EARLY),
        session_lines(EARLY, "C:\\Users\\sam\\src\\ledger\\", early),
    )
    return home


def report_session(home: Path, zone: str, width: int = 120) -> str:
    """What ``codextime report session`` prints: the logs read by a plan, whose folders go to
    the table (and only there)."""
    plan = ReadPlan(home, keep_cursors=False)
    report = Report("session", resolve_zone(zone))
    for result in plan.results():
        report.add_rows(result.rows)
    console = render._LazyConsole(width=width, file=io.StringIO(), color_system=None)
    original, render.out = render.out, console
    try:
        render.show_report(
            report.to_json(), "session", json=False, demo=False, folders=plan.folders
        )
    finally:
        render.out = original
    return console.get().file.getvalue()


def session_rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.startswith("2026-")]


def test_sessions_in_time_order_in_the_zone_with_duration_and_folder(home):
    rows = session_rows(report_session(home, "Asia/Tokyo"))
    # Started, last active, duration, folder, then the figures.
    assert [row[:6] for row in rows] == [
        ["2026-03-01", "10:00", "10:45", "45m", "ledger", "2,000"],
        ["2026-03-01", "22:30", "01:05", "+1d", "2h", "35m"],
    ]
    assert rows[1][6] == MARKER


def test_another_zone_moves_the_times_not_the_order(home):
    rows = session_rows(report_session(home, "UTC"))
    assert [row[:3] for row in rows] == [
        ["2026-03-01", "01:00", "01:45"],
        ["2026-03-01", "13:30", "16:05"],
    ]


def test_a_narrow_terminal_keeps_start_duration_and_folder(home):
    text = report_session(home, "Asia/Tokyo", width=80)
    assert max(map(len, text.splitlines())) <= 80, text
    assert MARKER in text and "2h 35m" in text and "2026-03-01 22:30" in text
    text = report_session(home, "Asia/Tokyo", width=66)  # the folder's name gives way first
    assert max(map(len, text.splitlines())) <= 66, text
    assert MARKER[:11] + "…" in text and "2h 35m" in text and "2026-03-01 22:30" in text


def test_the_folder_name_is_only_its_last_part():
    assert folder_name("/home/sam/src/ledger") == "ledger"
    assert folder_name("/home/sam/src/ledger/") == "ledger"
    assert folder_name("C:\\Users\\sam\\ledger") == "ledger"
    assert folder_name("ledger") == "ledger"
    for nothing in (None, "", "/", 42, ["/a/b"], {"path": "/a"}):
        assert folder_name(nothing) is None
    assert len(folder_name("/x/" + "a" * 500)) == 100


def test_a_hostile_folder_name_shows_as_text(tmp_path):
    home = tmp_path / "codex"
    cwd = "/tmp/[red]boom\x1b[2J\x07evil"
    write(
        session_path(home, "2026-03-01T10-00-00", LATE),
        session_lines(LATE, cwd, ["2026-03-01T01:00:00.000Z"]),
    )
    text = report_session(home, "UTC", width=160)
    assert "[red]boom?[2J?evil" in text and "\x1b" not in text and "\x07" not in text


def test_the_folder_never_leaves_the_table(home, tmp_path):
    """Not in the rows, the records of scan --json, report --json, the store, the sync state,
    nor an upload's bodies."""
    assert MARKER in report_session(home, "UTC")  # it is in the logs, and shown

    plan = ReadPlan(home, keep_cursors=True)
    results = list(plan.results())
    assert MARKER not in repr([r.rows for r in results])
    assert all(
        MARKER not in orjson.dumps(c.to_json()).decode()
        for r in results
        for c in r.cursors.values()
    )

    scanned = runner.invoke(app, ["scan", "--json", "--codex-home", str(home)])
    assert scanned.exit_code == 0 and scanned.stdout.count('"event_id"') == 5
    reported = runner.invoke(app, ["report", "session", "--json", "--codex-home", str(home)])
    assert reported.exit_code == 0 and len(orjson.loads(reported.stdout)["sessions"]) == 2

    db = tmp_path / "store.db"
    synced = runner.invoke(app, ["sync", "--codex-home", str(home), "--db", f"sqlite:///{db}"])
    assert synced.exit_code == 0, synced.output
    with sqlite3.connect(db) as conn:
        stored = "\n".join(conn.iterdump())

    bodies: list[bytes] = []

    def server(request: httpx.Request) -> httpx.Response:
        bodies.append(gzip.decompress(request.content))
        return httpx.Response(200, json={"received": 5, "new": 5})

    client = httpx.Client(transport=httpx.MockTransport(server))
    sink = HttpSink("http://ingest.test/", "ctk_t", client=client, sleep=lambda _: None)
    sent = sync(home, sink, tmp_path / "upload-state.json")
    assert sent.new == 5 and bodies

    user = tmp_path / "user"  # the state, data and config folders of this test
    local = b"".join(
        p.read_bytes() for p in [*user.rglob("*"), *tmp_path.glob("*.json")] if p.is_file()
    )
    for where, text in (
        ("scan --json", scanned.stdout.encode()),
        ("report --json", reported.stdout.encode()),
        ("store", stored.encode() + db.read_bytes()),
        ("upload", b"".join(bodies)),
        ("sync state", local),
    ):
        assert MARKER.encode() not in text, f"the folder name leaked into {where}"


def test_the_parser_state_holds_no_folder():
    parser = RolloutParser()
    for line in encode(
        session_lines(LATE, f"/w/{MARKER}", ["2026-03-01T01:00:00.000Z"])
    ).splitlines():
        parser.feed(line)
    assert parser.folder == MARKER
    state = parser.to_state()
    assert MARKER not in orjson.dumps(state).decode()
    assert RolloutParser.from_state(state).folder is None
