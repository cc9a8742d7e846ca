"""What the command line shows: the report table, the scan's summary, a sync's notes, progress
bars and errors, on rich consoles made on first use (a report piped as JSON or as a table, or a
sync run by the hook, never imports rich)."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import orjson

from collector.demo import is_demo_home

if TYPE_CHECKING:
    from typing import TextIO

    from rich.console import Console

    from collector.scan import ScanStats
    from collector.sync import SyncResult


class _LazyConsole:
    """A rich console made on first use: a report piped, as JSON or as a table, never needs
    one (nor rich's import time)."""

    def __init__(self, **options) -> None:
        self._options = options
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, **self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.get(), name)

    def plain_target(self) -> tuple[TextIO, int] | None:
        """The file and width to write unstyled text to when rich would surely show no style
        there (a pipe, a file): then no console is made. None when a terminal may be there, or
        an option or the environment says so (rich decides)."""
        options = self._options
        if self._console is not None or sys.platform == "win32":
            return None  # Windows: rich knows the legacy console's width and escapes
        if options.get("force_terminal") or options.get("force_jupyter"):
            return None
        if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
            return None
        if "idlelib" in sys.modules or "ipykernel" in sys.modules:
            return None
        file = options.get("file") or (sys.stderr if options.get("stderr") else sys.stdout)
        if file is None:
            return None  # no stream at all (pythonw): rich writes nowhere
        try:
            if file.isatty():
                return None
        except (AttributeError, ValueError):  # closed or not a real file: rich sees no terminal
            pass
        return file, options.get("width") or terminal_width()

    def write_lines(self, lines: list[Line]) -> None:
        """Lines of styled pieces: plain text where no style would show, else through rich
        (which knows the terminal: NO_COLOR, TERM=dumb, Windows)."""
        target = self.plain_target()
        if target is not None:
            target[0].write(plain_text(lines))
            return
        console = self.get()
        if not console.color_system:
            console.file.write(plain_text(lines))
            return
        from rich.segment import Segment, Segments
        from rich.style import Style

        styles = {style: Style.parse(style) for line in lines for _, style in line if style}
        segments = []
        for line in lines:
            segments.extend(Segment(text, styles.get(style)) for text, style in line)
            segments.append(Segment.line())
        console.print(Segments(segments), crop=False, end="")

    def text_width(self) -> int:
        """The width to lay text out in, asking rich only where it decides (a terminal)."""
        target = self.plain_target()
        return self.get().width if target is None else target[1]


def terminal_width() -> int:
    """The width rich gives a console on Linux and macOS: ``COLUMNS`` when it is a number,
    else the size of the first of stdin, stdout and stderr that is a terminal, else 80."""
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
            break
        except (AttributeError, ValueError, OSError):
            continue
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    return width or 80


out = _LazyConsole()
err = _LazyConsole(stderr=True)


#: A bar shows once a read has taken this many seconds: a shorter one would only flash by, and
#: making the bar (rich's progress display) costs a small report about a sixth of its time.
BAR_AFTER = 0.5


