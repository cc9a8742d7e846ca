"""The ``codextime`` command: a thin layer over the collector and store modules."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from collector.config import save_config, setting
from collector.demo import is_demo_home
from collector.discover import default_codex_home
from collector.render import (
    err,
    note_refused,
    out,
    print_error,
    print_scan_summary,
    print_sync_notes,
    print_sync_summary,
    progress,
    show_report,
    shown,
    warn_problems,
)
from collector.scan import Scan, ScanResult
from store.errors import UserError
from store.fields import DEMO_LABEL, LABEL_MAX, has_control_chars
from store.periods import PERIODS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from collector.sync import SyncResult
    from store.settings import ServerSettings


def _one_line_errors(command: Callable) -> Callable:
    """``command`` with a ``UserError`` shown as one line on stderr (exit status 2), never as a
    traceback; any other exception is a bug and keeps its traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None

    return run


class Commands(typer.Typer):
    """A typer app whose every command reports a ``UserError`` in one line; help stays plain
    (no rich markup), so the option texts show their [default: ...] notes as written."""

    def __init__(self, **options) -> None:
        super().__init__(
            rich_markup_mode=None,
            context_settings={"help_option_names": ["-h", "--help"]},
            **options,
        )

    def command(self, *args, **kwargs) -> Callable[[Callable], Callable]:
        register = super().command(*args, **kwargs)
        return lambda command: register(_one_line_errors(command))


