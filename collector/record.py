"""The usage record: the one schema that leaves the user's machine.

Everything downstream (the store's table, the ingest API's request body, reports, the app) speaks in
these fields and no others. ``extra="forbid"`` makes the allow-list hold at the type level: a record
cannot carry a path, a prompt or any other field, even by mistake.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

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

from collector.limits import (
    CONTROL_CHARS,
    EARLIEST,
    FUTURE_SLACK,
    LABEL_MAX,
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    has_control_chars,
    refusal,
)
from collector.parse import iso_utc

#: The fields of a record, in order. Tests and the store check themselves against this tuple.
RECORD_FIELDS = (
    "ts",
    "model",
    "input",
    "cached",
    "output",
    "reasoning",
    "event_id",
    "session",
    "label",
)

HASH_PATTERN = r"^[0-9a-f]{32}$"

# The bounds live in collector.limits (free of pydantic, for the scanner); re-exported here for
# the store and the API, which speak of records.
__all__ = [
    "CONTROL_CHARS",
    "EARLIEST",
    "FUTURE_SLACK",
    "LABEL_MAX",
    "MAX_INPUT_TOKENS",
    "MAX_OUTPUT_TOKENS",
    "RECORD_FIELDS",
    "PlainText",
    "UsageRecord",
    "has_control_chars",
    "record_from_row",
    "refusal",
]


def _plain(text: str) -> str:
    if has_control_chars(text):
        raise ValueError("control characters (such as NUL or a line break) are not allowed")
    return text


#: How a timestamp sent as text begins: a date and a time (ISO 8601), never a bare number (which
#: pydantic would otherwise read as seconds since 1970).
ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d")

#: Text stored and shown as it is: any characters but control characters.
PlainText = Annotated[str, AfterValidator(_plain)]


class UsageRecord(BaseModel):
    """Tokens of one model response, as counted by the rules in docs/counting.md.

    ``cached`` is part of ``input`` and ``reasoning`` part of ``output``; total = input + output.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: AwareDatetime = Field(description="When the response finished, UTC.")
    model: PlainText = Field(
        min_length=1, max_length=LABEL_MAX, description='Model name, or "unknown".'
    )
    input: int = Field(
        ge=0, le=MAX_INPUT_TOKENS, strict=True, description="Input tokens, cached ones included."
    )
    cached: int = Field(
        ge=0, le=MAX_INPUT_TOKENS, strict=True, description="Input tokens served from the cache."
    )
    output: int = Field(
        ge=0, le=MAX_OUTPUT_TOKENS, strict=True, description="Output tokens, reasoning included."
    )
    reasoning: int = Field(
        ge=0, le=MAX_OUTPUT_TOKENS, strict=True, description="Reasoning tokens (part of output)."
    )
    event_id: str = Field(pattern=HASH_PATTERN, description="Keyed hash naming this response.")
    session: str = Field(pattern=HASH_PATTERN, description="Keyed hash of the Codex session id.")
    label: PlainText | None = Field(
        default=None, max_length=LABEL_MAX, description="Machine or seat label."
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
        if self.cached > self.input:
            raise ValueError("cached must not exceed input")
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
    """A scanner row (see ``collector.scan.Row``) as a record."""
    ts_ms, model, inp, cached, out, reasoning, event_id, session = row
    return UsageRecord(
        ts=datetime.fromtimestamp(ts_ms / 1000, UTC),
        model=model,
        input=inp,
        cached=cached,
        output=out,
        reasoning=reasoning,
        event_id=event_id,
        session=session,
        label=label,
    )
