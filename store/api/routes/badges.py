"""README badges (GET /api/v1/badges/{name}.svg): an opted-in account's tokens as a small SVG.

No sign-in: a badge is as public as the leaderboard, and shows only what it shows (tokens over the
last 30 days, or all time). Answers are kept for five minutes in this process, so a badge fetched
again and again (every README view) costs the store nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request, Response, status

from store.api.deps import EngineDep
from store.board import badge_tokens

router = APIRouter(prefix="/api/v1/badges", tags=["badges"])
#: How long a badge is kept, here and by browsers and proxies.
BADGE_SECONDS = 300
LABEL = "Codex tokens"
#: Average width of a character of the badge's 11px sans-serif text, in pixels, and the space
#: around each half's text: enough for the text to fit in common fonts.
CHAR_WIDTH = 7
PADDING = 6


#: A badge's period: the last 30 UTC days, or all time.
Period = Literal["30d", "all"]


@dataclass(frozen=True)
class Badge:
    status: int
    svg: bytes
    etag: str


@router.get(
    "/{name}.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, 404: {"content": {"image/svg+xml": {}}}},
)
def badge(name: str, request: Request, engine: EngineDep, period: Period = "30d"):
    """A badge of the tokens (input + output) the account named ``name`` (any case) spent over
    the last 30 UTC days (``period=30d``, the default) or all time (``period=all``); plausible
    usage only. 404, with a badge saying so, when no account of that name is on the
    leaderboard. Cached for five minutes; answers 304 to a matching If-None-Match."""
    key = (name.casefold(), period)
    cache = request.app.state.badges
    found = cache.get(key)
    if found is None:
        days = 30 if period == "30d" else None
        tokens = badge_tokens(engine, name, days=days)
        found = make_badge(tokens, period)
        cache.put(key, found)
    headers = {
        "Cache-Control": f"public, max-age={BADGE_SECONDS}",
        "ETag": found.etag,
    }
    if found.status == status.HTTP_200_OK and request.headers.get("if-none-match") == found.etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(found.svg, found.status, headers=headers, media_type="image/svg+xml")


def make_badge(tokens: int | None, period: Period) -> Badge:
    """The badge of ``tokens`` over ``period``; a "not found" badge (404) for None."""
    if tokens is None:
        svg, code = draw(LABEL, "not found"), status.HTTP_404_NOT_FOUND
    else:
        span = "30 days" if period == "30d" else "all time"
        svg, code = draw(LABEL, f"{compact(tokens)} / {span}"), status.HTTP_200_OK
    data = svg.encode()
    return Badge(code, data, f'"{hashlib.sha256(data).hexdigest()[:32]}"')


def compact(n: int) -> str:
    """``n`` in at most four significant characters and a unit: 999, 12.3K, 4.5M, 1.2B, 3T."""
    for size, unit in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= size - size // 2000:  # 999,950 is 1M, not 1000K
            value = n / size
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    return str(n)


def draw(label: str, value: str) -> str:
    """A two-part flat badge: ``label`` on grey, ``value`` on green (grey for "not found").
    Every text is escaped for XML."""
    left = len(label) * CHAR_WIDTH + 2 * PADDING
    right = len(value) * CHAR_WIDTH + 2 * PADDING
    width = left + right
    colour = "#9f9f9f" if value == "not found" else "#2e7d32"
    label, value = (escape(text, {'"': "&quot;"}) for text in (label, value))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{label}: {value}"><title>{label}: {value}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14" text-anchor="middle">{label}</text>'
        f'<text x="{left + right / 2}" y="14" text-anchor="middle">{value}</text></g></svg>'
    )
