"""Guards on requests: rate limits per key, bounded, optionally gzipped bodies, and a small cache
of answers that anyone may ask for often."""

from __future__ import annotations

import contextlib
import threading
import time
import zlib

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse

#: Body limit of every route but the usage upload: a display name (50 characters), a label (100)
#: and a flag in JSON fit many times over.
SMALL_BODY_BYTES = 4 * 1024
#: The one route that takes large bodies (its own limit is ``ServerSettings.max_body_bytes``).
USAGE_PATH = "/api/v1/usage"


class RateLimiter:
    """A token bucket per key (a token's digest, or a client address): bursts up to a period's
    allowance, refilled continuously."""

    def __init__(self, allowance: int, period_seconds: float = 60.0) -> None:
        self.capacity = float(allowance)
        self.rate = allowance / period_seconds
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._period = period_seconds

    def check(self, key: str, *, spend: bool = True) -> None:
        """429 when ``key`` has no allowance left; else spend one (unless ``spend`` is False:
        a bucket that only failures draw from is checked first and spent on failure)."""
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens < 1:
                wait = (1 - tokens) / self.rate
                self._buckets[key] = (tokens, now)
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    "too many requests; slow down",
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            self._buckets[key] = (tokens - 1 if spend else tokens, now)
            if len(self._buckets) > 100_000:  # forget idle keys rather than grow without bound
                self._buckets = {
                    k: v for k, v in self._buckets.items() if now - v[1] < self._period
                }

    def spend(self, key: str) -> None:
        """Spend one of ``key``'s allowance, or nothing when none is left (never answers 429)."""
        with contextlib.suppress(HTTPException):
            self.check(key)


class TtlCache:
    """Values kept for ``seconds`` after they were put, in this process; at most ``size`` of
    them (past that, the expired go first, then the oldest), so keys sent by anyone cannot make
    it grow without bound."""

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds, self.size = seconds, size
        self._items: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        """The value kept under ``key``, or None when there is none or it expired."""
        found = self._items.get(key)
        return found[1] if found and found[0] > time.monotonic() else None

    def put(self, key: object, value: object) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) >= self.size:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
                while len(self._items) >= self.size:  # dicts keep insertion order: oldest first
                    del self._items[next(iter(self._items))]
            self._items[key] = (now + self.seconds, value)


def client_address(request: Request) -> str:
    """The peer's address (uvicorn puts a trusted proxy's forwarded address here)."""
    return request.client.host if request.client else "unknown"


def body_limit(path: str, usage_limit: int) -> int:
    """How many bytes a request body to ``path`` may have, before and after gzip."""
    return usage_limit if path == USAGE_PATH else SMALL_BODY_BYTES


def too_large(limit: int) -> HTTPException:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"body over {size}; send smaller requests"
    )


def declared_too_large(content_length: str | None, limit: int) -> bool:
    """Whether a Content-Length header already says the body is over ``limit``."""
    return bool(content_length and content_length.isdigit() and int(content_length) > limit)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed when gzipped; 413 past ``limit`` bytes either way."""
    if declared_too_large(request.headers.get("content-length"), limit):
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"content encoding {encoding[:20]!r}: use gzip"
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body is not valid gzip") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    if not inflater.eof:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "gzip body is truncated")
    return plain


class DeclaredBodyCap:
    """Refuses, before routing, authentication or reading a byte of it, a body whose declared
    Content-Length is over its route's limit. Bodies sent without a length are counted as they
    are read (``read_body``); routes that take no body never read one."""

    def __init__(self, app, usage_limit: int) -> None:
        self.app = app
        self.usage_limit = usage_limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            limit = body_limit(scope["path"], self.usage_limit)
            declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
            if declared_too_large(declared, limit):
                error = too_large(limit)
                answer = JSONResponse({"detail": error.detail}, status_code=error.status_code)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
