"""The ``codextime`` command: its commands, options, help and examples, declared with typer.

Each command hands its options to one function of ``collector/commands/`` (by command group),
which does the work over the collector's and the store's modules. The process starts in
``collector.commands.entry.main``, which runs a plain ``report`` without building this app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from collector.commands import account, reporting, serving, starting, syncing
from collector.commands.entry import main, one_line_errors
from collector.commands.reporting import Period
from collector.commands.syncing import BACKGROUND_TIME_LIMIT

#: Also importable from here: the console command, and what tests reach through this module.
__all__ = ["BACKGROUND_TIME_LIMIT", "app", "main"]


class Commands(typer.Typer):
    """A typer app whose every command reports a ``UserError`` in one line (exit status 2),
    never as a traceback; help stays plain (no rich markup), so the option texts show their
    [default: ...] notes as written."""

    def __init__(self, **options) -> None:
        super().__init__(
            rich_markup_mode=None,
            context_settings={"help_option_names": ["-h", "--help"]},
            **options,
        )

    def command(self, *args, **kwargs) -> Callable[[Callable], Callable]:
        register = super().command(*args, **kwargs)

        def register_one_line(command: Callable) -> Callable:
            @functools.wraps(command)
            def run(*args, **kwargs):
                with one_line_errors(typer.Exit):
                    return command(*args, **kwargs)

            return register(run)

        return register_one_line


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


# -- options shared by several commands -----------------------------------------------------

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
AccountName = Annotated[str, typer.Argument(help="Display name.")]


# -- report and scan ------------------------------------------------------------------------


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
    reporting.report(
        period, codex_home, db, account, timezone, since, until, last_count, json, rates
    )


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
    reporting.scan(codex_home, json, label)


# -- sync and login -------------------------------------------------------------------------


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
    limit = BACKGROUND_TIME_LIMIT if background else None
    syncing.sync(
        codex_home, db, server, token, label, background=background, full=full, time_limit=limit
    )


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
    syncing.log_in(server, name, token)


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
    app_url: Annotated[
        str | None,
        typer.Option(
            help="The shared dashboard's address, for `codextime open` and profile links "
            "[default: $CODEXTIME_APP_URL].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the ingest service (API docs at /docs).

    Example: codextime serve --db postgresql+psycopg://user@host/codextime --open-signup
    """
    serving.serve(
        db,
        host,
        port,
        open_signup=open_signup,
        rate_limit=rate_limit,
        signups_per_hour=signups_per_hour,
        forwarded_allow_ips=forwarded_allow_ips,
        workers=workers,
        app_url=app_url,
    )


account_app = Commands()
app.add_typer(account_app, name="account")


@account_app.callback(invoke_without_command=True)
def account_show(context: typer.Context) -> None:
    """Your account on a server, or a store's accounts.

    With no command: your account on the server `codextime login` connected this machine to
    (name, leaderboard, records, first and last, records flagged as implausible and why).
    rename and delete change it there. create, token and revoke are for a server's operator,
    and act on a store directly (--db).

    Example: codextime account
    """
    if context.invoked_subcommand is None:
        with one_line_errors(typer.Exit):
            account.show()


@account_app.command("rename")
def account_rename(name: Annotated[str, typer.Argument(help="Your new display name.")]) -> None:
    """Rename your account on the server.

    The server refuses a name that is taken, reserved or looks like another, and says why.

    Example: codextime account rename "Alice B"
    """
    account.rename(name)


@account_app.command("delete")
def account_delete(
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete without asking for the account's name.")
    ] = False,
) -> None:
    """Delete your account and all its records on the server.

    Asks for the account's name first (or --yes); this machine is then logged out of that
    server.

    Example: codextime account delete
    """
    account.delete(yes)


@account_app.command("create")
def account_create(name: AccountName, db: DbUrl = None):
    """Create an account and print its first token (operators).

    The token is shown only this once.

    Example: codextime account create alice --db postgresql+psycopg://user@host/codextime
    """
    serving.create_account(db, name)


@account_app.command("token")
def account_token(name: AccountName, db: DbUrl = None):
    """Print a new token for an existing account (operators).

    The token is shown only this once.

    Example: codextime account token alice --db postgresql+psycopg://user@host/codextime
    """
    serving.issue_token(db, name)


@account_app.command("revoke")
def account_revoke(name: AccountName, db: DbUrl = None):
    """Revoke every token of an account at once (operators).

    Example: codextime account revoke alice --db postgresql+psycopg://user@host/codextime
    """
    serving.revoke_tokens(db, name)


leaderboard_app = Commands(help="Your place on the server's public leaderboard.")
app.add_typer(leaderboard_app, name="leaderboard")


@leaderboard_app.command("join")
def leaderboard_join(
    name: Annotated[
        str | None,
        typer.Option(help="Appear under this display name (renames your account first)."),
    ] = None,
) -> None:
    """Opt in to the server's leaderboard.

    Your tokens and API-equivalent are ranked under your display name; records flagged as
    implausible never are.

    Example: codextime leaderboard join --name "Alice B"
    """
    account.join(name)


@leaderboard_app.command("leave")
def leaderboard_leave() -> None:
    """Opt out of the server's leaderboard.

    Your records stay on the server (`codextime account delete` erases them).

    Example: codextime leaderboard leave
    """
    account.leave()


@app.command("open")
def open_command(
    app_url: Annotated[
        str | None,
        typer.Option(
            help="The shared dashboard's address, when the server does not know it (saved for "
            "next time).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Open the shared dashboard, signed in.

    Through a one-time code from the server (single use, valid for minutes): the token is never
    shown or pasted. Without a server login, `codextime start` opens this machine's dashboard.

    Example: codextime open --app-url https://usage-dashboard.example.org
    """
    account.open_dashboard(app_url)


rates_app = Commands(help="The rate table of API-equivalent estimates.")
app.add_typer(rates_app, name="rates")


@rates_app.command("update")
def rates_update(rates: RatesPath = None, db: DbUrl = None, codex_home: CodexHome = None) -> None:
    """Rewrite the rate table from genai-prices.

    For every model Codex writes and those of your logs (--codex-home) or store (--db), from the
    installed genai-prices; rows marked as an analyst's own are kept.

    Example: codextime rates update --codex-home ~/.codex
    """
    reporting.update_rates(rates, db, codex_home)


# -- the Codex hook -------------------------------------------------------------------------

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
    syncing.install_hook(codex_home, kind)


@hook_app.command("uninstall")
def hook_uninstall(codex_home: CodexHome = None) -> None:
    """Remove the hook, putting every file back.

    Stop or notify: every file is put back as it was.

    Example: codextime hook uninstall
    """
    syncing.uninstall_hook(codex_home)


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
    starting.write_demo(out_dir, days, seed)


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
    starting.start(codex_home, db, port, open_app)
