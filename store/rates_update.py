"""Build rates.csv from the installed genai-prices library (``codextime rates update``).

rates.csv stays the one table the app shows, the CLI prices with and an analyst edits; this module
only (re)writes it. For every model Codex writes (``CODEX_MODELS``, plus the models of a user's logs
or store), each price the library holds becomes rows of the table: one per span of days and tier,
with the library's version as origin and the verification date its notes state. Models the library
lacks come from ``store/rates_research.csv`` (rows copied from researched tables, each naming its
source), and so do the dated mappings of labels (codex-auto-review, gpt-reserve). Rows an analyst
marked as their own (origin ``analyst``) are kept, and the library's rows for their models left out.

genai-prices is imported here only, and only when a table is built: nothing at run time needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from store.pricing import (
    ANALYST,
    STANDARD,
    Mapping,
    Rate,
    RatesError,
    RateTable,
    load_rates,
    normalise,
    to_csv,
)

RESEARCH_RATES = Path(__file__).resolve().parent / "rates_research.csv"
#: Model names Codex writes (its catalogue over the years), priced whether or not a log names them.
CODEX_MODELS = (
    "codex-mini-latest",
    "o3",
    "o4-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4o",
    "gpt-5",
    "gpt-5-codex",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.1",
    "gpt-5.1-codex",
    "gpt-5.1-codex-mini",
    "gpt-5.1-codex-max",
    "gpt-5.2",
    "gpt-5.2-codex",
    "gpt-5.3-codex",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.5",
    "gpt-5.6",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-6-astra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-6.2-sol",
    "gpt-6.2-astra",
)
#: The OpenAI names a log may carry that are worth asking the library about, in the plain letters
#: of model names (a log's text is hostile and ends up in the table as an alias); other providers'
#: models (kimi-k2.5:cloud, qwen3.5:cloud) are never matched to an OpenAI price.
CODEX_FAMILIES = re.compile(
    r"(?:gpt-5|gpt-6|gpt-4\.1)[a-z0-9.-]{0,60}|o3|o4-mini|codex-mini-latest", re.ASCII
)
#: The service tiers the library prices (``fast`` is priority's other name there).
LIBRARY_TIERS = ("priority", "flex")
KEYS = ("input_mtok", "cache_read_mtok", "cache_write_mtok", "output_mtok")
MODEL_PAGE = "https://developers.openai.com/api/docs/models/{}"
PRICING_PAGE = "https://developers.openai.com/api/docs/pricing"
_TIER_CHECKED = re.compile(r"Flex/priority/fast rates verified on (\d{4}-\d{2}-\d{2})")
#: Marks a tier row from before the library's tier data starts (docs/pricing.md).
BEFORE_TIER_MARK = "genai-prices prices every tier as standard"
BEFORE_TIER_DATA = "before {start} " + BEFORE_TIER_MARK


class MissingLibrary(RatesError):
    """genai-prices is not installed."""


def library():
    """The genai-prices module, or a one-line error naming the extra to install."""
    try:
        import genai_prices
    except ImportError:
        raise MissingLibrary(
            "codextime rates update needs genai-prices: pip install 'codextime[rates]'"
        ) from None
    return genai_prices


def openai_model(name: str):
    """The library's OpenAI model that prices ``name``, or None."""
    from genai_prices.data_snapshot import get_snapshot

    try:
        return get_snapshot().find_provider_model(normalise(name), None, "openai", None)[1]
    except LookupError:
        return None


def build_table(
    names: Iterable[str] = (),
    *,
    kept: Iterable[Rate | Mapping] = (),
    today: date | None = None,
) -> RateTable:
    """The table for ``CODEX_MODELS`` and ``names``: library rows, research rows for models it
    lacks, the research mappings, and ``kept`` (an analyst's rows) over all of them."""
    origin = f"genai-prices {library().__version__}"
    research = load_rates(RESEARCH_RATES, today=today)
    kept = [row for row in kept if row.origin == ANALYST]
    owned = {normalise(row.model) for row in kept}
    logged = {normalise(n) for n in names}
    wanted = sorted({*CODEX_MODELS, *(n for n in logged if CODEX_FAMILIES.fullmatch(n))})
    by_model: dict[str, tuple[object, list[str]]] = {}
    lacking = []
    for name in wanted:
        info = openai_model(name)
        if info is None:
            lacking.append(name)
        else:
            by_model.setdefault(info.id, (info, []))[1].append(name)
    rows: list[Rate | Mapping] = []
    for model_id, (info, logged) in sorted(by_model.items()):
        if owned & {normalise(model_id), *map(normalise, logged)}:
            continue
        aliases = tuple(n for n in logged if normalise(n) != model_id)
        rows += library_rows(info, aliases, origin, research)
    for name in lacking:
        if normalise(name) not in owned:
            rows += [r for r in research.rates if normalise(r.model) == normalise(name)]
    rows += [m for m in research.mappings if normalise(m.model) not in owned]
    rows += kept
    return RateTable(
        tuple(r for r in rows if isinstance(r, Rate)),
        "rates.csv",
        tuple(r for r in rows if isinstance(r, Mapping)),
    )


