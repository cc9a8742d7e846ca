"""``serve``: the ingest service over a store, with uvicorn; and the operator's ``account
create``, ``token`` and ``revoke``, which act on the store directly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.render import out

if TYPE_CHECKING:
    from store.settings import ServerSettings


def serve(
    db: str | None,
    host: str,
    port: int,
    *,
    open_signup: bool,
    rate_limit: int,
    signups_per_hour: int | None,
    forwarded_allow_ips: str | None,
    workers: int,
    app_url: str | None = None,
) -> None:
    """Run the ingest service until stopped (the server extra must be installed)."""
    from collector.extras import require

    require("codextime serve", "server")
    import dataclasses
    import json
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
        # Defaults are the settings' own (a module loaded only here: not on every command).
        **({} if signups_per_hour is None else {"signups_per_ip_per_hour": signups_per_hour}),
        **({} if app_url is None else {"app_url": app_url}),
    )
    api = create_app(settings)  # also migrates the store once, before any worker starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Our own request log names no token and no body; uvicorn's access log is off.
    options = dict(host=host, port=port, access_log=False, log_level="info", **proxy(settings))
    if workers > 1:
        os.environ[SERVE_SETTINGS.name] = json.dumps(dataclasses.asdict(settings))
        uvicorn.run("store.api:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(api, **options)


def proxy(settings: ServerSettings) -> dict:
    """uvicorn's proxy options: X-Forwarded-For is believed only from the proxies named (by
    default uvicorn believes it from 127.0.0.1, so a forged header sent from the server's own
    machine would pass as any client and dodge every per-address limit)."""
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def create_account(db: str | None, name: str) -> None:
    """A new account in the store, and its first token (printed once, alone on its line)."""
    from collector.extras import require

    require("codextime account create", "store")
    from store.accounts import create_account
    from store.db import open_store

    account_id, token = create_account(open_store(db), name)
    out.print(f"Account {name!r} (id {account_id}). Its token, shown only now:")
    print(token)


def issue_token(db: str | None, name: str) -> None:
    from collector.extras import require

    require("codextime account token", "store")
    from store.accounts import issue_token
    from store.db import open_store

    print(issue_token(open_store(db), name))


def revoke_tokens(db: str | None, name: str) -> None:
    from collector.extras import require

    require("codextime account revoke", "store")
    from store.accounts import revoke_tokens
    from store.db import open_store

    count = revoke_tokens(open_store(db), name)
    out.print(f"Revoked {count} token(s) of {name!r}.")
