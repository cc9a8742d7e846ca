"""API-equivalent estimates: token volume priced at published API list rates (rates.csv).

An educational estimate, not a bill and not an official price. One pure module, used by the CLI
reports and the app alike, so the two never disagree.

Rules (docs/pricing.md):
- fresh input (input - cached) at the input rate, cached input at the cached rate, output (reasoning
  included, never added again) at the output rate;
- long context: where a row sets a threshold, a *request* whose input is over it has its input and
  cached rates multiplied by one factor and its output rate by another;
- a model name is normalised (provider prefix, effort suffix, snapshot date), then matched exactly,
  then through the table's explicit aliases; anything else is *unpriced*: reported with its tokens,
  never priced at 0 and never matched to a look-alike.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

DEFAULT_RATES = Path(__file__).resolve().parent.parent / "rates.csv"
REQUIRED = (
    "model",
    "input_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "output_usd_per_mtok",
    "source_url",
    "last_checked",
)
OPTIONAL = (
    "cache_write_usd_per_mtok",
    "long_context_threshold_tokens",
    "long_context_input_multiplier",
    "long_context_output_multiplier",
    "aliases",
    "notes",
)
NOTICE = "API-equivalent: an estimate at published API list prices, not a bill or official price."

_EFFORT = r"(?:minimal|low|medium|high|xhigh)"
_EFFORT_SUFFIX = re.compile(rf"(?:\s*\(\s*{_EFFORT}\s*\)|-{_EFFORT})$")
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class RatesError(ValueError):
    """A rate table that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class Rate:
    model: str
    input: float
    cached: float
    output: float
    source_url: str
    last_checked: date
    cache_write: float | None = None
    long_context_threshold: int | None = None
    long_context_input_multiplier: float = 1.0
    long_context_output_multiplier: float = 1.0
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def is_long(self, input: int) -> bool:
        """A request over this model's long-context threshold."""
        return self.long_context_threshold is not None and input > self.long_context_threshold

    def cost(self, input: int, cached: int, output: int, *, long: bool | None = None) -> float:
        """USD for one request, or for a sum of requests that are all long (or all not)."""
        in_rate, cached_rate, out_rate = self.input, self.cached, self.output
        if long if long is not None else self.is_long(input):
            in_rate *= self.long_context_input_multiplier
            cached_rate *= self.long_context_input_multiplier
            out_rate *= self.long_context_output_multiplier
        fresh = max(input - cached, 0)
        return (fresh * in_rate + cached * cached_rate + output * out_rate) / 1_000_000


@dataclass(frozen=True)
class RateTable:
    rates: tuple[Rate, ...]
    source: str
    _by_name: dict[str, Rate] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for rate in self.rates:
            self._by_name[normalise(rate.model)] = rate
        for rate in self.rates:
            for alias in rate.aliases:
                self._by_name.setdefault(normalise(alias), rate)

    def lookup(self, model: str) -> Rate | None:
        return self._by_name.get(normalise(model))

    def cost(self, model: str, input: int, cached: int, output: int) -> float | None:
        """USD for one request, or None when the model is unpriced."""
        rate = self.lookup(model)
        return None if rate is None else rate.cost(input, cached, output)

    @property
    def checked(self) -> tuple[date, date]:
        """The oldest and the newest last-checked date in the table."""
        days = [r.last_checked for r in self.rates]
        return min(days), max(days)

    def footnote(self) -> str:
        oldest, newest = self.checked
        span = newest.isoformat() if oldest == newest else f"{oldest} to {newest}"
        return f"{NOTICE} Rates from {self.source}, last checked {span}."


def normalise(name: str) -> str:
    """The name a model is priced under: no provider prefix, effort suffix or snapshot date."""
    name = name.strip().lower()
    name = name.rsplit("/", 1)[-1]
    name = _EFFORT_SUFFIX.sub("", name)
    name = _SNAPSHOT.sub("", name)
    return _EFFORT_SUFFIX.sub("", name)


