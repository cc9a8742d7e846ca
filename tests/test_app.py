"""Every page of the app through Streamlit's AppTest: widgets, filters and the numbers shown."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from collector.cli import app as cli
from pages.lib.text import dates_name
from store.accounts import create_account
from store.db import account_id, insert_usage, open_store
from store.fields import RECORD_FIELDS
from store.pricing import load_rates

NOW = datetime.now(UTC).replace(microsecond=0)
ROOT = Path(__file__).resolve().parent.parent


def row(n: int, model: str = "gpt-5", days_ago: float = 0, **over) -> dict:
    base = dict(
        ts=NOW - timedelta(days=days_ago, minutes=n),
        model=model,
        tier=("priority", "standard", "unknown", "flex")[n % 4],
        input=100_000 + n,
        cached=40_000,
        cache_write=1_000 * (n % 5),
        output=2_000,
        reasoning=500,
        event_id=f"{n:032x}",
        session=f"{n % 3:032x}",
        label="laptop" if n % 2 else "desktop",
    )
    return {**base, **over}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A personal store: 40 responses over 80 days, three models, two machines."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = open_store(url)
    models = ["gpt-5", "gpt-5.1-codex", "unknown"]
    insert_usage(
        engine, account_id(engine), [row(n, models[n % 3], days_ago=n * 2) for n in range(40)]
    )
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    return url


def run(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [i.value for i in at.info]
        + [w.value for w in at.warning]
    )


def test_overview_totals_match_the_cli_report(store):
    at = run()
    report = orjson.loads(
        CliRunner()
        .invoke(cli, ["report", "daily", "--db", store, "--json", "--timezone", "UTC"])
        .stdout
    )
    total = report["totals"]["total"]
    assert f"{total:,} tokens all time" in texts(at)
    labels = [m.label for m in at.metric]
    assert labels.count("API-equivalent (estimate)") == 4
    assert {"All time", "Last 30 days", "Last 7 days", "Today"} <= set(labels)
    assert [m.value for m in at.metric if m.label == "API-equivalent (estimate)"][0] == (
        f"${report['totals']['api_equivalent_usd']:,.2f}"
    )
    assert "not a bill" in texts(at)
    assert len(charts(at)) == 3  # timeline, tokens burned, cache hit rate
    assert "3 sessions ·" in texts(at) and "1 session ·" in texts(at)  # all time, today


def test_timeline_period_switch(store):
    at = run()
    at.button_group(key="period").set_value("month").run()
    title = charts(at)[0]["title"]
    assert (title["text"] if isinstance(title, dict) else title) == "Tokens per month"


def test_filters_narrow_every_view_and_come_from_the_url(store):
    at = run("pages/models.py", models="gpt-5")
    assert at.multiselect(key="models").value == ["gpt-5"]
    table = at.dataframe[0].value
    assert list(table["model"]) == ["gpt-5"]
    at.multiselect(key="models").set_value(["gpt-5", "unknown"]).run()
    assert sorted(at.dataframe[0].value["model"]) == ["gpt-5", "unknown"]
    at.multiselect(key="labels").set_value(["laptop"]).run()
    table = at.dataframe[0].value
    assert int(table["responses"].sum()) == len([n for n in range(40) if n % 2 and n % 3 != 1])


def test_the_tier_filter_narrows_every_view_and_comes_from_the_url(store):
    at = run("pages/models.py", tiers="priority")
    assert at.multiselect(key="tiers").value == ["priority"]
    # Every tier in the store is offered, in the documented order.
    assert at.multiselect(key="tiers").options == ["standard", "priority", "flex", "unknown"]
    models, tiers = at.dataframe[0].value, at.dataframe[1].value
    assert int(models["responses"].sum()) == len(range(0, 40, 4))
    assert list(tiers["tier"]) == ["priority"]
    at.multiselect(key="tiers").set_value(["flex", "unknown"]).run()
    tiers = at.dataframe[1].value
    assert list(tiers["tier"]) == ["flex", "unknown"]
    assert list(tiers["responses"]) == [10, 10]
    overview = run(tiers="flex")
    flex = [n for n in range(40) if n % 4 == 3]
    assert f"{sum(100_000 + n + 2_000 for n in flex):,} tokens all time" in texts(overview)


def test_cache_writes_are_shown_beside_input_and_cached(store):
    every = sum(1_000 * (n % 5) for n in range(40))
    assert f"cache writes {every:,})" in texts(run())
    table = run("pages/models.py").dataframe[0].value
    assert int(table["cache_write"].sum()) == every
    assert int(table["cached"].sum()) == 40 * 40_000


def test_heatmap_has_a_year_calendar_hours_and_streaks(store):
    at = run("pages/heatmap.py")
    names = [m.label for m in at.metric]
    assert names == ["Current streak", "Longest streak", "Busiest day"]
    years = {(NOW - timedelta(days=n * 2)).year for n in range(40)}
    assert len(charts(at)) == len(years) + 1
    # The legend lists every shade the calendar uses, "No use" first, then ranges of tokens.
    shades = charts(at)[0]["encoding"]["color"]["scale"]
    assert shades["domain"][0] == "No use" and len(shades["domain"]) == len(shades["range"]) >= 2
    assert all(" – " in name or name[0].isdigit() for name in shades["domain"][1:])


def test_the_estimate_follows_every_slider(store):
    at = run("pages/api_equivalent.py")
    assert "not a bill" in texts(at) and "not affiliated with OpenAI" in texts(at)
    newest = load_rates().checked[1]
    assert f"Latest check of this table: {newest:%Y-%m-%d}" in texts(at)
    base, mine = (m.value for m in at.metric if m.label.startswith(("At published", "With your")))
    assert base == mine
    at.slider(key="multiplier").set_value(2.0).run()
    doubled = [m.value for m in at.metric if "assumptions" in m.label][0]
    as_number = lambda v: float(v.strip("$").replace(",", ""))  # noqa: E731
    assert as_number(doubled) == pytest.approx(2 * as_number(base), abs=0.011)
    at.toggle(key="share_on").set_value(True).run()
    at.slider(key="share").set_value(100).run()
    all_cached = [m.value for m in at.metric if "assumptions" in m.label][0]
    assert as_number(all_cached) < as_number(doubled)
    assert at.get("download_button")


def test_rate_edits_stay_in_the_session_and_are_downloadable(store):
    at = run("pages/api_equivalent.py")
    at.selectbox(key="edit_model").set_value("gpt-5").run()
    at.slider(key="in-gpt-5").set_value(0.0).run()
    assert at.session_state["rate_edits"]["gpt-5"][0] == 0.0
    fresh = run("pages/api_equivalent.py")
    assert "rate_edits" not in fresh.session_state or not fresh.session_state["rate_edits"]


def test_leaderboard_lists_opted_in_accounts_only(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = open_store(url)
    create_account(engine, "shy")
    create_account(engine, "proud")
    with engine.begin() as conn:
        conn.exec_driver_sql("update account set leaderboard_opt_in = 1 where name = 'proud'")
    insert_usage(engine, account_id(engine, "shy"), [row(1, input=9_000_000)])
    insert_usage(engine, account_id(engine, "proud"), [row(2), row(3, model="o3")])
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = run("pages/leaderboard.py")
    board = at.dataframe[0].value
    assert list(board["name"]) == ["profile?name=proud"]  # shown as the name: a link
    assert "self-reported" in texts(at).lower()
    assert set(board.columns) == {"rank", "name", "tokens", "usd", "models"}


def test_privacy_page_lists_the_record_fields(store):
    at = run("pages/privacy.py")
    page = texts(at)
    for field in RECORD_FIELDS:
        assert f"`{field}`" in page
    assert "Prompts, answers" in page and "R10" in page


def test_an_empty_store_says_how_to_fill_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEXTIME_DB", f"sqlite:///{tmp_path / 'empty.db'}")
    at = run()
    assert "codextime sync" in texts(at)
    assert not charts(at)


def test_demo_data_is_marked(store, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = open_store(url)
    insert_usage(engine, account_id(engine), [row(1, label="demo")])
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    assert "DEMO DATA" in texts(run())


def test_a_shared_deployment_asks_for_the_viewers_token(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'team.db'}"
    engine = open_store(url)
    _, alice_token = create_account(engine, "alice")
    create_account(engine, "bob")
    insert_usage(engine, account_id(engine, "alice"), [row(1, input=111_111)])
    insert_usage(engine, account_id(engine, "bob"), [row(2, input=222_222)])
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    at = run()
    assert "Enter the token" in texts(at) and not at.metric
    at.text_input[0].input("ctk_wrong")
    at.button[0].click().run()
    assert "does not know that token" in "\n".join(e.value for e in at.error)
    at.text_input[0].input(alice_token)
    at.button[0].click().run()
    total = 111_111 + 2_000
    assert f"{total:,} tokens all time" in texts(at)
    assert not re.search(r"224,222", texts(at))  # nothing of bob's


def test_models_tables_put_the_model_first_and_never_show_none(store):
    """The "unknown" model has no price: its estimate says why, in both tables."""
    at = run("pages/models.py")
    models, tiers = at.dataframe[0].value, at.dataframe[1].value
    assert list(models.columns)[:4] == ["model", "total", "share", "usd"]
    unknown = models[models["model"] == "unknown"]["usd"].iloc[0]
    assert unknown == "— no published price"
    assert all(isinstance(v, str) and v != "None" for v in tiers["usd"])


FILTERED_PAGES = ["overview", "heatmap", "models", "api_equivalent"]


@pytest.mark.parametrize("page", ["leaderboard", "privacy"])
def test_pages_the_filters_do_not_act_on_draw_no_filters(store, page):
    at = run(f"pages/{page}.py")
    assert at.title
    assert not at.sidebar.multiselect and not at.sidebar.selectbox and not at.sidebar.date_input


@pytest.mark.parametrize("page", FILTERED_PAGES)
def test_pages_the_filters_act_on_draw_them(store, page):
    at = run(f"pages/{page}.py")
    assert [m.key for m in at.sidebar.multiselect] == ["models", "labels", "tiers"]


def test_a_model_filter_survives_a_visit_to_the_leaderboard(store):
    at = run()
    at.sidebar.multiselect(key="models").select("gpt-5").run()
    for page in ("leaderboard", "privacy", "models"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.multiselect(key="models").value == ["gpt-5"]
    assert list(at.dataframe[0].value["model"]) == ["gpt-5"]
    at.run()  # AppTest shows the URL a run leaves behind once the next run starts
    assert at.query_params["models"] in ("gpt-5", ["gpt-5"])
    assert at.sidebar.multiselect(key="models").value == ["gpt-5"]


def test_the_first_overview_card_follows_the_dates_and_the_others_say_their_window(store):
    at = run("pages/overview.py")
    assert [m.label for m in at.metric][::2] == ["All time", "Last 30 days", "Last 7 days", "Today"]
    today = datetime.now(UTC).date()  # the store's days, in UTC (the app's zone here)
    first, last = today - timedelta(days=20), today - timedelta(days=10)
    at.date_input(key="dates").set_value((first, last)).run()
    chosen = [n for n in range(40) if first <= (NOW - timedelta(days=n * 2)).date() <= last]
    tokens = sum(100_000 + n + 2_000 for n in chosen)
    card = at.metric[0]
    assert card.label == dates_name(first, last)
    assert card.proto.help.endswith(f"{tokens:,} tokens")
    assert [m.label for m in at.metric][2::2] == ["Last 30 days", "Last 7 days", "Today"]
    # The heading keeps the exact all-time total.
    every = sum(100_000 + n + 2_000 for n in range(40))
    assert f"{every:,} tokens all time" in texts(at)
    assert "The first card shows the dates chosen in the sidebar" in texts(at)


def test_a_range_of_days_is_named_as_briefly_as_it_is_clear():
    d = date(2026, 11, 3)
    assert dates_name(None, None) == "All time"
    assert dates_name(d, d) == "3 Nov 2026"
    assert dates_name(date(2026, 6, 1), date(2026, 6, 30)) == "1 – 30 Jun 2026"
    assert dates_name(date(2026, 6, 1), d) == "1 Jun – 3 Nov 2026"
    assert dates_name(date(2025, 11, 3), date(2026, 1, 2)) == "3 Nov 2025 – 2 Jan 2026"
    assert dates_name(d, None) == "from 3 Nov 2026"


def test_the_timeline_shows_weeks_by_default_past_three_months(tmp_path, monkeypatch):
    """A bar a day over a year is too thin to read: weeks then, days for shorter ranges."""
    url = f"sqlite:///{tmp_path / 'year.db'}"
    engine = open_store(url)
    insert_usage(engine, account_id(engine), [row(n, days_ago=n * 5) for n in range(40)])
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)

    def title(at: AppTest) -> str:
        heading = charts(at)[0]["title"]
        return heading["text"] if isinstance(heading, dict) else heading

    at = run("pages/overview.py")
    assert title(at) == "Tokens per week"
    today = datetime.now(UTC).date()
    at.date_input(key="dates").set_value((today - timedelta(days=60), today)).run()
    assert title(at) == "Tokens per week"  # the viewer's choice, or the first default, holds
    fresh = run("pages/overview.py", dates=[str(today - timedelta(days=60)), str(today)])
    assert title(fresh) == "Tokens per day"