app = Commands(
    help="Private, exact usage analytics for the OpenAI Codex CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    """``--version``: the installed package's version, from its metadata."""
    if wanted:
        from importlib.metadata import version

        print(f"codextime {version('codextime')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Private, exact usage analytics for the OpenAI Codex CLI."""


#: A sync started by the hook that runs longer than this (seconds) is stopped.
BACKGROUND_TIME_LIMIT = 10 * 60
#: The longest demo history: ten years, far more than Codex has existed.
DEMO_MAX_DAYS = 3650


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
        "-d",
        help="Store URL: sqlite:///path or postgresql+psycopg://... (postgres:// too) "
        "[default: $CODEXTIME_DB or the embedded SQLite file in your data folder].",
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


def _home(codex_home: Path | None) -> Path:
    return (codex_home or default_codex_home()).expanduser()


def _checked_label(label: str | None) -> str | None:
    """The label as given (flag, CODEXTIME_LABEL or config), refused at once if a record could
    not carry it."""
    if label is None:
        return None
    if len(label) > LABEL_MAX:
        raise UserError(f"the label is {len(label)} characters long; at most {LABEL_MAX} fit")
    if has_control_chars(label):
        raise UserError("the label holds control characters; use plain text")
    return label


#: Why a demo home's records are never uploaded.
DEMO_NOT_SENT = "this is demo data; it is never sent to a server"


def _record_label(home: Path, given: str | None, *, quiet: bool = False) -> str | None:
    """The label a home's records carry: ``DEMO_LABEL`` for a demo home whatever was asked for
    (said in one line on stderr unless ``quiet``), so demo data never passes for real usage;
    otherwise the label given, which may not be ``DEMO_LABEL``."""
    label = _checked_label(given)
    if not is_demo_home(home):
        if label == DEMO_LABEL:
            raise UserError(f'the label "{DEMO_LABEL}" is reserved for demo data; choose another')
        return label
    if label not in (None, DEMO_LABEL) and not quiet:
        err.print(
            f'{shown(str(home))} holds demo data: its records are labelled "{DEMO_LABEL}", '
            f'not "{shown(label)}"',
            soft_wrap=True,
        )
    return DEMO_LABEL


def _read(plan: Scan) -> Iterator[ScanResult]:
    """The plan's results, with a progress bar; problems go to stderr as warnings at the end."""
    done = 0
    with progress("Reading Codex logs") as update:

        def advance(nbytes: int) -> None:
            nonlocal done
            done += nbytes
            if update:
                update(done, plan.total_bytes)

        yield from plan.results(progress=advance)
    warn_problems(plan.stats)


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
        typer.Option(
            "--timezone", "-z", help="IANA time zone that cuts the days [default: this machine's]."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", "-s", help="First day, YYYY-MM-DD (inclusive).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", "-u", help="Last day, YYYY-MM-DD (inclusive).")
    ] = None,
    last_count: Annotated[
        int | None,
        typer.Option(
            "--last",
            "-n",
            help="The last N days, weeks or months, the current one included (not with --since).",
            show_default=False,
        ),
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", "-j", help="Print JSON instead of a table.")
    ] = False,
    rates: RatesPath = None,
) -> None:
    """Token usage per day, week, month or session.

    From the logs, or from a store (--db). Each row also shows its API-equivalent: the tokens
    priced at published API list rates. That is an estimate for a sense of scale, not a bill and
    not an official price.

    Example: codextime report weekly --since 2026-11-01
    """
    from collector.report import Report
    from store.pricing import load_rates

    zone, first, last = _report_window(timezone, since, until, last_count, period)
    rep = Report(period.value, zone, first, last, load_rates(rates))
    demo = False
    if db:
        rep.add_rows(_store_rows(db, account, first, last))
    else:
        if account:
            raise UserError("--account needs --db (the logs hold one account)")
        home = _home(codex_home)
        plan = Scan(home, keep_cursors=False)
        for result in _read(plan):
            rep.add_rows(result.rows)
        note_refused(plan.stats)
        demo = is_demo_home(home)
    show_report(rep.to_json(), period.value, json=json, demo=demo)


def _store_rows(
    db: str, account: str | None, first: date | None, last: date | None
) -> Iterator[tuple]:
    """The rows of an existing store (reading never creates one), of one account if named."""
    from store.db import find_account, open_store, usage_rows

    engine = open_store(db, create=False)
    if account is not None and find_account(engine, account) is None:
        raise UserError(f"no account named {account!r} in the store")
    return usage_rows(engine, account=account, since=first, until=last)


def _report_window(
    timezone: str | None, since: str | None, until: str | None, count: int | None, period: Period
) -> tuple[ZoneInfo, date | None, date | None]:
    """The report's zone and first and last days, from the options as typed."""
    from collector.report import parse_day, resolve_zone

    zone, first, last = resolve_zone(timezone), parse_day(since), parse_day(until)
    if count is not None:
        if since:
            raise UserError("--last and --since both set the first day: use one of them")
        first = first_of_last(period, count, datetime.now(zone).date())
    if first and last and first > last:
        raise UserError("--since is after --until")
    return zone, first, last


def first_of_last(period: Period, count: int, today: date) -> date:
    """The first day of the last ``count`` periods up to ``today``, the current one included."""
    from datetime import timedelta

    if count < 1:
        raise UserError(f"--last needs a count of 1 or more, not {count}")
    if period == Period.session:
        raise UserError("--last counts days, weeks or months: with sessions, use --since")
    unit = next(p for p in PERIODS if p.report == period.value)
    start = unit.start(today)
    if unit.unit == "month":
        months = start.year * 12 + start.month - 1 - (count - 1)
        return date(months // 12, months % 12 + 1, 1) if months >= 12 else date(1, 1, 1)
    days = (count - 1) * (7 if unit.unit == "week" else 1)
    return start - timedelta(days=min(days, (start - date.min).days))


# -- scan -----------------------------------------------------------------------------------


@app.command()
def scan(
    codex_home: CodexHome = None,
    json: Annotated[
        bool, typer.Option("--json", "-j", help="Print the exact records a sync would send.")
    ] = False,
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Label to put on each record.")
    ] = None,
) -> None:
    """The privacy receipt: what a sync would send.

    Files read, records, and what was skipped and why; --json prints the records themselves.

    Example: codextime scan --json
    """
    home = _home(codex_home)
    label = _record_label(home, label)
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
        warn_problems(plan.stats)
        note_refused(plan.stats)
        return
    for _ in _read(plan):
        pass  # the figures accumulate in plan.stats
    print_scan_summary(home, plan.stats)


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
            "--label",
            "-l",
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
    """Send new usage records to the store or a server.

    Only bytes added since the last sync are read, and a record the destination already has is
    never stored twice.

    Example: codextime sync --label laptop
    """
    from collector.hook import log_line
    from collector.sync import Busy

    with _time_limit(BACKGROUND_TIME_LIMIT if background else None):
        home = _home(codex_home)
        server = None if db else setting("server", server)
        if server and is_demo_home(home):
            raise UserError(DEMO_NOT_SENT)
        label = _record_label(home, setting("label", label), quiet=background)
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
    print_sync_notes(result)
    print_sync_summary(result)


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
    # `start` passes no label: a demo home's records still get theirs.
    store = StoreDestination(url, label or _record_label(home, None))
    with progress("Syncing") as update:
        return sync(home, store, state_path(home, url), full=full, progress=update)


def _sync_to_server(
    home: Path, server: str, token: str | None, label: str | None, *, full: bool = False
) -> SyncResult:
    from collector.sync import server_destination, state_path, sync
    from collector.upload import HttpSink

    if not token:
        raise UserError(f"no token for {server}: run `codextime login --server {server}`")
    state = state_path(home, server_destination(server, token))
    with progress("Uploading") as update:
        return sync(home, HttpSink(server, token, label=label), state, full=full, progress=update)


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
    """Connect this machine to an ingest server.

    Sign up, or paste a token; saved for `sync`.

    Example: codextime login --server https://usage.example.org --name alice
    """
    from collector.upload import account_name, sign_up

    base = server.rstrip("/")
    if not (name or token):
        token = typer.prompt("Token (from the server's operator)", hide_input=True)
    if token:
        who = account_name(base, token)
    else:
        token, who = sign_up(base, name)
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
    """Run the ingest service (API docs at /docs).

    Example: codextime serve --db postgresql+psycopg://user@host/codextime --open-signup
    """
    from collector.extras import require

    require("codextime serve", "server")
    import dataclasses
    import json as jsonlib
    import logging
    import os

    import uvicorn

    from store.api import create_app
    from store.settings import SERVE_SETTINGS, ServerSettings, default_db_url

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
        os.environ[SERVE_SETTINGS.name] = jsonlib.dumps(dataclasses.asdict(settings))
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


account_app = Commands(help="Manage a store's accounts and tokens (operators).")
app.add_typer(account_app, name="account")


@account_app.command("create")
def account_create(name: Annotated[str, typer.Argument(help="Display name.")], db: DbUrl = None):
    """Create an account and print its first token.

    The token is shown only this once.

    Example: codextime account create alice --db postgresql+psycopg://user@host/codextime
    """
    from store.accounts import create_account
    from store.db import open_store

    account_id, token = create_account(open_store(db), name)
    out.print(f"Account {name!r} (id {account_id}). Its token, shown only now:")
    print(token)


@account_app.command("token")
def account_token(name: Annotated[str, typer.Argument(help="Display name.")], db: DbUrl = None):
    """Print a new token for an existing account.

    The token is shown only this once.

    Example: codextime account token alice --db postgresql+psycopg://user@host/codextime
    """
    from store.accounts import issue_token
    from store.db import open_store

    token = issue_token(open_store(db), name)
    print(token)


@account_app.command("revoke")
def account_revoke(name: Annotated[str, typer.Argument(help="Display name.")], db: DbUrl = None):
    """Revoke every token of an account at once.

    Example: codextime account revoke alice --db postgresql+psycopg://user@host/codextime
    """
    from store.accounts import revoke_tokens
    from store.db import open_store

    count = revoke_tokens(open_store(db), name)
    out.print(f"Revoked {count} token(s) of {name!r}.")


rates_app = Commands(help="The rate table of API-equivalent estimates.")
app.add_typer(rates_app, name="rates")


@rates_app.command("update")
def rates_update(rates: RatesPath = None, db: DbUrl = None, codex_home: CodexHome = None) -> None:
    """Rewrite the rate table from genai-prices.

    For every model Codex writes and those of your logs (--codex-home) or store (--db), from the
    installed genai-prices; rows marked as an analyst's own are kept.

    Example: codextime rates update --codex-home ~/.codex
    """
    from store import rates_update as updater
    from store.pricing import rates_path

    updater.library()  # a one-line error naming the extra when it is missing
    names = set()
    if codex_home:
        names |= updater.models_in_logs(_home(codex_home))
    if db:
        from store.db import store_failures

        with store_failures():
            names |= updater.models_in_store(db)
    table = updater.update(rates_path(rates), names)
    out.print(f"Wrote {len(table.rates) + len(table.mappings)} rows to {table.source}.")


hook_app = Commands(help="Sync after every Codex turn (Stop hook or notify).")
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
    """Make Codex sync after each turn.

    A background sync, as Codex's Stop hook or its notify program; any notify program or hook you
    had keeps running.

    Example: codextime hook install --kind notify
    """
    from collector import hook

    home = _home(codex_home)
    if not home.is_dir():  # Codex makes it on first run; a typo must not make a new one
        raise UserError(f"{home} is not a Codex home folder (set --codex-home or CODEX_HOME)")
    sync = [sys.executable, "-I", "-m", "collector", "sync", "--background"]
    out.print(hook.install(home, sync, kind=kind))


@hook_app.command("uninstall")
def hook_uninstall(codex_home: CodexHome = None) -> None:
    """Remove the hook, putting every file back.

    Stop or notify: every file is put back as it was.

    Example: codextime hook uninstall
    """
    from collector import hook

    out.print(hook.uninstall(_home(codex_home)))


# -- demo and quick start -------------------------------------------------------------------


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the demo CODEX_HOME into.")
    ] = Path("codextime-demo"),
    days: Annotated[int, typer.Option(help="Days of history.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same logs).")] = 7,
) -> None:
    """Write a synthetic CODEX_HOME to try things on.

    Realistic logs, marked as demo data.

    Example: codextime demo --out /tmp/demo-home --days 30
    """
    from collector.demo import generate

    if not 1 <= days <= DEMO_MAX_DAYS:
        raise UserError(f"--days must be from 1 to {DEMO_MAX_DAYS} (ten years), not {days}")
    generate(out_dir, seed=seed, days=days, end=datetime.now(UTC))
    out.print(f"Demo Codex home written to {out_dir} (marked as demo data).")
    out.print(f"Try: codextime report daily --codex-home {out_dir}")


