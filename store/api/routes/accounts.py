"""Accounts: sign-up on an open server (POST /api/v1/accounts), each with its first token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from store.accounts import AccountError, NameTaken, create_account
from store.api.deps import EngineDep, SettingsDep, SmallBody
from store.api.errors import json_body_docs, parse_body
from store.api.limits import client_address

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50, description="Display name, unique.")


class SignedUp(BaseModel):
    account_id: int
    name: str
    token: str = Field(description="Shown once; the server keeps only its hash.")


def account_error(exc: AccountError) -> HTTPException:
    """409 for a name another account has, 422 for any other refusal."""
    code = status.HTTP_409_CONFLICT if isinstance(exc, NameTaken) else 422
    return HTTPException(code, str(exc))


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=SignedUp,
    openapi_extra=json_body_docs(SignUp),
)
def sign_up(raw: SmallBody, request: Request, engine: EngineDep, settings: SettingsDep) -> SignedUp:
    """Create an account and its first token (only on servers started with --open-signup;
    a few accounts per client address and hour)."""
    if not settings.open_signup:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "sign-up is closed on this server; ask its operator for a token",
        )
    request.app.state.signups.check(client_address(request))
    body = parse_body(SignUp, raw, strict=True)
    try:
        account_id, token = create_account(engine, body.name)
    except AccountError as exc:
        raise account_error(exc) from None
    return SignedUp(account_id=account_id, name=body.name.strip(), token=token)
