"""The ingest service against hostile requests, on SQLite and PostgreSQL: bounded bodies, short
errors, strict types, clean refusals, sign-up and authentication limits, plausibility flags."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from store.accounts import NameTaken, create_account, update_account
from store.api import create_app
from store.db import account_id, insert_usage, open_store
from store.settings import ServerSettings
from store.sql import MAX_TOKENS_PER_DAY, MAX_TOKENS_PER_MINUTE
from tests.test_api import post, rec, sign_up


def make_server(store_url, **settings):
    options = dict(open_signup=True, rate_limit_per_minute=10_000, signups_per_ip_per_hour=50)
    app = create_app(ServerSettings(store_url, **{**options, **settings}))
    return app, TestClient(app)


@pytest.fixture
def server(store_url):
    app, client = make_server(store_url)
    with client:
        yield client
    app.state.engine.dispose()


def bearer(client, name="alice") -> dict:
    return sign_up(client, name)


# -- 1. bodies ----------------------------------------------------------------------------


def big_requests(client, token):
    """Every route with a body far past its limit: (method, path, headers, body)."""
    small_route_body = b'{"name": "' + b"x" * 200_000 + b'"}'
    usage_body = b'{"records": [' + b" " * (11 * 1024 * 1024) + b"]}"
    return [
        ("POST", "/api/v1/accounts", {}, small_route_body),
        ("PATCH", "/api/v1/me", token, small_route_body),
        ("PATCH", "/api/v1/me", {}, small_route_body),  # no token: refused before reading too
        ("GET", "/api/v1/me", token, small_route_body),
        ("DELETE", "/api/v1/me/usage", token, small_route_body),
        ("POST", "/api/v1/usage", token, usage_body),
        ("POST", "/api/v1/usage", {}, usage_body),
    ]


def test_every_route_refuses_a_large_body_with_a_short_413(server):
    token = bearer(server)
    for method, path, headers, body in big_requests(server, token):
        answer = server.request(method, path, content=body, headers=headers)
        assert answer.status_code == 413, (method, path, answer.text[:200])
        assert len(answer.content) < 200 and "body over" in answer.json()["detail"]


def test_closed_signup_refuses_a_large_body_too(store_url):
    app, client = make_server(store_url, open_signup=False)
    with client:
        answer = client.post("/api/v1/accounts", content=b"{" + b" " * 1_000_000 + b"}")
    assert answer.status_code == 413
    app.state.engine.dispose()


def test_small_routes_count_bodies_sent_without_a_length_and_after_gzip(server):
    token = bearer(server)

    def chunks():
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    streamed = server.patch("/api/v1/me", content=chunks(), headers=token)
    assert streamed.status_code == 413
    bomb = gzip.compress(b'{"default_label": "' + b"y" * 100_000 + b'"}')
    assert len(bomb) < 4096
    inflated = server.patch(
        "/api/v1/me", content=bomb, headers={**token, "Content-Encoding": "gzip"}
    )
    assert inflated.status_code == 413
    fine = gzip.compress(b'{"default_label": "laptop"}')
    answer = server.patch("/api/v1/me", content=fine, headers={**token, "Content-Encoding": "gzip"})
    assert answer.json()["default_label"] == "laptop"


def test_errors_quote_at_most_a_short_excerpt(server):
    token = bearer(server)
    long_name = "n" * 3000  # under the body limit, far over the name's
    for answer in (
        server.post("/api/v1/accounts", json={"name": long_name}),
        server.patch("/api/v1/me", json={"name": long_name}, headers=token),
        post(server, token, [rec(1, model="m" * 3000)]),
    ):
        assert answer.status_code == 422
        assert len(answer.content) < 600 and "n" * 101 not in answer.text
        assert "m" * 101 not in answer.text


# -- 2 and 3. overflow, control characters, name races -------------------------------------


@pytest.mark.parametrize("count", [2**63, 2**64 - 1, 4_000_001])
def test_counts_past_the_bounds_are_422_naming_the_field(server, count):
    token = bearer(server)
    answer = post(server, token, [rec(1, input=count, cached=0)])
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["records", 0, "input"]


def test_the_store_refuses_counts_bigint_cannot_hold(store_url):
    engine = open_store(store_url)
    row = {**rec(1), "ts": datetime(2026, 3, 1, tzinfo=UTC), "output": 2**63, "label": None}
    with pytest.raises(ValueError, match="token count out of range"):
        insert_usage(engine, account_id(engine), [row])
    engine.dispose()


def test_plausibility_sums_never_overflow(store_url):
    """Rows past the record's bounds (a caller that bypasses it) still sum without error."""
    engine = open_store(store_url)
    me = account_id(engine)
    ts = datetime(2026, 3, 1, 12, tzinfo=UTC)
    huge = [
        {**rec(n), "ts": ts, "input": 2**62, "cached": 0, "output": 2**62, "label": None}
        for n in range(4)
    ]
    assert insert_usage(engine, me, huge) == 4
    with engine.connect() as conn:
        flags = {r[0] for r in conn.execute(sa.text("select flag from usage"))}
    assert flags == {"tokens_per_minute"}
    engine.dispose()


