"""Demo data never passes for real usage: its records keep the "demo" label whatever label is
asked for, are never sent to a server, and "demo" is refused as the label of real logs."""

from __future__ import annotations

import sqlite3

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli import app
from store.fields import is_demo_label
from tests.test_cli import home  # noqa: F401 (a fixture: real logs of two responses)

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "codex-home"
    made = runner.invoke(app, ["demo", "--out", str(out), "--days", "3"])
    assert made.exit_code == 0, made.output
    return out


def scanned_labels(result) -> set:
    assert result.exit_code == 0, result.output
    return {r["label"] for r in orjson.loads(result.stdout)["records"]}


def test_a_label_flag_does_not_remove_the_demo_mark_and_says_so(demo_home):
    result = runner.invoke(app, ["scan", "--json", "--codex-home", str(demo_home), "-l", "laptop"])
    assert scanned_labels(result) == {"demo"}
    assert 'its records are labelled "demo", not "laptop"' in " ".join(result.stderr.split())


def test_the_label_setting_does_not_remove_the_demo_mark(demo_home, monkeypatch):
    monkeypatch.setenv("CODEXTIME_LABEL", "laptop")
    result = runner.invoke(app, ["scan", "--json", "--codex-home", str(demo_home)])
    assert scanned_labels(result) == {"demo"}


def test_a_demo_home_synced_into_a_store_keeps_its_mark(demo_home, tmp_path):
    db = tmp_path / "s.db"
    args = ["sync", "--codex-home", str(demo_home), "--db", f"sqlite:///{db}", "-l", "laptop"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        labels = {row[0] for row in conn.execute("select distinct label from usage")}
    assert labels == {"demo"}


def test_a_demo_home_is_never_sent_to_a_server(demo_home, monkeypatch):
    """Refused before any connection (nothing listens at this address), in one line."""
    monkeypatch.setenv("CODEXTIME_LABEL", "laptop")
    args = [
        "sync",
        "--codex-home",
        str(demo_home),
        "--server",
        "http://127.0.0.1:9",
        "--token",
        "t",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: this is demo data; it is never sent to a server"


def test_real_logs_cannot_be_labelled_demo(home, tmp_path):  # noqa: F811
    db = tmp_path / "s.db"
    result = runner.invoke(
        app, ["sync", "--codex-home", str(home), "--db", f"sqlite:///{db}", "-l", "demo"]
    )
    assert result.exit_code == 2
    assert 'the label "demo" is reserved for demo data; choose another' in result.stderr
    assert not db.exists()
    kept = runner.invoke(app, ["scan", "--json", "--codex-home", str(home), "-l", "laptop"])
    assert scanned_labels(kept) == {"laptop"}


def test_a_sync_given_no_label_still_marks_a_demo_home(demo_home, tmp_path):
    """`codextime start` syncs with no label at all: the demo mark comes from the home itself."""
    from collector.commands.syncing import sync_into_store

    db = tmp_path / "s.db"
    assert sync_into_store(demo_home, f"sqlite:///{db}", None).new > 0
    with sqlite3.connect(db) as conn:
        labels = {row[0] for row in conn.execute("select distinct label from usage")}
    assert labels == {"demo"}


@pytest.mark.parametrize(
    "label", ["demo", "Demo", " demo", "DEMO", "demo\t", "\u00a0Demo ", "Ｄｅｍｏ"]
)
def test_every_spelling_of_the_reserved_label_is_the_demo_label(label):
    assert is_demo_label(label)


@pytest.mark.parametrize("label", [None, "", "demos", "demo-ada", "laptop", "de mo", "my demo"])
def test_other_labels_are_not_the_demo_label(label):
    assert not is_demo_label(label)
