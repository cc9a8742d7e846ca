"""Text the pages show: stored strings as plain text inside Streamlit's Markdown, the estimate
notes, and how counts and dollars are written.

Model names, labels and account names come from logs and uploads: anyone can put a link, an image
(which the viewer's browser would fetch), HTML, a heading or a line break in them. Streamlit renders
captions, Markdown, notices, metric labels and tooltips as Markdown, so a stored string goes there
only through ``inline_text``. Tables (st.dataframe), widget options and chart data show text as
text already.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from store.models import Usage

#: Longer stored strings are cut for display: the store's own bound on a model name or a label
#: (SQLite does not enforce a column's length).
LONGEST_SHOWN = Usage.__table__.c.model.type.length
#: Control and format characters (NUL, line breaks, escape sequences, bidirectional overrides) and
#: line or paragraph separators: shown as a replacement character, never acted on.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}
REPLACEMENT = "\ufffd"
_BACKTICKS = re.compile(r"`+")


def inline_text(value: str) -> str:
    """``value`` as Markdown that renders as exactly its characters, on one line.

    A code span: nothing inside one is a link, an image, HTML, emphasis, an emoji or a Streamlit
    directive, and, unlike backslash escapes, it also keeps a bare address from being turned into
    a link (Streamlit links addresses found in plain text after parsing). Its fence is one
    backtick longer than any run inside, and the spaces either side are dropped by the renderer.
    """
    if len(value) > LONGEST_SHOWN:
        value = value[: LONGEST_SHOWN - 1] + "…"
    shown = "".join(REPLACEMENT if unicodedata.category(ch) in _INVISIBLE else ch for ch in value)
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(shown)), default=0))
    return f"{fence} {shown} {fence}"


ESTIMATE_NOTE = (
    "API-equivalent = these tokens priced at OpenAI's published API list prices: an educational "
    "estimate, **not a bill and not an official price**. Codextime is not affiliated with OpenAI."
)
#: Under a chart in USD.
COST_NOTE = (
    "USD: API-equivalent at OpenAI's published API list prices, each day at the prices in force "
    "that day: an estimate, **not a bill and not an official price**."
)
#: Where a model has no price: the estimate is never $0, it is missing, and says why.
NO_PRICE = "— no published price"


def compact(n: float | int | None) -> str:
    """A count in K, M or B with two decimals; a dash for none."""
    if n is None:
        return "–"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,.0f}"


def dates_name(start: date | None, end: date | None) -> str:
    """A range of days as a card names it: ``3 Nov 2026``, ``1 – 30 Jun 2026``,
    ``3 Nov 2025 – 2 Jan 2026``, ``from 1 Jun 2026``; ``All time`` when both ends are open."""
    if start is None:
        return "All time" if end is None else f"until {end.day} {end:%b %Y}"
    first = f"{start.day} {start:%b %Y}"
    if end is None:
        return f"from {first}"
    if start == end:
        return first
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} – {end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{first} – {end.day} {end:%b %Y}"


def counted(n: int, noun: str) -> str:
    """``1 session``, ``2 sessions``: a count with its noun, plural when it is not one."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def usd(value: float | None) -> str:
    """Dollars and cents; a dash for none."""
    return "–" if value is None else f"${value:,.2f}"


def usd_or_reason(value: float | None) -> str:
    """A price, or the reason there is none."""
    return NO_PRICE if value is None else usd(value)
