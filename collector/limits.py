"""What one usage record can be: the bounds the collector and the ingest service share.

A record outside these bounds is not usage but a damaged log or a made-up upload: the collector
leaves it out (and says so), the ingest service refuses it. This module imports nothing heavy
(no pydantic): a report read from the logs checks every response against it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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

#: Control characters (C0, DEL, C1): never part of a model name, label or display name. NUL in
#: particular cannot be stored by PostgreSQL, and the others garble terminals and logs.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_chars(text: str) -> bool:
    """Whether ``text`` holds a control character (see ``CONTROL_CHARS``)."""
    return CONTROL_CHARS.search(text) is not None


def refusal(ts: datetime, inp: int, cached: int, out: int, reasoning: int) -> str | None:
    """Why a record with these figures would be refused (by ``UsageRecord`` or the ingest
    service's time window), in a few words; None when it is acceptable."""
    if not EARLIEST <= ts <= datetime.now(UTC) + FUTURE_SLACK:
        return "dated before 2025-04-01" if ts < EARLIEST else "dated over a day in the future"
    if min(inp, cached, out, reasoning) < 0:
        return "negative token count"
    if inp > MAX_INPUT_TOKENS or cached > MAX_INPUT_TOKENS:
        return f"over {MAX_INPUT_TOKENS:,} input tokens in one response"
    if out > MAX_OUTPUT_TOKENS or reasoning > MAX_OUTPUT_TOKENS:
        return f"over {MAX_OUTPUT_TOKENS:,} output tokens in one response"
    if cached > inp or reasoning > out:
        return "a part exceeds its whole (cached > input or reasoning > output)"
    return None
