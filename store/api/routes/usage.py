"""Usage records (POST /api/v1/usage): a batch of an account's records, each stored once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from store.api.deps import CurrentAccount, EngineDep, SettingsDep
from store.api.errors import json_body_docs, parse_body
from store.api.limits import read_body
from store.db import insert_usage
from store.fields import DEMO_REFUSED, is_demo_label, refusal
from store.record import UsageRecord

router = APIRouter(prefix="/api/v1", tags=["usage"])


class UsageBatch(BaseModel):
    """A batch of records, exactly the collector's record type: any other field is refused."""

    model_config = ConfigDict(extra="forbid")
    records: list[UsageRecord] = Field(max_length=50_000)


class Accepted(BaseModel):
    received: int
    new: int = Field(description="Records not stored before; the rest were already there.")


def stored_label(record: UsageRecord, default_label: str | None) -> str | None:
    """The label a record is stored with: its own, else the account's default."""
    return record.label if record.label is not None else default_label


def refusals(batch: UsageBatch, default_label: str | None) -> list[dict]:
    """A validation error for every record outside the window of plausible times (the record
    type itself checks the rest) or labelled as demo data, each naming the record."""
    errors = []
    for i, r in enumerate(batch.records):
        why = refusal(r.ts, r.input, r.cached, r.cache_write, r.output, r.reasoning)
        if why is not None:
            errors.append({"type": "value_error", "loc": ("records", i, "ts"), "msg": why})
        if is_demo_label(stored_label(r, default_label)):
            errors.append(
                {"type": "value_error", "loc": ("records", i, "label"), "msg": DEMO_REFUSED}
            )
    return errors


@router.post("/usage", response_model=Accepted, openapi_extra=json_body_docs(UsageBatch))
async def post_usage(
    request: Request, account: CurrentAccount, engine: EngineDep, settings: SettingsDep
):
    """Store records for your account. Sending the same records again stores nothing twice.

    Bodies up to 10 MB, plain or gzip (``Content-Encoding: gzip``). Counts are JSON integers
    and timestamps ISO 8601 strings with a time zone; a 422 names each refused record.
    """
    body = await read_body(request, settings.max_body_bytes)
    batch = parse_body(UsageBatch, body)
    refused = refusals(batch, account.default_label)
    if refused:
        raise RequestValidationError(refused)
    rows = [
        {**r.model_dump(), "label": stored_label(r, account.default_label)} for r in batch.records
    ]
    new = await run_in_threadpool(insert_usage, engine, account.id, rows)
    return Accepted(received=len(rows), new=new)
