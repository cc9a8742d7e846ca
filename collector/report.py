"""Daily, weekly, monthly and per-session totals: a pure fold over usage rows.

Days are cut in the reader's time zone, never by the directory a log sits in (Codex names folders in
the writer's local time and resumed sessions append for days). Every zone in use is a whole number
of quarter hours from UTC, so rows are first folded into UTC quarter hours and each quarter hour is
placed in its local day once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.fields import (
    CACHE_WRITE,
    CACHED,
    INPUT,
    MODEL,
    OUTPUT,
    REASONING,
    SESSION,
    TIER,
    TS_MS,
    UNKNOWN_TIER,
    iso_utc,
    tier_rank,
)
from store.pricing import NOTICE, RateTable

PERIODS = {
    "daily": ("days", "date"),
    "weekly": ("weeks", "week"),
    "monthly": ("months", "month"),
    "session": ("sessions", "session"),
}
QUARTER_HOUR_MS = 15 * 60 * 1000
#: What the fold takes of a row (``store.fields.ROW_FIELDS``), in the order ``add_rows`` unpacks.
_FOLDED = itemgetter(TS_MS, MODEL, TIER, INPUT, CACHED, CACHE_WRITE, OUTPUT, REASONING, SESSION)
#: The figures of a row, a model and the totals, in the order the table shows them.
FIGURE_KEYS = ("input", "cached", "cache_write", "output", "reasoning", "total", "responses")


class ReportError(ValueError):
    """A report option that cannot be used, with a message for the user."""


def resolve_zone(name: str | None) -> ZoneInfo:
    """An IANA zone by name; the machine's own zone when none is given."""
    if not name:
        import tzlocal  # only when no zone is given

        local = tzlocal.get_localzone_name()
        return ZoneInfo(local) if local else ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from exc


def parse_day(text: str | None) -> date | None:
    """YYYY-MM-DD or YYYYMMDD."""
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ReportError(f"not a date: {text!r} (use YYYY-MM-DD)")


def empty_tokens() -> dict:
    return {**dict.fromkeys(FIGURE_KEYS, 0), "api_equivalent_usd": None}


