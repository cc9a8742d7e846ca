"""The report table, pinned as text: each case is a report document (tests/golden/report_table,
``<case>.json``) and what the table shows at a few widths (``<case>-<width>.txt``), through a
pipe or a file, where no style is written. The documents are frozen, so only the table is under
test here. Regenerate with ``python -m tests.test_report_golden`` when the table is meant to
change, and read the diff."""

from __future__ import annotations

import io
import re
from pathlib import Path

import orjson
import pytest

from collector import render
from collector.report import Report, resolve_zone
from store.pricing import load_rates
from tests.rollout import at, ms
from tests.test_report_table import busy_month

GOLDEN = Path(__file__).resolve().parent / "golden" / "report_table"

#: Model names as a log could hold them: an escape sequence, markup, a very long name, East
#: Asian wide characters, a combining accent, an emoji, and a name no rate prices.
HOSTILE = (
    "gpt-5\x1b[31m-red\x07",
    "[bold]gpt[/bold]-5",
    "gpt-5.1-codex-" + "very-long-" * 9 + "end",
    "模型-codex-测试",
    "gpt-5-cafe\u0301",
    "gpt-🚀-5",
    "gpt-5.1-codex",
)
#: Each case's period, widths and, for sessions, the folder each session ran in.
CASES = {
    "busy": ("daily", (160, 100, 80, 48, 40, 30)),
    "hostile": ("daily", (200, 120, 80)),
    "sessions": ("session", (140, 100, 80, 66)),
    "monthly": ("monthly", (100, 80)),
    "empty": ("daily", (80,)),
}
FOLDERS = ("ledger", "a-very-long-project-folder-name", "項目フォルダ名前テスト")


def _hostile() -> dict:
    report = Report("daily", resolve_zone("Asia/Tokyo"), rates=load_rates())
    for n, model in enumerate(HOSTILE):
        for day in (1, 2):
            ts = ms(at(f"2026-03-0{day} 0{n}:10:00"))
            report.add(ts, model, 1_234_567 * (n + 1), 600_000, 45_678, 9_876, "s")
    return report.to_json()


def _sessions() -> tuple[dict, dict[str, str]]:
    report = Report("session", resolve_zone("Europe/Paris"), rates=load_rates())
    for n in range(3):
        for step in range(0, 300, 50):
            ts = ms(at(f"2026-03-0{n + 1} 2{n}:00:00")) + step * 60_000
            report.add(ts, "gpt-5.1-codex", 345_678, 200_000, 5_432, 1_234, f"session-{n}")
    data = report.to_json()
    return data, {row["session"]: FOLDERS[n] for n, row in enumerate(data["sessions"])}


def _monthly() -> dict:
    report = Report("monthly", resolve_zone("America/New_York"), rates=load_rates())
    for month in (1, 2, 3):
        for day in ("03", "17"):
            ts = ms(at(f"2026-0{month}-{day} 15:00:00"))
            report.add(ts, "gpt-5.1-codex", 98_765_432, 50_000_000, 876_543, 123_456, "s")
            report.add(ts, "unknown-model", 1_000, 0, 10, 0, "s")
    return report.to_json()


def _empty() -> dict:
    return Report("daily", resolve_zone("UTC"), rates=load_rates()).to_json()


def documents() -> dict[str, tuple[dict, dict[str, str]]]:
    """Each case's report document and folders, built afresh (to regenerate the files)."""
    sessions, folders = _sessions()
    return {
        "busy": (busy_month(), {}),
        "hostile": (_hostile(), {}),
        "sessions": (sessions, folders),
        "monthly": (_monthly(), {}),
        "empty": (_empty(), {}),
    }


def frozen(case: str) -> tuple[dict, dict[str, str]]:
    doc = orjson.loads((GOLDEN / f"{case}.json").read_bytes())
    return doc["report"], doc["folders"]


