"""The Leaderboard and profiles in a real browser (Debian's Chromium through Playwright), over a
real Streamlit server and a real store on SQLite: search, pages, a profile opened from its name.
Screenshots land in tests/screenshots/ (not committed) to be looked at."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from store.accounts import create_account
from store.db import insert_usage, open_store
from store.models import Account
from tests import rollout
from tests.test_browser import SHOTS, serve, settle
from tests.test_leaderboard_cli import serving

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC).replace(microsecond=0)
HOSTILE = "![x](http://attacker.invalid/x.png)"
PEOPLE = 130
WIDE, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 844}


def usage(n: int, days_ago: int, tokens: int, model: str) -> dict:
    return dict(
        ts=NOW - timedelta(days=days_ago, minutes=n % 500),
        model=model,
        tier="standard",
        input=tokens,
        cached=tokens // 4,
        cache_write=0,
        output=tokens // 10,
        reasoning=0,
        event_id=f"{n:032x}",
        session=f"{n % 7:032x}",
        label="desk",
    )


@pytest.fixture(scope="module")
def board_url(tmp_path_factory):
    """130 opted-in accounts (user000 the smallest, user129 the largest), one whose stored name
    is an image in Markdown, and one that keeps off the board."""
    work = tmp_path_factory.mktemp("board")
    db = f"sqlite:///{work / 'store.db'}"
    engine = open_store(db)
    n = 0
    for i in range(PEOPLE):
        account, _ = create_account(engine, f"user{i:03d}")
        rows = []
        for day in range(0, 60, 1 + i % 5):
            rows.append(usage(n, day, 10_000 * (i + 1), ("gpt-5", "gpt-5.1-codex")[day % 2]))
            n += 1
        insert_usage(engine, account, rows)
    for name in ("mallory", "shy"):
        account, _ = create_account(engine, name)
        insert_usage(engine, account, [usage(n + k, k, 5_000, "o3") for k in range(3)])
        n += 3
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(a.update().where(a.c.name != "shy").values(leaderboard_opt_in=True))
        conn.execute(a.update().where(a.c.name == "mallory").values(name=HOSTILE))
    engine.dispose()
    with serve(db, work) as base:
        yield base


def drawn(page: Page) -> None:
    """Wait until the board's table is drawn (its canvas), not just laid out."""
    expect(page.locator("[data-testid='stDataFrame'] canvas").first).to_be_visible()
    page.wait_for_timeout(500)


def caption(page: Page, pattern: str):
    return page.locator("[data-testid='stCaptionContainer']").filter(has_text=re.compile(pattern))


POINTERS = """() => Array.from(document.querySelectorAll("[data-testid=stDataFrame] *"))
    .filter(e => getComputedStyle(e).cursor === "pointer").length"""


def open_name(page: Page, row: int):
    """Click the display name in row ``row`` (0: the first) of the board's table; the profile
    opens in a new tab. The grid is drawn on a canvas: the name is found by moving across the row
    until the grid shows the pointer of a link."""
    box = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    height = 35  # of a row of Streamlit's grid, the header's too
    y = box["y"] + height * (row + 1) + height // 2
    page.mouse.move(box["x"] + 2, y)
    page.wait_for_timeout(100)
    plain = page.evaluate(POINTERS)
    for x in range(10, int(box["width"]), 10):
        page.mouse.move(box["x"] + x, y)
        page.wait_for_timeout(50)
        if page.evaluate(POINTERS) > plain:
            break
    else:
        pytest.fail("no link in that row")
    with page.context.expect_page() as opened:
        page.mouse.click(box["x"] + x, y)
    profile = opened.value
    profile.wait_for_load_state()
    settle(profile)
    return profile


def test_the_board_searches_pages_and_opens_a_profile(page: Page, board_url):
    page.set_viewport_size(WIDE)
    page.goto(f"{board_url}/leaderboard")
    settle(page)
    expect(page.get_by_role("heading", name="Leaderboard").first).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    expect(caption(page, "^Rows 1–100 of 131$")).to_be_visible()
    expect(caption(page, "Plausibility-checked")).to_be_visible()
    drawn(page)
    page.screenshot(path=SHOTS / "board_wide.png")

    page.get_by_label("Page", exact=True).and_(page.locator("input")).fill("2")
    page.get_by_label("Page", exact=True).and_(page.locator("input")).press("Enter")
    settle(page)
    expect(caption(page, "^Rows 101–131 of 131$")).to_be_visible()

    search = page.get_by_label("Search", exact=True).and_(page.locator("input"))
    search.fill("user12")
    search.press("Enter")
    settle(page)
    expect(caption(page, "^Rows 1–10 of 10$")).to_be_visible()
    assert "q=user12" in page.url
    page.screenshot(path=SHOTS / "board_search.png")

    search.fill("user129")
    search.press("Enter")
    settle(page)
    profile = open_name(page, 0)
    assert profile.url.endswith("/profile?name=user129")
    expect(profile.get_by_role("heading", name="Profile of user129")).to_be_visible()
    assert profile.locator("[data-testid='stException']").count() == 0
    calendar = profile.locator("[data-testid='stVegaLiteChart']").first
    expect(calendar.locator("canvas, svg").first).to_be_visible()
    expect(profile.get_by_text("Longest streak")).to_be_visible()
    profile.set_viewport_size(WIDE)
    profile.screenshot(path=SHOTS / "profile_wide.png", full_page=True)


