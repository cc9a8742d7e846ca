from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from store.accounts import AccountError, create_account
from store.api.deps import EngineDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50, description="Display name, unique.")


class SignedUp(BaseModel):
    account_id: int
    name: str
    token: str = Field(description="Shown once; the server keeps only its hash.")


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=SignedUp)
def sign_up(body: SignUp, request: Request, engine: EngineDep, settings: SettingsDep) -> SignedUp:
    """Create an account and its first token (only on servers started with --open-signup)."""
    if not settings.open_signup:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "sign-up is closed on this server; ask its operator for a token",
        )
    client = request.client.host if request.client else "unknown"
    request.app.state.limiter.check(f"signup:{client}")
    try:
        account_id, token = create_account(engine, body.name)
    except AccountError as exc:
        code = status.HTTP_409_CONFLICT if "taken" in str(exc) else 422
        raise HTTPException(code, str(exc)) from None
    return SignedUp(account_id=account_id, name=body.name.strip(), token=token)