def table_text(data: dict, period: str, width: int, folders=None, demo=False, **options) -> str:
    """What ``show_report`` prints on a console of ``width`` columns writing into a string."""
    console = render._LazyConsole(width=width, file=io.StringIO(), **options)
    original, render.out = render.out, console
    try:
        render.show_report(data, period, json=False, demo=demo, folders=folders)
    finally:
        render.out = original
    return console.get().file.getvalue()


def unpadded(text: str) -> str:
    """The text with each line's trailing spaces (padding nobody sees) left out."""
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


CASE_WIDTHS = [(case, width) for case, (_, widths) in CASES.items() for width in widths]


@pytest.mark.parametrize("case, width", CASE_WIDTHS)
def test_the_table_reads_as_pinned(case, width):
    data, folders = frozen(case)
    text = table_text(data, CASES[case][0], width, folders, color_system=None)
    expected = (GOLDEN / f"{case}-{width}.txt").read_text(encoding="utf-8")
    assert unpadded(text) == expected


def regenerate() -> None:
    for case, (data, folders) in documents().items():
        doc = {"report": data, "folders": folders}
        (GOLDEN / f"{case}.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    for case, width in CASE_WIDTHS:
        data, folders = frozen(case)
        text = table_text(data, CASES[case][0], width, folders, color_system=None)
        (GOLDEN / f"{case}-{width}.txt").write_text(unpadded(text), encoding="utf-8")


if __name__ == "__main__":
    regenerate()


#: Select Graphic Rendition sequences, as a terminal reads them.
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def styled_lines(text: str) -> list[tuple[set[str], str]]:
    """Each line's plain text and the styles any of its visible characters carry (1 bold, 2 dim,
    3 italic, 35 magenta)."""
    result = []
    for line in text.splitlines():
        styles: set[str] = set()
        current: list[str] = []
        for piece in re.split(r"(\x1b\[[0-9;]*m)", line):
            code = SGR.fullmatch(piece)
            if code:
                params = code.group(1).split(";")
                current = [] if params in ([""], ["0"]) else current + params
            elif piece.strip():
                styles.update(current)
        result.append((styles, SGR.sub("", line).rstrip()))
    return result


def test_on_a_terminal_rows_are_bold_models_dim_and_notes_dim_italic(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    data, _ = frozen("busy")
    text = table_text(data, "daily", 100, demo=True, force_terminal=True, color_system="standard")
    lines = styled_lines(text)
    plain = "\n".join(line for _, line in lines[1:]) + "\n"
    assert plain == (GOLDEN / "busy-100.txt").read_text(encoding="utf-8")  # the same text
    banner, title, *rest = lines
    assert banner == ({"1", "35"}, "DEMO DATA: synthetic logs, not your usage.")
    assert "\x1b[1;35mDEMO DATA\x1b[0m: synthetic" in text  # the rest of the line plain
    assert title[0] == {"3"}
    for styles, line in rest:
        if line.startswith(("Day", "2026-", "Total")) or re.match(r"\s+Cache\s", line):
            assert styles == {"1"}, line  # headings, periods and the totals
        elif line.startswith("  "):
            assert styles == {"2"}, line  # a model's sub-row
        elif line.startswith("─") or not line:
            assert styles == set(), line
        else:
            assert styles == {"2", "3"}, line  # the notes


def test_no_color_keeps_bold_and_dim_and_a_dumb_terminal_gets_plain_text(monkeypatch):
    data, _ = frozen("busy")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", "1")
    text = table_text(data, "daily", 100, demo=True, force_terminal=True)
    assert "\x1b[1mDEMO DATA\x1b[0m" in text and "\x1b[2m" in text and "35" not in SGR.findall(text)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    text = table_text(data, "daily", 100, force_terminal=True)
    assert "\x1b" not in text  # and 80 columns, whatever the console was told
    assert unpadded(text) == (GOLDEN / "busy-80.txt").read_text(encoding="utf-8")
