"""Settings of the store and the ingest service, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

MAX_BODY_BYTES = 10 * 1024 * 1024


def default_db_url() -> str:
    """CODEXTIME_DB, else the embedded SQLite file in the user's data folder."""
    env = os.environ.get("CODEXTIME_DB")
    if env:
        return env
    return f"sqlite:///{Path(user_data_dir('codextime')) / 'codextime.db'}"


@dataclass(frozen=True)
class ServerSettings:
    db_url: str
    #: Anyone may create an account with POST /api/v1/accounts (else: `codextime account create`).
    open_signup: bool = False
    #: Requests per minute and token (and per client address for sign-ups).
    rate_limit_per_minute: int = 600
    max_body_bytes: int = MAX_BODY_BYTES