@contextmanager
def progress(label: str) -> Iterator:
    """A bar on a terminal for a read that lasts (``BAR_AFTER``); nothing at all when stderr is
    a pipe or a file (a sync piped to a file or run by the hook never imports rich)."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = _LateBar(label, time.monotonic() + BAR_AFTER)
    try:
        yield bar.update
    finally:
        bar.stop()


class _LateBar:
    """rich's progress bar, made at the first update from ``due`` on, where rich sees a
    terminal on stderr."""

    def __init__(self, label: str, due: float) -> None:
        self.label, self.due = label, due
        self._bar = None
        self._task = None
        self._off = False

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            if self._off or time.monotonic() < self.due:
                return
            if not err.is_terminal:
                self._off = True
                return
            self._start()
        self._bar.update(self._task, completed=done, total=total, refresh=True)

    def _start(self) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (TextColumn(self.label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        # Refreshed on each update, not by a thread of its own: the scan forks its helpers.
        self._bar = Progress(*columns, console=err.get(), transient=True, auto_refresh=False)
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=None)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


#: Characters a string from a log, a store or a path is never printed with: control characters
#: (terminal escapes included), the marks that reorder text (bidirectional overrides) or break a
#: line where a terminal or an editor honours them, and invisible ones (zero-width spaces and
#: joiners, the soft hyphen, the byte-order mark, tag characters), which would let one name pass
#: for another: a table must read as laid out.
_CONTROL = dict.fromkeys(
    [
        *range(0x20),
        *range(0x7F, 0xA0),
        0x00AD,
        0x061C,
        0x180E,
        *range(0x200B, 0x2010),
        *range(0x2028, 0x202F),
        *range(0x2060, 0x2065),
        *range(0x2066, 0x206A),
        0xFEFF,
        *range(0xE0000, 0xE0080),
    ],
    "?",
)


def safe_text(text: object) -> str:
    """A string from a log, a store or a path, safe to print as plain text: the characters of
    ``_CONTROL`` become ``?``."""
    return str(text).translate(_CONTROL)


def shown(text: str) -> str:
    """``safe_text`` for rich: its markup escaped too, so it shows as written."""
    from rich.markup import escape

    return escape(safe_text(text))


def cell_width(text: str) -> int:
    """The terminal cells ``text`` takes: its length when it is ASCII (or its only other
    character is the ellipsis), else as rich counts them (East Asian wide characters take two,
    combining marks none), whose tables load only then."""
    if text.isascii() or text.replace("…", "").isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


#: Characters a cell may hold, counting combining marks (a letter with three accents): a name of
#: marks that take no cell is cut by this too, so its text stays as short as its cells.
MOST_PER_CELL = 4


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells (and ``MOST_PER_CELL`` characters a cell): when
    longer, its end gives way to an ellipsis."""
    if cell_width(text) <= width and len(text) <= MOST_PER_CELL * max(width, 1):
        return text
    if width < 1:
        return ""
    if text.isascii():
        return text[: width - 1] + "…"
    from rich.cells import set_cell_size

    kept = set_cell_size(text, width - 1)
    if not text.startswith(kept):
        kept = kept[:-1]  # the space rich puts for the half of a wide character: not needed
    return kept[: MOST_PER_CELL * (width - 1)] + "…"


_WORD = re.compile(r"\s*\S+\s*")


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken after a word's spaces; a word longer
    than a line is split across lines. The same breaks as rich's, so notes read alike piped or
    on a terminal."""
    lines: list[str] = []
    line, used = "", 0
    for word in _WORD.findall(text):
        size = cell_width(word.rstrip())
        if used + size <= width:
            line, used = line + word, used + cell_width(word)
        elif size > width:
            pieces = _chop(word, width)
            lines.extend([line, *pieces[:-1]] if line else pieces[:-1])
            line = pieces[-1]
            used = cell_width(line)
        else:
            lines.append(line)
            line, used = word, cell_width(word)
    lines.append(line)
    return [line.rstrip() for line in lines]


def _chop(word: str, width: int) -> list[str]:
    """A word in pieces of ``width`` cells."""
    if word.isascii():
        return [word[i : i + width] for i in range(0, len(word), max(1, width))]
    from rich.cells import chop_cells

    return chop_cells(word, max(1, width))


def warn_problems(stats: ScanStats) -> None:
    for problem in stats.problems:
        err.print(f"[yellow]warning:[/yellow] {shown(problem)}", soft_wrap=True)


def note_refused(stats: ScanStats) -> None:
    """One line per reason for the responses left out as the server would refuse them (a report
    leaves them out too, so its figures are what a sync sends)."""
    for reason, count in stats.refused.most_common():
        err.print(
            f"[yellow]left out:[/yellow] {count:,} response(s) the server would refuse: {reason}",
            soft_wrap=True,
        )


def show_report(
    data: dict, period: str, *, json: bool, demo: bool, folders: dict[str, str] | None = None
) -> None:
    """A report as JSON or as a table. ``folders`` (session -> the folder it ran in, read from
    the logs on this machine) only ever reaches the table."""
    if json:
        # The folder names stay out of --json on purpose: that document is what gets piped into
        # other programs, saved and pasted into bug reports, and a folder's name can name a
        # client or a project. It also keeps one shape whether the report was read from the logs
        # or from a store (which never holds folders). On screen, only whoever ran it sees them.
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
        return
    width = out.text_width()
    lines = demo_banner(width) if demo else []
    lines.extend(report_lines(data, period, width, folders))
    out.write_lines(lines)


#: A line of output: its pieces of text and the style each is shown in (rich's names; None:
#: none), written plain wherever no style shows.
Line = tuple[tuple[str, str | None], ...]
BOLD, DIM, TITLE, NOTE = "bold", "dim", "italic", "dim italic"
DEMO_MARK = "DEMO DATA"
DEMO_BANNER = f"{DEMO_MARK}: synthetic logs, not your usage."


def demo_banner(width: int) -> list[Line]:
    """The demo data's warning, its mark in bold magenta."""
    lines = [((text, None),) for text in wrap(DEMO_BANNER, width)]
    first = lines[0][0][0]
    if first.startswith(DEMO_MARK):
        lines[0] = ((DEMO_MARK, "bold magenta"), (first[len(DEMO_MARK) :], None))
    return lines


