"""The ingest service: a small FastAPI app over the store, its routes in ``routes/`` by resource."""

from __future__ import annotations

import json
import logging
import os
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from store.api.errors import install_error_handlers
from store.api.limits import DeclaredBodyCap, RateLimiter, TtlCache
from store.api.routes import accounts, badges, health, me, usage
from store.api.routes.badges import BADGE_SECONDS
from store.db import open_store
from store.pricing import load_rates
from store.settings import SERVE_SETTINGS, ServerSettings

log = logging.getLogger("codextime.server")


#: How `codextime serve --workers N` hands its settings to each worker process.
SETTINGS_ENV = SERVE_SETTINGS.name


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
    app.state.signups = RateLimiter(settings.signups_per_ip_per_hour, period_seconds=3600)
    app.state.auth_failures = RateLimiter(settings.auth_failures_per_ip_per_minute)
    app.state.rates = load_rates()  # the board's estimates (CODEXTIME_RATES, else rates.csv)
    app.state.badges = TtlCache(BADGE_SECONDS)
    for module in (health, accounts, usage, me, badges):
        app.include_router(module.router)
    install_error_handlers(app)

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        """One line per request: method, path, status, time. Never a body, header or token.

        A failure inside a route is logged as a 500 line too (with the exception's type only:
        its message may quote stored data) and answered with a body that says nothing more."""
        start = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as exc:
            response = JSONResponse({"detail": "internal server error"}, status_code=500)
            log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        took = (time.perf_counter() - start) * 1000
        log.info("%s %s %d %.1fms", request.method, request.url.path, response.status_code, took)
        return response

    # Outermost: an oversized body is refused before anything else looks at the request.
    app.add_middleware(DeclaredBodyCap, usage_limit=settings.max_body_bytes)
    return app
