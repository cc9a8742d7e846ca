"""The ingest service: a small FastAPI app over the store, its routes in ``routes/`` by resource."""

from __future__ import annotations

import json
import logging
import os
import time

from fastapi import FastAPI, Request
from sqlalchemy.engine import Engine

from store.api.limits import RateLimiter
from store.api.routes import accounts, health, me, usage
from store.db import open_store
from store.settings import ServerSettings

log = logging.getLogger("codextime.server")


#: How `codextime serve --workers N` hands its settings to each worker process.
SETTINGS_ENV = "CODEXTIME_SERVE_SETTINGS"


def app_from_environment() -> FastAPI:
    """The app factory uvicorn calls in each worker process."""
    return create_app(ServerSettings(**json.loads(os.environ[SETTINGS_ENV])))


def create_app(settings: ServerSettings, engine: Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="Codextime ingest",
        summary="Receives Codex usage records: token counts only, never prompts or paths.",
        version="1",
    )
    app.state.settings = settings
    app.state.engine = engine or open_store(settings.db_url)
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    for module in (health, accounts, usage, me):
        app.include_router(module.router)

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        """One line per request: method, path, status, time. Never a body, header or token."""
        start = time.perf_counter()
        response = await call_next(request)
        took = (time.perf_counter() - start) * 1000
        log.info("%s %s %d %.1fms", request.method, request.url.path, response.status_code, took)
        return response

    return app
