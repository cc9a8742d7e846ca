"""The ingest service on SQLite and PostgreSQL: contract, validation, limits and isolation."""

from __future__ import annotations

import gzip
import hmac
import logging
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from store.api import create_app
from store.fields import iso_utc
from store.settings import ServerSettings


def rec(n: int, **over) -> dict:
    base = dict(
        ts="2026-03-01T10:00:00.000Z",
        model="gpt-5",
        input=1000 + n,
        cached=100,
        output=50,
        reasoning=5,
        event_id=f"{n:032x}",
        session="c" * 32,
    )
    return {**base, **over}


@pytest.fixture
def server(store_url):
    app = create_app(ServerSettings(store_url, open_signup=True, rate_limit_per_minute=10_000))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def sign_up(client, name: str) -> dict:
    made = client.post("/api/v1/accounts", json={"name": name})
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def post(client, headers, records, **kwargs):
    return client.post("/api/v1/usage", json={"records": records}, headers=headers, **kwargs)


def test_health_and_openapi(server):
    assert server.get("/healthz").json() == {"status": "ok"}
    spec = server.get("/openapi.json").json()
    assert {"/api/v1/usage", "/api/v1/accounts", "/api/v1/me", "/api/v1/me/usage"} <= set(
        spec["paths"]
    )
    body = spec["paths"]["/api/v1/usage"]["post"]["requestBody"]["content"]["application/json"]
    assert "records" in body["schema"]["properties"]


def test_upload_is_idempotent_and_says_what_was_new(server):
    me = sign_up(server, "alice")
    assert post(server, me, [rec(1), rec(2)]).json() == {"received": 2, "new": 2}
    assert post(server, me, [rec(1), rec(2), rec(3)]).json() == {"received": 3, "new": 1}
    assert server.get("/api/v1/me", headers=me).json()["records"] == 3


def test_tier_and_cache_write_are_stored_and_older_collectors_get_the_defaults(server):
    """A collector from before tiers and cache writes sends neither: its records are stored as
    "unknown" and 0, what its logs said of them (nothing)."""
    from store.db import usage_rows
    from store.fields import CACHE_WRITE, EVENT_ID, TIER

    me = sign_up(server, "alice")
    newer = rec(1, tier="priority", cache_write=300)
    older = rec(2)
    assert "tier" not in older and "cache_write" not in older
    assert post(server, me, [newer, older]).json() == {"received": 2, "new": 2}
    stored = {r[EVENT_ID]: (r[TIER], r[CACHE_WRITE]) for r in usage_rows(server.app.state.engine)}
    assert stored == {newer["event_id"]: ("priority", 300), older["event_id"]: ("unknown", 0)}


def test_the_usage_schema_lists_the_tiers(server):
    from store.fields import TIERS

    spec = server.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/usage"]["post"]["requestBody"]["content"]["application/json"]
    record = body["schema"]["$defs"]["UsageRecord"]["properties"]
    assert tuple(record["tier"]["enum"]) == TIERS
    assert record["cache_write"]["maximum"] == record["input"]["maximum"]


