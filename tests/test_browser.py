"""The app in a real browser (Debian's Chromium through Playwright), as its users see it.

One Streamlit server over a demo store serves the module. Each page must load with no exception
and draw its charts; moving a slider must change the estimate. Screenshots of every page land in
tests/screenshots/ (not committed) to be looked at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"
PAGES = {
    "": "Codex usage",
    "heatmap": "Heatmap",
    "models": "Models",
    "api_equivalent": "API-equivalent",
    "leaderboard": "Leaderboard",
    "privacy": "Privacy and method",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db: str, work: Path):
    """`streamlit run streamlit_app.py` over the store ``db``, on a free port."""
    port = free_port()
    env = {**os.environ, "CODEXTIME_DB": db, "HOME": str(work)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--global.developmentMode",
            "false",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/_stcore/health", timeout=1).text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("streamlit did not start: " + server.stderr.read().decode()[-2000:])
    SHOTS.mkdir(exist_ok=True)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from collector.demo import generate
    from collector.scan import ReadPlan
    from collector.sync import store_sink
    from store.db import account_id, open_store

    work = tmp_path_factory.mktemp("app")
    home = work / "codex"
    generate(home, end=datetime.now(UTC))
    db = f"sqlite:///{work / 'store.db'}"
    engine = open_store(db)
    sink = store_sink(engine, account_id(engine, "demo"), "demo")
    for result in ReadPlan(home).results():
        sink(result.rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("update account set leaderboard_opt_in = 1")
    engine.dispose()

    with serve(db, work) as base:
        yield base


def settle(page: Page) -> None:
    """Wait until the script has finished its run."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000
    )
    page.wait_for_timeout(500)


@pytest.mark.parametrize("path, title", PAGES.items())
def test_every_page_loads_without_an_exception_and_draws(page: Page, app_url, path, title):
    page.set_viewport_size({"width": 1400, "height": 2600})  # the app scrolls inside itself
    page.goto(f"{app_url}/{path}")
    settle(page)
    expect(page.get_by_role("heading", name=title).first).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    charts = page.locator("[data-testid='stVegaLiteChart']")
    if path in ("", "heatmap", "models", "api_equivalent"):
        expect(charts.first).to_be_visible()
        # Vega drew something: a canvas or an svg with marks.
        expect(charts.first.locator("canvas, svg").first).to_be_visible()
    if path:
        expect(
            page.get_by_text("DEMO DATA").first
        ).to_be_visible() if path != "privacy" and path != "leaderboard" else None
    page.screenshot(path=SHOTS / f"{path or 'overview'}.png", full_page=True)


def test_overview_shows_the_exact_total_with_separators(page: Page, app_url):
    page.goto(app_url)
    settle(page)
    heading = page.locator("h3").filter(has_text="tokens all time").first
    expect(heading).to_have_text(re.compile(r"^\d{1,3}(,\d{3})+ tokens all time"))


def test_moving_a_slider_changes_the_estimate(page: Page, app_url):
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.goto(f"{app_url}/api_equivalent")
    settle(page)
    mine = page.locator("[data-testid='stMetric']").filter(has_text="With your assumptions")
    before = mine.locator("[data-testid='stMetricValue']").inner_text()
    slider = page.get_by_role("slider").first  # "All rates times"
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    settle(page)
    after = mine.locator("[data-testid='stMetricValue']").inner_text()
    assert after != before
    assert float(after.strip("$").replace(",", "")) > float(before.strip("$").replace(",", ""))
    page.screenshot(path=SHOTS / "api_equivalent_after_slider.png", full_page=True)


def test_filters_live_in_the_url(page: Page, app_url):
    page.goto(f"{app_url}/models?models=gpt-5")
    settle(page)
    chosen = page.locator("[data-testid='stMultiSelect']").filter(has_text="Models")
    expect(chosen.get_by_text("gpt-5", exact=True).first).to_be_visible()
    page.screenshot(path=SHOTS / "models_filtered.png", full_page=True)


