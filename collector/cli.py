"""The ``codextime`` command: a thin layer over the collector and store modules."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from collector.config import save_config, setting
from collector.demo import is_demo_home
from collector.discover import CodexHomeError, default_codex_home
from collector.scan import Scan, ScanResult, ScanStats
from collector.workers import WorkerError
from store.fields import LABEL_MAX, has_control_chars
from store.periods import PERIODS

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from collector.sync import SyncResult
    from store.settings import ServerSettings

app = typer.Typer(
    help="Private, exact usage analytics for the OpenAI Codex CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help, rewrapped: the option texts show their [default: ...] notes as written.
    rich_markup_mode=None,
)


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

#: A sync started by the hook that runs longer than this (seconds) is stopped.
BACKGROUND_TIME_LIMIT = 10 * 60
DEMO_LABEL = "demo"


#: What a report groups by: the calendar periods of store.periods, and sessions.
Period = StrEnum("Period", [*(p.report for p in PERIODS), "session"])


CodexHome = Annotated[
    Path | None,
    typer.Option(
        "--codex-home",
        help="Codex home folder with sessions/ and archived_sessions/ [default: $CODEX_HOME or "
        "~/.codex].",
        show_default=False,
    ),
]
DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL: sqlite:///path or postgresql+psycopg://... [default: $CODEXTIME_DB or "
        "the embedded SQLite file in your data folder].",
        show_default=False,
    ),
]


RatesPath = Annotated[
    Path | None,
    typer.Option(
        "--rates",
        help="Your own rate table (CSV, same columns as rates.csv) [default: $CODEXTIME_RATES or "
        "the project's rates.csv].",
        show_default=False,
    ),
]


class Failure(Exception):
    """A problem to report in one line, with no traceback."""


def main() -> None:
    """The ``codextime`` command as a process.

    Once a command is done and its output flushed, the process ends without the interpreter's
    teardown, which only frees what the OS frees anyway (15-20 ms, a tenth of a small report).
    A command that left other threads running ends the usual way.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if threading.active_count() > 1:
        sys.exit(code)
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    if "logging" in sys.modules:  # imported by the commands that log (serve) only
        sys.modules["logging"].shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away: what it got is what it wanted
        code = code or 0
    os._exit(code or 0)


#: Errors whose message is the whole story, told by (module, name): a command imports only the
#: modules it uses, so a sync never loads the report's or the rates' code.
_ONE_LINE_ERRORS = {
    ("collector.sync", "SyncError"),
    ("store.db", "StoreError"),
    ("collector.report", "ReportError"),
    ("store.pricing", "RatesError"),
}


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except (Failure, CodexHomeError) as exc:
        err.print(f"[red]error:[/red] {shown(exc)}", soft_wrap=True)
        raise typer.Exit(2) from None
    except WorkerError as exc:  # a helper killed (out of memory, a signal): nothing is half-done
        err.print(f"[red]error:[/red] {exc}; nothing was sent or saved for it, run again")
        raise typer.Exit(2) from None
    except Exception as exc:
        # The store's errors, recognised without importing SQLAlchemy on every command.
        kind = type(exc)
        if (kind.__module__, kind.__name__) in _ONE_LINE_ERRORS:
            message = str(exc)
        elif kind.__name__ == "Busy" and kind.__module__ == "collector.hook":
            message = f"{exc}; try again when it has finished"
        elif kind.__module__.startswith("sqlalchemy"):
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            message = f"the store failed: {detail}"
        else:
            raise
        err.print(f"[red]error:[/red] {shown(message)}", soft_wrap=True)
        raise typer.Exit(2) from None


@contextmanager
def _progress(label: str) -> Iterator:
    """A bar on a terminal; nothing at all when stderr is a pipe or a file."""
    if not _stderr_is_terminal():
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


def _stderr_is_terminal() -> bool:
    """Whether stderr shows on a terminal, asked of rich only when it might: a sync piped to a
    file or run by the hook never imports rich."""
    return sys.stderr.isatty() and err.is_terminal


def _home(codex_home: Path | None) -> Path:
    return (codex_home or default_codex_home()).expanduser()


_CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], "?")


def shown(text: str) -> str:
    """A string from a log, a store or a path, safe to print: control characters (terminal
    escapes included) become ``?`` and rich markup is escaped, so it shows as written."""
    from rich.markup import escape

    return escape(str(text).translate(_CONTROL))


