"""Settings of the ingest service, in one place."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    db_url: str
    #: Anyone may create an account with POST /api/v1/accounts (else: `codextime account create`).
    open_signup: bool = False
    #: Requests per minute and token (and per client address for sign-ups).
    rate_limit_per_minute: int = 600
    max_body_bytes: int = MAX_BODY_BYTES
