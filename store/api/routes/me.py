"""The signed-in account (/api/v1/me): read it, change its name, opt-in or label, erase usage."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from store.accounts import AccountError, delete_usage, flagged_counts, update_account, usage_count
from store.api.deps import CurrentAccount, EngineDep, SmallBody
from store.api.errors import json_body_docs, parse_body
from store.api.routes.accounts import account_error
from store.fields import DEMO_LABEL, DEMO_REFUSED
from store.record import PlainText

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class Me(BaseModel):
    account_id: int
    name: str
    leaderboard_opt_in: bool
    default_label: str | None
    records: int
    flagged: dict[str, int] = Field(
        description="Records kept but judged implausible, by reason (never on the leaderboard)."
    )


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=50)
    leaderboard_opt_in: bool | None = None
    default_label: PlainText | None = Field(default=None, max_length=100)

    @field_validator("default_label")
    @classmethod
    def _not_demo(cls, label: str | None) -> str | None:
        """Records stored under the default label would pass for demo data, or demo for real."""
        if label == DEMO_LABEL:
            raise ValueError(DEMO_REFUSED)
        return label


def _me(engine, account) -> Me:
    return Me(
        account_id=account.id,
        name=account.name,
        leaderboard_opt_in=account.leaderboard_opt_in,
        default_label=account.default_label,
        records=usage_count(engine, account.id),
        flagged=flagged_counts(engine, account.id),
    )


@router.get("", response_model=Me)
def read_me(account: CurrentAccount, engine: EngineDep) -> Me:
    """Your account, how many records the server holds for it, and how many are flagged."""
    return _me(engine, account)


@router.patch("", response_model=Me, openapi_extra=json_body_docs(MeUpdate))
def change_me(account: CurrentAccount, raw: SmallBody, engine: EngineDep) -> Me:
    """Change your display name, leaderboard opt-in or default label."""
    changes = parse_body(MeUpdate, raw, strict=True).model_dump(exclude_unset=True)
    if changes.get("name", "") is None or changes.get("leaderboard_opt_in", False) is None:
        raise HTTPException(422, "name and leaderboard_opt_in cannot be null")
    try:
        updated = update_account(engine, account.id, changes)
    except AccountError as exc:
        raise account_error(exc) from None
    return _me(engine, updated)


@router.delete("/usage")
def erase_my_usage(account: CurrentAccount, engine: EngineDep) -> dict:
    """Erase every usage record of your account."""
    return {"deleted": delete_usage(engine, account.id)}