def _checked_label(label: str | None) -> str | None:
    """The label as given (flag, CODEXTIME_LABEL or config), refused at once if a record could
    not carry it."""
    if label is None:
        return None
    if len(label) > LABEL_MAX:
        raise Failure(f"the label is {len(label)} characters long; at most {LABEL_MAX} fit")
    if has_control_chars(label):
        raise Failure("the label holds control characters; use plain text")
    return label


def _warn_problems(stats: ScanStats) -> None:
    for problem in stats.problems:
        err.print(f"[yellow]warning:[/yellow] {shown(problem)}", soft_wrap=True)


def _note_refused(stats: ScanStats) -> None:
    """One line per reason for the responses left out as the server would refuse them (a report
    leaves them out too, so its figures are what a sync sends)."""
    for reason, count in stats.refused.most_common():
        err.print(
            f"[yellow]left out:[/yellow] {count:,} response(s) the server would refuse: {reason}",
            soft_wrap=True,
        )


def _read(plan: Scan) -> Iterator[ScanResult]:
    """The plan's results, with a progress bar; problems go to stderr as warnings at the end."""
    done = 0
    with _progress("Reading Codex logs") as update:

        def advance(nbytes: int) -> None:
            nonlocal done
            done += nbytes
            if update:
                update(done, plan.total_bytes)

        yield from plan.results(progress=advance)
    _warn_problems(plan.stats)


# -- report ---------------------------------------------------------------------------------