def library_rows(info, aliases: tuple[str, ...], origin: str, research: RateTable) -> list[Rate]:
    """One model's rows: its standard prices per span of days, then each tier's."""
    names = {info.id, *map(normalise, aliases)}
    researched = [r for r in research.rates if normalise(r.model) in names]
    checked, url = _checked_and_source(info, researched)
    first_day = min((r.valid_from for r in researched if r.valid_from), default=None)
    spans = _standard_spans(info, first_day)
    common = dict(aliases=aliases, origin=origin, source_url=url, last_checked=checked)
    rows = [
        _rate(info.id, STANDARD, start, end, prices, "", common) for start, end, prices in spans
    ]
    for tier in LIBRARY_TIERS:
        variant = _variant(info, tier)
        if variant is None:
            continue
        rows += _tier_rows(info.id, tier, variant, spans, common)
    return rows


class Price(NamedTuple):
    """One key's price of a span: its base, and the long-context (threshold, price) if any."""

    base: Decimal
    long: tuple[int, Decimal] | None = None

    def times(self, factor: Decimal) -> Price:
        long = None if self.long is None else (self.long[0], self.long[1] * factor)
        return Price(self.base * factor, long)


def price(value) -> Price | None:
    """The library's price of one key (a Decimal or tiered prices) as a ``Price``."""
    if value is None:
        return None
    tiers = getattr(value, "tiers", None)
    if not tiers:
        return Price(Decimal(getattr(value, "base", value)))
    if len(tiers) != 1:
        raise RatesError(f"more than one long-context tier ({len(tiers)}); add the row by hand")
    return Price(Decimal(value.base), (tiers[0].start, Decimal(tiers[0].price)))


def prices_of(model_price) -> dict[str, Price | None]:
    """A library ModelPrice as ``Price`` by key."""
    return {k: price(getattr(model_price, k)) for k in KEYS}


def _tier_rows(model: str, tier: str, variant, spans, common: dict) -> list[Rate]:
    """A tier's rows over the standard spans. From the variant's start its own prices (keys it
    leaves out keep the standard price); before it (the library has no tier history), its prices
    at the start scaled key by key as the standard price then in force is to the one at the
    start."""
    start = variant.constraint.start_date if variant.constraint else None
    listed = prices_of(variant.prices)

    def own(standard: dict) -> dict:
        return {k: listed[k] or standard[k] for k in KEYS}

    at_start = next((s for f, t, s in spans if t is None or (start and t >= start)), spans[-1][2])
    note = BEFORE_TIER_DATA.format(start=start) + "; its tier prices from then, scaled"
    rows = []
    for span_from, span_to, standard in spans:
        if start is None or (span_from is not None and span_from >= start):
            rows.append(_rate(model, tier, span_from, span_to, own(standard), "", common))
            continue
        scaled = {
            k: None
            if standard[k] is None
            else own(at_start)[k].times(standard[k].base / at_start[k].base)
            for k in KEYS
        }
        if span_to is None or span_to >= start:
            before = start - timedelta(days=1)
            rows.append(_rate(model, tier, span_from, before, scaled, note, common))
            rows.append(_rate(model, tier, start, span_to, own(standard), "", common))
        else:
            rows.append(_rate(model, tier, span_from, span_to, scaled, note, common))
    return rows


