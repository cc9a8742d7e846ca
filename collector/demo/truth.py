"""Ground truth of a generated home: every genuine model response, and sums over them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson

from collector.demo.marker import GENERATOR

#: The token counts of a response, as reports name them (cached and cache_write are part of input).
TOKEN_KEYS = ("input", "cached", "cache_write", "output", "reasoning")
UNKNOWN_TIER = "unknown"


@dataclass(frozen=True, slots=True)
class TrueResponse:
    """One genuine model response: the usage a correct parser must count exactly once.

    ``cache_write`` is part of ``input`` and disjoint from ``cached`` (R16); ``tier`` is the
    service tier in force when the response finished (R15), ``unknown`` when the file named none.
    """

    ts_ms: int
    model: str
    input: int
    cached: int
    output: int
    reasoning: int
    session: str
    cache_write: int = 0
    tier: str = UNKNOWN_TIER

    def tokens(self) -> tuple[int, ...]:
        """The counts in ``TOKEN_KEYS`` order."""
        return (self.input, self.cached, self.cache_write, self.output, self.reasoning)


def _add(sums: dict[str, int], r: TrueResponse) -> None:
    for key, value in zip(TOKEN_KEYS, r.tokens(), strict=True):
        sums[key] += value


@dataclass
class Truth:
    """Ground truth of a generated home: every genuine response, plus a few corpus figures."""

    seed: int
    utc_offset_minutes: int = 0
    responses: list[TrueResponse] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    def _by_day(self, key: str) -> dict[str, dict[str, dict[str, int]]]:
        days: dict[str, dict[str, dict[str, int]]] = {}
        for r in self.responses:
            day = time.strftime("%Y-%m-%d", time.gmtime(r.ts_ms // 1000))
            group = getattr(r, key)
            _add(days.setdefault(day, {}).setdefault(group, dict.fromkeys(TOKEN_KEYS, 0)), r)
        return {d: dict(sorted(m.items())) for d, m in sorted(days.items())}

    def by_day_utc(self) -> dict[str, dict[str, dict[str, int]]]:
        """UTC date -> model -> token sums, the shape a daily report is checked against."""
        return self._by_day("model")

    def tiers_by_day_utc(self) -> dict[str, dict[str, dict[str, int]]]:
        """UTC date -> service tier -> token sums."""
        return self._by_day("tier")

    def tiers(self) -> dict[str, dict[str, int]]:
        """Service tier -> token sums and responses over the whole corpus."""
        out: dict[str, dict[str, int]] = {}
        for r in self.responses:
            sums = out.setdefault(r.tier, {**dict.fromkeys(TOKEN_KEYS, 0), "responses": 0})
            _add(sums, r)
            sums["responses"] += 1
        return dict(sorted(out.items()))

    def totals(self) -> dict[str, int]:
        """Token sums over the whole corpus; total = input + output, as Codex counts it."""
        sums = dict.fromkeys(TOKEN_KEYS, 0)
        for r in self.responses:
            _add(sums, r)
        sums["total"] = sums["input"] + sums["output"]
        sums["responses"] = len(self.responses)
        return sums

    def to_json(self) -> bytes:
        """Compact aggregates (not every response) to keep next to, never inside, the home."""
        doc = {
            "generator": GENERATOR,
            "seed": self.seed,
            "utc_offset_minutes": self.utc_offset_minutes,
            "totals": self.totals(),
            "days": self.by_day_utc(),
            "tiers": self.tiers(),
            "tier_days": self.tiers_by_day_utc(),
            "stats": self.stats,
        }
        return orjson.dumps(doc)