def test_board_and_profile_on_a_phone(page: Page, board_url):
    page.set_viewport_size(PHONE)
    page.goto(f"{board_url}/leaderboard")
    settle(page)
    drawn(page)
    page.screenshot(path=SHOTS / "board_phone.png")
    page.goto(f"{board_url}/profile?name=user064")
    settle(page)
    expect(page.get_by_role("heading", name="Profile of user064")).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=SHOTS / "profile_phone.png", full_page=True)


def test_a_hostile_name_is_text_on_the_board_and_its_profile(page: Page, board_url):
    asked: list[str] = []
    page.context.on("request", lambda request: asked.append(request.url))
    page.set_viewport_size(WIDE)
    page.goto(f"{board_url}/leaderboard?q=attacker")
    settle(page)
    expect(caption(page, "^Rows 1–1 of 1$")).to_be_visible()
    profile = open_name(page, 0)
    expect(profile.get_by_role("heading", name=f"Profile of {HOSTILE}")).to_be_visible()
    assert profile.locator("img[src*='attacker'], a[href*='attacker.invalid']").count() == 0
    profile.screenshot(path=SHOTS / "profile_hostile.png")
    assert not [url for url in asked if urlsplit(url).hostname == "attacker.invalid"]


def test_a_private_name_has_no_profile(page: Page, board_url):
    page.goto(f"{board_url}/profile?name=shy")
    settle(page)
    expect(page.get_by_text("No public profile here.")).to_be_visible()
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 0


def codex_home(home: Path, days: list[int]) -> Path:
    """Codex logs of one session a day on each of ``days`` (days ago), as Codex writes them."""
    for n, ago in enumerate(days):
        when = NOW - timedelta(days=ago, minutes=5)
        ts = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        spent = rollout.usage(40_000 + 1_000 * n, 10_000, 2_000, 500)
        sid = f"019a152d-35a0-72a0-91db-{n:012x}"
        rollout.write(
            rollout.session_path(home, when.strftime("%Y-%m-%dT%H-%M-%S"), sid),
            [
                rollout.meta(ts, sid),
                rollout.turn(ts, "gpt-5"),
                rollout.token_count(ts, spent, spent),
            ],
        )
    return home


def cli(*args: str, **env: str) -> str:
    """`codextime ARGS` as its own process (this test's config folders); its output."""
    done = subprocess.run(
        [sys.executable, "-m", "collector", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_join_from_the_cli_then_find_yourself_on_the_board(page: Page, tmp_path, monkeypatch):
    """The whole path: sign up and sync with the CLI against a real ingest server, join the
    board, `codextime open` signs the browser in, the board shows your rank and your profile."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(db)
    for i, name in enumerate(["ann", "ben", "cy"]):
        account, _ = create_account(engine, name)
        insert_usage(
            engine, account, [usage(1000 * i + k, k, 30_000 * (i + 1), "o3") for k in range(4)]
        )
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(a.update().values(leaderboard_opt_in=True))
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    monkeypatch.setenv("CODEX_HOME", str(codex_home(tmp_path / "codex", [0, 1, 2, 5])))
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {opened}\n')
    browser.chmod(stat.S_IRWXU)
    with serve(db, tmp_path) as app, serving(db, open_signup=True, app_url=app) as server:
        cli("login", "--server", server.url, "--name", "zoe")
        assert "4 new records" in cli("sync")
        cli("leaderboard", "join")
        shown = cli("open", BROWSER=f"{browser} %s")
        link = opened.read_text().strip()
        assert link.startswith(f"{app}/?signin=") and link in shown

        page.set_viewport_size(WIDE)
        page.goto(link)
        settle(page)
        expect(page.get_by_text("Signed in as zoe")).to_be_visible()
        assert "signin" not in page.url
        expect(page.locator("h3").filter(has_text="tokens all time")).to_contain_text("174,000")
        page.get_by_role("link", name="Leaderboard").click()
        settle(page)
        expect(page.get_by_text("You (zoe) are #3 of 4.")).to_be_visible()
        expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
        settle(page)
        page.screenshot(path=SHOTS / "board_signed_in.png")
        search = page.get_by_label("Search", exact=True).and_(page.locator("input"))
        search.fill("zoe")
        search.press("Enter")
        settle(page)
        expect(caption(page, "^Rows 1–1 of 1$")).to_be_visible()
        profile = open_name(page, 0)
        expect(profile.get_by_role("heading", name="Profile of zoe")).to_be_visible()
        expect(profile.get_by_text("4 active days")).to_be_visible()
        expect(
            profile.locator("[data-testid='stMetric']").filter(has_text="Current streak")
        ).to_contain_text("3 days")
        profile.screenshot(path=SHOTS / "profile_joined.png", full_page=True)
