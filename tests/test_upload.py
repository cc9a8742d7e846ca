"""The collector's HTTP sink: batches, gzip, retries, splitting, clear refusals (no live server)."""

from __future__ import annotations

import gzip

import httpx
import orjson
import pytest

from collector.upload import HttpSink, UploadError
from store.fields import ROW_FIELDS

ROW = dict(
    ts_ms=1_770_000_000_000,
    model="gpt-5",
    tier="flex",
    input=100,
    cached=10,
    cache_write=30,
    output=20,
    reasoning=5,
    event_id="a" * 32,
    session="b" * 32,
)


def rows(n: int) -> list[tuple]:
    """``n`` scanner rows, each its own response."""
    made = ({**ROW, "ts_ms": ROW["ts_ms"] + i, "event_id": f"{i:032x}"} for i in range(n))
    return [tuple(row[name] for name in ROW_FIELDS) for row in made]


def sink_with(handler, **kwargs) -> tuple[HttpSink, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return HttpSink(
        "http://ingest.test/", "ctk_t", client=client, sleep=slept.append, **kwargs
    ), slept


def records_of(request: httpx.Request) -> list[dict]:
    assert request.headers["content-encoding"] == "gzip"
    return orjson.loads(gzip.decompress(request.content))["records"]


def test_batches_are_gzipped_records_with_the_token():
    seen = []

    def handler(request):
        assert request.url == "http://ingest.test/api/v1/usage"
        assert request.headers["authorization"] == "Bearer ctk_t"
        seen.append(records_of(request))
        return httpx.Response(200, json={"received": len(seen[-1]), "new": len(seen[-1])})

    sink, _ = sink_with(handler, batch=2, label="laptop")
    assert sink(rows(5)) == 5
    assert [len(b) for b in seen] == [2, 2, 1]
    assert seen[0][0]["label"] == "laptop" and seen[0][0]["ts"].endswith("Z")
    assert (seen[0][0]["tier"], seen[0][0]["cache_write"]) == ("flex", 30)


def test_server_errors_and_timeouts_are_retried_with_backoff():
    answers = iter(["timeout", 502, 503, 200])

    def handler(request):
        answer = next(answers)
        if answer == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if answer == 200:
            return httpx.Response(200, json={"received": 3, "new": 2})
        return httpx.Response(answer)

    sink, slept = sink_with(handler, backoff=0.5)
    assert sink(rows(3)) == 2
    assert slept == [0.5, 1.0, 2.0]


def test_rate_limits_wait_as_told():
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), None])

    def handler(request):
        return next(answers) or httpx.Response(200, json={"received": 1, "new": 1})

    sink, slept = sink_with(handler, backoff=0.5)
    assert sink(rows(1)) == 1
    assert 7 in slept


def test_a_too_large_batch_is_split():
    sizes = []

    def handler(request):
        n = len(records_of(request))
        sizes.append(n)
        if n > 2:
            return httpx.Response(413)
        return httpx.Response(200, json={"received": n, "new": n})

    sink, _ = sink_with(handler, batch=8)
    assert sink(rows(5)) == 5
    assert sizes[0] == 5 and sum(s for s in sizes if s <= 2) == 5


def test_refusals_are_explained_not_retried():
    calls = 0

    def handler(request):
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(401)
        return httpx.Response(422, json={"detail": [{"msg": "record 0: bad"}]})

    sink, _ = sink_with(handler)
    with pytest.raises(UploadError, match="refused the token"):
        sink(rows(1))
    with pytest.raises(UploadError, match="record 0: bad"):
        sink(rows(1))
    assert calls == 2


def test_giving_up_says_why():
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    sink, slept = sink_with(handler, retries=3)
    with pytest.raises(UploadError, match="after 4 tries.*ConnectError"):
        sink(rows(1))
    assert len(slept) == 3
