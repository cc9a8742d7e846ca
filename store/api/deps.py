"""Typed dependencies: the store's engine, the settings, the rate table, and the account behind a
bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from store.accounts import account_for_token, token_digest
from store.api.limits import SMALL_BODY_BYTES, client_address, read_body
from store.models import Account
from store.pricing import RateTable
from store.settings import ServerSettings

_bearer = HTTPBearer(auto_error=False, description="The token `codextime login` saved.")


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


def get_rates(request: Request) -> RateTable:
    return request.app.state.rates


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
RatesDep = Annotated[RateTable, Depends(get_rates)]


def current_account(
    request: Request,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    """The token's own account: every route acts on it and on nothing else.

    Failed attempts are counted per client address: past the limit a wrong or missing token gets
    429 instead of 401, so tokens cannot be guessed at speed. A valid token always gets through:
    one broken collector behind a shared address (an office, a VPN) never locks out the others.
    """
    failures, address = request.app.state.auth_failures, client_address(request)
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "missing or invalid token",
        headers={"WWW-Authenticate": "Bearer"},
    )
    account = None
    if credentials is not None and credentials.credentials:
        account = account_for_token(engine, credentials.credentials)
    if account is None:
        failures.check(address, spend=False)
        failures.spend(address)
        raise unauthorized
    digest = token_digest(credentials.credentials)
    request.app.state.limiter.check(digest)
    request.state.account_id = account.id
    request.state.token_sha256 = digest  # what a sign-in code is tied to
    return account


CurrentAccount = Annotated[Account, Depends(current_account)]


async def small_body(request: Request) -> bytes:
    """The body of a route that takes a small JSON document (413 past ``SMALL_BODY_BYTES``)."""
    return await read_body(request, SMALL_BODY_BYTES)


SmallBody = Annotated[bytes, Depends(small_body)]