def _rate(model, tier, valid_from, valid_to, prices: dict, note: str, common: dict) -> Rate:
    """A row of the table from one span's ``Price`` by key."""
    threshold, in_mult, out_mult, cached_mult = _long_context(model, prices)
    return Rate(
        model=model,
        tier=tier,
        valid_from=valid_from,
        valid_to=valid_to,
        input=float(prices["input_mtok"].base),
        cached=_float(prices["cache_read_mtok"]),
        cache_write=_float(prices["cache_write_mtok"]),
        output=float(prices["output_mtok"].base),
        long_context_threshold=threshold,
        long_context_input_multiplier=in_mult,
        long_context_output_multiplier=out_mult,
        long_context_cached_multiplier=cached_mult,
        notes=note,
        **common,
    )


def _long_context(model: str, prices: dict) -> tuple[int | None, float, float, float | None]:
    """A span's long-context threshold and its factors on input (and cache writes), output and
    cached input (None: the input factor)."""
    long = {k: p for k, p in prices.items() if p is not None and p.long is not None}
    if not long:
        return None, 1.0, 1.0, None
    factors = {k: p.long[1] / p.base for k, p in long.items()}
    starts = {p.long[0] for p in long.values()}
    input_side = {factors[k] for k in ("input_mtok", "cache_write_mtok") if k in factors}
    priced = {k for k, p in prices.items() if p is not None}
    if len(starts) != 1 or len(input_side) != 1 or set(long) != priced:
        raise RatesError(
            f"{model}: the library's long-context prices are not one threshold with one factor "
            "per kind of token; add the row by hand"
        )
    factor = input_side.pop()
    cached = factors.get("cache_read_mtok", factor)
    return (
        starts.pop(),
        float(factor),
        float(factors["output_mtok"]),
        None if cached == factor else float(cached),
    )


def _float(value: Price | None) -> float | None:
    return None if value is None else float(value.base)


def _standard_spans(info, first_day: date | None) -> list[tuple[date | None, date | None, dict]]:
    """(valid_from, valid_to, prices by key) of each standard price, oldest first."""
    entries = info.prices if isinstance(info.prices, list) else None
    if entries is None:
        return [(first_day, None, prices_of(info.prices))]
    starts = [e.constraint.start_date if e.constraint else None for e in entries]
    spans = []
    for i, entry in enumerate(entries):
        start = starts[i] if i else (starts[0] or first_day)
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(entries) else None
        spans.append((start, end, prices_of(entry.prices)))
    return spans


def _variant(info, tier: str):
    """The library's price variant of a service tier, or None."""
    for variant in info.price_variants or []:
        if variant.when == {"service_tier": tier} and variant.prices.input_mtok is not None:
            return variant
    return None


def _checked_and_source(info, researched: list[Rate]) -> tuple[date, str]:
    """The verification date the library's notes state for ``info`` and the page it names;
    without one, the date and page of the model's researched rows."""
    comment = info.price_comments or ""
    found = _TIER_CHECKED.search(comment)
    own_page = [r.source_url for r in researched if normalise(r.model) == info.id]
    url = next(iter(own_page), None)
    if url is None and f"models/{info.id}" in comment:
        url = MODEL_PAGE.format(info.id)
    url = url or (researched[0].source_url if researched else PRICING_PAGE)
    if found:
        return date.fromisoformat(found.group(1)), url
    if researched:
        return max(r.last_checked for r in researched), url
    raise RatesError(f"{info.id}: genai-prices states no verification date; add the row by hand")


def models_in_logs(codex_home: Path) -> set[str]:
    """The model names of a Codex home's logs."""
    from collector.scan import ReadPlan
    from store.fields import MODEL

    plan = ReadPlan(codex_home, keep_cursors=False)
    return {row[MODEL] for result in plan.results() for row in result.rows}


def models_in_store(url: str) -> set[str]:
    """The model names of a store."""
    from sqlalchemy import text

    from store.db import open_store

    with open_store(url).connect() as connection:
        return {m for (m,) in connection.execute(text("SELECT DISTINCT model FROM usage"))}


def update(path: Path, names: Iterable[str] = (), *, today: date | None = None) -> RateTable:
    """Rewrite the table at ``path`` for ``names`` too, keeping its analyst rows."""
    kept: list[Rate | Mapping] = []
    if path.exists():
        current = load_rates(path, today=today)
        kept = [*current.rates, *current.mappings]
    table = build_table(names, kept=kept, today=today)
    text = to_csv(table)
    from store.pricing import parse_rates

    parse_rates(text, str(path), today=today)  # what is written reads back
    path.write_text(text, encoding="utf-8")
    return replace(table, source=str(path))
