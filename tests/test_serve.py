"""`codextime serve` as a process: X-Forwarded-For is believed only from the proxies named with
--forwarded-allow-ips, so a forged header cannot dodge the per-address sign-up limit."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

import httpx

SIGNUPS_PER_HOUR = 2
#: Numbers new account names: a name taken would be a 409, not the limit under test.
NAMES = count()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(tmp_path, *extra: str) -> Iterator[str]:
    """A `codextime serve --open-signup` process on a free loopback port, until the block ends."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "collector", "serve", "--open-signup", "--port", str(port)),
        *("--db", f"sqlite:///{tmp_path / 'server.db'}"),
        *("--signups-per-hour", str(SIGNUPS_PER_HOUR), *extra),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


def sign_ups(base: str, forwarded_for: list[str]) -> list[int]:
    """The status of one sign-up per address claimed in X-Forwarded-For."""
    return [
        httpx.post(
            f"{base}/api/v1/accounts",
            json={"name": f"user{next(NAMES)}"},
            headers={"X-Forwarded-For": address},
            timeout=10,
        ).status_code
        for address in forwarded_for
    ]


FORGED = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]


def test_a_forged_forwarded_for_does_not_get_past_the_per_address_limit(tmp_path):
    with serving(tmp_path) as base:
        statuses = sign_ups(base, FORGED)
    assert statuses == [201] * SIGNUPS_PER_HOUR + [429] * (len(FORGED) - SIGNUPS_PER_HOUR)


def test_a_named_proxy_is_believed(tmp_path):
    with serving(tmp_path, "--forwarded-allow-ips", "127.0.0.1") as base:
        distinct = sign_ups(base, FORGED)
        one_client = sign_ups(base, ["198.51.100.7"] * 3)
    assert distinct == [201] * len(FORGED)  # four clients behind the proxy
    assert one_client == [201] * SIGNUPS_PER_HOUR + [429]


def test_the_help_names_the_settings_default():
    from typer.testing import CliRunner

    from collector.cli import app
    from store.settings import ServerSettings

    shown = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200)
    assert f"create an hour [default: {ServerSettings.signups_per_ip_per_hour}]" in shown.stdout
