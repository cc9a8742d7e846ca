"""What the command line shows: the report table, the scan's summary, a sync's notes, progress
bars and errors, on rich consoles made on first use (a report piped as JSON, or a sync run by the
hook, never imports rich)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import orjson

from collector.demo import is_demo_home

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from collector.scan import ScanStats
    from collector.sync import SyncResult


class _LazyConsole:
    """A rich console made on first use: a report piped as JSON never needs one (nor its
    import time)."""

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


out = _LazyConsole()
err = _LazyConsole(stderr=True)


@contextmanager
def progress(label: str) -> Iterator:
    """A bar on a terminal; nothing at all when stderr is a pipe or a file."""
    if not stderr_is_terminal():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    # Refreshed on each update, not by a thread of its own: the scan forks its helpers.
    with Progress(*columns, console=err.get(), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        yield update


def stderr_is_terminal() -> bool:
    """Whether stderr shows on a terminal, asked of rich only when it might: a sync piped to a
    file or run by the hook never imports rich."""
    return sys.stderr.isatty() and err.is_terminal


_CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], "?")


def shown(text: str) -> str:
    """A string from a log, a store or a path, safe to print: control characters (terminal
    escapes included) become ``?`` and rich markup is escaped, so it shows as written."""
    from rich.markup import escape

    return escape(str(text).translate(_CONTROL))


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
    if demo:
        out.print("[bold magenta]DEMO DATA[/bold magenta]: synthetic logs, not your usage.")
    out.print(report_table(data, period, out.get(), folders))


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
#: Wider than any table: the width a table is measured in.
UNBOUNDED = 100_000
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


def report_table(
    data: dict, period: str, console: Console | None = None, folders: dict[str, str] | None = None
) -> Table:
    """Periods as rows with one dim sub-row per model, totals last, notes on the estimate below,
    in the most telling layout that fits ``console``'s width: exact figures, then K/M/B (one unit
    per column), then fewer columns (``DROPPED_FIRST``), and only then cut model names."""
    console = console or out.get()
    sheet = _Sheet(data, period, folders or {})
    # Measured with room to spare: a measurement is capped at the width it is given.
    unbounded = console.options.update_width(UNBOUNDED)
    for layout in sheet.layouts():
        table = sheet.table(layout)
        width = console.measure(table, options=unbounded).maximum
        if width <= console.width:
            return table
    label = max(MIN_LABEL, sheet.label_width - (width - console.width))
    return sheet.table(layout._replace(label_width=label))


class Layout(NamedTuple):
    """How a report table is laid out: every digit or K/M/B, the columns shown, how long a
    folder's name may be, and how long the first column's labels (None: whole)."""

    exact: bool
    keys: tuple[str, ...]
    folder_width: int = FOLDER_SHOWN
    label_width: int | None = None


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
        self.label_width = max((len(label) for label in self._labels(None)), default=0)

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

    def _labels(self, width: int | None) -> Iterator[str]:
        """The first column's plain texts, in table order."""
        for row in self.rows:
            yield self._row_label(row)
            for model, sub in row["models"].items():
                yield _model_label(model, bool(sub.get("estimate")), width)
        yield "Total"

    def _row_label(self, row: dict) -> str:
        if self.sessions:
            return _local(row["first"], self.zone)
        return str(row[self.grouping.key])

    def table(self, layout: Layout) -> Table:
        from rich import box
        from rich.table import Table

        exact, keys = layout.exact, layout.keys
        formats = {k: _number_format(self._column(k), exact) for k in FIGURE_HEADINGS if k in keys}
        table = Table(
            title=f"Codex token usage by {self.grouping.unit} ({self.data['timezone']})",
            caption="\n".join(self._notes(formats, keys)),
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
        )
        table.add_column(self.grouping.heading, no_wrap=True)
        for key in keys:
            justify = "left" if key == "folder" else "right"
            table.add_column(HEADINGS[key], justify=justify, no_wrap=True)
        labels = self._labels(layout.label_width)
        for row in self.rows:
            cells = {
                **self._side(row, layout.folder_width),
                **self._figures(row, set(row["models"]), formats),
            }
            table.add_row(shown(next(labels)), *(cells[k] for k in keys), style="bold")
            for model, sub in row["models"].items():
                cells = self._figures(sub, {model}, formats)
                label = shown(next(labels))
                table.add_row(label, *(cells.get(k, "") for k in keys), style="dim")
        table.add_section()
        cells = self._figures(self.data["totals"], self.unpriced, formats)
        table.add_row(next(labels), *(cells.get(k, "") for k in keys), style="bold")
        return table

    def _column(self, key: str) -> list[int]:
        """Every figure a column shows: rows, model sub-rows and the totals."""
        values = [self.data["totals"][key]]
        for row in self.rows:
            values.append(row[key])
            values.extend(sub[key] for sub in row["models"].values())
        return values

    def _side(self, row: dict, folder_width: int) -> dict[str, str]:
        """A session's last activity, duration and folder (cut past ``folder_width``)."""
        if not self.sessions:
            return {}
        first, last = _instant(row["first"]), _instant(row["last"])
        folder = self.folders.get(row["session"]) or ""
        if len(folder) > folder_width:
            folder = folder[: folder_width - 1] + "…"
        return {
            "last": _last_active(first, last, self.zone),
            "duration": duration_text((last - first).total_seconds()),
            "folder": shown(folder),
        }

    def _figures(self, row: dict, models: set[str], formats: dict) -> dict[str, str]:
        usd = row.get("api_equivalent_usd")
        money = "-" if usd is None else f"${usd:,.2f}"
        if self.unpriced & models:
            money += "*"
        return {**{k: fmt(row[k]) for k, fmt in formats.items()}, MONEY: money}

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
            listed = ", ".join(f"{shown(m)} ({n:,} tokens)" for m, n in data["unpriced"].items())
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
    """A model's sub-row label, indented and as plain text; cut to ``width`` (None: never) with
    the estimate's mark kept (the table would cut the mark off with the name's end)."""
    name = str(model).translate(_CONTROL)
    mark = ESTIMATE_MARK if estimate else ""
    if width is not None:
        room = width - 2 - len(mark)
        if len(name) > room:
            name = name[: max(1, room - 1)] + "…"
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
    from statistics import median  # imported here: 3-4 ms that JSON output need not pay

    typical = median(present)
    size, unit = next(((s, u) for s, u in ((1e9, "B"), (1e6, "M")) if typical >= s), (1e3, "K"))
    return _Scaled(size, unit, 1 if typical < 100 * size else 0)


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
