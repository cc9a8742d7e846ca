"""What a person tries first at a terminal or through a pipe: store URLs as services hand them
out, a store that is not there, a busy port, bad numbers, --version, --last, short flags."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli import app
from tests import test_cli

runner = CliRunner()


#: Two responses, 1,000 and 3,000 input tokens, on 1 and 3 Nov 2025 (UTC).
home = test_cli.home


def one_line_error(result, *words: str) -> str:
    """The one stderr line of a failed command, checked to name ``words``."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


# -- store URLs ------------------------------------------------------------------------------


def test_a_url_whose_driver_is_missing_is_one_line():
    result = runner.invoke(app, ["report", "daily", "--db", "mysql://x"])
    line = one_line_error(result, "needs a driver that is not installed", "postgresql+psycopg://")
    assert "sqlite:///" in line


def test_reading_a_missing_sqlite_store_creates_nothing(tmp_path):
    folder = tmp_path / "no" / "such" / "dir"
    result = runner.invoke(app, ["report", "daily", "--db", f"sqlite:///{folder / 'x.db'}"])
    one_line_error(result, "no store at", str(folder / "x.db"))
    assert not (tmp_path / "no").exists()


def test_an_unknown_account_is_an_error_not_zeros(home, tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert runner.invoke(app, ["sync", "--codex-home", str(home), "--db", db]).exit_code == 0
    known = runner.invoke(app, ["report", "daily", "--db", db, "--account", "local", "--json"])
    assert known.exit_code == 0 and orjson.loads(known.stdout)["totals"]["input"] == 4000
    unknown = runner.invoke(app, ["report", "daily", "--db", db, "--account", "bob\x1b[2J"])
    assert (
        one_line_error(unknown, "no account named")
        == "error: no account named 'bob\\x1b[2J' in the store"
    )


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_hosted_postgresql_urls_are_read_through_psycopg(scheme):
    from store.db import store_url

    url = store_url(f"{scheme}://alice:secret@db.example.org:5432/usage?sslmode=require")
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.host, url.port, url.database) == (
        "alice",
        "db.example.org",
        5432,
        "usage",
    )
    assert url.query == {"sslmode": "require"}
    assert store_url("sqlite:///x.db").drivername == "sqlite"


def test_a_hosted_postgresql_url_works_from_the_environment(home, store_url, monkeypatch):
    """CODEXTIME_DB (and so the dashboard's secret, read through the same default) as a hosted
    service writes it."""
    hosted = store_url.replace("postgresql+psycopg://", "postgres://", 1)
    monkeypatch.setenv("CODEXTIME_DB", hosted)
    synced = runner.invoke(app, ["sync", "--codex-home", str(home)])
    assert synced.exit_code == 0, synced.output
    shown = runner.invoke(app, ["report", "daily", "--db", hosted, "--json"])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.stdout)["totals"]["input"] == 4000


# -- sync through a pipe ---------------------------------------------------------------------


