"""The pieces rollout lines are built from: timestamps, ids and usage vectors."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

WINDOW = 258_400


#: A line of a rollout before rendering: (timestamp ms, envelope type or None for legacy, payload).
Item = tuple[int, str | None, Any]
#: A usage vector: input, cached, output, reasoning, total_tokens, cache_write.
Vec = tuple[int, int, int, int, int, int]
RAW = "raw"  # item type of a line written verbatim (invalid JSON, bad bytes)


def iso(ms: int) -> str:
    """Codex's line timestamp: UTC, milliseconds, ``Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def uuid7(rng: random.Random, ms: int) -> str:
    """A time-ordered UUID (v7) as Codex uses from late 2025 on, deterministic for the rng."""
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hexid(rng: random.Random, digits: int = 24) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def vec_add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5])


def estimate(total_tokens: int) -> Vec:
    """A usage vector where only total_tokens is set: Codex's estimate, never usage (R6)."""
    return (0, 0, 0, 0, total_tokens, 0)


ZERO: Vec = (0, 0, 0, 0, 0, 0)