def plain_text(lines: list[Line]) -> str:
    return "".join("".join(text for text, _ in line) + "\n" for line in lines)


#: The report table's figure columns, in order, and their headings (two lines at most).
FIGURE_HEADINGS = {
    "input": "Input",
    "cached": "Cached",
    "cache_write": "Cache\nwrite",
    "output": "Output",
    "reasoning": "Reasoning",
    "total": "Total",
}
#: The session table's columns besides the figures.
SESSION_HEADINGS = {"last": "Last\nactive", "duration": "Duration", "folder": "Folder"}
MONEY = "money"
HEADINGS = {**SESSION_HEADINGS, **FIGURE_HEADINGS, MONEY: "API-equiv.\n(estimate)"}
#: What a narrow terminal leaves out, first to last: the parts of a figure another column shows
#: whole (reasoning is part of output, cached and cache writes of input), then input and output
#: (the total stays), then a session's last-active time (its duration stays). Model names are
#: cut only when all of these are gone and the table still does not fit.
DROPPED_FIRST = ("reasoning", "cache_write", "cached", "input", "output", "last")
#: The narrowest the first column gets when model names must be cut.
MIN_LABEL = 10
#: A folder's name is cut past this many characters (a hint, not a path), and past the second
#: on a terminal too narrow for it, before any model name is cut.
FOLDER_SHOWN = 24
FOLDER_NARROW = 12
#: A session's start and last activity, to the minute, in the report's zone.
TIME_FORMAT = "%Y-%m-%d %H:%M"

#: After a model's name in the table: priced through a label's mapping (``"estimate"`` in --json).
ESTIMATE_MARK = "~"
ESTIMATE_NOTE = (
    f"{ESTIMATE_MARK} Estimate: a label (codex-auto-review, gpt-reserve) priced as the model it "
    "maps to."
)
ROUNDED_NOTE = "Rounded to fit the terminal: --json or a wider window gives exact figures."


def report_lines(
    data: dict, period: str, width: int, folders: dict[str, str] | None = None
) -> list[Line]:
    """Periods as rows with one dim sub-row per model, totals last, notes on the estimate below,
    in the most telling layout that fits ``width`` cells: exact figures, then K/M/B (one unit
    per column), then fewer columns (``DROPPED_FIRST``), and only then cut model names."""
    sheet = _Sheet(data, period, folders or {})
    for layout in sheet.layouts():
        grid = sheet.grid(layout)
        wide = grid.width()
        if wide <= width:
            return grid.lines(width)
    label = max(MIN_LABEL, sheet.label_width - (wide - width))
    return sheet.grid(layout._replace(label_width=label)).lines(width)


