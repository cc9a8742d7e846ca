"""API-equivalent estimates: token volume priced at published API list rates (rates.csv).

An educational estimate, not a bill and not an official price. This is the one pricing engine: the
CLI report, the app's estimate, its what-if and the leaderboard all price through it, so they never
disagree (docs/pricing.md gives the rules and the table's columns).

The contract
------------
Usage is priced in *groups*: sums of responses that share a model, a UTC day, a service tier and a
long-context flag, ``Group(model, day, tier, long, input, cached, cache_write, output)``. ``cached``
and ``cache_write`` are disjoint parts of ``input``; ``output`` includes reasoning.

- ``RateTable.cost_of(model, day, tier, long, input, cached, cache_write, output) -> Cost | None``
  prices one group at the rates in force on ``day``; None when the model is unpriced (never $0).
- ``price_groups(groups, rates, *, at=None) -> list[Cost | None]`` prices many (Python sums, as the
  CLI report holds them); ``price_frame(frame, rates, *, at=None)`` does the same for a polars frame
  of groups (columns model, day, tier, long, input, cached, cache_write, output) and adds the
  columns ``usd`` (null when unpriced), ``estimate`` and ``as_standard``.
- ``at=None`` prices each group at the rates in force on its own day ("at the prices of the
  time"); ``at=<date>`` prices every group at the rates in force on that date ("at today's prices").
- ``long`` is decided per response upstream, never from sums: a response is long-context when its
  input is over its rate's threshold (``RateTable.threshold(model, day)``, ``Rate.is_long(input)``;
  ``with_long_flag(frame, rates, *, at=None)`` adds the column to a polars frame of responses). A
  tier whose rate has no threshold (priority on gpt-5.4 and gpt-5.5) ignores the flag.
- ``Cost.usd`` is the price; ``Cost.estimate`` says it went through a dated mapping of a label to a
  priced model (codex-auto-review, gpt-reserve); ``Cost.as_standard`` says the recorded tier had no
  price of its own (``unknown``, or a tier the table has no rate for, such as ``ultrafast``) and
  was priced as standard: callers count such usage apart.

The rules: fresh input (input - cached - cache_write) at the input rate, cached input at the cached
rate, cache writes at the cache-write rate (the input rate where a row has none), output at the
output rate; a long-context group has its input, cached and cache-write rates multiplied by one
factor and its output rate by another. A model name is normalised (provider prefix, effort suffix,
snapshot date), then matched exactly, then through the table's explicit aliases, then through its
dated mappings; anything else is unpriced and never matched to a look-alike.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from store.errors import UserError
from store.settings import RATES

#: The installed ``store`` package's folder.
PACKAGE = Path(__file__).resolve().parent


def default_rates(package: Path = PACKAGE) -> Path:
    """The rate table a report prices with when none is named: the repository's ``rates.csv`` in a
    source tree (a clone or an editable install, where analysts edit it), else the copy the build
    puts into the installed ``store`` package (setup.py), so one file is the source of both."""
    tree = package.parent
    if (tree / "pyproject.toml").is_file() and (tree / "rates.csv").is_file():
        return tree / "rates.csv"
    return package / "rates.csv"


DEFAULT_RATES = default_rates()
#: Columns every table has (a mapping row leaves the prices empty and names ``maps_to``).
REQUIRED = ("model", "source_url", "last_checked")
#: rates.csv's columns in their order; every one but REQUIRED may be left out of a table.
COLUMNS = (
    "model",
    "tier",
    "valid_from",
    "valid_to",
    "input_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "cache_write_usd_per_mtok",
    "output_usd_per_mtok",
    "long_context_threshold_tokens",
    "long_context_input_multiplier",
    "long_context_output_multiplier",
    "long_context_cached_multiplier",
    "maps_to",
    "aliases",
    "origin",
    "source_url",
    "last_checked",
    "notes",
)
OPTIONAL = tuple(c for c in COLUMNS if c not in REQUIRED)
NOTICE = "API-equivalent: an estimate at published API list prices, not a bill or official price."
STANDARD = "standard"
#: Tiers a row can price; "unknown" and "ultrafast" responses are priced as standard.
PRICED_TIERS = ("standard", "priority", "flex", "ultrafast")
#: The origin of a row an analyst wrote (kept by ``codextime rates update``).
ANALYST = "analyst"

_EFFORT = r"(?:minimal|low|medium|high|xhigh)"
_EFFORT_SUFFIX = re.compile(rf"(?:\s*\(\s*{_EFFORT}\s*\)|-{_EFFORT})$")
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class RatesError(UserError, ValueError):
    """A rate table that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class Rate:
    """One model's prices (USD per million tokens) at one tier over a span of days."""

    model: str
    input: float
    cached: float | None
    output: float
    source_url: str
    last_checked: date
    cache_write: float | None = None
    long_context_threshold: int | None = None
    long_context_input_multiplier: float = 1.0
    long_context_output_multiplier: float = 1.0
    #: factor on the cached rate of a long request where it differs from the input factor
    long_context_cached_multiplier: float | None = None
    aliases: tuple[str, ...] = ()
    notes: str = ""
    tier: str = STANDARD
    valid_from: date | None = None
    valid_to: date | None = None
    origin: str = ""

    def is_long(self, input: int) -> bool:
        """A request over this model's long-context threshold."""
        return self.long_context_threshold is not None and input > self.long_context_threshold

    def in_force(self, day: date) -> bool:
        """Whether this row's prices apply on ``day``."""
        return _in_span(self.valid_from, self.valid_to, day)

    def cost(
        self,
        input: int,
        cached: int,
        output: int,
        *,
        cache_write: int = 0,
        long: bool | None = None,
    ) -> float:
        """USD for one request, or for a sum of requests that are all long (or all not)."""
        in_rate = self.input
        cached_rate = self.input if self.cached is None else self.cached
        write_rate = self.input if self.cache_write is None else self.cache_write
        out_rate = self.output
        if self.long_context_threshold is not None and (
            long if long is not None else self.is_long(input)
        ):
            factor = self.long_context_input_multiplier
            cached_factor = self.long_context_cached_multiplier
            in_rate, write_rate = in_rate * factor, write_rate * factor
            cached_rate *= factor if cached_factor is None else cached_factor
            out_rate *= self.long_context_output_multiplier
        fresh = max(input - cached - cache_write, 0)
        return (
            fresh * in_rate + cached * cached_rate + cache_write * write_rate + output * out_rate
        ) / 1_000_000


