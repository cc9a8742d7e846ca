"""Daily, weekly, monthly and per-session totals: a pure fold over usage rows.

Days are cut in the reader's time zone, never by the directory a log sits in (Codex names folders in
the writer's local time and resumed sessions append for days). Every zone in use is a whole number
of quarter hours from UTC, so rows are first folded into UTC quarter hours and each quarter hour is
placed in its local day once.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.errors import UserError
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
from store.periods import PERIODS as CALENDAR_PERIODS
from store.periods import Period

if TYPE_CHECKING:  # (the rate table loads while the logs are read: see commands.reporting)
    from store.pricing import Cost, RateTable

#: Sessions group a report too, though they are no span of the calendar (no ``start``).
BY_SESSION = Period(
    unit="session", report="session", rows="sessions", key="session", heading="Started"
)
#: What a report can group by, under the CLI's names: daily, weekly, monthly, session.
GROUPINGS = {grouping.report: grouping for grouping in (*CALENDAR_PERIODS, BY_SESSION)}
QUARTER_HOUR_MS = 15 * 60 * 1000
DAY_MS = 24 * 60 * 60 * 1000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_VARIES = object()  # a model whose long-context threshold depends on the day, or not looked up
#: What the fold takes of a row (``store.fields.ROW_FIELDS``), in the order ``add_rows`` unpacks.
_FOLDED = itemgetter(TS_MS, MODEL, TIER, INPUT, CACHED, CACHE_WRITE, OUTPUT, REASONING, SESSION)
#: The figures of a row, a model and the totals, in the order the table shows them.
FIGURE_KEYS = ("input", "cached", "cache_write", "output", "reasoning", "total", "responses")


class ReportError(UserError, ValueError):
    """A report option that cannot be used, with a message for the user."""


#: The machine's zone, where a Unix system links it (to a file under a ``zoneinfo`` folder).
LOCALTIME = "/etc/localtime"


def resolve_zone(name: str | None) -> ZoneInfo:
    """An IANA zone by name; the machine's own zone when none is given."""
    if not name:
        return ZoneInfo(local_zone_name() or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from exc


def local_zone_name() -> str | None:
    """The machine's zone: ``TZ`` when it names an IANA zone or a zone file under a ``zoneinfo``
    folder, else the zone ``LOCALTIME`` links to, else whatever tzlocal finds (loading it and
    what it reads other files with costs more than a small report's folding: about 87 million
    instructions). A ``TZ`` path elsewhere is tzlocal's to read: the C library honours it, so the
    link would name the wrong zone."""
    tz = os.environ.get("TZ", "").removeprefix(":")
    if os.path.isabs(tz):
        key = _zone_key(_zoneinfo_key(tz))
    else:
        key = _zone_key(tz) or _zone_key(_zoneinfo_key(LOCALTIME, link=True))
    if key:
        return key
    import tzlocal

    return tzlocal.get_localzone_name()


def _zoneinfo_key(path: str, *, link: bool = False) -> str:
    """The zone key of a zone file's path (what follows the last ``/zoneinfo/`` of the path it
    resolves to, as tzlocal reads it), or ""; with ``link``, only when ``path`` is a link."""
    if link and not os.path.islink(path):
        return ""
    _, found, key = os.path.realpath(path).rpartition("/zoneinfo/")
    return key if found else ""


def _zone_key(name: str) -> str | None:
    """``name`` if it is a zone key ZoneInfo knows (never a path: tzlocal reads those)."""
    if not name or os.path.isabs(name):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


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
        if period not in GROUPINGS:
            raise ReportError(f"unknown period {period!r} (one of {', '.join(GROUPINGS)})")
        self.period = period
        self._grouping = GROUPINGS[period]
        self.zone = zone
        self.since = since
        self.until = until
        self.rates = rates
        #: UTC quarter hour -> (local day, period key, in range, UTC day number, its groups)
        self._buckets: dict[int, tuple] = {}
        #: model -> the input above which its responses are long-context, when that is the same
        #: on every day (None: no such rule); _VARIES when it depends on the day
        self._long_at: dict[str, object] = {}
        #: (period key, UTC day number) -> pricing group (model, tier, long) -> [input, cached,
        #: cache_write, output, reasoning, responses]
        self._cells: dict[tuple[str, int], dict[tuple, list[int]]] = {}
        self._span: dict[str, list[int]] = {}  # session -> [first ms, last ms]

    def _bucket(self, quarter: int) -> tuple:
        """A UTC quarter hour's local day, its period key, whether it is in range, its UTC day
        number and the pricing groups of that key and day (None for sessions)."""
        moment = datetime.fromtimestamp(quarter * QUARTER_HOUR_MS / 1000, UTC)
        day = moment.astimezone(self.zone).date()
        inside = not ((self.since and day < self.since) or (self.until and day > self.until))
        # Sessions are keyed by session, not by day.
        key = None if self._grouping is BY_SESSION else self._grouping.key_of(day)
        utc = quarter * QUARTER_HOUR_MS // DAY_MS
        groups = self._cells.setdefault((key, utc), {}) if inside and key is not None else None
        bucket = self._buckets[quarter] = (day, key, inside, utc, groups)
        return bucket

    def _threshold(self, model: str, day: int):
        """The long-context threshold of ``model``'s rate on a UTC day (None: no such rule),
        remembered for the model when it is the same on every day."""
        if self.rates is None:
            self._long_at[model] = None
            return None
        every = self.rates.thresholds(model)
        self._long_at[model] = every.pop() if len(every) == 1 else _VARIES
        return self.rates.threshold(model, utc_day(day))

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

        Prices are linear in the token counts, so each period keeps sums per pricing group (model,
        UTC day, tier and whether the response was long-context, decided per response) and each
        group is priced once at the end, at the rates in force on its day.
        """
        buckets, cells, long_at, span_of = self._buckets, self._cells, self._long_at, self._span
        for row in map(_FOLDED, rows):
            ts_ms, model, tier, inp, cached, cache_write, out, reasoning, session = row
            quarter = ts_ms // QUARTER_HOUR_MS
            bucket = buckets.get(quarter) or self._bucket(quarter)
            if not bucket[2]:
                continue
            groups = bucket[4]
            if groups is None:
                groups = cells.setdefault((session, bucket[3]), {})
                span = span_of.get(session)
                if span is None:
                    span_of[session] = [ts_ms, ts_ms]
                else:
                    if ts_ms < span[0]:
                        span[0] = ts_ms
                    if ts_ms > span[1]:
                        span[1] = ts_ms
            threshold = long_at.get(model, _VARIES)
            if threshold is _VARIES:
                threshold = self._threshold(model, bucket[3])
            group = (model, tier, threshold is not None and inp > threshold)
            cell = groups.get(group)
            if cell is None:
                cell = groups[group] = [0, 0, 0, 0, 0, 0]
            cell[0] += inp
            cell[1] += cached
            cell[2] += cache_write
            cell[3] += out
            cell[4] += reasoning
            cell[5] += 1

    def _priced(self, days: list[tuple[int, dict[tuple, list[int]]]]) -> dict[str, dict]:
        """A period's figures per model, priced group by group on each UTC day, with each
        group's tier."""
        models: dict[str, dict] = {}
        # In a fixed order: floating-point sums must not depend on which worker answered first.
        for day, groups in days:
            for (model, tier, long), cell in sorted(groups.items()):
                self._price_into(models, model, utc_day(day), tier, long, cell)
        return models

    def _price_into(self, models: dict, model: str, day: date, tier: str, long: bool, cell) -> None:
        """Add one pricing group's figures, tokens per tier and cost to its model's."""
        inp, cached, cache_write, out = cell[0], cell[1], cell[2], cell[3]
        rates = self.rates
        cost = (
            rates.cost_of(model, day, tier, long, inp, cached, cache_write, out) if rates else None
        )
        figures = models.get(model)
        if figures is None:
            figures = models[model] = {
                **empty_tokens(),
                "tiers": {},
                "tier_usd": {},
                "unpriced": None,
                "as_standard": {},
            }
        _accumulate(figures, _figures(cell, cost))
        _add_into(figures["tiers"], {tier: inp + out})
        if cost is None:
            figures["unpriced"] = (figures["unpriced"] or 0) + inp + out
            return
        _add_into(figures["tier_usd"], {tier: cost.usd})
        if cost.estimate:
            figures["estimate"] = True
        if cost.as_standard:
            _add_into(figures["as_standard"], {tier: inp + out})

    def to_json(self) -> dict:
        list_key, row_key = self._grouping.rows, self._grouping.key
        rows = []
        totals = {**empty_tokens(), "tiers": {}, "tier_api_equivalent_usd": {}}
        total_models: dict[str, dict] = {}
        unpriced: dict[str, int] = {}
        as_standard: dict[str, int] = {}
        by_key: dict[str, list] = defaultdict(list)
        for (key, day), groups in sorted(self._cells.items(), key=_cell_key):
            if groups:
                by_key[key].append((day, groups))
        for key, days in by_key.items():
            row = {row_key: key, **empty_tokens(), "tiers": {}, "tier_api_equivalent_usd": {}}
            if self._grouping is BY_SESSION:
                first, last = self._span[key]
                row["first"] = _iso(first)
                row["last"] = _iso(last)
            row["models"] = {}
            for model, priced in sorted(self._priced(days).items()):
                figures = {k: priced[k] for k in (*FIGURE_KEYS, "api_equivalent_usd")}
                if priced.get("estimate"):
                    figures["estimate"] = True
                row["models"][model] = figures
                _accumulate(row, figures)
                _add_into(row["tiers"], priced["tiers"])
                _add_into(row["tier_api_equivalent_usd"], priced["tier_usd"])
                if priced["unpriced"] is not None:
                    _add_into(unpriced, {model: priced["unpriced"]})
                _add_into(as_standard, priced["as_standard"])
                total = total_models.setdefault(model, empty_tokens())
                _accumulate(total, figures)
                if figures.get("estimate"):
                    total["estimate"] = True
            _accumulate(totals, row)
            _add_into(totals["tiers"], row["tiers"])
            _add_into(totals["tier_api_equivalent_usd"], row["tier_api_equivalent_usd"])
            rows.append(row)
        rows.sort(key=lambda r: r["first"] if self._grouping is BY_SESSION else r[row_key])
        totals["models"] = dict(sorted(total_models.items()))
        for item in (*rows, totals):
            item["tiers"] = _in_tier_order(item["tiers"])
            item["tier_api_equivalent_usd"] = _in_tier_order(item["tier_api_equivalent_usd"])
            if not self.rates:
                del item["tier_api_equivalent_usd"]
        document = {list_key: rows, "totals": totals, "timezone": self.zone.key}
        if self.rates:
            _round_usd([*rows, totals, *totals["models"].values()])
            for row in rows:
                _round_usd(row["models"].values())
            oldest, newest = self.rates.checked
            document["unpriced"] = dict(sorted(unpriced.items()))
            from store.pricing import NOTICE  # (loaded already with the rates)

            document["api_equivalent"] = {
                "note": NOTICE,
                "rates": Path(self.rates.source).name,
                "last_checked": {"oldest": oldest.isoformat(), "newest": newest.isoformat()},
                "priced_as_standard": _in_tier_order(as_standard),
            }
        return document


def _cell_key(item: tuple) -> tuple:
    return item[0]


def utc_day(number: int) -> date:
    """The UTC date of a day number (days since 1970-01-01)."""
    return date.fromordinal(EPOCH_ORDINAL + number)


def _add_into(into: dict, more: dict) -> None:
    for name, value in more.items():
        into[name] = into.get(name, 0) + value


def _figures(cell: list, cost: Cost | None) -> dict:
    inp, cached, cache_write, out, reasoning, responses = cell
    return {
        "input": inp,
        "cached": cached,
        "cache_write": cache_write,
        "output": out,
        "reasoning": reasoning,
        "total": inp + out,
        "responses": responses,
        "api_equivalent_usd": None if cost is None else cost.usd,
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
        tiers = item.get("tier_api_equivalent_usd", {})
        for tier, usd in tiers.items():
            tiers[tier] = round(usd, 6)


def _iso(ts_ms: int) -> str:
    return iso_utc(datetime.fromtimestamp(ts_ms / 1000, UTC))