@pytest.mark.parametrize(
    "field, value", [("model", "gpt\x005"), ("label", "lap\x00top"), ("model", "a\nb")]
)
def test_control_characters_in_records_are_422(server, field, value):
    token = bearer(server)
    answer = post(server, token, [rec(1, **{field: value})])
    assert answer.status_code == 422
    assert "control characters" in answer.json()["detail"][0]["msg"]
    assert server.get("/api/v1/me", headers=token).json()["records"] == 0


def test_control_characters_in_account_fields_are_422(server):
    assert server.post("/api/v1/accounts", json={"name": "bad\x00name"}).status_code == 422
    assert server.post("/api/v1/accounts", json={"name": "alice\n"}).status_code == 201
    token = bearer(server, "bob")
    for change in ({"name": "b\x00b"}, {"default_label": "x\x00"}, {"default_label": "a\x1bb"}):
        answer = server.patch("/api/v1/me", json=change, headers=token)
        assert answer.status_code == 422, change
    assert server.get("/api/v1/me", headers=token).json()["default_label"] is None


def test_names_are_unique_regardless_of_case(server):
    bearer(server, "Alice")
    taken = server.post("/api/v1/accounts", json={"name": "alice"})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]
    bob = bearer(server, "bob")
    assert server.patch("/api/v1/me", json={"name": "ALICE"}, headers=bob).status_code == 409
    assert server.patch("/api/v1/me", json={"name": "Bob"}, headers=bob).json()["name"] == "Bob"


def test_the_database_decides_a_name_race(store_url):
    """Two accounts renamed to one name (any case): the unique index refuses the second, which
    is NameTaken, whatever the code checked before."""
    engine = open_store(store_url)
    first, _ = create_account(engine, "carol")
    second, _ = create_account(engine, "dave")
    update_account(engine, first, {"name": "Eve"})
    with pytest.raises(NameTaken):
        update_account(engine, second, {"name": "eve"})
    with pytest.raises(NameTaken):
        create_account(engine, "EVE")
    with engine.connect() as conn:
        names = sorted(r[0] for r in conn.execute(sa.text("select name from account")))
    assert names == ["Eve", "dave"]
    engine.dispose()


# -- 4. strict types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"input": "1000"},
        {"output": True},
        {"output": 50.0},
        {"ts": 1772359200},
        {"ts": "1772359200"},
        {"model": 5},
    ],
)
def test_counts_and_timestamps_must_have_their_json_types(server, bad):
    token = bearer(server)
    answer = post(server, token, [rec(1, **bad)])
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][:2] == ["records", 0]


def test_profile_fields_must_have_their_json_types(server):
    token = bearer(server)
    answer = server.patch("/api/v1/me", json={"leaderboard_opt_in": "true"}, headers=token)
    assert answer.status_code == 422
    assert server.get("/api/v1/me", headers=token).json()["leaderboard_opt_in"] is False


# -- 5. refusals name their records --------------------------------------------------------


def test_a_refusal_names_each_record_and_counts_the_rest(server):
    token = bearer(server)
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    records = [rec(i, ts=future) if i % 2 else rec(i) for i in range(60)]
    answer = post(server, token, records)
    assert answer.status_code == 422
    body = answer.json()
    assert [d["record"] for d in body["detail"]] == list(range(1, 40, 2))
    assert body["omitted"] == 10
    assert all("future" in d["msg"] for d in body["detail"])
    alone = post(server, token, [rec(0), rec(1, ts="2025-01-01T00:00:00Z")]).json()
    assert [(d["record"], d["msg"]) for d in alone["detail"]] == [
        (1, "record 1: dated before 2025-04-01")
    ]


# -- 6. plausibility -----------------------------------------------------------------------


def heavy(n: int, ts: datetime) -> dict:
    """A record at the bounds of one response: 4M input, 1M output."""
    stamp = ts.isoformat().replace("+00:00", "Z")
    return rec(n, ts=stamp, input=4_000_000, cached=0, output=1_000_000, reasoning=0)


