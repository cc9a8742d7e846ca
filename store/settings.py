"""Settings of the store and the ingest service, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

MAX_BODY_BYTES = 10 * 1024 * 1024


def default_db_url(configured: str | None = None) -> str:
    """CODEXTIME_DB, else ``configured`` (a caller's own setting, such as the dashboard's db_url
    secret), else the embedded SQLite file in the user's data folder."""
    env = os.environ.get("CODEXTIME_DB")
    if env:
        return env
    if configured:
        return configured
    return f"sqlite:///{Path(user_data_dir('codextime')) / 'codextime.db'}"


@dataclass(frozen=True)
class ServerSettings:
    db_url: str
    #: Anyone may create an account with POST /api/v1/accounts (else: `codextime account create`).
    open_signup: bool = False
    #: Requests per minute and token.
    rate_limit_per_minute: int = 600
    max_body_bytes: int = MAX_BODY_BYTES
    #: Accounts one client address may create per hour with open sign-up: a person makes one,
    #: a household or office behind one address a few; a script making hundreds is stopped.
    signups_per_ip_per_hour: int = 5
    #: Failed authentications (401) one client address may make per minute before it gets 429:
    #: a misconfigured collector retries a few times; guessing tokens takes far more.
    auth_failures_per_ip_per_minute: int = 20
    #: Addresses of reverse proxies whose X-Forwarded-For is believed (uvicorn's
    #: ``forwarded_allow_ips``, e.g. "127.0.0.1"); None: none is, and every limit per client
    #: address applies to the connecting peer itself.
    forwarded_allow_ips: str | None = None