def test_a_piped_sync_prints_its_summary_and_a_background_one_nothing(home, tmp_path):
    """A real process with stdout and stderr both pipes, as under cron or ``| tee``."""
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path / 's.db'}"
    command = [sys.executable, "-m", "collector", "sync", "--codex-home", str(home), "--db", db]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Synced: 2 new records (2 read, "), first.stdout
    assert first.stderr == ""
    again = subprocess.run([*command, "--background"], capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


# -- start: the dashboard's port ---------------------------------------------------------------


@pytest.fixture
def taken_port():
    """A port something listens on, for the length of the test."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_port_gives_the_next_free_one(taken_port):
    from collector.commands.starting import free_port

    chosen = free_port(taken_port)
    assert chosen > taken_port
    assert free_port(chosen) == chosen


def test_no_free_port_is_one_clear_error(taken_port):
    from collector.commands.starting import free_port
    from store.errors import UserError

    with pytest.raises(UserError, match=f"^ports {taken_port} to {taken_port} are all taken"):
        free_port(taken_port, tries=1)


# -- demo and hook: bad input ----------------------------------------------------------------


@pytest.mark.parametrize("days", ["0", "-3", "3651"])
def test_demo_days_out_of_range_is_one_line_and_writes_nothing(tmp_path, days):
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--days", days])
    one_line_error(result, "--days must be from 1 to 3650", days)
    assert not out.exists()


def test_hook_install_on_a_missing_codex_home_is_one_line_and_creates_nothing(tmp_path):
    missing = tmp_path / "no-codex"
    result = runner.invoke(app, ["hook", "install", "--codex-home", str(missing)])
    one_line_error(result, str(missing), "--codex-home")
    assert not missing.exists()


# -- habits: --version, --last, short flags, help summaries ----------------------------------


def test_version_comes_from_the_installed_package():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"codextime {version('codextime')}\n"


@pytest.mark.parametrize(
    "period, count, today, first",
    [
        ("daily", 1, "2026-11-30", "2026-11-30"),
        ("daily", 7, "2026-11-30", "2026-11-24"),
        ("weekly", 1, "2026-11-30", "2026-11-30"),  # a Monday
        ("weekly", 2, "2026-11-29", "2026-11-16"),  # a Sunday: its week began on the 23rd
        ("monthly", 1, "2026-11-30", "2026-11-01"),
        ("monthly", 12, "2026-11-30", "2025-12-01"),
        ("monthly", 14, "2026-02-10", "2025-01-01"),
    ],
)
def test_last_counts_whole_periods_back_from_the_current_one(period, count, today, first):
    from datetime import date

    from collector.commands.reporting import Period, first_of_last

    got = first_of_last(Period(period), count, date.fromisoformat(today))
    assert got == date.fromisoformat(first)


def test_last_on_the_command_line(home):
    """The fixture's responses are in 2025; the last 3 days of today hold none of them."""
    args = ["report", "daily", "--codex-home", str(home), "-j", "-z", "UTC"]
    assert orjson.loads(runner.invoke(app, [*args, "-n", "3"]).stdout)["days"] == []
    everything = orjson.loads(runner.invoke(app, [*args, "--last", "3650"]).stdout)
    assert everything["totals"]["input"] == 4000


@pytest.mark.parametrize(
    "args, words",
    [
        (["report", "daily", "--last", "2", "--since", "2025-11-01"], ["--last and --since"]),
        (["report", "daily", "--last", "0"], ["--last needs a count of 1 or more"]),
        (["report", "session", "--last", "2"], ["with sessions, use --since"]),
    ],
)
def test_last_misused_is_one_line(home, args, words):
    one_line_error(runner.invoke(app, [*args, "--codex-home", str(home)]), *words)


def test_short_flags_mean_their_long_forms(home, tmp_path):
    long = ["--timezone", "Asia/Tokyo", "--since", "2025-11-02", "--until", "2025-11-03", "--json"]
    short = ["-z", "Asia/Tokyo", "-s", "2025-11-02", "-u", "2025-11-03", "-j"]
    shown = [
        runner.invoke(app, ["report", "daily", "--codex-home", str(home), *flags]).stdout
        for flags in (long, short)
    ]
    assert shown[0] == shown[1] and orjson.loads(shown[0])["totals"]["input"] == 4000
    db = f"sqlite:///{tmp_path / 's.db'}"
    synced = runner.invoke(app, ["sync", "--codex-home", str(home), "-d", db, "-l", "laptop"])
    assert synced.exit_code == 0, synced.output
    stored = runner.invoke(app, ["report", "daily", "-d", db, "-j"])
    assert orjson.loads(stored.stdout)["totals"]["input"] == 4000
    scanned = orjson.loads(
        runner.invoke(app, ["scan", "--codex-home", str(home), "-j", "-l", "x"]).stdout
    )
    assert {r["label"] for r in scanned["records"]} == {"x"}


def _groups(group, path=()):
    """(words, click group) of the app and each of its command groups."""
    yield path, group
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _groups(command, (*path, name))


def test_help_lists_every_command_with_a_whole_sentence():
    """Click cuts a summary that does not fit an 80-column list with "..."."""
    from typer.main import get_command

    for words, group in _groups(get_command(app)):
        shown = runner.invoke(app, [*words, "--help"], terminal_width=80).output
        listed = shown.split("Commands:")[1].strip().splitlines()
        assert len(listed) == len(group.commands), shown
        for line in listed:
            assert line.rstrip().endswith(".") and "..." not in line, (words, line)


def test_scan_names_the_log_that_is_still_being_written(tmp_path):
    """A log whose last line is unfinished (Codex is writing it) is named in scan's summary, so
    a user knows why its latest response is not counted yet."""
    from tests.rollout import meta, session_path, token_count, turn, usage, write

    home = tmp_path / "home"
    path = session_path(home, "2025-10-24T16-44-35", "019a152d-35a0-72a0-91db-8ebe37fac69e")
    write(
        path,
        [
            meta(),
            turn("2025-10-24T07:44:40.000Z"),
            token_count("2025-10-24T07:44:41.000Z", usage(100, 0, 10, 0), usage(100, 0, 10, 0)),
        ],
    )
    with path.open("ab") as fh:
        fh.write(b'{"timestamp":"2025-10-24T07:44:50.000Z","type":"event_msg","payload":{"ty')
    done = runner.invoke(app, ["scan", "--codex-home", str(home)])
    assert done.exit_code == 0, done.output
    (line,) = [ln for ln in done.output.splitlines() if ln.startswith("Still being written")]
    assert path.name in line


def test_a_store_folder_that_cannot_be_made_is_one_line(tmp_path):
    """`sync --db` into a folder that cannot be created (its parent is a file) says so in one
    line, naming the folder, without a traceback."""
    from collector.demo import generate

    generate(tmp_path / "home", days=2, seed=3)
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'a-file' / 'store' / 'x.db'}"
    done = runner.invoke(app, ["sync", "--codex-home", str(tmp_path / "home"), "--db", url])
    assert done.exit_code == 2, done.output
    assert "cannot create the store's folder" in done.output and "Traceback" not in done.output
