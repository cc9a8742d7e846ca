"""Error answers that never echo what was sent beyond a short excerpt, and never a traceback."""

from __future__ import annotations

from typing import TypeVar

import orjson
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

#: Characters of a sent value an error may quote: enough to recognise it, never a whole body.
EXCERPT_CHARS = 100
#: Errors one answer lists; the rest are counted (a batch of 50,000 bad records is one line each).
ERRORS_LISTED = 20

Body = TypeVar("Body", bound=BaseModel)


def excerpt(value: object) -> object:
    """``value`` as an error may quote it: scalars as they are, text and containers cut short."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def error_entry(error: dict) -> dict:
    """One validation error: where, what, why, a short excerpt, and the record's index if any."""
    loc = list(error.get("loc", ()))
    entry = {"type": error.get("type"), "loc": loc, "msg": str(error.get("msg", ""))}
    if "input" in error:
        entry["input"] = excerpt(error["input"])
    if len(loc) >= 2 and loc[0] == "records" and isinstance(loc[1], int):
        # The message names the record too: it is what a person reads in the collector's error.
        entry["record"] = loc[1]
        entry["msg"] = f"record {loc[1]}: {entry['msg']}"
    return entry


def unprocessable(errors: list[dict]) -> JSONResponse:
    """422 listing the first ``ERRORS_LISTED`` errors and counting the others."""
    listed = [error_entry(e) for e in errors[:ERRORS_LISTED]]
    content = {"detail": listed, "omitted": max(0, len(errors) - ERRORS_LISTED)}
    return JSONResponse(content, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def parse_body(model: type[Body], body: bytes, *, strict: bool | None = None) -> Body:
    """``body`` as ``model``, validated straight from JSON; a RequestValidationError, answered
    422, otherwise. ``strict=True`` makes every field strict (no "100" or 1.0 for 100); None
    leaves it to each field (False would loosen fields declared strict)."""
    try:
        return model.model_validate_json(body, strict=strict)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


def json_body_docs(model: type[BaseModel]) -> dict:
    """OpenAPI of a JSON body a route reads itself (so it can bound the body before parsing)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def install_error_handlers(app: FastAPI) -> None:
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return unprocessable(list(exc.errors()))

    app.add_exception_handler(RequestValidationError, on_invalid)
