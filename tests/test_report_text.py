"""The report table's text, laid out without rich: its words wrapped, cells measured and cut,
and its width read, as rich does them (rich still styles a terminal's output); hostile model
names stay safe text in aligned columns; a piped table never loads rich."""

from __future__ import annotations

import copy
import io
import os
import pty
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from collector import render
from tests.test_report_golden import frozen
from tests.test_report_table import piped_home

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("a", "API-equivalent", "(estimate):", "模型", "gpt-5.1-codex", "é", "x" * 30, "🚀", "  ")


def some_text(rnd: random.Random) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 25)))


def test_notes_wrap_where_rich_wraps_them():
    rnd = random.Random(5)
    console = Console(width=200, file=io.StringIO())
    for _ in range(400):
        text, width = some_text(rnd), rnd.randint(2, 60)  # a wide character fits
        expected = [str(line).rstrip() for line in Text(text).wrap(console, width)]
        assert render.wrap(text, width) == expected, (text, width)


def test_cells_are_counted_and_cut_as_rich_counts_them():
    for text in ("Total", "模型-codex", "gpt-5-cafe\u0301", "gpt-🚀-5", "cut…", ""):
        assert render.cell_width(text) == cell_len(text)
        for width in range(1, cell_len(text) + 2):
            cut = render.cut(text, width)
            assert render.cell_width(cut) <= width
            assert cut == text or cut.endswith("…")
    assert render.cut("gpt-5.1-codex", 8) == "gpt-5.1…"
    assert render.cut("模型模型", 4) == "模…"  # no space where half a wide character was


ENVIRONMENTS = [{}, {"COLUMNS": "132"}, {"COLUMNS": "wide"}, {"COLUMNS": "0"}, {"LINES": "9"}]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_piped_table_is_as_wide_as_rich_would_make_it(environment):
    program = (
        "from rich.console import Console\n"
        "from collector.render import terminal_width\n"
        "print(terminal_width(), Console().width)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-c", program],
        env={**env, **environment},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    ours, richs = done.stdout.split()
    assert ours == richs


#: A figure as the table writes it: tokens (every digit or in a unit), or a cost.
FIGURE = re.compile(r"^(<?[\d,]+(\.\d+)?[KMB]?|-\*?|\$[\d,]+\.\d\d\*?)$")


def hostile_report() -> dict:
    """The hostile case with its longest name in East Asian wide characters, a bidirectional
    override and an emoji code in others."""
    data, _ = frozen("hostile")
    data = copy.deepcopy(data)
    for row in (*data["days"], data["totals"]):
        models = row["models"]
        models["模型" * 30] = models.pop("模型-codex-测试")
        models["gpt-\u202eevil"] = models.pop("gpt-5-cafe\u0301")
        models[":rocket: gpt"] = models.pop("gpt-5.1-codex")
    data["unpriced"] = {"模型" * 30: 1, "gpt-\u202eevil": 2}
    return data


@pytest.mark.parametrize("width", [200, 100, 80, 60])
def test_hostile_names_are_safe_text_in_aligned_columns(width):
    text = render.plain_text(render.report_lines(hostile_report(), "daily", width))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "gpt-?evil" in text and ":rocket: gpt" in text  # shown as written, not an emoji
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    table_width = len(lines[rule])
    assert table_width <= width
    total = next(i for i, line in enumerate(lines) if line.startswith("Total"))
    body = [line for line in lines[rule + 1 : total + 1] if line]
    # The last column is aligned right: every row ends at the table's edge, and every figure is
    # whole (only names are cut).
    assert {render.cell_width(line) for line in body} == {table_width}
    figures = len(body[0].split()) - 1  # a day's row: its date, then figures only
    for line in body:
        assert all(FIGURE.match(cell) for cell in line.split()[-figures:]), line
    assert all(render.cell_width(line) <= table_width for line in lines[rule:])


def report_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "NO_COLOR")}
    return {**env, "COLUMNS": "100", "TERM": "xterm-256color", **extra}


PROGRAM = (
    "import sys\n"
    "sys.argv = ['codextime', 'report', 'daily', '-z', 'UTC', '--codex-home', sys.argv[1]]\n"
    "from collector.commands.entry import run_command_line\n"
    "run_command_line()\n"
    "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'statistics'}),"
    " file=sys.stderr)\n"
)


def test_a_piped_table_loads_no_rich_and_forced_colour_styles_it(tmp_path):
    home = str(piped_home(tmp_path))
    run = [sys.executable, "-c", PROGRAM, home]
    piped = subprocess.run(run, env=report_env(), capture_output=True, text=True, cwd=ROOT)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr.strip().splitlines()[-1] == "[]"
    assert "\x1b" not in piped.stdout and "gpt-5.1-codex-max" in piped.stdout
    forced = subprocess.run(
        run, env=report_env(FORCE_COLOR="1"), capture_output=True, text=True, cwd=ROOT
    )
    assert forced.returncode == 0, forced.stderr
    assert "\x1b[1m2026-03-01" in forced.stdout and "\x1b[2m  gpt-5.1-codex-max" in forced.stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", forced.stdout)
    assert [line.rstrip() for line in plain.splitlines()] == piped.stdout.splitlines()


def test_on_a_real_terminal_the_table_is_styled(tmp_path):
    home = str(piped_home(tmp_path))
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "collector", "report", "daily", "-z", "UTC", "--codex-home", home],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=report_env(),
        cwd=ROOT,
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes with the process
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=60) == 0
    os.close(leader)
    text = shown.decode().replace("\r\n", "\n")
    assert "\x1b[3m" in text  # the title in italics
    assert "\x1b[1m2026-03-01" in text and "\x1b[2m  codex-auto-review~" in text
    assert "\x1b[2;3mCached is part of input" in text


def test_without_any_stdout_the_table_goes_nowhere_quietly(monkeypatch):
    monkeypatch.setattr(render, "out", render._LazyConsole())
    monkeypatch.setattr(sys, "stdout", None)  # pythonw, a detached process
    data, _ = frozen("empty")
    render.show_report(data, "daily", json=False, demo=True)


@pytest.mark.parametrize(
    "hidden", ["\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff", "\U000e0041", "\u180e"]
)
def test_invisible_characters_in_a_name_show_so_it_cannot_pass_for_another(hidden):
    assert render.safe_text(f"gpt-5{hidden}") == "gpt-5?"
    assert render.safe_text("gpt-5 模型 café") == "gpt-5 模型 café"


def test_a_name_of_marks_that_take_no_cell_is_cut_by_its_characters_too():
    marks = "a" + "\u0301" * 500  # one cell, 501 characters
    shown = render.cut(marks, 10)
    assert shown.endswith("…") and len(shown) <= render.MOST_PER_CELL * 10
    assert render.cell_width(shown) <= 10
    assert render.cut("café\u0301s", 10) == "café\u0301s"  # marks of a real name stay
