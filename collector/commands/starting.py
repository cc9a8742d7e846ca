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
        run_dashboard(db, port, zone.key)


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


#: The dashboard server's process (``python -c LAUNCHER <app folder> <zone> run <app> ...``): the
#: pages' libraries imported and a first visit's frames cached (``pages.lib.data.warm_up``, for
#: the days of ``<zone>``) before Streamlit starts to serve, so the first page is drawn soon after
#: the server answers. Streamlit's warnings about caches used before it runs are silenced until it
#: reads its settings.
LAUNCHER = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); zone = sys.argv.pop(1); "
    "from streamlit import logger; logger.set_log_level('error'); "
    "import pyarrow, pages.lib.routing, pages.lib.charts; "
    "from pages.lib.data import warm_up; warm_up(zone); "
    "from streamlit.web.cli import main; sys.argv[0] = 'streamlit'; main()"
)
#: What a Streamlit server answers on once it serves.
HEALTH = "/_stcore/health"


#: Names of UTC that a browser on the machine reports as "UTC" (ICU's canonical name).
UTC_NAMES = {"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"}


def dashboard_command(entry: Path, port: int, zone: str, *options: str) -> list[str]:
    """The command that serves the dashboard ``entry`` on ``port`` (``LAUNCHER``), its first
    visit's frames made for the machine's ``zone`` under the name a browser gives it, with
    more ``streamlit run`` options."""
    zone = "UTC" if zone in UTC_NAMES else zone
    run = ["run", str(entry), "--server.port", str(port), *options]
    return [sys.executable, "-c", LAUNCHER, str(entry.parent), zone, *run]


def run_dashboard(db: str, port: int, zone: str) -> None:
    """The Streamlit app over ``db``, its days cut in ``zone`` until the viewer's browser says
    otherwise, until Ctrl+C. Its address is said once the server answers there."""
    import subprocess

    from collector.extras import dashboard_script
    from store.settings import DB

    entry = dashboard_script()
    free = free_port(port)
    if free != port:
        err.print(f"Port {port} is taken: the dashboard uses {free} instead.")
    port = free
    err.print("Starting the dashboard…")
    command = dashboard_command(entry, port, zone)
    server = subprocess.Popen(command, env={**os.environ, DB.name: db})
    try:
        if not answers(f"http://localhost:{port}", server):
            raise UserError(f"the dashboard stopped before it served (exit {server.returncode})")
        out.print(f"Dashboard: http://localhost:{port}  (Ctrl+C to stop)")
        server.wait()
    except KeyboardInterrupt:  # Ctrl+C reaches the server too: give it time to stop
        with suppress(KeyboardInterrupt, subprocess.TimeoutExpired):
            server.wait(timeout=5)
    finally:
        server.kill()  # nothing when it has stopped


def answers(base: str, server) -> bool:
    """Wait until the Streamlit server at ``base`` answers its health check: True then, False if
    its process ``server`` ends first."""
    import time
    import urllib.request

    while server.poll() is None:
        # Not listening yet is an OSError (URLError is one).
        with suppress(OSError), urllib.request.urlopen(base + HEALTH, timeout=1) as reply:
            if reply.read() == b"ok":
                return True
        time.sleep(0.1)
    return False


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
