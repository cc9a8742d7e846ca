"""The what-if's rate tables: the published table with the viewer's assumptions, marked as theirs.

Pure functions (no Streamlit): the page keeps the assumptions in its session and downloads the
result as a CSV that ``codextime report --rates`` reads back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from store.fields import has_control_chars
from store.pricing import ANALYST, Rate, RateTable, adjusted, normalise

#: A row is flagged as stale once its price has gone unchecked for longer than this.
STALE_AFTER = timedelta(days=90)
#: The note on every row the viewer changed or added.
ASSUMED = "the user's assumption in the what-if, not a published price"
#: Where an assumed price for a model with no published one points: OpenAI's price list, to
#: compare with (a rate table requires an https source on every row).
PRICE_LIST = "https://developers.openai.com/api/docs/pricing"

Prices = tuple[float, float, float]  # input, cached input, output: USD per million tokens


def is_stale(checked: date, today: date) -> bool:
    """Whether a price last checked on ``checked`` is older than ``STALE_AFTER``."""
    return today - checked > STALE_AFTER


def can_assume(model: str) -> bool:
    """Whether a stored model name can carry a price of the viewer's: a name a rate table can
    hold on one line and tell apart from the table's own names."""
    return bool(normalise(model)) and not has_control_chars(model) and "," not in model


def assumed_rate(model: str, prices: Prices, today: date) -> Rate:
    """A standard rate, in force on every day, that the viewer set for an unpriced ``model``."""
    inp, cached, out = prices
    return Rate(
        model=model,
        input=inp,
        cached=cached,
        output=out,
        source_url=PRICE_LIST,
        last_checked=today,
        origin=ANALYST,
        notes=ASSUMED,
    )


def with_assumptions(
    table: RateTable,
    *,
    multiplier: float = 1.0,
    edits: dict[str, Prices] | None = None,
    assumed: dict[str, Prices] | None = None,
    today: date,
) -> RateTable:
    """``table`` with prices for unpriced models (``assumed``), per-model ``edits`` of published
    standard rates and every rate times ``multiplier``. Every row whose prices differ from the
    published ones is marked as the viewer's (origin ``analyst`` and a note)."""
    extra = tuple(assumed_rate(m, p, today) for m, p in (assumed or {}).items())
    base = RateTable(table.rates + extra, table.source, table.mappings)
    mine = adjusted(base, multiplier=multiplier, edits=edits or {})
    rows = tuple(
        row if _same_prices(row, before) else _marked(row)
        for row, before in zip(mine.rates, base.rates, strict=True)
    )
    return RateTable(rows, mine.source, mine.mappings)


def _same_prices(row: Rate, before: Rate) -> bool:
    fields = ("input", "cached", "cache_write", "output")
    return all(getattr(row, f) == getattr(before, f) for f in fields)


def _marked(row: Rate) -> Rate:
    notes = row.notes if ASSUMED in row.notes else "; ".join(filter(None, (ASSUMED, row.notes)))
    return replace(row, origin=ANALYST, notes=notes)