@app.command()
def report(
    period: Annotated[Period, typer.Argument(help="How to group: by day, week, month or session.")],
    codex_home: CodexHome = None,
    db: DbUrl = None,
    account: Annotated[
        str | None, typer.Option(help="With --db: one account's usage only [default: all].")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA time zone that cuts the days [default: this machine's]."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (inclusive).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    rates: RatesPath = None,
) -> None:
    """Token usage per day, week, month or session, from the logs or from a store (--db).

    Each row also shows its API-equivalent: the tokens priced at published API list rates. That is
    an estimate for a sense of scale, not a bill and not an official price.
    """
    from collector.report import Report, parse_day, resolve_zone
    from store.pricing import load_rates

    with _clean_errors():
        zone = resolve_zone(timezone)
        first, last = parse_day(since), parse_day(until)
        if first and last and first > last:
            raise Failure("--since is after --until")
        rep = Report(period.value, zone, first, last, load_rates(rates))
        demo = False
        if db:
            from store.db import open_store, usage_rows

            rep.add_rows(usage_rows(open_store(db), account=account, since=first, until=last))
        else:
            if account:
                raise Failure("--account needs --db (the logs hold one account)")
            home = _home(codex_home)
            plan = Scan(home, keep_cursors=False)
            for result in _read(plan):
                rep.add_rows(result.rows)
            _note_refused(plan.stats)
            demo = is_demo_home(home)
    _show(rep.to_json(), period.value, json=json, demo=demo)


def _show(data: dict, period: str, *, json: bool, demo: bool) -> None:
    if json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
        return
    if demo:
        out.print("[bold magenta]DEMO DATA[/bold magenta]: synthetic logs, not your usage.")
    out.print(_table(data, period))


def _table(data: dict, period: str) -> Table:
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


# -- scan -----------------------------------------------------------------------------------


@app.command()
def scan(
    codex_home: CodexHome = None,
    json: Annotated[
        bool, typer.Option("--json", help="Print the exact records a sync would send.")
    ] = False,
    label: Annotated[str | None, typer.Option(help="Label to put on each record.")] = None,
) -> None:
    """The privacy receipt: what a sync would send, and what was skipped and why."""
    with _clean_errors():
        home = _home(codex_home)
        label = _checked_label(label) or (DEMO_LABEL if is_demo_home(home) else None)
        plan = Scan(home, keep_cursors=False)
        if json:
            from store.record import record_from_row

            sys.stdout.write('{"records":[')
            first = True
            for result in plan.results():
                for row in result.rows:
                    record = record_from_row(row, label)
                    sys.stdout.write(("" if first else ",") + record.model_dump_json())
                    first = False
            sys.stdout.write("]}\n")
            _warn_problems(plan.stats)
            _note_refused(plan.stats)
            return
        for _ in _read(plan):
            pass  # the figures accumulate in plan.stats
        _print_summary(home, plan.stats)


def _print_summary(home: Path, stats: ScanStats) -> None:
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
        out.print(f"Still being written: {stats.torn:,} file(s) end in an unfinished line")
    if stats.problems:
        out.print(f"[yellow]Unreadable: {len(stats.problems):,} (see warnings above)[/yellow]")


# -- sync -----------------------------------------------------------------------------------


@app.command("sync")
def sync_command(
    codex_home: CodexHome = None,
    db: DbUrl = None,
    server: Annotated[
        str | None,
        typer.Option(
            help="Ingest server URL [default: $CODEXTIME_SERVER or the one `login` saved]; "
            "without one, records go to the store (--db).",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Token for the server [default: $CODEXTIME_TOKEN or the one `login` saved].",
            show_default=False,
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            help="Name this machine or seat on every record sent [default: $CODEXTIME_LABEL].",
            show_default=False,
        ),
    ] = None,
    background: Annotated[
        bool,
        typer.Option(
            "--background",
            help="As run by the Codex hook: silent, and a no-op while another sync runs.",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Send every record again, whatever was sent before (the destination keeps each "
            "record once).",
        ),
    ] = False,
) -> None:
    """Send new usage records to the store or to a server.

    Only bytes added since the last sync are read, and a record the destination already has is
    never stored twice.
    """
    from collector.hook import Busy, log_line

    with _clean_errors(), _time_limit(BACKGROUND_TIME_LIMIT if background else None):
        home = _home(codex_home)
        label = _checked_label(setting("label", label)) or (
            DEMO_LABEL if is_demo_home(home) else None
        )
        server = None if db else setting("server", server)
        try:
            if server:
                result = _sync_to_server(home, server, setting("token", token), label, full=full)
            else:
                result = _sync_into_store(home, db, label, full=full)
        except Busy as exc:
            if not background:
                raise
            if exc.hung:
                log_line(f"sync: {exc}")
            return  # the running sync will pick this turn up, or the next turn will
    if background:
        return
    _report_sync(result)
    if _stderr_is_terminal():
        err.print(
            f"Synced: {result.new:,} new records ({result.sent:,} read, "
            f"{result.stats.bytes_read / 1e6:,.1f} MB from {result.stats.files_read:,} files)"
        )


def _report_sync(result: SyncResult) -> None:
    """What a sync has to say, on stderr: a refill, unreadable logs, refused responses."""
    if result.notice:
        err.print(shown(result.notice), soft_wrap=True)
    _warn_problems(result.stats)
    _note_refused(result.stats)


@contextmanager
def _time_limit(seconds: int | None) -> Iterator[None]:
    """End this process, saying why in the hook's log, if the block runs past ``seconds``: a
    background sync that hangs must not hold its lock for ever (None: no limit)."""
    if not seconds or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame) -> None:
        from collector.hook import log_line

        log_line(f"sync: stopped after {seconds} s, the time limit of a background sync")
        os._exit(3)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _sync_into_store(
    home: Path, db: str | None, label: str | None, *, full: bool = False
) -> SyncResult:
    from collector.sync import StoreDestination, state_path, sync
    from store.settings import default_db_url

    url = db or default_db_url()
    store = StoreDestination(url, label or (DEMO_LABEL if is_demo_home(home) else None))
    with _progress("Syncing") as update:
        return sync(home, store, state_path(home, url), full=full, progress=update)


def _sync_to_server(
    home: Path, server: str, token: str | None, label: str | None, *, full: bool = False
) -> SyncResult:
    from collector.sync import state_path, sync
    from collector.upload import HttpSink, UploadError

    if not token:
        raise Failure(f"no token for {server}: run `codextime login --server {server}`")
    # One cursor file per server and account: another account on the same server starts afresh.
    destination = f"{server.rstrip('/')}#{hashlib.sha256(token.encode()).hexdigest()[:12]}"
    state = state_path(home, destination)
    with _progress("Uploading") as update:
        try:
            return sync(
                home, HttpSink(server, token, label=label), state, full=full, progress=update
            )
        except UploadError as exc:
            raise Failure(str(exc)) from None


@app.command()
def login(
    server: Annotated[str, typer.Option(help="The ingest server's URL.")],
    name: Annotated[
        str | None, typer.Option(help="Sign up with this display name (open servers only).")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Use a token the server's operator gave you.")
    ] = None,
) -> None:
    """Connect this machine to an ingest server: sign up, or paste a token; saved for `sync`."""
    import httpx

    with _clean_errors():
        base = server.rstrip("/")
        if not (name or token):
            token = typer.prompt("Token (from the server's operator)", hide_input=True)
        try:
            if token:
                me = httpx.get(
                    f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
                )
                if me.status_code == 401:
                    raise Failure(f"{base} does not know this token")
                me.raise_for_status()
                who = me.json()["name"]
            else:
                made = httpx.post(f"{base}/api/v1/accounts", json={"name": name}, timeout=30)
                if made.status_code in (403, 409, 422):
                    raise Failure(f"{base} refused the sign-up: {made.json().get('detail')}")
                made.raise_for_status()
                token, who = made.json()["token"], made.json()["name"]
        except httpx.HTTPError as exc:
            raise Failure(f"cannot reach {base}: {exc}") from None
        path = save_config({"server": base, "token": token})
    out.print(f"Logged in to {base} as {who}. Saved in {path} (readable by you only).")
    out.print("`codextime sync` now sends your usage there.")


# -- server side ----------------------------------------------------------------------------


@app.command()
def serve(
    db: DbUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    open_signup: Annotated[
        bool, typer.Option("--open-signup", help="Let anyone create an account over HTTP.")
    ] = False,
    rate_limit: Annotated[int, typer.Option(help="Requests per minute and token.")] = 600,
    signups_per_hour: Annotated[
        int | None,
        typer.Option(
            help="With --open-signup: accounts one client address may create an hour [default: 5].",
            show_default=False,
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Reverse proxies (comma-separated addresses, or *) whose X-Forwarded-For names "
            "the client; without it the header is ignored and every per-address limit applies to "
            "the connecting peer.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes (rate limits then apply per worker).")
    ] = 1,
) -> None:
    """Run the ingest service (FastAPI); its API docs are at /docs."""
    import dataclasses
    import json as jsonlib
    import logging
    import os

    import uvicorn

    from store.api import SETTINGS_ENV, create_app
    from store.settings import ServerSettings, default_db_url

    with _clean_errors():
        settings = ServerSettings(
            db_url=db or default_db_url(),
            open_signup=open_signup,
            rate_limit_per_minute=rate_limit,
            forwarded_allow_ips=forwarded_allow_ips,
            # The default is the settings' own (a module loaded only here: not on every command).
            **({} if signups_per_hour is None else {"signups_per_ip_per_hour": signups_per_hour}),
        )
        api = create_app(settings)  # also migrates the store once, before any worker starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Our own request log names no token and no body; uvicorn's access log is off.
    options = dict(host=host, port=port, access_log=False, log_level="info", **_proxy(settings))
    if workers > 1:
        os.environ[SETTINGS_ENV] = jsonlib.dumps(dataclasses.asdict(settings))
        uvicorn.run("store.api:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(api, **options)


def _proxy(settings: ServerSettings) -> dict:
    """uvicorn's proxy options: X-Forwarded-For is believed only from the proxies named (by
    default uvicorn believes it from 127.0.0.1, so a forged header sent from the server's own
    machine would pass as any client and dodge every per-address limit)."""
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


account_app = typer.Typer(
    help="Manage accounts and tokens of a store (for server operators).", rich_markup_mode=None
)
app.add_typer(account_app, name="account")


@account_app.command("create")
def account_create(name: Annotated[str, typer.Argument(help="Display name.")], db: DbUrl = None):
    """Create an account and print its first token (shown only this once)."""
    from store.accounts import AccountError, create_account
    from store.db import open_store

    with _clean_errors():
        try:
            account_id, token = create_account(open_store(db), name)
        except AccountError as exc:
            raise Failure(str(exc)) from None
    out.print(f"Account {name!r} (id {account_id}). Its token, shown only now:")
    print(token)


@account_app.command("token")
def account_token(name: Annotated[str, typer.Argument(help="Display name.")], db: DbUrl = None):
    """Print a new token for an existing account (shown only this once)."""
    from store.accounts import AccountError, issue_token
    from store.db import open_store

    with _clean_errors():
        try:
            token = issue_token(open_store(db), name)
        except AccountError as exc:
            raise Failure(str(exc)) from None
    print(token)


@account_app.command("revoke")
def account_revoke(name: Annotated[str, typer.Argument(help="Display name.")], db: DbUrl = None):
    """Revoke every token of an account at once."""
    from store.accounts import AccountError, revoke_tokens
    from store.db import open_store

    with _clean_errors():
        try:
            count = revoke_tokens(open_store(db), name)
        except AccountError as exc:
            raise Failure(str(exc)) from None
    out.print(f"Revoked {count} token(s) of {name!r}.")


rates_app = typer.Typer(help="The rate table of API-equivalent estimates.", rich_markup_mode=None)
app.add_typer(rates_app, name="rates")


@rates_app.command("update")
def rates_update(rates: RatesPath = None, db: DbUrl = None, codex_home: CodexHome = None) -> None:
    """Rewrite the rate table from the installed genai-prices, for every model Codex writes and
    those of your logs (--codex-home) or store (--db); rows marked as an analyst's own are kept."""
    from store import rates_update as updater
    from store.pricing import rates_path

    with _clean_errors():
        updater.library()  # a one-line error naming the extra when it is missing
        names = set()
        if codex_home:
            names |= updater.models_in_logs(_home(codex_home))
        if db:
            names |= updater.models_in_store(db)
        table = updater.update(rates_path(rates), names)
    out.print(f"Wrote {len(table.rates) + len(table.mappings)} rows to {table.source}.")


hook_app = typer.Typer(
    help="Sync after every Codex turn, as Codex's Stop hook or through its notify setting.",
    rich_markup_mode=None,
)
app.add_typer(hook_app, name="hook")


@hook_app.command("install")
def hook_install(
    codex_home: CodexHome = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="stop (Codex's Stop lifecycle hook, run once you approve it in Codex's /hooks) "
            "or notify [default: stop where the installed Codex supports lifecycle hooks, "
            "else notify].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Make Codex start a background sync after each turn (keeps any notify program or hook
    you had).

    Example: codextime hook install --kind notify
    """
    from collector import hook

    home = _home(codex_home)
    with _clean_errors():
        try:
            message = hook.install(
                home, [sys.executable, "-I", "-m", "collector", "sync", "--background"], kind=kind
            )
        except hook.HookError as exc:
            raise Failure(str(exc)) from None
    out.print(message)


@hook_app.command("uninstall")
def hook_uninstall(codex_home: CodexHome = None) -> None:
    """Remove the hook (Stop or notify), putting every file back as it was."""
    from collector import hook

    with _clean_errors():
        try:
            message = hook.uninstall(_home(codex_home))
        except hook.HookError as exc:
            raise Failure(str(exc)) from None
    out.print(message)


# -- demo and quick start -------------------------------------------------------------------


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the demo CODEX_HOME into.")
    ] = Path("codextime-demo"),
    days: Annotated[int, typer.Option(help="Days of history.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same logs).")] = 7,
) -> None:
    """Write a realistic synthetic CODEX_HOME, marked as demo data, to try things on."""
    from collector.demo import generate

    with _clean_errors():
        generate(out_dir, seed=seed, days=days, end=datetime.now(UTC))
    out.print(f"Demo Codex home written to {out_dir} (marked as demo data).")
    out.print(f"Try: codextime report daily --codex-home {out_dir}")


@app.command()
def start(
    codex_home: CodexHome = None,
    db: DbUrl = None,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
    open_app: Annotated[
        bool, typer.Option("--app/--no-app", help="Start the dashboard after the sync.")
    ] = True,
) -> None:
    """First run: sync your Codex logs (or a demo set if there are none), show the last two
    weeks, and open the dashboard."""
    from datetime import timedelta

    from collector.report import Report, resolve_zone
    from store.db import open_store, usage_rows
    from store.pricing import load_rates
    from store.settings import default_db_url

    with _clean_errors():
        home = _home(codex_home)
        has_logs = any((home / d).is_dir() for d in ("sessions", "archived_sessions"))
        if not has_logs and codex_home is None:
            from platformdirs import user_data_dir

            from collector.demo import generate

            data = Path(user_data_dir("codextime"))
            home = data / "demo-codex-home"
            if not is_demo_home(home):
                generate(home, end=datetime.now(UTC))
            db = db or f"sqlite:///{data / 'demo.db'}"
            err.print(
                f"No Codex logs in {_home(None)}: using a generated DEMO data set "
                f"({home}). Run `codextime start` again after using Codex."
            )
        elif not has_logs:
            raise Failure(f"no sessions/ or archived_sessions/ in {home}")
        db = db or default_db_url()
        result = _sync_into_store(home, db, None)
        _report_sync(result)
        err.print(f"Synced {result.new:,} new records from {home}.")
        zone = resolve_zone(None)
        since = datetime.now(zone).date() - timedelta(days=13)
        rep = Report("daily", zone, since=since, rates=load_rates())
        rep.add_rows(usage_rows(open_store(db), since=since))
    _show(rep.to_json(), "daily", json=False, demo=is_demo_home(home))
    if open_app:
        _run_dashboard(db, port)


def _run_dashboard(db: str, port: int) -> None:
    """The Streamlit app over ``db``, until Ctrl+C."""
    import os
    import subprocess

    entry = Path(__file__).resolve().parent.parent / "streamlit_app.py"
    out.print(f"Dashboard: http://localhost:{port}  (Ctrl+C to stop)")
    command = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.port", str(port)]
    with suppress(KeyboardInterrupt):
        subprocess.run(command, env={**os.environ, "CODEXTIME_DB": db}, check=False)
