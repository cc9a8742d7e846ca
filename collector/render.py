"""What the command line shows: the report table, the scan's summary, a sync's notes, progress
bars and errors, on rich consoles made on first use (a report piped as JSON, or a sync run by the
hook, never imports rich)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

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


def show_report(data: dict, period: str, *, json: bool, demo: bool) -> None:
    if json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
        return
    if demo:
        out.print("[bold magenta]DEMO DATA[/bold magenta]: synthetic logs, not your usage.")
    out.print(report_table(data, period))


def report_table(data: dict, period: str) -> Table:
    """Periods as rows with one dim sub-row per model, totals last, notes on the estimate below."""
    from rich import box
    from rich.table import Table

    from collector.report import GROUPINGS

    grouping = GROUPINGS[period]
    list_key, row_key, title, unit = grouping.rows, grouping.key, grouping.heading, grouping.unit
    # Exact figures need a wide terminal; a narrow one gets K/M/B (--json is always exact).
    compact = out.width < 120
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
            else (f"{checked['oldest']} to {checked['newest']}")
        )
        notes.append(
            f"API-equivalent (estimate): tokens priced at published API list rates, last checked "
            f"{span}. Not a bill, not an official price."
        )
    if data.get("unpriced"):
        listed = ", ".join(f"{shown(m)} ({n:,} tokens)" for m, n in data["unpriced"].items())
        notes.append(f"* Not priced (no published rate): {listed}.")
    if _estimated_models(data, list_key):
        notes.append(ESTIMATE_NOTE)
    if compact and data["totals"]["total"] >= 10_000:
        notes.append("Rounded to fit the terminal: --json or a wider window gives exact figures.")
    keys = _table_figures(data)
    # A cache-write column on a narrow terminal: shorter labels and headings keep 80 columns.
    tight = compact and "cache_write" in keys
    table = Table(
        title=f"Codex token usage by {unit} ({data['timezone']})",
        caption="\n".join(notes),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=not tight,
    )
    label_width = 14 if tight else 17
    table.add_column(title, no_wrap=True, max_width=label_width, overflow="ellipsis")
    with_last = period == "session" and not compact
    if with_last:
        table.add_column("Last active UTC", no_wrap=True)
    for key in keys:
        heading = "Reason-\ning" if tight and key == "reasoning" else FIGURE_HEADINGS[key]
        table.add_column(heading, justify="right", no_wrap=True, min_width=6 if compact else None)
    money_heading = "API-\nequiv.\n(est.)" if tight else "API-\nequivalent\n(estimate)"
    table.add_column(money_heading, justify="right", no_wrap=True)
    unpriced = set(data.get("unpriced", ()))

    def figures(row: dict, models: set[str]) -> list[str]:
        usd = row.get("api_equivalent_usd")
        money = "-" if usd is None else f"${usd:,.2f}"
        if unpriced & models:
            money += "*"
        return [*(_count(row[k], compact) for k in keys), money]

    for row in data[list_key]:
        label = shown(row[row_key][:8] if period == "session" else row[row_key])
        last = [row["last"][:16].replace("T", " ")] if with_last else []
        table.add_row(label, *last, *figures(row, set(row["models"])), style="bold")
        for model, sub in row["models"].items():
            pad = [""] if with_last else []
            name = _model_label(shown(model), bool(sub.get("estimate")), label_width)
            table.add_row(name, *pad, *figures(sub, {model}), style="dim")
    table.add_section()
    pad = [""] if with_last else []
    table.add_row("Total", *pad, *figures(data["totals"], set(unpriced)), style="bold")
    return table


#: After a model's name in the table: priced through a label's mapping (``"estimate"`` in --json).
#: How many unfinished logs a scan summary names (the rest are counted).
TORN_NAMED = 5

ESTIMATE_MARK = "~"
ESTIMATE_NOTE = (
    f"{ESTIMATE_MARK} Estimate: a label (codex-auto-review, gpt-reserve) priced as the model it "
    "maps to."
)


def _model_label(name: str, estimate: bool, width: int) -> str:
    """A model's sub-row label, indented; an estimate's mark is kept when the name is cut to fit
    the column (the table would cut the mark off with the name's end)."""
    if not estimate:
        return f"  {name}"
    room = width - 2 - len(ESTIMATE_MARK)
    if len(name) > room:
        name = name[: room - 1] + "…"
    return f"  {name}{ESTIMATE_MARK}"


def _estimated_models(data: dict, list_key: str) -> bool:
    """Whether any model the table shows is priced through a label's mapping."""
    rows = [*data[list_key], data["totals"]]
    return any(sub.get("estimate") for row in rows for sub in row.get("models", {}).values())


#: The report table's figure columns, in order, and their headings.
FIGURE_HEADINGS = {
    "input": "Input",
    "cached": "Cached",
    "cache_write": "Cache\nwrite",
    "output": "Output",
    "reasoning": "Reasoning",
    "total": "Total",
}


def _table_figures(data: dict) -> tuple[str, ...]:
    """The figure columns a report table shows: cache writes only when there are any (most
    logs have none, and the table must fit 80 columns)."""
    return tuple(k for k in FIGURE_HEADINGS if k != "cache_write" or data["totals"][k])


def _count(n: int, compact: bool) -> str:
    if not compact or n < 10_000:
        return f"{n:,}"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:,.{2 if n < size * 100 else 1}f}{unit}"
    return f"{n:,}"


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