@dataclass(frozen=True)
class Mapping:
    """A label priced as another model over a span of days: always an estimate."""

    model: str
    maps_to: str
    source_url: str
    last_checked: date
    valid_from: date | None = None
    valid_to: date | None = None
    notes: str = ""
    origin: str = ""

    def in_force(self, day: date) -> bool:
        """Whether this mapping applies on ``day``."""
        return _in_span(self.valid_from, self.valid_to, day)


@dataclass(frozen=True)
class Cost:
    """The price of a group of responses."""

    usd: float
    #: the table model whose rates priced it (the mapped model for a label)
    model: str
    #: the tier whose rates priced it
    tier: str
    #: priced through a dated mapping of a label to a priced model
    estimate: bool = False
    #: the recorded tier had no price of its own and was priced as standard
    as_standard: bool = False


class PriceRun(NamedTuple):
    """One kind of usage's prices from ``first`` to ``last`` (days, both included): USD per
    million fresh input, cached input, cache-write and output tokens."""

    first: date
    last: date
    fresh: float
    cached: float
    cache_write: float
    output: float


#: Kinds of usage whose runs a table keeps (each a few tuples); past this it starts afresh.
_MAX_RUNS_KEPT = 20_000


class Group(NamedTuple):
    """Sums of responses sharing a model, UTC day, tier and long-context flag."""

    model: str
    day: date
    tier: str
    long: bool
    input: int
    cached: int
    cache_write: int
    output: int


