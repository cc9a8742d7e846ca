"""The usage record: the one schema that leaves the user's machine.

Everything downstream (the store's table, the ingest API's request body, reports, the app) speaks in
these fields and no others (``store.fields.RECORD_FIELDS``). ``extra="forbid"`` makes the
allow-list hold at the type level: a record cannot carry a path, a prompt or any other field, even
by mistake.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from store.fields import (
    FIELD_DEFAULTS,
    LABEL_MAX,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    ROW_FIELDS,
    TIERS,
    has_control_chars,
    iso_utc,
)

HASH_PATTERN = r"^[0-9a-f]{32}$"

#: One of ``TIERS`` (a schema enum in the API docs).
Tier = Literal[TIERS]  # type: ignore[valid-type]


def _plain(text: str) -> str:
    if has_control_chars(text):
        raise ValueError("control characters (such as NUL or a line break) are not allowed")
    return text


#: How a timestamp sent as text begins: a date and a time (ISO 8601), never a bare number (which
#: pydantic would otherwise read as seconds since 1970).
ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d")

#: Text stored and shown as it is: any characters but control characters.
PlainText = Annotated[str, AfterValidator(_plain)]


def _input_count(description: str) -> Any:
    return Field(ge=0, le=MAX_INPUT_TOKENS, strict=True, description=description)


def _output_count(description: str) -> Any:
    return Field(ge=0, le=MAX_OUTPUT_TOKENS, strict=True, description=description)


class UsageRecord(BaseModel):
    """Tokens of one model response, as counted by the rules in docs/counting.md.

    ``cached`` and ``cache_write`` are disjoint parts of ``input``, ``reasoning`` part of
    ``output``; total = input + output. ``tier`` and ``cache_write`` may be left out (collectors
    that predate them): they are then ``"unknown"`` and 0.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: AwareDatetime = Field(description="When the response finished, UTC.")
    model: PlainText = Field(
        min_length=1, max_length=LABEL_MAX, description='Model name, or "unknown".'
    )
    tier: Tier = Field(
        default=FIELD_DEFAULTS["tier"], description="Service tier the response ran at."
    )
    input: int = _input_count("Input tokens, cached and cache-written ones included.")
    cached: int = _input_count("Input tokens served from the prompt cache.")
    cache_write: int = Field(
        default=FIELD_DEFAULTS["cache_write"],
        ge=0,
        le=MAX_INPUT_TOKENS,
        strict=True,
        description="Input tokens written to the prompt cache (part of input, apart from cached).",
    )
    output: int = _output_count("Output tokens, reasoning included.")
    reasoning: int = _output_count("Reasoning tokens (part of output).")
    event_id: str = Field(pattern=HASH_PATTERN, description="Keyed hash naming this response.")
    session: str = Field(pattern=HASH_PATTERN, description="Keyed hash of the Codex session id.")
    label: PlainText | None = Field(
        default=FIELD_DEFAULTS["label"], max_length=LABEL_MAX, description="Machine or seat label."
    )

    @field_validator("ts", mode="before")
    @classmethod
    def _iso_text_only(cls, ts: object) -> object:
        if isinstance(ts, datetime):
            return ts
        if not (isinstance(ts, str) and ISO_DATETIME.match(ts)):
            raise ValueError("ts must be an ISO 8601 date and time, such as 2026-03-01T10:00:00Z")
        return ts

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> UsageRecord:
        if self.cached + self.cache_write > self.input:
            raise ValueError("cached + cache_write must not exceed input")
        if self.reasoning > self.output:
            raise ValueError("reasoning must not exceed output")
        return self

    @field_serializer("ts", when_used="json")
    def _ts_iso(self, ts: datetime) -> str:
        return iso_utc(ts)

    @property
    def total(self) -> int:
        return self.input + self.output


def record_from_row(row: tuple, label: str | None = None) -> UsageRecord:
    """A scanner row (``store.fields.ROW_FIELDS``) as a record."""
    fields = dict(zip(ROW_FIELDS, row, strict=True))
    ts = datetime.fromtimestamp(fields.pop("ts_ms") / 1000, UTC)
    return UsageRecord(ts=ts, label=label, **fields)