def test_a_deep_link_works_on_a_fresh_server(page: Page, tmp_path):
    """The first visit to a just-started server is a shared link to a page with a filter."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    from store.db import account_id, insert_usage, open_store

    engine = open_store(db)
    row = dict(
        ts=datetime(2026, 3, 2, 9, tzinfo=UTC),
        model="gpt-5",
        input=5000,
        cached=0,
        output=100,
        reasoning=0,
        event_id="a" * 32,
        session="b" * 32,
        label=None,
    )
    insert_usage(engine, account_id(engine), [row, {**row, "model": "o3", "event_id": "c" * 32}])
    engine.dispose()
    with serve(db, tmp_path) as base:
        page.goto(f"{base}/models?models=gpt-5")
        settle(page)
        expect(page.get_by_role("heading", name="Models").first).to_be_visible()
        assert page.locator("[data-testid='stException']").count() == 0
        assert "models=gpt-5" in page.url
        chosen = page.locator("[data-testid='stMultiSelect']").filter(has_text="Models")
        expect(chosen.get_by_text("gpt-5", exact=True).first).to_be_visible()
        page.screenshot(path=SHOTS / "deep_link.png")


def test_markup_in_stored_names_shows_as_text_and_fetches_nothing(page: Page, tmp_path):
    """Model names, labels and a flag's reason holding an image, a link and HTML: the pages show
    them literally, and the browser never asks the attacker's host for anything."""
    from store.db import account_id, insert_usage, open_store

    image = "![x](http://attacker.invalid/x.png)"
    names = [image, "<img src=http://attacker.invalid/y.png>", image + "/gpt-5"]
    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(db)
    rows = [
        dict(
            ts=datetime(2026, 3, 2, 9, n, tzinfo=UTC),
            model=name,
            input=5000,
            cached=0,
            output=100,
            reasoning=0,
            event_id=f"{n:032x}",
            session="b" * 32,
            label=name,
        )
        for n, name in enumerate(names)
    ]
    insert_usage(engine, account_id(engine), rows)
    with engine.begin() as conn:  # a reason code is a stored string too
        conn.exec_driver_sql("update usage set flag = ?", (image.replace("x.png", "f.png"),))
    engine.dispose()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.set_viewport_size({"width": 1400, "height": 2000})
    with serve(db, tmp_path) as base:
        page.goto(f"{base}/api_equivalent")
        settle(page)
        unpriced = page.locator("[data-testid='stCaptionContainer']").filter(has_text="Not priced")
        expect(unpriced).to_contain_text(f"{image} (5,100 tokens)")
        expect(unpriced).to_contain_text(f"{names[1]} (5,100 tokens)")
        assert unpriced.locator("img, a").count() == 0
        page.screenshot(path=SHOTS / "api_equivalent_hostile_names.png", full_page=True)
        page.goto(base)
        settle(page)
        notice = page.locator("[data-testid='stAlertContentWarning']").filter(has_text="flagged")
        expect(notice).to_contain_text("3 records flagged as implausible (![x](http://attacker")
        assert notice.locator("img, a").count() == 0
        page.screenshot(path=SHOTS / "overview_hostile_names.png", full_page=True)
        for path in ("models", "heatmap", "leaderboard"):
            page.goto(f"{base}/{path}")
            settle(page)
            assert page.locator("[data-testid='stException']").count() == 0
    assert not [url for url in asked if "attacker.invalid" in url]


def test_the_overview_timeline_switches_to_cost(page: Page, app_url):
    """The timeline's tokens/cost switch: the chart's axis becomes USD, labelled an estimate."""
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.goto(app_url)
    settle(page)
    page.get_by_text("API-equivalent (USD)", exact=True).first.click()
    settle(page)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    expect(chart).to_contain_text("API-equivalent per day")
    expect(chart).to_contain_text("USD, API-equivalent (estimate)")
    expect(page.get_by_text("not a bill and not an official price").first).to_be_visible()
    page.screenshot(path=SHOTS / "overview_cost.png", full_page=True)


def test_the_api_equivalent_prices_switch(page: Page, app_url):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{app_url}/api_equivalent")
    settle(page)
    total = page.locator("[data-testid='stMetric']").filter(has_text="API-equivalent (estimate)")
    then = total.locator("[data-testid='stMetricValue']").first.inner_text()
    stale = page.locator("[data-testid='stCaptionContainer']").filter(has_text="⚠ stale")
    expect(stale).to_contain_text("not checked against their source for more than 90 days")
    page.get_by_text("At today's prices", exact=True).first.click()
    settle(page)
    expect(page.get_by_text("Prices: at today's prices").first).to_be_visible()
    today = total.locator("[data-testid='stMetricValue']").first.inner_text()
    assert today.startswith("$") and then.startswith("$")
    page.screenshot(path=SHOTS / "api_equivalent_today.png", full_page=True)


