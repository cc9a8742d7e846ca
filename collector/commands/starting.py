"""``demo`` and ``start``: a synthetic home to try things on, and the first run."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.commands.reporting import codex_home_of
from collector.commands.syncing import sync_into_store
from collector.demo import is_demo_home
from collector.extras import STORE_MODULES, missing_modules
from collector.render import err, out, print_sync_notes, show_report
from store.errors import UserError

#: The longest demo history: ten years, far more than Codex has existed.
DEMO_MAX_DAYS = 3650
#: Ports tried after a taken one before ``start`` gives up.
PORT_TRIES = 20


def write_demo(out_dir: Path, days: int, seed: int) -> None:
    """``codextime demo``: a synthetic Codex home of ``days`` days, marked as demo data."""
    from collector.demo import generate

    if not 1 <= days <= DEMO_MAX_DAYS:
        raise UserError(f"--days must be from 1 to {DEMO_MAX_DAYS} (ten years), not {days}")
    generate(out_dir, seed=seed, days=days, end=datetime.now(UTC))
    out.print(f"Demo Codex home written to {out_dir} (marked as demo data).")
    out.print(f"Try: codextime report daily --codex-home {out_dir}")


def start(codex_home: Path | None, db: str | None, port: int, open_app: bool) -> None:
    """``codextime start``: sync the logs (or a demo set when there are none), show the last
    two weeks, then run the dashboard."""
    if open_app:  # before a long sync, not after it
        from collector.extras import require

        require("codextime start", "app")
    from collector.report import Report, resolve_zone
    from collector.sqlite_sink import store_rows
    from store.pricing import load_rates
    from store.settings import default_db_url

    home = codex_home_of(codex_home)
    has_logs = any((home / d).is_dir() for d in ("sessions", "archived_sessions"))
    board = False  # the demo leaderboard goes into the demo's own store only
    if not has_logs and codex_home is None:
        home, demo_db = demo_home()
        board, db = db is None, db or demo_db
    elif not has_logs:
        raise UserError(f"no sessions/ or archived_sessions/ in {home}")
    db = db or default_db_url()
    result = sync_into_store(home, db, None)
    print_sync_notes(result)
    err.print(f"Synced {result.new:,} new records from {home}.")
    if board and not missing_modules(STORE_MODULES):
        # The demo leaderboard is seen only in the dashboard, whose extra brings the store
        # layer its insert path needs; the light collector's `start --no-app` skips it.
        from collector.demo.board import seed_demo_board

        seed_demo_board(db, end=datetime.now(UTC))
    zone = resolve_zone(None)
    since = datetime.now(zone).date() - timedelta(days=13)
    rep = Report("daily", zone, since=since, rates=load_rates())
    rep.add_rows(store_rows(db, since=since, command="codextime start"))
    show_report(rep.to_json(), "daily", json=False, demo=is_demo_home(home))
    if open_app:
        run_dashboard(db, port)


def demo_home() -> tuple[Path, str]:
    """The demo home ``start`` uses when this machine has no Codex logs (made once, in the
    data folder) and the store URL kept apart for it, said on stderr."""
    from platformdirs import user_data_dir

    from collector.demo import generate

    data = Path(user_data_dir("codextime"))
    home = data / "demo-codex-home"
    if not is_demo_home(home):
        generate(home, end=datetime.now(UTC))
    err.print(
        f"No Codex logs in {codex_home_of(None)}: using a generated DEMO data set "
        f"({home}). Run `codextime start` again after using Codex."
    )
    return home, f"sqlite:///{data / 'demo.db'}"


def run_dashboard(db: str, port: int) -> None:
    """The Streamlit app over ``db``, until Ctrl+C."""
    import subprocess

    from collector.extras import dashboard_script
    from store.settings import DB

    entry = dashboard_script()
    free = free_port(port)
    if free != port:
        err.print(f"Port {port} is taken: the dashboard uses {free} instead.")
    port = free
    out.print(f"Dashboard: http://localhost:{port}  (Ctrl+C to stop)")
    command = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.port", str(port)]
    with suppress(KeyboardInterrupt):
        subprocess.run(command, env={**os.environ, DB.name: db}, check=False)


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
