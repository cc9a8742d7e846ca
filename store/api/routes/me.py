"""The signed-in account (/api/v1/me): read it, change its name, opt-in or label, get a one-time
sign-in code for the dashboard, erase its usage or the whole account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from store.accounts import (
    AccountError,
    TooManyCodes,
    delete_account,
    delete_usage,
    flagged_counts,
    issue_code,
    record_span,
    update_account,
    usage_count,
)
from store.api.deps import CurrentAccount, EngineDep, RatesDep, SettingsDep, SmallBody
from store.api.errors import json_body_docs, parse_body
from store.api.routes.accounts import account_error
from store.board import rank_of
from store.fields import DEMO_REFUSED, is_demo_label, iso_utc
from store.record import PlainText

router = APIRouter(prefix="/api/v1/me", tags=["me"])
#: The period of ``Me.rank_30d``: the last 30 UTC days, today included.
RANK_DAYS = 30


class Me(BaseModel):
    account_id: int
    name: str
    leaderboard_opt_in: bool
    default_label: str | None
    records: int
    flagged: dict[str, int] = Field(
        description="Records kept but judged implausible, by reason (never on the leaderboard)."
    )
    first_record: str | None = Field(description="Time of the first record, ISO 8601 UTC.")
    last_record: str | None = Field(description="Time of the last record, ISO 8601 UTC.")
    rank_30d: int | None = Field(
        description="Rank by tokens over the last 30 UTC days; null unless on the leaderboard."
    )
    profile_url: str | None = Field(
        description="The public profile page; null unless opted in and the dashboard is known."
    )


class SignInCode(BaseModel):
    code: str = Field(description="Single use; the server keeps only its hash.")
    expires_at: str = Field(description="ISO 8601 UTC, a few minutes from now.")
    url: str | None = Field(
        description="The dashboard's address that signs in with the code; null when the server "
        "does not know the dashboard's address."
    )


class Deleted(BaseModel):
    deleted_records: int


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=50)
    leaderboard_opt_in: bool | None = None
    default_label: PlainText | None = Field(default=None, max_length=100)

    @field_validator("default_label")
    @classmethod
    def _not_demo(cls, label: str | None) -> str | None:
        """Records stored under the default label would pass for demo data, or demo for real."""
        if is_demo_label(label):
            raise ValueError(DEMO_REFUSED)
        return label


def _me(engine, rates, settings, account) -> Me:
    first, last = record_span(engine, account.id)
    opted_in = account.leaderboard_opt_in
    since = datetime.now(UTC).date() - timedelta(days=RANK_DAYS - 1)
    return Me(
        account_id=account.id,
        name=account.name,
        leaderboard_opt_in=opted_in,
        default_label=account.default_label,
        records=usage_count(engine, account.id),
        flagged=flagged_counts(engine, account.id),
        first_record=iso_utc(first) if first else None,
        last_record=iso_utc(last) if last else None,
        rank_30d=rank_of(engine, rates, account.id, since=since) if opted_in else None,
        profile_url=(
            f"{settings.app_url}/profile?name={quote(account.name, safe='')}"
            if opted_in and settings.app_url
            else None
        ),
    )


@router.get("", response_model=Me)
def read_me(
    account: CurrentAccount, engine: EngineDep, rates: RatesDep, settings: SettingsDep
) -> Me:
    """Your account: how many records the server holds for it, from when to when, how many are
    flagged and why, your rank over the last 30 days and your profile's address (when on the
    leaderboard)."""
    return _me(engine, rates, settings, account)


@router.patch("", response_model=Me, openapi_extra=json_body_docs(MeUpdate))
def change_me(
    account: CurrentAccount,
    raw: SmallBody,
    engine: EngineDep,
    rates: RatesDep,
    settings: SettingsDep,
) -> Me:
    """Change your display name (refused when taken, reserved, or too much like another),
    leaderboard opt-in or default label."""
    changes = parse_body(MeUpdate, raw, strict=True).model_dump(exclude_unset=True)
    if changes.get("name", "") is None or changes.get("leaderboard_opt_in", False) is None:
        raise HTTPException(422, "name and leaderboard_opt_in cannot be null")
    try:
        updated = update_account(engine, account.id, changes)
    except AccountError as exc:
        raise account_error(exc) from None
    return _me(engine, rates, settings, updated)


@router.delete("/usage")
def erase_my_usage(account: CurrentAccount, engine: EngineDep) -> dict:
    """Erase every usage record of your account."""
    return {"deleted": delete_usage(engine, account.id)}


@router.delete("", response_model=Deleted)
def delete_me(
    account: CurrentAccount,
    engine: EngineDep,
    confirm: str = Query(max_length=100, description="Your current display name."),
) -> Deleted:
    """Delete your account: its records, rollups, tokens and sign-in codes, all at once.
    ``confirm`` must be your display name (in any case)."""
    if confirm.casefold() != account.name.casefold():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "confirm must be this account's display name; nothing was deleted",
        )
    return Deleted(deleted_records=delete_account(engine, account.id))


@router.post("/sign-in-code", response_model=SignInCode)
def sign_in_code(
    request: Request, account: CurrentAccount, engine: EngineDep, settings: SettingsDep
) -> SignInCode:
    """A one-time code that signs the dashboard in as you (``codextime open``): single use,
    valid for 5 minutes, and only while the token that asked for it is live. At most a few
    unused codes at once (429 past that)."""
    try:
        code, expires = issue_code(engine, account.id, request.state.token_sha256)
    except TooManyCodes as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    url = f"{settings.app_url}/?signin={code}" if settings.app_url else None
    return SignInCode(code=code, expires_at=iso_utc(expires), url=url)
