"""The record contract without pydantic: its fields, the scanner's row layout and the bounds.

One usage record is one model response. The collector (which reads logs without loading pydantic,
so reports stay light), the store, the ingest service and the app all take the record's fields, the
row layout and the bounds from here. A record outside the bounds is not usage but a damaged log or
a made-up upload: the collector leaves it out (and says so), the ingest service refuses it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

#: The fields of a record, in order: what leaves the machine, and the usage table's columns.
RECORD_FIELDS = (
    "ts",
    "model",
    "tier",
    "input",
    "cached",
    "cache_write",
    "output",
    "reasoning",
    "event_id",
    "session",
    "label",
)

#: The token counts of a record. ``cached`` and ``cache_write`` are disjoint parts of ``input``;
#: ``reasoning`` is part of ``output``; total = input + output.
COUNT_FIELDS = ("input", "cached", "cache_write", "output", "reasoning")

#: The scanner's row: the record's fields without the label (a sync adds it), with the time as
#: integer milliseconds since 1970 (UTC), which is cheap to compare and to carry between processes.
ROW_FIELDS = ("ts_ms", *(name for name in RECORD_FIELDS if name not in ("ts", "label")))
TS_MS, MODEL, TIER, INPUT, CACHED, CACHE_WRITE, OUTPUT, REASONING, EVENT_ID, SESSION = range(
    len(ROW_FIELDS)
)
#: ts_ms, model, tier, input, cached, cache_write, output, reasoning, event_id, session
Row = tuple[int, str, str, int, int, int, int, int, str, str]

#: The service tiers a response can run at (docs/counting.md, R15): "unknown" when the log does
#: not say. Records from collectors that predate tiers are "unknown" too.
TIERS = ("standard", "priority", "flex", "ultrafast", "unknown")
UNKNOWN_TIER = "unknown"

_TIER_RANK = {tier: i for i, tier in enumerate(TIERS)}


def tier_rank(tier: str) -> tuple[int, str]:
    """Sort key of a tier: ``TIERS`` order, any other name (a row written past the record type)
    after them."""
    return _TIER_RANK.get(tier, len(TIERS)), tier


#: The fields a record may leave out, and what they then are: the label is optional, and
#: collectors that predate tiers and cache writes send neither (their logs said nothing of them).
FIELD_DEFAULTS = {"tier": UNKNOWN_TIER, "cache_write": 0, "label": None}

#: Input tokens of one response. A response reads at most its model's context window; the largest
#: any OpenAI model publishes is about 1.05M tokens (gpt-4.1: 1,047,576; gpt-5.4: 1,050,000).
#: Four times that leaves room for larger windows to come while keeping every sum far from 2^63.
MAX_INPUT_TOKENS = 4_000_000
#: Output tokens of one response (reasoning included). The largest published output limit is
#: 128,000 tokens (the gpt-5 family); eight times that.
MAX_OUTPUT_TOKENS = 1_000_000
#: Codex CLI was first released in April 2025: no genuine record is older.
EARLIEST = datetime(2025, 4, 1, tzinfo=UTC)
#: How far ahead of the receiving clock a record may be (time zones, a clock a little fast).
FUTURE_SLACK = timedelta(days=1)
#: The longest model name or label a record carries: model names are a few dozen characters, and
#: a label names a machine or a seat; anything longer would only bloat tables and screens.
LABEL_MAX = 100
#: The label of synthetic records (a ``codextime demo`` home): reserved for them, so demo data is
#: never taken for real usage. The collector forces it on a demo home's records whatever label
#: was asked for, and never sends them to a server; a server refuses any record carrying it.
DEMO_LABEL = "demo"


def is_demo_label(label: str | None) -> bool:
    """Whether ``label`` names demo data: ``DEMO_LABEL`` in any case, with any spaces around it
    ("Demo", " demo", "DEMO"), so no spelling of it passes real usage off as demo or demo data
    off as real. The one test of the reserved label, for the collector and the server alike."""
    if label is None:
        return False
    return unicodedata.normalize("NFKC", label).strip().casefold() == DEMO_LABEL


#: Why a server refuses a record or a default label of ``DEMO_LABEL``.
DEMO_REFUSED = (
    f'the label "{DEMO_LABEL}" is reserved for demo data: demo data is never accepted by a server'
)

#: Control characters (C0, DEL, C1): never part of a model name, label or display name. NUL in
#: particular cannot be stored by PostgreSQL, and the others garble terminals and logs.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_chars(text: str) -> bool:
    """Whether ``text`` holds a control character (see ``CONTROL_CHARS``)."""
    return CONTROL_CHARS.search(text) is not None


def refusal(
    ts: datetime, inp: int, cached: int, cache_write: int, out: int, reasoning: int
) -> str | None:
    """Why a record with these figures would be refused (by ``UsageRecord`` or the ingest
    service's time window), in a few words; None when it is acceptable."""
    if not EARLIEST <= ts <= datetime.now(UTC) + FUTURE_SLACK:
        return "dated before 2025-04-01" if ts < EARLIEST else "dated over a day in the future"
    if min(inp, cached, cache_write, out, reasoning) < 0:
        return "negative token count"
    if max(inp, cached, cache_write) > MAX_INPUT_TOKENS:
        return f"over {MAX_INPUT_TOKENS:,} input tokens in one response"
    if out > MAX_OUTPUT_TOKENS or reasoning > MAX_OUTPUT_TOKENS:
        return f"over {MAX_OUTPUT_TOKENS:,} output tokens in one response"
    if cached + cache_write > inp or reasoning > out:
        return "a part exceeds its whole (cached + cache_write > input or reasoning > output)"
    return None


def iso_utc(ts: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, the form Codex itself writes."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: A keyed hash (an event id, a session): 32 lower-case hexadecimal digits.
HASH = re.compile(r"[0-9a-f]{32}")


def row_refusal(row: Row, label: str | None) -> str | None:
    """Why the record type (``store.record.UsageRecord``, the ingest service's check) would refuse
    the record of this scanner row with this label, in a few words; None when it accepts it."""
    counts = row[INPUT], row[CACHED], row[CACHE_WRITE], row[OUTPUT], row[REASONING]
    if not all(type(n) is int for n in (row[TS_MS], *counts)):
        return "a time or count that is not a whole number"
    inp, cached, cache_write, out, reasoning = counts
    if not (min(cached, cache_write) >= 0 and cached + cache_write <= inp <= MAX_INPUT_TOKENS):
        return "input counts out of bounds"
    if not 0 <= reasoning <= out <= MAX_OUTPUT_TOKENS:
        return "output counts out of bounds"
    if row[TIER] not in TIERS:
        return "unknown service tier"
    # A label may be empty; a model name may not.
    for text, shortest in ((row[MODEL], 1), (label, 0)):
        if text is not None and not (
            isinstance(text, str)
            and shortest <= len(text) <= LABEL_MAX
            and not has_control_chars(text)
        ):
            return "a model name or label that is empty, too long or has control characters"
    if not all(isinstance(h, str) and HASH.fullmatch(h) for h in (row[EVENT_ID], row[SESSION])):
        return "an event id or session that is not a hash"
    return None


def record_time(row: Row) -> datetime:
    """A scanner row's time."""
    return datetime.fromtimestamp(row[TS_MS] / 1000, UTC)


def record_json(row: Row, label: str | None) -> dict:
    """The record of a scanner row with ``label``, as JSON values (``RECORD_FIELDS`` in order,
    the time as ``iso_utc`` text): what a sync uploads and ``scan --json`` prints, without loading
    pydantic. ValueError, in one line, for a row the record type would refuse."""
    why = row_refusal(row, label)
    if why is not None:
        raise ValueError(f"a record the record type refuses: {why}")
    return dict(zip(RECORD_FIELDS, (iso_utc(record_time(row)), *row[MODEL:], label), strict=True))
