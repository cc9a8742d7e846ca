"""The usage record: the one schema that leaves the user's machine.

Everything downstream (the store's table, the ingest API's request body, reports, the app) speaks in
these fields and no others. ``extra="forbid"`` makes the allow-list hold at the type level: a record
cannot carry a path, a prompt or any other field, even by mistake.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer, model_validator

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


class UsageRecord(BaseModel):
    """Tokens of one model response, as counted by the rules in docs/counting.md.

    ``cached`` is part of ``input`` and ``reasoning`` part of ``output``; total = input + output.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: AwareDatetime = Field(description="When the response finished, UTC.")
    model: str = Field(min_length=1, max_length=100, description='Model name, or "unknown".')
    input: int = Field(ge=0, description="Input tokens, cached ones included.")
    cached: int = Field(ge=0, description="Input tokens served from the prompt cache.")
    output: int = Field(ge=0, description="Output tokens, reasoning included.")
    reasoning: int = Field(ge=0, description="Reasoning tokens (part of output).")
    event_id: str = Field(pattern=HASH_PATTERN, description="Keyed hash naming this response.")
    session: str = Field(pattern=HASH_PATTERN, description="Keyed hash of the Codex session id.")
    label: str | None = Field(default=None, max_length=100, description="Machine or seat label.")

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