@app.command()
def start(
    codex_home: CodexHome = None,
    db: DbUrl = None,
    port: Annotated[
        int,
        typer.Option(help="Port of the dashboard (the next free one if taken).", min=1, max=65535),
    ] = 8501,
    open_app: Annotated[
        bool, typer.Option("--app/--no-app", help="Start the dashboard after the sync.")
    ] = True,
) -> None:
    """First run: sync, show two weeks, open the dashboard.

    Syncs your Codex logs (or a demo set if there are none), shows the last two weeks, and opens
    the dashboard.

    Example: codextime start --no-app
    """
    if open_app:  # before a long sync, not after it
        from collector.extras import require

        require("codextime start", "app")
    from datetime import timedelta

    from collector.report import Report, resolve_zone
    from store.db import open_store, usage_rows
    from store.pricing import load_rates
    from store.settings import default_db_url

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
        raise UserError(f"no sessions/ or archived_sessions/ in {home}")
    db = db or default_db_url()
    result = _sync_into_store(home, db, None)
    print_sync_notes(result)
    err.print(f"Synced {result.new:,} new records from {home}.")
    zone = resolve_zone(None)
    since = datetime.now(zone).date() - timedelta(days=13)
    rep = Report("daily", zone, since=since, rates=load_rates())
    rep.add_rows(usage_rows(open_store(db), since=since))
    show_report(rep.to_json(), "daily", json=False, demo=is_demo_home(home))
    if open_app:
        _run_dashboard(db, port)


def _run_dashboard(db: str, port: int) -> None:
    """The Streamlit app over ``db``, until Ctrl+C."""
    import subprocess

    from store.settings import DB

    entry = Path(__file__).resolve().parent.parent / "streamlit_app.py"
    free = free_port(port)
    if free != port:
        err.print(f"Port {port} is taken: the dashboard uses {free} instead.")
    port = free
    out.print(f"Dashboard: http://localhost:{port}  (Ctrl+C to stop)")
    command = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.port", str(port)]
    with suppress(KeyboardInterrupt):
        subprocess.run(command, env={**os.environ, DB.name: db}, check=False)


#: Ports tried after a taken one before ``start`` gives up.
PORT_TRIES = 20


def free_port(wanted: int, tries: int = PORT_TRIES) -> int:
    """``wanted`` if nothing listens there, else the next free port above it; a ``UserError``
    naming the range when all are taken (the dashboard would otherwise announce a URL that
    another program answers)."""
    import socket

    last = min(wanted + tries, 65536) - 1
    for port in range(wanted, last + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As Streamlit binds: a port left in TIME_WAIT by a closed dashboard is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("", port))
            except OSError:
                continue
            return port
    raise UserError(f"ports {wanted} to {last} are all taken: choose one with --port")