def test_gzip_bodies_are_accepted(server):
    me = sign_up(server, "alice")
    body = gzip.compress(orjson.dumps({"records": [rec(1)]}))
    answer = server.post(
        "/api/v1/usage",
        content=body,
        headers={**me, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.json() == {"received": 1, "new": 1}


@pytest.mark.parametrize(
    "bad, where, why",
    [
        ({"cwd": "/home/me"}, ["records", 1, "cwd"], "Extra inputs"),
        ({"input": -5}, ["records", 1, "input"], "greater than or equal"),
        ({"cached": 5000}, ["records", 1], "cached + cache_write must not exceed input"),
        ({"cache_write": 950}, ["records", 1], "cached + cache_write must not exceed input"),
        ({"cache_write": -1}, ["records", 1, "cache_write"], "greater than or equal"),
        ({"cache_write": "7"}, ["records", 1, "cache_write"], "valid integer"),
        ({"cache_write": 4_000_001}, ["records", 1, "cache_write"], "less than or equal"),
        ({"tier": "turbo"}, ["records", 1, "tier"], "Input should be 'standard'"),
        ({"tier": None}, ["records", 1, "tier"], "Input should be 'standard'"),
        ({"tier": 1}, ["records", 1, "tier"], "Input should be 'standard'"),
        ({"reasoning": 60}, ["records", 1], "reasoning must not exceed output"),
        ({"event_id": "not-a-hash"}, ["records", 1, "event_id"], "pattern"),
        ({"ts": "2026-03-01T10:00:00"}, ["records", 1, "ts"], "timezone"),
    ],
)
def test_invalid_records_are_refused_saying_which_and_why(server, bad, where, why):
    me = sign_up(server, "alice")
    answer = post(server, me, [rec(0), rec(1, **bad)])
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert any(d["loc"][: len(where)] == where and why in d["msg"] for d in detail), detail
    assert server.get("/api/v1/me", headers=me).json()["records"] == 0  # nothing half-stored


def test_implausible_times_are_refused(server):
    me = sign_up(server, "alice")
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    answer = post(server, me, [rec(0), rec(1, ts=future)])
    assert answer.status_code == 422 and "record 1" in answer.text and "future" in answer.text
    old = post(server, me, [rec(0, ts="2025-03-31T23:59:59Z")])
    assert old.status_code == 422 and "before 2025-04-01" in old.text
    fine = post(server, me, [rec(0, ts=(datetime.now(UTC) + timedelta(hours=20)).isoformat())])
    assert fine.status_code == 200


def test_other_bad_bodies(server):
    me = sign_up(server, "alice")
    assert server.post("/api/v1/usage", content=b"{nope", headers=me).status_code == 422
    assert (
        server.post("/api/v1/usage", json={"records": [], "account": 2}, headers=me).status_code
        == 422
    )
    broken_gzip = {**me, "Content-Encoding": "gzip"}
    assert server.post("/api/v1/usage", content=b"plain", headers=broken_gzip).status_code == 400


def test_bodies_over_ten_megabytes_are_refused(server):
    me = sign_up(server, "alice")
    big = b'{"records": [' + b" " * (10 * 1024 * 1024) + b"]}"
    assert server.post("/api/v1/usage", content=big, headers=me).status_code == 413
    # A small gzip that inflates past the limit is refused too.
    bomb = gzip.compress(big)
    assert len(bomb) < 100_000
    answer = server.post("/api/v1/usage", content=bomb, headers={**me, "Content-Encoding": "gzip"})
    assert answer.status_code == 413


@pytest.mark.parametrize("auth", [None, "Bearer ", "Bearer ctk_wrong", "Basic abc"])
def test_missing_or_wrong_tokens_get_401(server, auth):
    headers = {"Authorization": auth} if auth else {}
    assert post(server, headers, [rec(1)]).status_code == 401
    assert server.get("/api/v1/me", headers=headers).status_code == 401
    assert server.delete("/api/v1/me/usage", headers=headers).status_code == 401


def test_accounts_are_isolated(server):
    alice, bob = sign_up(server, "alice"), sign_up(server, "bob")
    post(server, alice, [rec(1), rec(2)])
    post(server, bob, [rec(1)])  # the same event in another account is that account's own
    assert server.get("/api/v1/me", headers=alice).json()["records"] == 2
    assert server.get("/api/v1/me", headers=bob).json()["records"] == 1
    # Bob can change and erase only his own account.
    assert server.patch("/api/v1/me", json={"name": "alice"}, headers=bob).status_code == 409
    assert server.patch("/api/v1/me", json={"account_id": 1}, headers=bob).status_code == 422
    assert server.delete("/api/v1/me/usage", headers=bob).json() == {"deleted": 1}
    assert server.get("/api/v1/me", headers=alice).json()["records"] == 2
    assert server.get("/api/v1/me", headers=alice).json()["name"] == "alice"


def test_profile_changes(server):
    me = sign_up(server, "alice")
    assert server.get("/api/v1/me", headers=me).json()["leaderboard_opt_in"] is False
    changed = server.patch(
        "/api/v1/me",
        json={"leaderboard_opt_in": True, "default_label": "laptop", "name": "Alice B"},
        headers=me,
    ).json()
    assert changed["leaderboard_opt_in"] is True and changed["name"] == "Alice B"
    post(server, me, [rec(1), rec(2, label="desktop")])
    engine = server.app.state.engine
    with engine.connect() as conn:
        labels = sorted(r[0] for r in conn.execute(sa.text("select label from usage")))
    assert labels == ["desktop", "laptop"]


def test_signup_rules(server, store_url):
    assert server.post("/api/v1/accounts", json={"name": "../etc"}).status_code == 422
    sign_up(server, "alice")
    assert server.post("/api/v1/accounts", json={"name": "alice"}).status_code == 409
    closed = create_app(ServerSettings(store_url, open_signup=False))
    with TestClient(closed) as client:
        assert client.post("/api/v1/accounts", json={"name": "carol"}).status_code == 403
    closed.state.engine.dispose()


def test_tokens_are_stored_only_as_hashes_and_compared_in_constant_time(server, monkeypatch):
    made = server.post("/api/v1/accounts", json={"name": "alice"}).json()
    token = made["token"]
    with server.app.state.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.text("select * from api_token"))]
        everything = repr(stored) + repr(list(conn.execute(sa.text("select * from account"))))
    assert token not in everything
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert server.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert compared