def test_an_implausible_minute_is_kept_and_flagged(server):
    token = bearer(server)
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    over = MAX_TOKENS_PER_MINUTE // 5_000_000 + 1
    # Half the minute in one batch (plausible), the rest in another: the minute is judged whole.
    first = [heavy(i, start + timedelta(seconds=i)) for i in range(over // 2)]
    assert post(server, token, first).json()["new"] == len(first)
    assert server.get("/api/v1/me", headers=token).json()["flagged"] == {}
    rest = [heavy(i, start + timedelta(seconds=i)) for i in range(over // 2, over)]
    assert post(server, token, rest).json()["new"] == len(rest)
    calm = [rec(1000, ts="2026-03-01T12:01:00Z")]  # the next minute is fine
    post(server, token, calm)
    me = server.get("/api/v1/me", headers=token).json()
    assert me["records"] == over + 1
    assert me["flagged"] == {"tokens_per_minute": over}
    # Another account's records in the same minute are judged on their own.
    other = bearer(server, "bob")
    post(server, other, [heavy(0, start)])
    assert server.get("/api/v1/me", headers=other).json()["flagged"] == {}


def test_an_implausible_day_is_flagged_by_the_records_own_times(server):
    token = bearer(server)
    day = datetime(2026, 3, 2, tzinfo=UTC)
    per_minute = MAX_TOKENS_PER_MINUTE // 5_000_000  # each minute at its bound, not over
    needed = MAX_TOKENS_PER_DAY // 5_000_000 + 1
    records = [
        heavy(i, day + timedelta(minutes=i // per_minute, seconds=i % per_minute))
        for i in range(needed)
    ]
    assert post(server, token, records).status_code == 200
    assert server.get("/api/v1/me", headers=token).json()["flagged"] == {"tokens_per_day": needed}


def test_a_long_history_arriving_at_once_is_not_flagged(server):
    """A first sync: months of heavy days in one batch are plausible, judged by their times."""
    token = bearer(server)
    start = datetime(2025, 6, 1, 9, tzinfo=UTC)
    history = [heavy(i, start + timedelta(hours=6 * i)) for i in range(2000)]
    assert post(server, token, history).json()["new"] == 2000
    assert server.get("/api/v1/me", headers=token).json()["flagged"] == {}


# -- 7. sign-up and authentication limits per client address --------------------------------


def test_signups_are_limited_per_client_address(store_url):
    app, client = make_server(store_url, signups_per_ip_per_hour=3)
    with client:
        codes = [
            client.post("/api/v1/accounts", json={"name": f"u{i}"}).status_code for i in range(5)
        ]
    assert codes == [201, 201, 201, 429, 429]
    with app.state.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from account")).scalar_one() == 3
    app.state.engine.dispose()


def test_failed_authentications_are_limited_per_client_address(store_url):
    app, client = make_server(store_url, auth_failures_per_ip_per_minute=3)
    with client:
        token = sign_up(client, "alice")
        assert client.get("/api/v1/me", headers=token).status_code == 200  # success costs nothing
        wrong = {"Authorization": "Bearer ctk_guess"}
        codes = [client.get("/api/v1/me", headers=wrong).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        assert client.get("/api/v1/me").status_code == 429  # no token is a failure too
        # The right token still gets through from that address (others share it behind a NAT).
        assert client.get("/api/v1/me", headers=token).status_code == 200
    app.state.engine.dispose()


# -- 9. failures are logged and answered without detail -------------------------------------


def test_a_failing_route_is_logged_as_500_and_answered_generically(server, caplog):
    token = bearer(server)
    with server.app.state.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE usage"))
    with caplog.at_level(logging.INFO, logger="codextime.server"):
        answer = post(server, token, [rec(1, model="gpt-CANARY")])
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal server error"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /api/v1/usage 500" in logged
    assert "CANARY" not in logged and "Traceback" not in caplog.text


def test_openapi_still_describes_every_body(server):
    spec = server.get("/openapi.json").json()["paths"]
    for path, method, field in (
        ("/api/v1/accounts", "post", "name"),
        ("/api/v1/me", "patch", "default_label"),
        ("/api/v1/usage", "post", "records"),
    ):
        schema = spec[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert field in schema["properties"]


def test_json_bodies_still_parse_from_bytes(server):
    token = bearer(server)
    body = orjson.dumps({"leaderboard_opt_in": True})
    answer = server.patch("/api/v1/me", content=body, headers=token)
    assert answer.json()["leaderboard_opt_in"] is True
