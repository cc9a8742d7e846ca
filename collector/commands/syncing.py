"""``sync`` and ``login``: new records to the store or to an ingest server; ``hook``: a
background sync after every Codex turn."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from collector.commands.reporting import DEMO_NOT_SENT, codex_home_of, record_label
from collector.config import save_config, setting
from collector.demo import is_demo_home
from collector.render import out, print_sync_notes, print_sync_summary, progress, shown
from store.errors import UserError

if TYPE_CHECKING:
    from collector.sync import SyncResult

#: A sync started by the hook that runs longer than this (seconds) is stopped.
BACKGROUND_TIME_LIMIT = 10 * 60


def sync(
    codex_home: Path | None,
    db: str | None,
    server: str | None,
    token: str | None,
    label: str | None,
    *,
    background: bool,
    full: bool,
    time_limit: int | None,
) -> None:
    """``codextime sync``: to the server (flag, environment or login) unless ``db`` names a
    store; a background sync is silent and gives way to one already running."""
    from collector.hook import log_line
    from collector.sync import Busy

    with ended_after(time_limit):
        home = codex_home_of(codex_home)
        server = None if db else setting("server", server)
        if server and is_demo_home(home):
            raise UserError(DEMO_NOT_SENT)
        label = record_label(home, setting("label", label), quiet=background)
        try:
            if server:
                result = sync_to_server(home, server, setting("token", token), label, full=full)
            else:
                result = sync_into_store(home, db, label, full=full)
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
def ended_after(seconds: int | None) -> Iterator[None]:
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


def sync_into_store(
    home: Path, db: str | None, label: str | None, *, full: bool = False
) -> SyncResult:
    from collector.sync import StoreDestination, state_path
    from collector.sync import sync as sync_home
    from store.settings import default_db_url

    url = db or default_db_url()
    # `start` passes no label: a demo home's records still get theirs.
    store = StoreDestination(url, label or record_label(home, None))
    with progress("Syncing") as update:
        return sync_home(home, store, state_path(home, url), full=full, progress=update)


def sync_to_server(
    home: Path, server: str, token: str | None, label: str | None, *, full: bool = False
) -> SyncResult:
    from collector.sync import server_destination, state_path
    from collector.sync import sync as sync_home
    from collector.upload import HttpSink

    if not token:
        raise UserError(f"no token for {server}: run `codextime login --server {server}`")
    state = state_path(home, server_destination(server, token))
    sink = HttpSink(server, token, label=label)
    with progress("Uploading") as update:
        return sync_home(home, sink, state, full=full, progress=update)


def log_in(server: str, name: str | None, token: str | None) -> None:
    """``codextime login``: sign up (``name``) or check a token, then save server and token."""
    from collector.upload import account_name, sign_up

    base = server.rstrip("/")
    if not (name or token):
        from typer import prompt  # only asked on a terminal, where the app is loaded anyway

        token = prompt("Token (from the server's operator)", hide_input=True)
    if token:
        who = account_name(base, token)
    else:
        token, who = sign_up(base, name)
    path = save_config({"server": base, "token": token})
    out.print(
        f"Logged in to {shown(base)} as {shown(who)}. "
        f"Saved in {shown(path)} (readable by you only)."
    )
    out.print("`codextime sync` now sends your usage there.")


def install_hook(codex_home: Path | None, kind: str | None) -> None:
    """``codextime hook install``: Codex runs ``sync --background`` of this very install, isolated
    (``python -I``), after each turn."""
    from collector import hook

    home = codex_home_of(codex_home)
    if not home.is_dir():  # Codex makes it on first run; a typo must not make a new one
        raise UserError(f"{home} is not a Codex home folder (set --codex-home or CODEX_HOME)")
    sync_command = [sys.executable, "-I", "-m", "collector", "sync", "--background"]
    out.print(hook.install(home, sync_command, kind=kind))


def uninstall_hook(codex_home: Path | None) -> None:
    from collector import hook

    out.print(hook.uninstall(codex_home_of(codex_home)))