def _in_span(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    """``day`` within a row's span, both ends inclusive; an empty end is open."""
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


def _pick(rows: list, day: date):
    """The row in force on ``day``; before a model's first row, the first row (a clock running
    early or preview access: the launch price); None in a gap between rows."""
    for row in rows:
        if row.in_force(day):
            return row
    first = rows[0]
    return first if first.valid_from is not None and day < first.valid_from else None


@dataclass(frozen=True)
class RateTable:
    rates: tuple[Rate, ...]
    source: str
    mappings: tuple[Mapping, ...] = ()
    #: (model, tier) -> its rows, oldest first
    _rows: dict[tuple[str, str], list[Rate]] = field(
        default_factory=dict, repr=False, compare=False
    )
    #: normalised name or alias -> the table's model
    _names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: normalised label -> its mappings, oldest first
    _maps: dict[str, list[Mapping]] = field(default_factory=dict, repr=False, compare=False)
    #: (model, tier, long, at) -> ``price_runs``: derived from the table alone, as it is loaded
    _runs: dict[tuple, tuple[PriceRun, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        def oldest_first(row) -> date:
            return row.valid_from or date.min

        for rate in sorted(self.rates, key=oldest_first):
            self._rows.setdefault((normalise(rate.model), rate.tier), []).append(rate)
            self._names[normalise(rate.model)] = normalise(rate.model)
        for rate in self.rates:
            for alias in rate.aliases:
                self._names.setdefault(normalise(alias), normalise(rate.model))
        for mapping in sorted(self.mappings, key=oldest_first):
            self._maps.setdefault(normalise(mapping.model), []).append(mapping)

    def _target(self, model: str, day: date) -> tuple[str, bool] | None:
        """The table model that prices ``model`` on ``day``, and whether through a mapping."""
        key = normalise(model)
        if key in self._names:
            return self._names[key], False
        mappings = self._maps.get(key)
        mapping = _pick(mappings, day) if mappings else None
        if mapping is None:
            return None
        target = self._names.get(normalise(mapping.maps_to))
        return (target, True) if target else None

    def names(self, model: str) -> bool:
        """Whether the table prices ``model`` on some day: by its name, an alias or a mapping."""
        key = normalise(model)
        return key in self._names or key in self._maps

    def rate(self, model: str, day: date | None = None, tier: str = STANDARD) -> Rate | None:
        """The rate of ``model`` at ``tier`` in force on ``day`` (default today), through its
        aliases and mappings; None when there is none."""
        found = self._target(model, day or date.today())
        if found is None:
            return None
        rows = self._rows.get((found[0], tier))
        return _pick(rows, day or date.today()) if rows else None

    def lookup(self, model: str) -> Rate | None:
        """The standard rate of ``model`` in force today."""
        return self.rate(model)

    def threshold(self, model: str, day: date) -> int | None:
        """The input above which a response of ``model`` on ``day`` is long-context."""
        rate = self.rate(model, day)
        return rate.long_context_threshold if rate else None

    def thresholds(self, model: str) -> set[int | None]:
        """Every long-context threshold ``model``'s standard rates have on any day (through its
        mappings): a caller may decide long-context per model when there is just one."""
        key = normalise(model)
        targets = (
            {self._names[key]}
            if key in self._names
            else {self._names.get(normalise(m.maps_to)) for m in self._maps.get(key, ())}
        )
        return {
            rate.long_context_threshold
            for target in targets
            for rate in self._rows.get((target, STANDARD), ())
        } or {None}

    def cost_of(
        self,
        model: str,
        day: date,
        tier: str,
        long: bool,
        input: int,
        cached: int,
        cache_write: int,
        output: int,
    ) -> Cost | None:
        """Price one group at the rates in force on ``day``; None when ``model`` is unpriced."""
        found = self._target(model, day)
        if found is None:
            return None
        target, estimate = found
        rows = self._rows.get((target, tier)) if tier != STANDARD else None
        rate = _pick(rows, day) if rows else None
        as_standard = rate is None and tier != STANDARD
        if rate is None:
            standard = self._rows.get((target, STANDARD))
            rate = _pick(standard, day) if standard else None
        if rate is None:
            return None
        usd = rate.cost(input, cached, output, cache_write=cache_write, long=long)
        return Cost(usd, rate.model, rate.tier, estimate, as_standard)

    def price_runs(
        self, model: str, tier: str, long: bool, at: date | None = None
    ) -> tuple[PriceRun, ...]:
        """The prices of a million tokens of each kind for ``model``, ``tier`` and long-context
        flag over every day (``date.min`` to ``date.max``), at the rates of each day or, with
        ``at``, of that date: one run per stretch of days with equal prices, oldest first. Days
        on which the model has no price are in no run.

        A cost is linear in each count for one model, day, tier and flag, so these four rates
        price a sum of any size. Derived from the table alone, so kept with it: the table's
        change days split time into stretches of one price each, priced once per kind."""
        if not self.names(model):
            return ()  # never priced on any day: cheap, and kept out of the cache
        key = (model, tier, bool(long), at)
        found = self._runs.get(key)
        if found is None:
            if len(self._runs) >= _MAX_RUNS_KEPT:  # model names are the uploader's to choose
                self._runs.clear()
            found = self._runs[key] = self._price_runs(model, tier, bool(long), at)
        return found

    def _price_runs(
        self, model: str, tier: str, long: bool, at: date | None
    ) -> tuple[PriceRun, ...]:
        starts = [date.min] if at else [date.min, *sorted(price_change_days(self))]
        ends = [*(day - timedelta(days=1) for day in starts[1:]), date.max]
        runs: list[PriceRun] = []
        for start, end in zip(starts, ends, strict=True):
            prices = self._per_million(model, at or start, tier, long)
            if prices is None:
                continue
            if runs and runs[-1].last == start - timedelta(days=1) and runs[-1][2:] == prices:
                runs[-1] = runs[-1]._replace(last=end)
            else:
                runs.append(PriceRun(start, end, *prices))
        return tuple(runs)

    def _per_million(
        self, model: str, day: date, tier: str, long: bool
    ) -> tuple[float, float, float, float] | None:
        """The price of a million fresh input, cached input, cache-write and output tokens of
        ``model`` on ``day``; None when the model has no price that day."""

        def cost(inp: int, cached: int, writes: int, out: int) -> float | None:
            priced = self.cost_of(model, day, tier, long, inp, cached, writes, out)
            return None if priced is None else priced.usd

        m = 1_000_000
        fresh = cost(m, 0, 0, 0)
        if fresh is None:
            return None
        return fresh, cost(m, m, 0, 0), cost(m, 0, m, 0), cost(0, 0, 0, m)

    def cost(self, model: str, input: int, cached: int, output: int) -> float | None:
        """USD for one standard request at today's rates, or None when the model is unpriced."""
        rate = self.lookup(model)
        return None if rate is None else rate.cost(input, cached, output)

    @property
    def checked(self) -> tuple[date, date]:
        """The oldest and the newest last-checked date in the table."""
        days = [r.last_checked for r in (*self.rates, *self.mappings)]
        return min(days), max(days)


def price_groups(
    groups: Iterable[Group | tuple], rates: RateTable, *, at: date | None = None
) -> list[Cost | None]:
    """Each group's cost, at the rates of its own day or, with ``at``, of that date."""
    return [rates.cost_of(g[0], at or g[1], g[2], g[3], g[4], g[5], g[6], g[7]) for g in groups]


def with_long_flag(frame, rates: RateTable, *, at: date | None = None):
    """A polars frame of responses (model, day, input) with a ``long`` column: each response's
    input over the threshold of the rate it is priced at."""
    import polars as pl  # the app's frames; the CLI never gets here

    keys = frame.select("model", "day").unique()
    limits = [rates.threshold(model, at or day) for model, day in keys.iter_rows()]
    keys = keys.with_columns(pl.Series("_threshold", limits, dtype=pl.Int64))
    joined = frame.join(keys, on=["model", "day"], how="left", nulls_equal=True)
    return joined.with_columns(
        long=pl.col("_threshold").is_not_null() & (pl.col("input") > pl.col("_threshold"))
    ).drop("_threshold")


def price_frame(frame, rates: RateTable, *, at: date | None = None):
    """A polars frame of groups with ``usd`` (null when unpriced), ``estimate`` and
    ``as_standard`` added."""
    import polars as pl

    columns = ("model", "day", "tier", "long", "input", "cached", "cache_write", "output")
    costs = price_groups(frame.select(columns).iter_rows(), rates, at=at)
    return frame.with_columns(
        pl.Series("usd", [c.usd if c else None for c in costs], dtype=pl.Float64),
        pl.Series("estimate", [bool(c and c.estimate) for c in costs], dtype=pl.Boolean),
        pl.Series("as_standard", [bool(c and c.as_standard) for c in costs], dtype=pl.Boolean),
    )


@lru_cache(maxsize=4096)  # the table names each model several times while it is checked
def normalise(name: str) -> str:
    """The name a model is priced under: no provider prefix, effort suffix or snapshot date."""
    name = name.strip().lower()
    name = name.rsplit("/", 1)[-1]
    name = _EFFORT_SUFFIX.sub("", name)
    name = _SNAPSHOT.sub("", name)
    return _EFFORT_SUFFIX.sub("", name)


def rates_path(path: str | Path | None = None) -> Path:
    """--rates, then CODEXTIME_RATES, then the project's rates.csv."""
    chosen = path or RATES.value()
    return Path(chosen).expanduser() if chosen else DEFAULT_RATES


def load_rates(path: str | Path | None = None, *, today: date | None = None) -> RateTable:
    source = rates_path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RatesError(f"cannot read rates file {source}: {exc.strerror or exc}") from exc
    return parse_rates(text, str(source), today=today)


def parse_rates(text: str, source: str = "rates.csv", *, today: date | None = None) -> RateTable:
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise RatesError(f"{source}: missing column(s) {', '.join(missing)}")
    unknown = [c for c in reader.fieldnames or [] if c not in COLUMNS]
    if unknown:
        raise RatesError(f"{source}: unknown column(s) {', '.join(unknown)}")
    rows: list[tuple[int, Rate | Mapping]] = []
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        rows.append((number, _parse_row(row, f"{source} row {number}", today or date.today())))
    if not rows:
        raise RatesError(f"{source}: no rates")
    _check_names(rows, source)
    _check_spans(rows, source)
    rates = tuple(r for _, r in rows if isinstance(r, Rate))
    mappings = tuple(r for _, r in rows if isinstance(r, Mapping))
    table = RateTable(rates, source, mappings)
    for number, mapping in ((n, r) for n, r in rows if isinstance(r, Mapping)):
        if normalise(mapping.maps_to) not in table._names:
            raise RatesError(
                f"{source} row {number} ({mapping.model}), column maps_to: "
                f"{mapping.maps_to!r} has no rate in this table"
            )
    return table


def _check_names(rows: list[tuple[int, Rate | Mapping]], source: str) -> None:
    """A name (model, alias or label) belongs to one model only."""
    owner: dict[str, tuple[str, int]] = {}
    for number, row in rows:
        model = normalise(row.model)
        names = (row.model, *row.aliases) if isinstance(row, Rate) else (row.model,)
        for name in names:
            key = normalise(name)
            kind = "rate" if isinstance(row, Rate) else "mapping"
            held = owner.setdefault(key, (f"{kind}:{model}", number))
            if held[0] != f"{kind}:{model}":
                raise RatesError(
                    f"{source} row {number}, column model/aliases: {name!r} is already "
                    f"priced by row {held[1]}"
                )


def _check_spans(rows: list[tuple[int, Rate | Mapping]], source: str) -> None:
    """The rows of one model and tier never overlap in time: one price per day."""
    spans: dict[tuple[str, str], list[tuple[int, Rate | Mapping]]] = {}
    for number, row in rows:
        tier = row.tier if isinstance(row, Rate) else "mapping"
        spans.setdefault((normalise(row.model), tier), []).append((number, row))
    for held in spans.values():
        held.sort(key=lambda item: item[1].valid_from or date.min)
        for (before_no, before), (number, after) in zip(held, held[1:], strict=False):
            if (
                before.valid_to is None
                or after.valid_from is None
                or (after.valid_from <= before.valid_to)
            ):
                raise RatesError(
                    f"{source} row {number} ({after.model}), column valid_from: overlaps "
                    f"row {before_no} (a price change ends the old row with valid_to)"
                )


def _parse_row(row: dict, where: str, today: date) -> Rate | Mapping:
    def cell(column: str) -> str:
        value = row.get(column)
        return value.strip() if isinstance(value, str) else ""

    def number(column: str, *, required: bool = True, integer: bool = False):
        value = cell(column)
        if not value:
            if required:
                raise RatesError(f"{where}, column {column}: empty")
            return None
        try:
            parsed = int(value) if integer else float(value)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise RatesError(f"{where}, column {column}: {value!r} is not {kind}") from None
        if parsed < 0 or parsed != parsed or parsed == float("inf"):
            raise RatesError(f"{where}, column {column}: {value!r} must not be negative")
        return parsed

    def day(column: str) -> date | None:
        value = cell(column)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise RatesError(
                f"{where}, column {column}: {value!r} is not a YYYY-MM-DD date"
            ) from None

    model = cell("model")
    if not model:
        raise RatesError(f"{where}, column model: empty")
    where = f"{where} ({model[:100]})"
    url = cell("source_url")
    if not url.startswith("https://"):
        raise RatesError(f"{where}, column source_url: {url[:100]!r} is not an https:// address")
    if not cell("last_checked"):
        raise RatesError(f"{where}, column last_checked: '' is not a YYYY-MM-DD date")
    checked = day("last_checked")
    if checked > today:
        raise RatesError(f"{where}, column last_checked: {checked} is in the future")
    valid_from, valid_to = day("valid_from"), day("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise RatesError(f"{where}, column valid_to: {valid_to} is before valid_from {valid_from}")
    common = dict(
        source_url=url,
        last_checked=checked,
        valid_from=valid_from,
        valid_to=valid_to,
        notes=cell("notes"),
        origin=cell("origin"),
    )
    if cell("maps_to"):
        priced = [c for c in ("input_usd_per_mtok", "output_usd_per_mtok") if cell(c)]
        if priced:
            raise RatesError(f"{where}, column {priced[0]}: a row with maps_to has no prices")
        return Mapping(model=model, maps_to=cell("maps_to"), **common)
    tier = cell("tier") or STANDARD
    if tier not in PRICED_TIERS:
        raise RatesError(
            f"{where}, column tier: {tier[:100]!r} is not one of {', '.join(PRICED_TIERS)}"
        )
    threshold = number("long_context_threshold_tokens", required=False, integer=True)
    in_mult = number("long_context_input_multiplier", required=False)
    out_mult = number("long_context_output_multiplier", required=False)
    cached_mult = number("long_context_cached_multiplier", required=False)
    if threshold is None and (in_mult or out_mult or cached_mult):
        raise RatesError(
            f"{where}, column long_context_threshold_tokens: empty but multipliers set"
        )
    aliases = tuple(a.strip() for a in cell("aliases").split(";") if a.strip())
    return Rate(
        model=model,
        input=number("input_usd_per_mtok"),
        cached=number("cached_input_usd_per_mtok", required=False),
        output=number("output_usd_per_mtok"),
        cache_write=number("cache_write_usd_per_mtok", required=False),
        long_context_threshold=threshold,
        long_context_input_multiplier=in_mult if in_mult is not None else 1.0,
        long_context_output_multiplier=out_mult if out_mult is not None else 1.0,
        long_context_cached_multiplier=cached_mult,
        aliases=aliases,
        tier=tier,
        **common,
    )


def adjusted(
    table: RateTable,
    *,
    multiplier: float = 1.0,
    edits: dict[str, tuple[float, float, float]] | None = None,
) -> RateTable:
    """A what-if copy of ``table``: every rate times ``multiplier``, after per-model ``edits``
    of (input, cached, output) rates, which replace the model's standard rates on every date.
    The model's other tiers keep their ratio to the standard rates they stood beside (priority
    at 2x stays 2x the edited rate), so an edit reaches usage at every tier.
    The original is untouched."""
    edits = edits or {}
    rates = []
    for rate in table.rates:
        edit = edits.get(rate.model)
        if edit is not None and rate.tier != STANDARD:
            edit = _tier_edit(table, rate, edit)
        inp, cached, out = edit or (rate.input, rate.cached, rate.output)
        rates.append(
            replace(
                rate,
                input=inp * multiplier,
                cached=None if cached is None else cached * multiplier,
                output=out * multiplier,
                cache_write=None if rate.cache_write is None else rate.cache_write * multiplier,
            )
        )
    return RateTable(tuple(rates), f"{table.source} (adjusted)", table.mappings)


def _tier_edit(
    table: RateTable, rate: Rate, edit: tuple[float, float, float]
) -> tuple[float, float | None, float] | None:
    """``edit`` of a model's standard rates carried to one of its tier rows, by the ratio of that
    row to the standard row in force when it starts; None when no standard row stands beside it."""
    day = rate.valid_from or date.min
    standard = next(
        (
            r
            for r in table.rates
            if r.model == rate.model
            and r.tier == STANDARD
            and (r.in_force(day) or not r.valid_from)
        ),
        None,
    )
    if standard is None:
        return None

    def scaled(new: float, tier_rate: float | None, base: float | None) -> float | None:
        if tier_rate is None:
            return None
        return new * tier_rate / base if base else tier_rate

    return (
        scaled(edit[0], rate.input, standard.input),
        scaled(edit[1], rate.cached, standard.cached),
        scaled(edit[2], rate.output, standard.output),
    )


def to_csv(table: RateTable) -> str:
    """The table in rates.csv's own format (what `--rates` reads back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in (*table.rates, *table.mappings):
        writer.writerow([row_cells(row)[c] for c in COLUMNS])
    return buffer.getvalue()


def row_cells(row: Rate | Mapping) -> dict[str, str]:
    """A row of the table as rates.csv's cells, by column."""
    cells = dict.fromkeys(COLUMNS, "")
    cells.update(
        model=row.model,
        valid_from=row.valid_from.isoformat() if row.valid_from else "",
        valid_to=row.valid_to.isoformat() if row.valid_to else "",
        origin=row.origin,
        source_url=row.source_url,
        last_checked=row.last_checked.isoformat(),
        notes=row.notes,
    )
    if isinstance(row, Mapping):
        cells["maps_to"] = row.maps_to
        return cells
    long = row.long_context_threshold is not None
    cells.update(
        tier=row.tier,
        input_usd_per_mtok=_num(row.input),
        cached_input_usd_per_mtok=_num(row.cached),
        cache_write_usd_per_mtok=_num(row.cache_write),
        output_usd_per_mtok=_num(row.output),
        long_context_threshold_tokens=str(row.long_context_threshold) if long else "",
        long_context_input_multiplier=_num(row.long_context_input_multiplier) if long else "",
        long_context_output_multiplier=_num(row.long_context_output_multiplier) if long else "",
        long_context_cached_multiplier=_num(row.long_context_cached_multiplier) if long else "",
        aliases=";".join(row.aliases),
    )
    return cells


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def price_change_days(rates: RateTable) -> list[date]:
    """The days on which some price or mapping of ``rates`` starts or ends, latest first: between
    two of them every day has the same prices, so usage can be summed per span and priced once."""
    days = set()
    for row in (*rates.rates, *rates.mappings):
        if row.valid_from:
            days.add(row.valid_from)
        if row.valid_to:
            days.add(row.valid_to + timedelta(days=1))
    return sorted(days, reverse=True)