#: Where the parts of every chart on the page are drawn (Vega's SVG scene): the whole chart, its
#: plot area, axes, legends and title, as boxes in page pixels.
CHART_PARTS = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
.map(chart => {
  const box = (el) => {
    const b = el.getBoundingClientRect();
    return {x: b.x, y: b.y, w: b.width, h: b.height};
  };
  const svg = chart.querySelector("svg.marks");
  if (!svg) return null;
  const root = svg.querySelector("g.role-frame.root");
  return {
    svg: box(svg),
    plot: box(root.querySelector(":scope > g > path.background")),
    axes: [...svg.querySelectorAll("g.role-axis")].map(box),
    legends: [...svg.querySelectorAll("g.role-legend")].map(box),
    title: [...svg.querySelectorAll("g.role-title")].map(box),
  };
})"""


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 1
        and b["x"] < a["x"] + a["w"] - 1
        and a["y"] < b["y"] + b["h"] - 1
        and b["y"] < a["y"] + a["h"] - 1
    )


def inside(part: dict, whole: dict) -> bool:
    return part["x"] >= whole["x"] - 1 and part["x"] + part["w"] <= whole["x"] + whole["w"] + 1


@pytest.mark.parametrize("path", ["", "heatmap", "models", "api_equivalent"])
def test_a_phone_shows_every_chart_whole_with_its_legend_below(page: Page, app_url, path):
    """At 390x844, down the whole page: every chart as wide as the screen, its plot a sane size,
    its legend below the plot and clear of the axes, its title and legend within the chart."""
    width = 390
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{app_url}/{path}")
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    charts = page.locator("[data-testid='stVegaLiteChart']")
    expect(charts.first.locator("svg").first).to_be_visible()
    for i in range(charts.count()):  # down the page, so that every chart is drawn
        charts.nth(i).scroll_into_view_if_needed()
        expect(charts.nth(i).locator("svg.marks g.role-frame.root").first).to_be_attached()
    drawn = page.evaluate(CHART_PARTS)
    assert drawn and None not in drawn
    for n, chart in enumerate(drawn):
        svg, plot = chart["svg"], chart["plot"]
        where = f"{path or 'overview'} chart {n}"
        assert svg["x"] >= 0 and svg["x"] + svg["w"] <= width, where
        assert plot["h"] >= 100 and plot["w"] >= 0.6 * svg["w"], (where, plot)
        for legend in chart["legends"]:
            assert legend["y"] >= plot["y"] + plot["h"], (where, "legend beside the plot")
            assert inside(legend, svg), (where, "legend cut off")
            assert not [axis for axis in chart["axes"] if overlap(axis, legend)], where
        assert all(inside(title, svg) for title in chart["title"]), (where, "title cut off")
    if path == "models":
        expect(page.locator("[data-testid='stDataFrame']").first).to_contain_text("Model")
    # The whole page, as a phone shows it when scrolled down.
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(height, 844), 8000)})
    settle(page)
    page.screenshot(path=SHOTS / f"phone_{path or 'overview'}.png", full_page=True)


def test_a_store_out_of_reach_is_one_line_without_the_password(page: Page, tmp_path):
    with serve("postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/nothing", tmp_path) as base:
        page.goto(f"{base}/leaderboard")
        settle(page)
        alert = page.locator("[data-testid='stAlertContentError']")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text(
            "Cannot reach the store at postgresql+psycopg://postgres:***@"
        )
        expect(alert).to_contain_text("Check CODEXTIME_DB or the db_url secret.")
        assert page.locator("[data-testid='stException']").count() == 0
        assert "s3cret-pw" not in page.content()


def test_a_filter_holds_across_a_visit_to_the_leaderboard(page: Page, app_url):
    page.goto(f"{app_url}/models?models=gpt-5")
    settle(page)
    page.get_by_role("link", name="Leaderboard").click()
    settle(page)
    assert page.locator("[data-testid='stMultiSelect']").count() == 0
    page.get_by_role("link", name="Models").click()
    settle(page)
    assert "models=gpt-5" in page.url
    chosen = page.locator("[data-testid='stMultiSelect']").filter(has_text="Models")
    expect(chosen.get_by_text("gpt-5", exact=True).first).to_be_visible()
