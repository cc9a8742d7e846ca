"""The report table at every width: it fits, its headings take two lines at most, model names are
never cut while anything else can give way, and each column writes its figures one way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from collector.render import plain_text, report_lines
from collector.report import Report, resolve_zone
from store.pricing import load_rates
from tests.rollout import at, meta, ms, session_path, token_count, turn, usage, write

#: Long names of the kind Codex writes, one priced through a label's mapping (marked ``~``).
MODELS = ("gpt-5.1-codex-max", "codex-auto-review", "gpt-5.3-codex", "gpt-5-mini")
ROOT = Path(__file__).resolve().parent.parent


def busy_month() -> dict:
    """Ten days of heavy use over four models: figures up to hundreds of millions, cache
    writes, reasoning; a day with a single small response."""
    report = Report("daily", resolve_zone("UTC"), rates=load_rates())
    for day in range(1, 11):
        for n, model in enumerate(MODELS):
            for minute in range(0, 40, 2):
                ts = ms(at(f"2026-03-{day:02d} 1{n}:{minute:02d}:00"))
                report.add(ts, model, 3_456_789, 2_000_000, 54_321, 12_345, "s", cache_write=99_999)
    report.add(ms(at("2026-03-12 09:00:00")), "gpt-5-mini", 1_234, 0, 56, 7, "t")
    return report.to_json()


def rendered(data: dict, width: int, period: str = "daily") -> str:
    return plain_text(report_lines(data, period, width))


def head_and_body(text: str) -> tuple[list[str], list[str]]:
    """The heading lines (between the title and the rule) and the rows (up to the caption)."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    body = []
    for line in lines[rule + 1 :]:
        if line.startswith(("Cached", "Cached and")):
            break
        if line.strip():
            body.append(line)
    return lines[1:rule], body


#: The ways a figure may be written: every digit, or in one unit with a fixed number of decimals.
EXACT = re.compile(r"^\d{1,3}(,\d{3})*$")
SCALED = re.compile(r"^<?\d[\d,]*(?:\.(\d+))?([KMB])$")


def column_formats(body: list[str]) -> list[set]:
    """For each figure column (the API-equivalent, last, left out), the formats its cells use."""
    rows = [line.split() for line in body]
    columns = len(rows[0]) - 1
    formats: list[set] = [set() for _ in range(columns - 1)]
    for cells in rows:
        assert len(cells) == columns + 1, cells  # a model name is one word
        for i, cell in enumerate(cells[1:-1]):
            if cell == "0":
                continue  # nothing, whatever the unit
            scaled = SCALED.match(cell)
            if scaled:
                formats[i].add((len(scaled.group(1) or ""), scaled.group(2)))
            else:
                assert EXACT.match(cell), cell
                formats[i].add("exact")
    return formats


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_the_table_fits_and_never_cuts_a_model_name_when_there_is_room(width):
    text = rendered(busy_month(), width)
    assert max(map(len, text.splitlines())) <= width, text
    heading, body = head_and_body(text)
    assert len(heading) <= 2, text  # never three lines of heading
    labels = [line.split()[0] for line in body]
    for model in MODELS:
        mark = "~" if model == "codex-auto-review" else ""
        assert labels.count(model + mark) >= 10, text  # one a day
    assert "…" not in text
    for formats in column_formats(body):
        assert len(formats) == 1, (formats, text)


def test_a_wide_terminal_gets_every_column_and_every_digit():
    text = rendered(busy_month(), 160)
    heading, body = head_and_body(text)
    assert "Reasoning" in " ".join(heading) and "write" in " ".join(heading)
    assert "276,543,120" in text and "2,765,432,434" in text  # a day's input, all days
    assert "Rounded" not in text and "Left out" not in text


def test_a_narrow_terminal_drops_parts_before_cutting_a_name_and_says_so():
    text = rendered(busy_month(), 80)
    heading, _ = head_and_body(text)
    flat = " ".join(text.split())
    assert "Reasoning" not in " ".join(heading)
    left_out = flat.split("Left out to fit the terminal: ")[1].split("(")[0]
    assert "Reasoning" in left_out and "Input" not in left_out
    assert "Rounded to fit the terminal" in flat
    # In the unit of the column's typical figure: a day's input, and the total's in thousands.
    assert "276.5M" in text and "2,765.4M" in text


def test_only_a_very_narrow_terminal_cuts_names_and_keeps_the_estimate_mark():
    text = rendered(busy_month(), 48)  # the total and its estimate only, every name whole
    assert max(map(len, text.splitlines())) <= 48 and "…" not in text, text
    text = rendered(busy_month(), 40)
    assert max(map(len, text.splitlines())) <= 40, text
    _, body = head_and_body(text)
    cut = [line.split()[0] for line in body if "…" in line.split()[0]]
    assert cut and all(len(label) >= 8 for label in cut)
    assert any(label.startswith("codex-a") and label.endswith("…~") for label in cut), text


def test_small_figures_stay_exact_and_tiny_ones_are_not_shown_as_zero():
    data = busy_month()
    text = rendered(data, 80)
    _, body = head_and_body(text)
    small_day = next(line for line in body if line.startswith("2026-03-12"))
    # The day's input (1,234) sits in a column in millions: below its smallest step, not 0.
    assert small_day.split()[1] == "<0.1M", small_day
    assert small_day.split()[2] == "0"  # nothing cached at all


def piped_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex"
    lines = [meta(ts="2026-03-01T10:00:00.000Z")]
    total = usage(0, 0, 0, 0)
    for n, model in enumerate(MODELS):
        turn_at = f"2026-03-01T1{n}:00:00.000Z"
        lines.append(turn(turn_at, model=model))
        last = usage(3_456_789, 2_000_000, 54_321, 12_345)
        total = {k: total[k] + last[k] for k in total}
        lines.append(token_count(turn_at.replace(":00:00.", ":00:05."), total, last))
    write(session_path(home, "2026-03-01T10-00-00", "019a152d-35a0-72a0-91db-8ebe37fac69e"), lines)
    return home


def test_through_a_pipe_the_table_takes_80_columns_and_keeps_every_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-m", "collector", "report", "daily", "-z", "UTC"]
        + ["--codex-home", str(piped_home(tmp_path))],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert max(map(len, done.stdout.splitlines())) <= 80, done.stdout
    heading, body = head_and_body(done.stdout)
    assert len(heading) <= 2
    labels = {line.split()[0] for line in body}
    assert {"gpt-5.1-codex-max", "codex-auto-review~", "gpt-5.3-codex", "gpt-5-mini"} <= labels