class Layout(NamedTuple):
    """How a report table is laid out: every digit or K/M/B, the columns shown, how long a
    folder's name may be, and how long the first column's labels (None: whole)."""

    exact: bool
    keys: tuple[str, ...]
    folder_width: int = FOLDER_SHOWN
    label_width: int | None = None


class _Column(NamedTuple):
    heading: tuple[str, ...]  # its lines, top to bottom
    cells: list[str]  # one per row, the totals last
    left: bool  # aligned left (else right)


RULE = "─"


class _Grid(NamedTuple):
    """A table as text: a title over columns whose rows each have a style, a blank line before
    the totals (when there are rows), notes below. Laid out as rich lays out a simple table, so
    a piped table reads as on a terminal: each column as wide as its widest cell, with a cell
    of padding each side but at the table's edges, and a space between columns (where a
    boxed table has its rule)."""

    title: str
    columns: list[_Column]
    styles: list[str]  # of each row, the totals last
    notes: list[str]

    def width(self) -> int:
        return _table_width(self._spans())

    def lines(self, room: int) -> list[Line]:
        """The table in at most ``room`` cells, where any table fits: past that, every column
        gives up cells alike and cut cells end in an ellipsis."""
        spans = _fitted(self._spans(), room)
        width = _table_width(spans)
        lines: list[Line] = [((_centred(text, width), TITLE),) for text in wrap(self.title, width)]
        depth = max(len(column.heading) for column in self.columns)
        for depth_index in range(depth):
            # Headings sit on the rule: a one-line heading takes the lower line.
            cells = []
            for column in self.columns:
                at = depth_index - (depth - len(column.heading))
                cells.append(column.heading[at] if at >= 0 else "")
            lines.append(((self._row(cells, spans), BOLD),))
        lines.append(((RULE * width, None),))
        count = len(self.styles)
        for index, style in enumerate(self.styles):
            if index == count - 1 and count > 1:
                lines.append((("", None),))
            cells = [column.cells[index] for column in self.columns]
            lines.append(((self._row(cells, spans), style),))
        lines.extend(((text, NOTE),) for note in self.notes for text in wrap(note, width))
        return lines

    def _spans(self) -> list[int]:
        """Each column's span: its widest cell or heading line, with its padding."""
        return [
            max(map(cell_width, (*column.heading, *column.cells))) + sum(pads)
            for column, pads in zip(self.columns, _paddings(len(self.columns)), strict=True)
        ]

    def _row(self, cells: list[str], spans: list[int]) -> str:
        texts = []
        pads = _paddings(len(spans))
        for cell, column, span, (left, right) in zip(cells, self.columns, spans, pads, strict=True):
            room = max(0, span - left - right)
            cell = cut(cell, room)
            fill = " " * (room - cell_width(cell))
            text = " " * left + (cell + fill if column.left else fill + cell) + " " * right
            texts.append(text if room else " " * span)
        return " ".join(texts).rstrip()


def _paddings(count: int) -> list[tuple[int, int]]:
    """The padding left and right of each of ``count`` columns: none at the table's edges."""
    return [(int(index > 0), int(index < count - 1)) for index in range(count)]


def _table_width(spans: list[int]) -> int:
    return sum(spans) + len(spans) - 1


def _fitted(spans: list[int], room: int) -> list[int]:
    """Column spans for a table of at most ``room`` cells, as rich shrinks a table that cannot
    fit: the excess taken from the columns alike, rounding as Python does."""
    excess = _table_width(spans) - room
    if excess <= 0:
        return spans
    fitted, shares = [], len(spans)
    for span in spans:
        given = min(span, round(excess / shares))
        fitted.append(span - given)
        excess -= given
        shares -= 1
    return fitted


