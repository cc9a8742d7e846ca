"""One-time sign-in codes: issued through the API to a token's owner, kept as digests, single use
(even when redeemed twice at once), expiring after five minutes, worthless once the token that
asked is revoked, a few live ones per account; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from store.accounts import (
    CODE_LIFETIME,
    MAX_LIVE_CODES,
    TooManyCodes,
    create_account,
    issue_code,
    redeem_code,
    revoke_tokens,
    token_digest,
)
from store.api import create_app
from store.db import open_store
from store.settings import ServerSettings


@pytest.fixture
def engine(store_url):
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def signed_up(engine, name: str) -> tuple[int, str]:
    """An account and the digest of its first token."""
    account, token = create_account(engine, name)
    return account, token_digest(token)


def test_a_code_signs_in_once_as_the_token_that_asked(engine):
    alice, token = signed_up(engine, "alice")
    code, expires = issue_code(engine, alice, token)
    assert expires - datetime.now(UTC) <= CODE_LIFETIME
    assert redeem_code(engine, code) == (alice, token)
    assert redeem_code(engine, code) is None  # spent
    with engine.connect() as conn:
        kept = conn.execute(sa.text("select code_sha256 from sign_in_code")).scalars().all()
    assert kept == [token_digest(code)]  # never the code itself


def test_a_code_expires(engine):
    alice, token = signed_up(engine, "alice")
    code, expires = issue_code(engine, alice, token)
    assert redeem_code(engine, code, now=expires + timedelta(seconds=1)) is None
    assert redeem_code(engine, code, now=expires - timedelta(seconds=1)) == (alice, token)


def test_a_revoked_token_makes_its_codes_worthless(engine):
    alice, token = signed_up(engine, "alice")
    code, _ = issue_code(engine, alice, token)
    revoke_tokens(engine, "alice")
    assert redeem_code(engine, code) is None


def test_a_code_is_tied_to_its_own_account(engine):
    """A code names the account whose token asked for it, and a token of another account
    cannot be slipped into one."""
    alice, alice_token = signed_up(engine, "alice")
    bob, bob_token = signed_up(engine, "bob")
    code, _ = issue_code(engine, alice, alice_token)
    assert redeem_code(engine, code) == (alice, alice_token)
    forged, _ = issue_code(engine, alice, bob_token)  # (a caller that mixed them up)
    assert redeem_code(engine, forged) is None


@pytest.mark.parametrize("code", ["", "ctc_" + "x" * 32, "x" * 10_000, "' or 1=1 --"])
def test_unknown_codes_redeem_nothing(engine, code):
    assert redeem_code(engine, code) is None


def test_two_redeemers_at_once_cannot_both_win(engine):
    alice, token = signed_up(engine, "alice")
    for _ in range(3):
        code, _ = issue_code(engine, alice, token)
        results: list[object] = []
        start = threading.Barrier(4)

        def redeem(code: str = code, results: list = results, start=start) -> None:
            start.wait()
            results.append(redeem_code(engine, code))

        threads = [threading.Thread(target=redeem) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results, key=bool) == [None, None, None, (alice, token)]


def test_an_account_holds_only_a_few_live_codes(engine):
    alice, token = signed_up(engine, "alice")
    codes = [issue_code(engine, alice, token)[0] for _ in range(MAX_LIVE_CODES)]
    with pytest.raises(TooManyCodes, match="still unused"):
        issue_code(engine, alice, token)
    redeem_code(engine, codes[0])
    issue_code(engine, alice, token)  # a spent code frees its place
    later = datetime.now(UTC) + CODE_LIFETIME + timedelta(seconds=1)
    issue_code(engine, alice, token, now=later)  # and so do expired ones, which are cleared
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from sign_in_code")).scalar() == 1


@pytest.fixture
def app_url_server(store_url):
    settings = ServerSettings(
        store_url,
        open_signup=True,
        app_url="https://board.example.org/",
        rate_limit_per_minute=10_000,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_the_api_hands_out_codes_with_the_dashboard_link(app_url_server):
    made = app_url_server.post("/api/v1/accounts", json={"name": "alice"}).json()
    auth = {"Authorization": f"Bearer {made['token']}"}
    answer = app_url_server.post("/api/v1/me/sign-in-code", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["url"] == f"https://board.example.org/?signin={body['code']}"
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)
    engine = app_url_server.app.state.engine
    assert redeem_code(engine, body["code"]) == (made["account_id"], token_digest(made["token"]))
    for _ in range(MAX_LIVE_CODES):
        app_url_server.post("/api/v1/me/sign-in-code", headers=auth)
    assert app_url_server.post("/api/v1/me/sign-in-code", headers=auth).status_code == 429
    assert app_url_server.post("/api/v1/me/sign-in-code").status_code == 401


def test_without_the_dashboards_address_a_code_has_no_link(store_url, monkeypatch):
    monkeypatch.delenv("CODEXTIME_APP_URL", raising=False)
    app = create_app(ServerSettings(store_url, open_signup=True))
    with TestClient(app) as client:
        token = client.post("/api/v1/accounts", json={"name": "bob"}).json()["token"]
        body = client.post(
            "/api/v1/me/sign-in-code", headers={"Authorization": f"Bearer {token}"}
        ).json()
    app.state.engine.dispose()
    assert body["url"] is None and body["code"].startswith("ctc_")


def test_the_dashboards_address_comes_from_the_environment_and_must_be_http(monkeypatch):
    monkeypatch.setenv("CODEXTIME_APP_URL", "https://usage.example.org/")
    assert ServerSettings("sqlite://").app_url == "https://usage.example.org"
    assert ServerSettings("sqlite://", app_url="http://x.test").app_url == "http://x.test"
    with pytest.raises(ValueError, match="must start with https://"):
        ServerSettings("sqlite://", app_url="javascript:alert(1)")
