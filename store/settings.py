"""Settings in one place: every environment variable the project reads (``SETTINGS``), and the
store's and the ingest service's settings.

Standard library only, so the collector's light path, the store, the service and the dashboard
all read the environment through here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Setting:
    """An environment variable the project reads: its name, its default (as a person reads it)
    and what it means. ``internal`` ones are hand-overs between processes or switches of the
    test runs, not documented for users."""

    name: str
    default: str
    meaning: str
    internal: bool = False

    def value(self) -> str | None:
        """The variable's value, or None when it is unset or empty (an empty one means unset)."""
        return os.environ.get(self.name) or None


CODEX_HOME = Setting("CODEX_HOME", "~/.codex", "where Codex keeps its logs")
DB = Setting(
    "CODEXTIME_DB",
    "codextime.db in the user's data folder",
    "the store URL: sqlite:///path or postgresql+psycopg://user@host/db",
)
SERVER = Setting(
    "CODEXTIME_SERVER",
    "what `codextime login` saved",
    "the ingest server `codextime sync` sends to",
)
TOKEN = Setting(
    "CODEXTIME_TOKEN", "what `codextime login` saved", "the token `codextime sync` sends with"
)
LABEL = Setting("CODEXTIME_LABEL", "none", "the label `codextime sync` puts on records")
UPLOAD_BATCH = Setting("CODEXTIME_UPLOAD_BATCH", "2000", "records per upload request")
RATES = Setting(
    "CODEXTIME_RATES",
    "the project's rates.csv",
    "a rate table of your own for API-equivalent estimates",
)
APP_SHARED = Setting(
    "CODEXTIME_APP_SHARED",
    "off",
    "1: the dashboard serves many accounts and asks each viewer for a token",
)
HASH_KEY = Setting(
    "CODEXTIME_HASH_KEY",
    "the same key on every machine",
    "the key of the hashes that name sessions and responses",
)
APP_URL = Setting(
    "CODEXTIME_APP_URL",
    "none",
    "the shared dashboard's address, for the sign-in and profile links `codextime serve` hands out",
)
SERVE_SETTINGS = Setting(
    "CODEXTIME_SERVE_SETTINGS",
    "none",
    "the ingest service's settings, as JSON, handed by `codextime serve` to its worker processes",
    internal=True,
)

#: Every environment variable the project reads, the test runs' own switches included.
SETTINGS = (
    CODEX_HOME,
    DB,
    SERVER,
    TOKEN,
    LABEL,
    UPLOAD_BATCH,
    RATES,
    APP_SHARED,
    HASH_KEY,
    APP_URL,
    SERVE_SETTINGS,
    Setting(
        "CODEXTIME_TEST_PG_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "the PostgreSQL server the store tests use",
        internal=True,
    ),
    Setting("CODEXTIME_REQUIRE_POSTGRES", "0", "1: the PostgreSQL tests may not skip", True),
    Setting("CODEXTIME_REQUIRE_BROWSER", "0", "1: the browser tests may not skip", True),
    Setting("CODEXTIME_REQUIRE_SPEEDUPS", "0", "1: the C line reader must be built", True),
)


def default_db_url(configured: str | None = None) -> str:
    """CODEXTIME_DB, else ``configured`` (a caller's own setting, such as the dashboard's db_url
    secret), else the embedded SQLite file in the user's data folder."""
    env = DB.value()
    if env:
        return env
    if configured:
        return configured
    from platformdirs import user_data_dir  # only when the default is needed

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
    #: The shared dashboard's address (``serve --app-url``, else CODEXTIME_APP_URL): the links to
    #: sign in with a one-time code and to profiles are made from it; None: the server hands out
    #: codes without a link, and no profile link.
    app_url: str | None = None

    def __post_init__(self) -> None:
        url = self.app_url or APP_URL.value()
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"the dashboard's address must start with https://: {url[:100]!r}")
        object.__setattr__(self, "app_url", url.rstrip("/") if url else None)
