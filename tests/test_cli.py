"""The command line: help everywhere, the report JSON contract, one-line errors, quiet pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from collector.cli import app
from tests.rollout import meta, session_path, token_count, turn, usage, write

runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)
SID = "019a152d-35a0-72a0-91db-8ebe37fac69e"


@pytest.fixture
def home(tmp_path):
    """Two responses: 23:30 UTC on 1 Nov (2 Nov in Tokyo) and 10:00 UTC on 3 Nov (a Monday)."""
    home = tmp_path / "codex"
    a, b = usage(1000, 600, 200, 50), usage(3000, 1000, 500, 100)
    total_b = usage(4000, 1600, 700, 150)
    write(
        session_path(home, "2025-11-02T00-29-00", SID),
        [
            meta(ts="2025-11-01T23:29:00.000Z"),
            turn("2025-11-01T23:29:01.000Z", model="gpt-5-codex"),
            token_count("2025-11-01T23:30:00.000Z", a, a),
            turn("2025-11-03T10:00:00.000Z", model="gpt-5.1-codex"),
            token_count("2025-11-03T10:00:05.000Z", total_b, b),
        ],
    )
    return home


def report(home, *args) -> dict:
    result = runner.invoke(app, ["report", *args, "--codex-home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output) > 200


def test_daily_json_contract(home):
    data = report(home, "daily", "--timezone", "UTC")
    assert [d["date"] for d in data["days"]] == ["2025-11-01", "2025-11-03"]
    first = data["days"][0]
    assert {k: first[k] for k in ("input", "cached", "output", "reasoning", "total")} == {
        "input": 1000,
        "cached": 600,
        "output": 200,
        "reasoning": 50,
        "total": 1200,
    }
    assert first["models"]["gpt-5-codex"]["total"] == 1200
    assert data["totals"]["total"] == 1200 + 3500
    assert data["totals"]["input"] == 4000


def test_days_are_cut_in_the_chosen_zone(home):
    tokyo = report(home, "daily", "--timezone", "Asia/Tokyo")
    assert [d["date"] for d in tokyo["days"]] == ["2025-11-02", "2025-11-03"]
    assert (
        report(home, "daily", "--timezone", "UTC", "--since", "2025-11-02")["totals"]["input"]
        == 3000
    )
    assert (
        report(home, "daily", "--timezone", "Asia/Tokyo", "--until", "20251102")["totals"]["input"]
        == 1000
    )


def test_weekly_monthly_and_session_shapes(home):
    weeks = report(home, "weekly", "--timezone", "UTC")["weeks"]
    assert [w["week"] for w in weeks] == ["2025-10-27", "2025-11-03"]  # Mondays
    months = report(home, "monthly", "--timezone", "UTC")["months"]
    assert [(m["month"], m["total"]) for m in months] == [("2025-11", 4700)]
    sessions = report(home, "session", "--timezone", "UTC")["sessions"]
    assert len(sessions) == 1
    assert len(sessions[0]["session"]) == 32 and SID not in sessions[0]["session"]
    assert sessions[0]["first"] == "2025-11-01T23:30:00.000Z"
    assert set(sessions[0]["models"]) == {"gpt-5-codex", "gpt-5.1-codex"}


def test_report_from_a_store_matches_the_logs(home, tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert runner.invoke(app, ["sync", "--codex-home", str(home), "--db", db]).exit_code == 0
    from_store = runner.invoke(app, ["report", "daily", "--db", db, "--json", "--timezone", "UTC"])
    assert orjson.loads(from_store.stdout) == report(home, "daily", "--timezone", "UTC")


def test_table_output(home):
    result = runner.invoke(app, ["report", "daily", "--codex-home", str(home), "--timezone", "UTC"])
    assert result.exit_code == 0
    assert "2025-11-03" in result.output and "4,700" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "daily", "--codex-home", "/no/such/folder"], "does not exist"),
        (["report", "daily", "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["report", "daily", "--since", "yesterday"], "not a date"),
        (["report", "daily", "--since", "2025-11-03", "--until", "2025-11-01"], "after"),
        (["report", "daily", "--db", "nonsense"], "not a database URL"),
        (["sync", "--codex-home", "/no/such/folder"], "does not exist"),
        (["scan", "--codex-home", "/no/such/folder"], "does not exist"),
    ],
)
def test_bad_input_gets_one_clear_line(home, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_file_as_codex_home_is_explained(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    result = runner.invoke(app, ["scan", "--codex-home", str(f)])
    assert result.exit_code == 2 and "not a directory" in result.output


def test_sync_says_what_it_did_when_not_on_a_terminal(home, tmp_path):
    """No progress bar through a pipe, but the summary still (cron mail, ``| tee``)."""
    result = runner.invoke(
        app, ["sync", "--codex-home", str(home), "--db", f"sqlite:///{tmp_path / 's.db'}"]
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("Synced: 2 new records (2 read, ")
    assert result.stderr == ""  # stderr is for notes and warnings, and there are none


def test_scan_summary_says_what_was_skipped(home):
    result = runner.invoke(app, ["scan", "--codex-home", str(home)])
    assert result.exit_code == 0
    assert "Records: 2 model responses" in result.output


def test_demo_then_report_is_marked_as_demo(tmp_path):
    out = tmp_path / "demo-home"
    made = runner.invoke(app, ["demo", "--out", str(out), "--days", "5"])
    assert made.exit_code == 0, made.output
    table = runner.invoke(app, ["report", "daily", "--codex-home", str(out)])
    assert "DEMO DATA" in table.output
    records = orjson.loads(runner.invoke(app, ["scan", "--json", "--codex-home", str(out)]).stdout)
    assert records["records"] and {r["label"] for r in records["records"]} == {"demo"}


def test_demo_refuses_to_write_into_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "mine")])
    assert result.exit_code == 2 and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_start_uses_a_marked_demo_set_when_there_are_no_logs():
    result = runner.invoke(app, ["start", "--no-app"])
    assert result.exit_code == 0, result.output
    assert "DEMO" in result.output
    assert "Total" in result.output
    # ... and the demo store's leaderboard holds the demo accounts, opted in.
    import sqlite3

    from platformdirs import user_data_dir

    with sqlite3.connect(Path(user_data_dir("codextime")) / "demo.db") as conn:
        names = [n for (n,) in conn.execute("select name from account where leaderboard_opt_in")]
    assert len(names) >= 10 and all(name.startswith("demo-") for name in names)


def test_start_with_a_store_of_its_own_adds_no_demo_accounts(tmp_path):
    import sqlite3

    db = tmp_path / "mine.db"
    result = runner.invoke(app, ["start", "--no-app", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        opted_in = conn.execute("select count(*) from account where leaderboard_opt_in")
        assert opted_in.fetchone() == (0,)


def test_the_console_command_prints_everything_and_exits_with_the_right_code(home, tmp_path):
    """``main`` ends the process itself once the output is flushed."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "collector", "report", "daily", "--json", "--timezone", "UTC"]
    done = subprocess.run([*cmd, "--codex-home", str(home)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout) == report(home, "daily", "--timezone", "UTC")
    missing = subprocess.run(
        [*cmd, "--codex-home", str(tmp_path / "nowhere")], capture_output=True, timeout=60
    )
    assert missing.returncode == 2
    assert b"does not exist" in missing.stderr and b"Traceback" not in missing.stderr
    # A reader that stops early (| head) is not an error.
    with subprocess.Popen(
        [*cmd, "--codex-home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        proc.stdout.read(10)
        proc.stdout.close()
        assert b"Traceback" not in proc.stderr.read()


def test_a_helper_process_that_dies_is_one_line_not_a_traceback(home, monkeypatch):
    from collector import scan as scan_mod
    from collector.workers import WorkerError

    def dying(fn, items, workers, started=None):
        raise WorkerError("a helper process ended early (wait status 9)")
        yield  # (a generator, as the real one)

    monkeypatch.setattr(scan_mod, "unordered_map", dying)
    result = runner.invoke(app, ["report", "daily", "--codex-home", str(home)])
    assert result.exit_code == 2
    assert "ended early" in result.output and "run again" in result.output
    assert "Traceback" not in result.output


def test_help_shows_the_default_notes_as_written():
    """Option texts carry "[default: ...]" notes; a help renderer that reads brackets as markup
    would drop them silently."""
    shown = " ".join(runner.invoke(app, ["report", "--help"]).output.split())
    assert "[default: $CODEX_HOME or ~/.codex]" in shown
    assert "[default: this machine's]" in shown
    assert "not a bill and not an official price" in shown


def test_a_home_whose_demo_marker_does_not_parse_is_not_demo_data(home):
    from collector.demo import MARKER_NAME

    (home / MARKER_NAME).write_text('{"demo": tru')
    table = runner.invoke(app, ["report", "daily", "--codex-home", str(home)])
    assert table.exit_code == 0, table.output
    assert "DEMO DATA" not in table.output
    records = orjson.loads(runner.invoke(app, ["scan", "--json", "--codex-home", str(home)]).stdout)
    assert records["records"] and {r["label"] for r in records["records"]} == {None}


def test_a_model_priced_through_a_label_is_marked_in_the_table(tmp_path, home):
    """``codex-auto-review`` is priced as the model it maps to: the table marks it ``~`` and
    says why, once; a table without such a label says nothing of it."""
    mapped = tmp_path / "mapped"
    first = usage(1000, 600, 200, 50)
    write(
        session_path(mapped, "2026-08-01T10-00-00", SID),
        [
            meta(ts="2026-08-01T10:00:00.000Z"),
            turn("2026-08-01T10:00:01.000Z", model="codex-auto-review"),
            token_count("2026-08-01T10:00:05.000Z", first, first),
        ],
    )
    assert report(mapped, "daily", "--timezone", "UTC")["totals"]["models"]["codex-auto-review"][
        "estimate"
    ]
    args = ["report", "daily", "--timezone", "UTC", "--codex-home"]
    shown = runner.invoke(app, [*args, str(mapped)])
    assert shown.exit_code == 0, shown.output
    rows = [line.split() for line in shown.output.splitlines() if "codex-auto" in line]
    assert len(rows) == 2 and all(row[0].endswith("~") for row in rows), shown.output
    note = "~ Estimate: a label (codex-auto-review, gpt-reserve) priced as the model it maps to."
    assert " ".join(shown.output.split()).count(note) == 1  # the caption wraps
    plain = runner.invoke(app, [*args, str(home)])
    assert plain.exit_code == 0 and "~" not in plain.output


# -- one error type ---------------------------------------------------------------------------


def test_every_domain_error_is_a_user_error():
    """The command line catches one type: each module's own errors derive from it."""
    from collector.demo.marker import NotADemoHome
    from collector.discover import CodexHomeError
    from collector.hook import HookError
    from collector.sync import Busy, SyncError
    from collector.upload import UploadError
    from collector.workers import WorkerError
    from store.accounts import AccountError, NameTaken
    from store.db import StoreError
    from store.errors import UserError
    from store.pricing import RatesError
    from store.rates_update import MissingLibrary

    errors = (NotADemoHome, CodexHomeError, HookError, Busy, SyncError, UploadError, WorkerError)
    errors += (AccountError, NameTaken, StoreError, RatesError, MissingLibrary)
    assert [e.__name__ for e in errors if not issubclass(e, UserError)] == []


def test_any_user_error_is_one_line_with_no_traceback(home, monkeypatch):
    """A UserError of a kind the command line has never heard of still prints as one line."""
    from collector import scan as scan_mod
    from store.errors import UserError

    class Unheard(UserError):
        pass

    def failing(*args, **kwargs):
        raise Unheard("the \x1b[31mlogs\x1b[0m are [bold]odd[/bold]")

    monkeypatch.setattr(scan_mod.ReadPlan, "results", failing)
    result = runner.invoke(app, ["scan", "--codex-home", str(home)])
    assert result.exit_code == 2
    assert result.output == "error: the ?[31mlogs?[0m are [bold]odd[/bold]\n"


def test_a_busy_sync_says_to_try_again_in_its_own_message(tmp_path):
    from collector.sync import Busy, sync_lock

    lock = tmp_path / "x.lock"
    with sync_lock(lock), pytest.raises(Busy) as busy, sync_lock(lock):
        pass
    assert str(busy.value).endswith("; try again when it has finished")


def test_a_failing_database_is_a_store_error_in_one_line(tmp_path):
    """SQLAlchemy's errors become the store's own where the store is called."""
    import sqlalchemy as sa

    from store.accounts import create_account
    from store.db import StoreError, account_id, open_store, usage_rows

    engine = open_store(f"sqlite:///{tmp_path / 'usage.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE usage"))
        conn.execute(sa.text("DROP TABLE api_token"))
        conn.execute(sa.text("DROP TABLE account"))
    for call in (lambda: account_id(engine), lambda: list(usage_rows(engine))):
        with pytest.raises(StoreError, match=r"^the store failed: .*no such table") as failed:
            call()
        assert "\n" not in str(failed.value)
    with pytest.raises(StoreError, match="no such table"):
        create_account(engine, "alice")


def _commands(group, path=()):
    """(words, click command) of every command under ``group``, sub-commands included."""
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_shows_an_example_of_itself():
    commands = list(_commands(get_command(app)))
    assert len(commands) >= 13
    for words, _ in commands:
        shown = runner.invoke(app, [*words, "--help"])
        assert shown.exit_code == 0, words
        examples = [ln.strip() for ln in shown.output.splitlines() if "Example:" in ln]
        assert examples and examples[0].startswith(f"Example: codextime {' '.join(words)}"), words


# -- a plain report runs without building the app ----------------------------------------------

REPORT = get_command(app).commands["report"]


def _kind(param) -> str | None:
    """How the quick path reads a value of this typer parameter."""
    if param.is_flag:
        return None
    name = type(param.type).__name__
    if name == "TyperPath":
        # The quick path checks a path as typer does: readable when it exists, else anything.
        assert param.type.readable and not param.type.exists
        return "path"
    return {"IntParamType": "count", "StringParamType": "text"}[name]


def test_the_quick_reports_options_are_the_declared_ones():
    from collector.commands.entry import REPORT_OPTIONS
    from collector.commands.reporting import Period

    period, *options = REPORT.params
    assert period.name == "period" and list(period.type.choices) == [p.value for p in Period]
    declared = {o.name: (set(o.opts + o.secondary_opts), _kind(o)) for o in options}
    assert declared == {name: (set(flags), kind) for name, (flags, kind) in REPORT_OPTIONS.items()}


PLAIN_REPORTS = [
    ["daily"],
    ["session", "--json"],
    ["--json", "weekly", "-z", "Asia/Tokyo"],
    ["monthly", "--codex-home", "/tmp/x", "--db", "sqlite:///a.db", "--account", "alice"],
    ["daily", "-d", "x", "--timezone", "UTC", "--since", "2026-01-01", "--until", "2026-02-01"],
    ["daily", "-s", "20260101", "-u", "2026-02-01", "--rates", "rates.csv", "-j"],
    ["weekly", "--last", "3"],
    ["-n", "007", "monthly"],
    ["daily", "--account", "daily"],
]


@pytest.mark.parametrize("args", PLAIN_REPORTS)
def test_a_plain_report_is_read_as_typer_reads_it(args):
    from collector.commands.entry import quick_report

    quick = quick_report(["report", *args])
    assert quick is not None
    typer_read = REPORT.make_context("report", list(args)).params
    given = {k: v for k, v in typer_read.items() if v not in (None, False)}
    assert {k: str(v) if k in ("codex_home", "rates") else v for k, v in quick.items()} == given


@pytest.mark.parametrize(
    "args",
    [
        ["report"],
        ["report", "daily", "-h"],
        ["report", "--help", "daily"],
        ["report", "daily", "--db=x"],
        ["report", "daily", "-zUTC"],
        ["report", "daily", "-jz", "UTC"],
        ["report", "daily", "--json", "--json"],
        ["report", "daily", "--jsn"],
        ["report", "daily", "--since"],
        ["report", "daily", "--since", ""],
        ["report", "daily", "--last", "-1"],
        ["report", "daily", "--last", "+3"],
        ["report", "daily", "--last", "3_0"],
        ["report", "daily", "--last", "٣"],
        ["report", "Daily"],
        ["report", "daily", "weekly"],
        ["report", "daily", "--", "--json"],
        ["report", "daily", "--codex-home", "a\0b"],
        ["--version"],
        ["scan"],
        ["sync", "daily"],
    ],
)
def test_anything_but_a_plain_report_goes_to_typer(args):
    from collector.commands.entry import quick_report

    assert quick_report(args) is None


def _run(how: str, args: list[str]) -> subprocess.CompletedProcess:
    """``codextime ARGS`` as a process: through ``main`` (quick path) or typer's app alone."""
    start = {
        "main": "from collector.commands.entry import main; main()",
        "typer": "from collector.cli import app\n"
        "from collector.commands.entry import end_process; end_process(app)",
    }[how]
    program = f"import sys; sys.argv = ['codextime', *sys.argv[1:]]\n{start}"
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-c", program, *args], capture_output=True, timeout=60, env=env
    )


def test_the_quick_path_and_typer_print_and_fail_alike(home, tmp_path):
    from store.pricing import DEFAULT_RATES

    unreadable = tmp_path / "locked"
    unreadable.mkdir(mode=0)
    h = ["--codex-home", str(home)]
    cases = [
        ["report", "daily", *h, "--json", "-z", "Asia/Tokyo", "--rates", str(DEFAULT_RATES)],
        ["report", "weekly", *h, "-n", "2", "--until", "2025-11-30", "--timezone", "UTC"],
        ["report", "session", *h, "--since", "2025-11-02", "-z", "UTC"],  # the table
        ["report", "monthly", *h, "-d", f"sqlite:///{tmp_path / 'none.db'}"],
        ["report", "daily", *h, "--account", "alice"],
        ["report", "daily", *h, "--timezone", "Mars/Olympus"],
        ["report", "daily", *h, "--last", "0"],
        ["report", "daily", "--codex-home", str(tmp_path / "nowhere")],
        ["report", "daily", "--codex-home", str(unreadable)],
        ["report", "--help"],
        ["report", "daily", "-h"],
        ["report", "hourly"],
        ["report", "daily", "--last", "three"],
        ["report", "daily", "--jsn"],
        ["report"],
    ]
    for args in cases:
        quick, full = _run("main", args), _run("typer", args)
        assert (quick.returncode, quick.stdout, quick.stderr) == (
            full.returncode,
            full.stdout,
            full.stderr,
        ), args
    assert b"Usage: codextime report" in full.stderr  # (the last case: an error, typer's own)


def test_a_plain_report_loads_no_typer_and_help_does(home):
    def imports(*args: str) -> str:
        program = (
            "import sys; sys.argv = ['codextime', *sys.argv[1:]]\n"
            "from collector.commands.entry import main; main()"
        )
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", program, *args],
            capture_output=True,
            timeout=60,
        )
        return done.stderr.decode()

    plain = imports("report", "daily", "--json", "--codex-home", str(home))
    assert "| collector.commands.reporting" in plain and "| typer" not in plain
    assert "| typer" in imports("report", "daily", "--help")


def test_a_command_that_leaves_a_thread_running_ends_the_usual_way():
    """``end_process`` skips the interpreter's teardown only when no other thread runs: one
    still at work ends the process through ``sys.exit``, which waits for it."""
    program = (
        "import threading, time\n"
        "from collector.commands.entry import end_process\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('thread done', flush=True)\n"
        "end_process(lambda: threading.Thread(target=late).start())\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout == b"thread done\n"
