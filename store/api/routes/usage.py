from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from collector.parse import iso_utc
from collector.record import UsageRecord
from store.api.deps import CurrentAccount, EngineDep, SettingsDep
from store.api.limits import read_body
from store.db import insert_usage

router = APIRouter(prefix="/api/v1", tags=["usage"])

#: Codex CLI was first released in April 2025: no genuine record is older.
EARLIEST = datetime(2025, 4, 1, tzinfo=UTC)


class UsageBatch(BaseModel):
    """A batch of records, exactly the collector's record type: any other field is refused."""

    model_config = ConfigDict(extra="forbid")
    records: list[UsageRecord] = Field(max_length=50_000)

    @model_validator(mode="after")
    def _plausible_times(self) -> UsageBatch:
        latest = datetime.now(UTC) + timedelta(days=1)
        for i, record in enumerate(self.records):
            if record.ts > latest:
                raise ValueError(f"record {i}: ts {iso_utc(record.ts)} is over a day in the future")
            if record.ts < EARLIEST:
                raise ValueError(f"record {i}: ts {iso_utc(record.ts)} is before 2025-04-01")
        return self


class Accepted(BaseModel):
    received: int
    new: int = Field(description="Records not stored before; the rest were already there.")


@router.post(
    "/usage",
    response_model=Accepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": UsageBatch.model_json_schema()}},
        }
    },
)
async def post_usage(
    request: Request, account: CurrentAccount, engine: EngineDep, settings: SettingsDep
):
    """Store records for your account. Sending the same records again stores nothing twice.

    Bodies up to 10 MB, plain or gzip (``Content-Encoding: gzip``).
    """
    body = await read_body(request, settings.max_body_bytes)
    try:
        batch = UsageBatch.model_validate(orjson.loads(body))
    except orjson.JSONDecodeError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body is not JSON") from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})
    label = account.default_label
    rows = [
        {**r.model_dump(), "label": r.label if r.label is not None else label}
        for r in batch.records
    ]
    new = await run_in_threadpool(insert_usage, engine, account.id, rows)
    return Accepted(received=len(rows), new=new)