def test_revoked_tokens_stop_working(server):
    from store.accounts import issue_token, revoke_tokens

    me = sign_up(server, "alice")
    engine = server.app.state.engine
    assert revoke_tokens(engine, "alice") == 1
    assert server.get("/api/v1/me", headers=me).status_code == 401
    fresh = {"Authorization": f"Bearer {issue_token(engine, 'alice')}"}
    assert server.get("/api/v1/me", headers=fresh).status_code == 200


def test_rate_limit_per_token(store_url):
    app = create_app(ServerSettings(store_url, open_signup=True, rate_limit_per_minute=5))
    with TestClient(app) as client:
        me = sign_up(client, "alice")
        codes = [client.get("/api/v1/me", headers=me).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        other = sign_up(client, "bob")
        assert client.get("/api/v1/me", headers=other).status_code == 200
    app.state.engine.dispose()


def test_request_log_has_no_body_and_no_token(server, caplog):
    made = server.post("/api/v1/accounts", json={"name": "alice"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    with caplog.at_level(logging.INFO, logger="codextime.server"):
        post(server, headers, [rec(1, model="gpt-5-CANARY")])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /api/v1/usage 200" in logged
    assert made["token"] not in logged and "CANARY" not in logged


def test_records_labelled_demo_are_refused_naming_each(server):
    """The label "demo" is reserved for synthetic data: a server never stores it as usage."""
    me = sign_up(server, "alice")
    answer = post(server, me, [rec(1), rec(2, label="demo"), rec(3, label="laptop")])
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert [(d["record"], d["loc"][-1]) for d in detail] == [(1, "label")]
    assert "demo data is never accepted by a server" in detail[0]["msg"]
    assert server.get("/api/v1/me", headers=me).json()["records"] == 0  # the batch, not a part


def test_the_default_label_cannot_be_demo(server):
    me = sign_up(server, "alice")
    answer = server.patch("/api/v1/me", json={"default_label": "demo"}, headers=me)
    assert answer.status_code == 422
    assert "demo data is never accepted by a server" in answer.text
    assert server.get("/api/v1/me", headers=me).json()["default_label"] is None
    assert server.patch("/api/v1/me", json={"default_label": "demo2"}, headers=me).is_success


@pytest.mark.parametrize("label", ["Demo", " demo", "DEMO", "Ｄｅｍｏ"])
def test_every_spelling_of_demo_is_refused_as_a_label_and_a_default_label(server, label):
    me = sign_up(server, "alice")
    answer = post(server, me, [rec(1, label=label)])
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "label"
    answer = server.patch("/api/v1/me", json={"default_label": label}, headers=me)
    assert answer.status_code == 422
    assert server.get("/api/v1/me", headers=me).json()["records"] == 0


def test_an_account_whose_default_label_is_already_demo_stores_no_unlabelled_records(server):
    """An account given the label before it was reserved: its unlabelled records would be
    stored as demo data, so they are refused; labelled ones are stored as they are."""
    me = sign_up(server, "alice")
    with server.app.state.engine.begin() as conn:
        conn.execute(sa.text("update account set default_label = 'demo'"))
    refused = post(server, me, [rec(1)])
    assert refused.status_code == 422 and refused.json()["detail"][0]["record"] == 0
    assert post(server, me, [rec(2, label="laptop")]).json() == {"received": 1, "new": 1}


def test_me_tells_the_records_span_rank_and_profile(store_url):
    app = create_app(ServerSettings(store_url, open_signup=True, app_url="https://b.example.org"))
    with TestClient(app) as client:
        me, rival = sign_up(client, "Ann Lee"), sign_up(client, "rival")
        today = datetime.now(UTC).replace(microsecond=0)
        old, new = today - timedelta(days=40), today - timedelta(hours=2)
        post(client, me, [rec(1, ts=iso_utc(old)), rec(2, ts=iso_utc(new))])
        post(client, rival, [rec(3, ts=iso_utc(new), input=90_000)])
        shown = client.get("/api/v1/me", headers=me).json()
        assert (shown["first_record"], shown["last_record"]) == (iso_utc(old), iso_utc(new))
        assert shown["flagged"] == {} and shown["rank_30d"] is None  # not on the board
        assert shown["profile_url"] is None
        for auth in (me, rival):
            client.patch("/api/v1/me", json={"leaderboard_opt_in": True}, headers=auth)
        shown = client.get("/api/v1/me", headers=me).json()
        assert shown["rank_30d"] == 2
        assert shown["profile_url"] == "https://b.example.org/profile?name=Ann%20Lee"
        empty = client.get("/api/v1/me", headers=sign_up(client, "new")).json()
        assert (empty["first_record"], empty["last_record"]) == (None, None)
    app.state.engine.dispose()


def test_deleting_the_account_takes_everything_of_it(server):
    me, other = sign_up(server, "alice"), sign_up(server, "bob")
    bob = server.get("/api/v1/me", headers=other).json()["account_id"]
    post(server, me, [rec(1), rec(2)])
    post(server, other, [rec(1)])
    assert server.post("/api/v1/me/sign-in-code", headers=me).status_code == 200
    refused = server.delete("/api/v1/me", params={"confirm": "bob"}, headers=me)
    assert refused.status_code == 422 and "nothing was deleted" in refused.text
    assert server.delete("/api/v1/me", headers=me).status_code == 422  # confirm is required
    assert server.get("/api/v1/me", headers=me).json()["records"] == 2
    gone = server.delete("/api/v1/me", params={"confirm": "ALICE"}, headers=me)
    assert gone.json() == {"deleted_records": 2}
    assert server.get("/api/v1/me", headers=me).status_code == 401  # its token went too
    engine = server.app.state.engine
    with engine.connect() as conn:
        for table, owner in (
            ("account", "id"),
            ("api_token", "account_id"),
            ("usage", "account_id"),
            ("daily_rollup", "account_id"),
            ("sign_in_code", "account_id"),
        ):
            owners = set(conn.execute(sa.text(f"select {owner} from {table}")).scalars())
            assert owners <= {bob}, table  # bob's only (he asked for no code)
    assert server.get("/api/v1/me", headers=other).json()["records"] == 1
    assert sign_up(server, "alice")  # the name is free again
