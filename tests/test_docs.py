"""The README must stay true: two Quick start commands, every command and setting documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from collector.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_quick_start_is_exactly_two_commands_in_one_block():
    blocks = re.findall(r"```\w*\n(.*?)```", section("Quick start"), re.S)
    assert len(blocks) == 1
    commands = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("codextime start")
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command():
    test_command = re.findall(r"```\w*\n(.*?)```", section("Quick start"), re.S)[0]
    assert test_command.splitlines()[1] in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", sorted(get_command(app).commands))
def test_every_command_is_documented(command):
    assert f"`codextime {command}" in section("Commands")


def test_code_is_ruff_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_record_field_is_documented_with_the_tiers():
    from store.fields import RECORD_FIELDS, TIERS

    leaves = section("What leaves your machine")
    fields = set(re.findall(r"`(\w+)`", leaves.split("\n\n", 2)[1]))
    assert set(RECORD_FIELDS) <= fields
    assert all(f"`{tier}`" in leaves for tier in TIERS)
    assert '"cache_write"' in section("Commands") and '"tiers"' in section("Commands")