def rates_path(path: str | Path | None = None) -> Path:
    """--rates, then CODEXTIME_RATES, then the project's rates.csv."""
    chosen = path or os.environ.get("CODEXTIME_RATES")
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
    unknown = [c for c in reader.fieldnames or [] if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise RatesError(f"{source}: unknown column(s) {', '.join(unknown)}")
    rates, seen = [], {}
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        rate = _parse_row(row, f"{source} row {number}", today or date.today())
        for name in (rate.model, *rate.aliases):
            key = normalise(name)
            if key in seen:
                raise RatesError(
                    f"{source} row {number}, column model/aliases: {name!r} is already "
                    f"priced by row {seen[key]}"
                )
            seen[key] = number
        rates.append(rate)
    if not rates:
        raise RatesError(f"{source}: no rates")
    return RateTable(tuple(rates), source)


def _parse_row(row: dict, where: str, today: date) -> Rate:
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
        if parsed < 0 or parsed != parsed:
            raise RatesError(f"{where}, column {column}: {value!r} must not be negative")
        return parsed

    model = cell("model")
    if not model:
        raise RatesError(f"{where}, column model: empty")
    where = f"{where} ({model})"
    url = cell("source_url")
    if not url.startswith("https://"):
        raise RatesError(f"{where}, column source_url: {url!r} is not an https:// address")
    try:
        checked = date.fromisoformat(cell("last_checked"))
    except ValueError:
        raise RatesError(
            f"{where}, column last_checked: {cell('last_checked')!r} is not a YYYY-MM-DD date"
        ) from None
    if checked > today:
        raise RatesError(f"{where}, column last_checked: {checked} is in the future")
    threshold = number("long_context_threshold_tokens", required=False, integer=True)
    in_mult = number("long_context_input_multiplier", required=False)
    out_mult = number("long_context_output_multiplier", required=False)
    if threshold is None and (in_mult or out_mult):
        raise RatesError(
            f"{where}, column long_context_threshold_tokens: empty but multipliers set"
        )
    aliases = tuple(a.strip() for a in cell("aliases").split(";") if a.strip())
    return Rate(
        model=model,
        input=number("input_usd_per_mtok"),
        cached=number("cached_input_usd_per_mtok"),
        output=number("output_usd_per_mtok"),
        source_url=url,
        last_checked=checked,
        cache_write=number("cache_write_usd_per_mtok", required=False),
        long_context_threshold=threshold,
        long_context_input_multiplier=in_mult if in_mult is not None else 1.0,
        long_context_output_multiplier=out_mult if out_mult is not None else 1.0,
        aliases=aliases,
        notes=cell("notes"),
    )


def adjusted(
    table: RateTable,
    *,
    multiplier: float = 1.0,
    edits: dict[str, tuple[float, float, float]] | None = None,
) -> RateTable:
    """A what-if copy of ``table``: every rate times ``multiplier``, after per-model ``edits``
    of (input, cached, output) rates. The original is untouched."""
    edits = edits or {}
    rates = []
    for rate in table.rates:
        inp, cached, out = edits.get(rate.model, (rate.input, rate.cached, rate.output))
        rates.append(
            replace(
                rate, input=inp * multiplier, cached=cached * multiplier, output=out * multiplier
            )
        )
    return RateTable(tuple(rates), f"{table.source} (adjusted)")


def to_csv(table: RateTable) -> str:
    """The table in rates.csv's own format (what `--rates` reads back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REQUIRED + OPTIONAL)
    for r in table.rates:
        writer.writerow(
            [
                r.model,
                _num(r.input),
                _num(r.cached),
                _num(r.output),
                r.source_url,
                r.last_checked.isoformat(),
                _num(r.cache_write),
                r.long_context_threshold or "",
                _num(r.long_context_input_multiplier) if r.long_context_threshold else "",
                _num(r.long_context_output_multiplier) if r.long_context_threshold else "",
                ";".join(r.aliases),
                r.notes,
            ]
        )
    return buffer.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
