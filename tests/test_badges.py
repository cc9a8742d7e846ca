"""README badges: an SVG of an opted-in account's tokens, public, cached (a warm hit asks the store
nothing), 404 for anyone not on the leaderboard, every text escaped; on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from store.api.routes.badges import compact, draw
from store.fields import iso_utc
from tests.test_api import post, rec, server, sign_up  # noqa: F401 (server: a fixture)

NOW = datetime.now(UTC)


def records(first: int, count: int, days_ago: int, inp: int) -> list[dict]:
    ts = iso_utc(NOW - timedelta(days=days_ago))
    return [
        rec(n, ts=ts, input=inp, cached=0, output=0, reasoning=0)
        for n in range(first, first + count)
    ]


@pytest.fixture
def alice(server):  # noqa: F811
    """An opted-in account with 12,300,000 tokens this month and 5,000,000 more long ago."""
    auth = sign_up(server, "alice")
    assert post(server, auth, records(0, 6, 1, 2_050_000)).status_code == 200
    assert post(server, auth, records(10, 5, 200, 1_000_000)).status_code == 200
    assert server.patch("/api/v1/me", json={"leaderboard_opt_in": True}, headers=auth).is_success
    return auth


def test_a_badge_shows_the_last_30_days_or_all_time(server, alice):  # noqa: F811
    answer = server.get("/api/v1/badges/alice.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert answer.headers["etag"].startswith('"')
    svg = ET.fromstring(answer.content)
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["Codex tokens", "12.3M / 30 days"]
    everything = server.get("/api/v1/badges/ALICE.svg", params={"period": "all"})
    assert "17.3M / all time" in everything.text
    assert server.get("/api/v1/badges/alice.svg", params={"period": "7d"}).status_code == 422


def test_no_badge_for_accounts_not_on_the_leaderboard(server):  # noqa: F811
    auth = sign_up(server, "shy")
    post(server, auth, records(0, 2, 1, 1000))
    for name in ("shy", "nobody", "%3Cscript%3E"):
        answer = server.get(f"/api/v1/badges/{name}.svg")
        assert answer.status_code == 404, name
        assert answer.headers["content-type"] == "image/svg+xml"
        assert "not found" in answer.text and "shy" not in answer.text
        ET.fromstring(answer.content)  # well-formed


def test_a_warm_badge_asks_the_store_nothing(server, alice):  # noqa: F811
    engine = server.app.state.engine
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    first = server.get("/api/v1/badges/alice.svg")
    asked = len(statements)
    assert asked > 0
    again = server.get("/api/v1/badges/Alice.svg")
    assert again.content == first.content and len(statements) == asked
    unchanged = server.get(
        "/api/v1/badges/alice.svg", headers={"If-None-Match": first.headers["etag"]}
    )
    assert unchanged.status_code == 304 and len(statements) == asked


def test_every_text_in_a_badge_is_escaped():
    svg = draw('<a href="x">&', "1 < 2")
    assert "<a href" not in svg and "&lt;a href=&quot;x&quot;&gt;&amp;" in svg
    ET.fromstring(svg)


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1_234, "1.2K"),
        (999_999, "1M"),
        (12_345_678, "12.3M"),
        (4 * 10**12, "4T"),
    ],
)
def test_figures_are_short(tokens, text):
    assert compact(tokens) == text