class Report:
    """Fold rows into periods; ``to_json()`` gives the ``--json`` document."""

    def __init__(
        self,
        period: str,
        zone: ZoneInfo,
        since: date | None = None,
        until: date | None = None,
        rates: RateTable | None = None,
    ) -> None:
        if period not in PERIODS:
            raise ReportError(f"unknown period {period!r} (one of {', '.join(PERIODS)})")
        self.period = period
        self.zone = zone
        self.since = since
        self.until = until
        self.rates = rates
        self._buckets: dict[int, tuple] = {}  # UTC quarter hour -> (local day, key, in range)
        #: model -> the input above which a request is long-context (None: no such rule)
        self._long_at: dict[str, int | None] = {}
        # period key -> model -> [input, cached, output, reasoning, responses,
        #                          input, cached, output of the long-context requests,
        #                          cache_write]
        self._cells: dict[str, dict[str, list[int]]] = defaultdict(dict)
        #: period key -> service tier -> tokens (input + output)
        self._tiers: dict[str, dict[str, int]] = defaultdict(dict)
        self._span: dict[str, list[int]] = {}  # session -> [first ms, last ms]

    def _bucket(self, quarter: int) -> tuple[date, str | None, bool]:
        """A UTC quarter hour's local day, its period key and whether it is in range."""
        moment = datetime.fromtimestamp(quarter * QUARTER_HOUR_MS / 1000, UTC)
        day = moment.astimezone(self.zone).date()
        inside = not ((self.since and day < self.since) or (self.until and day > self.until))
        if self.period == "daily":
            key = day.isoformat()
        elif self.period == "weekly":
            key = (day - timedelta(days=day.weekday())).isoformat()
        elif self.period == "monthly":
            key = day.isoformat()[:7]
        else:
            key = None  # sessions are keyed by session
        bucket = self._buckets[quarter] = (day, key, inside)
        return bucket

    def _threshold(self, model: str) -> int | None:
        rate = self.rates.lookup(model) if self.rates is not None else None
        found = self._long_at[model] = rate.long_context_threshold if rate else None
        return found

    def add(
        self,
        ts_ms: int,
        model: str,
        input: int,
        cached: int,
        output: int,
        reasoning: int,
        session: str,
        *,
        cache_write: int = 0,
        tier: str = UNKNOWN_TIER,
    ) -> None:
        """One response (a convenience over ``add_rows``)."""
        row = (ts_ms, model, tier, input, cached, cache_write, output, reasoning, "", session)
        self.add_rows([row])

    def add_rows(self, rows) -> None:
        """Rows as the scanner yields them (``store.fields.Row``).

        Prices are linear in the token counts, so each cell keeps sums and is priced once at the
        end; requests over a long-context threshold are summed apart, since their rate differs.
        """
        buckets, cells, long_at, span_of = self._buckets, self._cells, self._long_at, self._span
        tiers_of = self._tiers
        for row in map(_FOLDED, rows):
            ts_ms, model, tier, inp, cached, cache_write, out, reasoning, session = row
            quarter = ts_ms // QUARTER_HOUR_MS
            bucket = buckets.get(quarter) or self._bucket(quarter)
            if not bucket[2]:
                continue
            key = bucket[1]
            if key is None:
                key = session
                span = span_of.get(session)
                if span is None:
                    span_of[session] = [ts_ms, ts_ms]
                else:
                    if ts_ms < span[0]:
                        span[0] = ts_ms
                    if ts_ms > span[1]:
                        span[1] = ts_ms
            models = cells[key]
            cell = models.get(model)
            if cell is None:
                cell = models[model] = [0, 0, 0, 0, 0, 0, 0, 0, 0]
            cell[0] += inp
            cell[1] += cached
            cell[2] += out
            cell[3] += reasoning
            cell[4] += 1
            cell[8] += cache_write
            tiers = tiers_of[key]
            tiers[tier] = tiers.get(tier, 0) + inp + out
            threshold = long_at[model] if model in long_at else self._threshold(model)
            if threshold is not None and inp > threshold:
                cell[5] += inp
                cell[6] += cached
                cell[7] += out

    def _unpriced(self) -> dict[str, int]:
        """Tokens (input + output) of the models without a rate."""
        found: dict[str, int] = {}
        for models in self._cells.values():
            for model, cell in models.items():
                if self.rates.lookup(model) is None:
                    found[model] = found.get(model, 0) + cell[0] + cell[2]
        return dict(sorted(found.items()))

    def _usd(self, model: str, cell: list[int]) -> float | None:
        rate = self.rates.lookup(model) if self.rates is not None else None
        if rate is None:
            return None
        inp, cached, out, _, _, long_in, long_cached, long_out, _ = cell
        return rate.cost(inp - long_in, cached - long_cached, out - long_out, long=False) + (
            rate.cost(long_in, long_cached, long_out, long=True) if long_in else 0.0
        )

    def to_json(self) -> dict:
        list_key, row_key = PERIODS[self.period]
        rows = []
        totals = empty_tokens()
        total_models: dict[str, dict[str, int]] = {}
        total_tiers: dict[str, int] = {}
        for key, models in self._cells.items():
            tiers = self._tiers[key]
            row = {row_key: key, **empty_tokens(), "tiers": _in_tier_order(tiers), "models": {}}
            for tier, tokens in tiers.items():
                total_tiers[tier] = total_tiers.get(tier, 0) + tokens
            if self.period == "session":
                first, last = self._span[key]
                row["first"] = _iso(first)
                row["last"] = _iso(last)
            for model in sorted(models):
                figures = _figures(models[model], self._usd(model, models[model]))
                row["models"][model] = figures
                _accumulate(row, figures)
                _accumulate(total_models.setdefault(model, empty_tokens()), figures)
            _accumulate(totals, row)
            rows.append(row)
        rows.sort(key=lambda r: r["first"] if self.period == "session" else r[row_key])
        totals["tiers"] = _in_tier_order(total_tiers)
        totals["models"] = dict(sorted(total_models.items()))
        document = {list_key: rows, "totals": totals, "timezone": self.zone.key}
        if self.rates:
            _round_usd([*rows, totals, *totals["models"].values()])
            for row in rows:
                _round_usd(row["models"].values())
            oldest, newest = self.rates.checked
            document["unpriced"] = self._unpriced()
            document["api_equivalent"] = {
                "note": NOTICE,
                "rates": Path(self.rates.source).name,
                "last_checked": {"oldest": oldest.isoformat(), "newest": newest.isoformat()},
            }
        return document


def _figures(cell: list, usd: float | None) -> dict:
    inp, cached, out, reasoning, responses = cell[:5]
    return {
        "input": inp,
        "cached": cached,
        "cache_write": cell[8],
        "output": out,
        "reasoning": reasoning,
        "total": inp + out,
        "responses": responses,
        "api_equivalent_usd": usd,
    }


def _in_tier_order(tokens: dict[str, int]) -> dict[str, int]:
    """Tokens per service tier, in ``store.fields.tier_rank`` order."""
    return dict(sorted(tokens.items(), key=lambda item: tier_rank(item[0])))


def _accumulate(into: dict, figures: dict) -> None:
    for key in FIGURE_KEYS:
        into[key] += figures[key]
    if figures["api_equivalent_usd"] is not None:
        into["api_equivalent_usd"] = (into["api_equivalent_usd"] or 0.0) + figures[
            "api_equivalent_usd"
        ]


def _round_usd(items) -> None:
    """Cents are what matter; six decimals keep sums of small requests honest."""
    for item in items:
        if item["api_equivalent_usd"] is not None:
            item["api_equivalent_usd"] = round(item["api_equivalent_usd"], 6)


def _iso(ts_ms: int) -> str:
    return iso_utc(datetime.fromtimestamp(ts_ms / 1000, UTC))
