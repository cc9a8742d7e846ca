from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from store.accounts import AccountError, delete_usage, update_account, usage_count
from store.api.deps import CurrentAccount, EngineDep

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class Me(BaseModel):
    account_id: int
    name: str
    leaderboard_opt_in: bool
    default_label: str | None
    records: int


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=50)
    leaderboard_opt_in: bool | None = None
    default_label: str | None = Field(default=None, max_length=100)


def _me(engine, account) -> Me:
    return Me(
        account_id=account.id,
        name=account.name,
        leaderboard_opt_in=account.leaderboard_opt_in,
        default_label=account.default_label,
        records=usage_count(engine, account.id),
    )


@router.get("", response_model=Me)
def read_me(account: CurrentAccount, engine: EngineDep) -> Me:
    """Your account, and how many records the server holds for it."""
    return _me(engine, account)


@router.patch("", response_model=Me)
def change_me(body: MeUpdate, account: CurrentAccount, engine: EngineDep) -> Me:
    """Change your display name, leaderboard opt-in or default label."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None or changes.get("leaderboard_opt_in", False) is None:
        raise HTTPException(422, "name and leaderboard_opt_in cannot be null")
    try:
        updated = update_account(engine, account.id, changes)
    except AccountError as exc:
        code = status.HTTP_409_CONFLICT if "taken" in str(exc) else 422
        raise HTTPException(code, str(exc)) from None
    return _me(engine, updated)


@router.delete("/usage")
def erase_my_usage(account: CurrentAccount, engine: EngineDep) -> dict:
    """Erase every usage record of your account."""
    return {"deleted": delete_usage(engine, account.id)}