def _centred(text: str, width: int) -> str:
    return " " * ((width - cell_width(text)) // 2) + text


class _Sheet:
    """One report's table in any layout: which columns, exact or rounded, names cut or not."""

    def __init__(self, data: dict, period: str, folders: dict[str, str]) -> None:
        from collector.report import GROUPINGS

        self.data, self.period, self.folders = data, period, folders
        self.grouping = GROUPINGS[period]
        self.rows = data[self.grouping.rows]
        self.sessions = period == "session"
        self.zone = ZoneInfo(data["timezone"])
        figures = _table_figures(data)
        side = ("last", "duration") if self.sessions else ()
        if self.sessions and any(folders.get(row["session"]) for row in self.rows):
            side += ("folder",)
        self.keys: tuple[str, ...] = (*side, *figures, MONEY)
        self.unpriced = set(data.get("unpriced", ()))
        # Each row of the table: its style, its figures, the models they count and the period's
        # row (None for a model's sub-row and the totals).
        self.entries: list[tuple[str, dict, set[str], dict | None]] = []
        for row in self.rows:
            self.entries.append((BOLD, row, set(row["models"]), row))
            self.entries.extend((DIM, sub, {model}, None) for model, sub in row["models"].items())
        self.entries.append((BOLD, data["totals"], self.unpriced, None))
        self.label_width = max(map(cell_width, self._labels(None)))
        self._formats: dict[tuple[str, bool], object] = {}
        self._cells: dict[tuple, list[str]] = {}

    def layouts(self) -> Iterator[Layout]:
        """The layouts to try, most telling first."""
        keys = self.keys
        yield Layout(True, keys)
        yield Layout(False, keys)
        for dropped in DROPPED_FIRST:
            if dropped in keys:
                keys = tuple(k for k in keys if k != dropped)
                yield Layout(False, keys)
        if "folder" in keys:
            yield Layout(False, keys, FOLDER_NARROW)

    def _labels(self, width: int | None) -> list[str]:
        """The first column's texts, in table order, safe to print."""
        labels = []
        for row in self.rows:
            labels.append(self._row_label(row))
            labels.extend(
                _model_label(model, bool(sub.get("estimate")), width)
                for model, sub in row["models"].items()
            )
        labels.append("Total")
        return labels

    def _row_label(self, row: dict) -> str:
        if self.sessions:
            return _local(row["first"], self.zone)
        return safe_text(row[self.grouping.key])

    def grid(self, layout: Layout) -> _Grid:
        exact, keys = layout.exact, layout.keys
        formats = {k: self._format(k, exact) for k in FIGURE_HEADINGS if k in keys}
        columns = [_Column((self.grouping.heading,), self._labels(layout.label_width), True)]
        for key in keys:
            cells = self._column_cells(key, exact if key in formats else None, layout)
            columns.append(_Column(tuple(HEADINGS[key].split("\n")), cells, key == "folder"))
        return _Grid(
            title=f"Codex token usage by {self.grouping.unit} ({self.data['timezone']})",
            columns=columns,
            styles=[style for style, *_ in self.entries],
            notes=self._notes(formats, keys),
        )

    def _column_cells(self, key: str, exact: bool | None, layout: Layout) -> list[str]:
        """A column's cells, top to bottom, made once per way of writing them."""
        folder_width = layout.folder_width if key == "folder" else None
        known = self._cells.get((key, exact, folder_width))
        if known is None:
            if key == MONEY:
                known = [self._money(row, models) for _, row, models, _ in self.entries]
            elif exact is not None:
                write = self._format(key, exact)
                known = [write(row[key]) for _, row, _, _ in self.entries]
            else:
                side = [self._side(period, layout.folder_width) for *_, period in self.entries]
                known = [cells.get(key, "") for cells in side]
            self._cells[(key, exact, folder_width)] = known
        return known

    def _format(self, key: str, exact: bool):
        """How a figure column writes its figures (see ``_number_format``), decided once."""
        if (key, exact) not in self._formats:
            values = [row[key] for _, row, _, _ in self.entries]
            self._formats[(key, exact)] = _number_format(values, exact)
        return self._formats[(key, exact)]

    def _side(self, row: dict | None, folder_width: int) -> dict[str, str]:
        """A session's last activity, duration and folder (cut past ``folder_width`` cells)."""
        if row is None or not self.sessions:
            return {}
        first, last = _instant(row["first"]), _instant(row["last"])
        folder = safe_text(self.folders.get(row["session"]) or "")
        return {
            "last": _last_active(first, last, self.zone),
            "duration": duration_text((last - first).total_seconds()),
            "folder": cut(folder, folder_width),
        }

    def _money(self, row: dict, models: set[str]) -> str:
        usd = row.get("api_equivalent_usd")
        money = "-" if usd is None else f"${usd:,.2f}"
        return money + "*" if self.unpriced & models else money

    def _notes(self, formats: dict, keys: tuple[str, ...]) -> list[str]:
        data = self.data
        notes = ["Cached is part of input and reasoning part of output; total = input + output."]
        if data["totals"]["cache_write"]:
            notes[0] = (
                "Cached and cache writes are parts of input, reasoning part of output; "
                "total = input + output."
            )
        if "api_equivalent" in data:
            checked = data["api_equivalent"]["last_checked"]
            span = (
                checked["newest"]
                if checked["oldest"] == checked["newest"]
                else f"{checked['oldest']} to {checked['newest']}"
            )
            notes.append(
                f"API-equivalent (estimate): tokens priced at published API list rates, last "
                f"checked {span}. Not a bill, not an official price."
            )
        if data.get("unpriced"):
            listed = ", ".join(
                f"{safe_text(m)} ({n:,} tokens)" for m, n in data["unpriced"].items()
            )
            notes.append(f"* Not priced (no published rate): {listed}.")
        if _estimated_models(data, self.grouping.rows):
            notes.append(ESTIMATE_NOTE)
        if any(getattr(fmt, "rounds", False) for fmt in formats.values()):
            notes.append(ROUNDED_NOTE)
        left_out = [k for k in self.keys if k not in keys]
        if left_out:
            names = ", ".join(HEADINGS[k].replace("\n", " ") for k in left_out)
            notes.append(f"Left out to fit the terminal: {names} (--json or a wider window).")
        return notes


def _model_label(model: str, estimate: bool, width: int | None) -> str:
    """A model's sub-row label, indented and safe to print; cut to ``width`` cells (None:
    never) with the estimate's mark kept (cutting the cell would take the mark with the name's
    end)."""
    name = safe_text(model)
    mark = ESTIMATE_MARK if estimate else ""
    if width is not None:
        name = cut(name, max(2, width - 2 - len(mark)))
    return f"  {name}{mark}"


def _estimated_models(data: dict, list_key: str) -> bool:
    """Whether any model the table shows is priced through a label's mapping."""
    rows = [*data[list_key], data["totals"]]
    return any(sub.get("estimate") for row in rows for sub in row.get("models", {}).values())


def _table_figures(data: dict) -> tuple[str, ...]:
    """The figure columns a report table shows: cache writes only when there are any (most
    logs have none)."""
    return tuple(k for k in FIGURE_HEADINGS if k != "cache_write" or data["totals"][k])


class _Exact:
    """Every digit, grouped by thousands."""

    rounds = False

    def __call__(self, n: int) -> str:
        return f"{n:,}"


class _Scaled:
    """One unit (K, M or B) and one number of decimals for a whole column, so its figures line
    up and compare at a glance; a figure too small to show in them is ``<`` the smallest step,
    never a zero it is not."""

    rounds = True

    def __init__(self, size: float, unit: str, decimals: int) -> None:
        self.size, self.unit, self.decimals = size, unit, decimals

    def __call__(self, n: int) -> str:
        if n == 0:
            return "0"
        scaled = n / self.size
        if round(scaled, self.decimals) == 0:
            return f"<{10**-self.decimals:.{self.decimals}f}{self.unit}"
        return f"{scaled:,.{self.decimals}f}{self.unit}"


#: Below this, a column keeps every digit even when the table is rounded.
EXACT_BELOW = 10_000


def _number_format(values: list[int], exact: bool):
    """How a column writes its figures: every digit, or in the unit of its typical (median)
    figure, so the rows read at a glance and the larger totals keep their digits (grouped)."""
    present = [n for n in values if n]
    if exact or max(present, default=0) < EXACT_BELOW:
        return _Exact()
    typical = _median(present)
    size, unit = next(((s, u) for s, u in ((1e9, "B"), (1e6, "M")) if typical >= s), (1e3, "K"))
    return _Scaled(size, unit, 1 if typical < 100 * size else 0)


def _median(values: list[int]) -> float:
    """The middle value (the mean of the two middle ones for an even count), as
    statistics.median gives it without its 3-4 ms of import."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return (ordered[middle] + ordered[~middle]) / 2


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _local(iso: str, zone: ZoneInfo) -> str:
    """A report's UTC timestamp as the minute it was in ``zone``."""
    return _instant(iso).astimezone(zone).strftime(TIME_FORMAT)


def _last_active(first: datetime, last: datetime, zone: ZoneInfo) -> str:
    """The time of a session's last activity, as a timetable writes it: ``17:05``, or
    ``00:40 +1d`` when that was on a later day than the start (in ``zone``)."""
    start, end = first.astimezone(zone), last.astimezone(zone)
    later = (end.date() - start.date()).days
    return end.strftime("%H:%M") + (f" +{later}d" if later else "")


def duration_text(seconds: float) -> str:
    """A span as a person says it: ``<1m``, ``45m``, ``2h 05m``, ``3d 04h``."""
    minutes = round(seconds / 60)
    if minutes == 0:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


#: How many unfinished logs a scan summary names (the rest are counted).
TORN_NAMED = 5


def print_scan_summary(home: Path, stats: ScanStats) -> None:
    out.print(
        f"Codex home: {shown(home)}"
        + ("  [magenta](demo data)[/magenta]" if is_demo_home(home) else "")
    )
    out.print(
        f"Files: {stats.files:,} rollout files ({stats.collapsed:,} duplicate copies collapsed), "
        f"{stats.files_read:,} read, {stats.bytes_read / 1e6:,.1f} MB"
    )
    out.print(f"Records: {stats.responses:,} model responses (the only thing a sync sends)")
    if stats.duplicates:
        out.print(f"Counted once: {stats.duplicates:,} rows present in more than one file")
    if stats.skipped:
        out.print("Skipped, and why:")
        for reason, count in stats.skipped.most_common():
            out.print(f"  {count:>10,}  {reason}")
    if stats.refused:
        out.print("Left out, as the server would refuse them (never sent, never counted):")
        for reason, count in stats.refused.most_common():
            out.print(f"  {count:>10,}  {reason}")
    if stats.torn:
        names = sorted(Path(path).name for path in stats.torn)
        more = len(names) - TORN_NAMED
        out.print(
            "Still being written (the last line is unfinished, read next time): "
            + ", ".join(shown(name) for name in names[:TORN_NAMED])
            + (f" and {more:,} more" if more > 0 else ""),
            soft_wrap=True,
        )
    if stats.problems:
        out.print(f"[yellow]Unreadable: {len(stats.problems):,} (see warnings above)[/yellow]")


def print_sync_notes(result: SyncResult) -> None:
    """What a sync has to say, on stderr: a refill, unreadable logs, refused responses."""
    if result.notice:
        err.print(shown(result.notice), soft_wrap=True)
    warn_problems(result.stats)
    note_refused(result.stats)


def sync_summary(result: SyncResult) -> str:
    """A sync's one-line outcome: what was new, and how much was read to find it."""
    return (
        f"Synced: {result.new:,} new records ({result.sent:,} read, "
        f"{result.stats.bytes_read / 1e6:,.1f} MB from {result.stats.files_read:,} files)"
    )


def print_sync_summary(result: SyncResult) -> None:
    """The summary on stdout, terminal or not (cron mails it, ``| tee`` logs it), as plain
    text: a sync's quiet path never imports rich. Stderr keeps to notes and warnings."""
    sys.stdout.write(sync_summary(result) + "\n")


def print_error(message: str) -> None:
    """One line on stderr: what went wrong, shown as written (control characters replaced)."""
    err.print(f"[red]error:[/red] {shown(message)}", soft_wrap=True)
