"""bench/run.py: a baseline commit's report is timed in the same turns as the codextime timed."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))  # (the bench's scripts import each other by name)

import run  # noqa: E402


def test_a_baseline_is_one_more_report_in_the_turns(tmp_path, monkeypatch):
    built: list[str] = []

    def baseline(ref: str, scratch: Path) -> str:
        built.append(ref)
        return f"/venvs/{ref}/bin/codextime"

    monkeypatch.setattr(run, "baseline_codextime", baseline)
    timed: list[list[tuple[list[str], dict]]] = []

    def paired(runs, scratch, commands, warmup=1):
        box = type("Box", (), {"env": {"HOME": "/sandbox"}})()
        timed.append([(label, *make(box)) for label, make in commands])
        return []

    monkeypatch.setattr(run, "paired", paired)
    home = tmp_path / "codex-home"
    (home / "sessions").mkdir(parents=True)
    (tmp_path / "truth.json").write_text('{"days": {}, "totals": {"responses": 0}}')
    args = ["--home", str(home), "--codextime", "/here/codextime", "--baseline", "abc123"]
    run.main([*args, "--skip", "ccusage", "--skip", "sync", "--results", str(tmp_path / "r.md")])
    assert built == ["abc123"]
    [commands] = timed
    tail = ["report", "daily", "--json", "--timezone", "UTC", "--codex-home", str(home.resolve())]
    assert commands == [
        ("codextime report daily", ["/here/codextime", *tail], {"HOME": "/sandbox"}),
        (
            "codextime report daily at abc123",
            ["/venvs/abc123/bin/codextime", *tail],
            {"HOME": "/sandbox"},
        ),
    ]
    assert "Baseline: a wheel of abc123" in (tmp_path / "r.md").read_text()
