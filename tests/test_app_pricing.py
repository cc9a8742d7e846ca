"""The app's API-equivalent against a small store and a small rate table, hand-computed: dated
prices (of the time or today's), tiers, cache writes, mappings, stale rows, the what-if's
assumptions and its CSV, the tokens/cost switches and the leaderboard's ranking by estimate."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from pages.lib.whatif import ASSUMED, with_assumptions
from store.accounts import create_account
from store.db import account_id, insert_usage, open_store
from store.pricing import ANALYST, load_rates, price_groups, to_csv

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "https://developers.openai.com/api/docs/models/"
HEADER = (
    "model,tier,valid_from,valid_to,input_usd_per_mtok,cached_input_usd_per_mtok,"
    "cache_write_usd_per_mtok,output_usd_per_mtok,long_context_threshold_tokens,"
    "long_context_input_multiplier,long_context_output_multiplier,maps_to,source_url,"
    "last_checked\n"
)
RATES = HEADER + (
    f"gpt-5.6-sol,standard,2026-07-09,2026-08-20,5,0.5,6.25,30,272000,2,1.5,,{SOURCE}sol,2026-08-02\n"
    f"gpt-5.6-sol,standard,2026-08-21,,4,0.4,5,20,272000,2,1.5,,{SOURCE}sol,2026-11-05\n"
    f"gpt-5.5,standard,,,5,0.5,,30,272000,2,1.5,,{SOURCE}gpt-5.5,2026-11-05\n"
    f"gpt-5.5,priority,,,12.5,1.25,,75,,,,,{SOURCE}gpt-5.5,2026-11-05\n"
    f"codex-auto-review,,2026-07-30,,,,,,,,,gpt-5.6-sol,{SOURCE}sol,2026-11-05\n"
)
DAY = datetime(2026, 8, 1, 12, tzinfo=UTC)
UNPRICED = "kimi-k2.5:cloud"


def record(n: int, model: str, tier: str, inp: int, cached: int, writes: int, out: int) -> dict:
    return dict(
        ts=DAY.replace(minute=n),
        model=model,
        tier=tier,
        input=inp,
        cached=cached,
        cache_write=writes,
        output=out,
        reasoning=0,
        event_id=f"{n:032x}",
        session="a" * 32,
        label=None,
    )


RECORDS = [
    record(1, "gpt-5.6-sol", "standard", 200_000, 60_000, 20_000, 20_000),
    record(2, "gpt-5.5", "priority", 100_000, 0, 0, 10_000),
    record(3, "gpt-5.5", "unknown", 100_000, 0, 0, 10_000),
    record(4, UNPRICED, "standard", 50_000, 0, 0, 5_000),
]
# gpt-5.6-sol on 2026-08-01: 120k fresh, 60k cached, 20k cache writes, 20k output.
SOL_THEN = (120_000 * 5 + 60_000 * 0.5 + 20_000 * 6.25 + 20_000 * 30) / 1e6  # 1.355
SOL_TODAY = (120_000 * 4 + 60_000 * 0.4 + 20_000 * 5 + 20_000 * 20) / 1e6  # 1.004
PRIORITY = (100_000 * 12.5 + 10_000 * 75) / 1e6  # 2.0: gpt-5.5's own priority rate
AS_STANDARD = (100_000 * 5 + 10_000 * 30) / 1e6  # 0.8: unknown tier, priced as standard


@pytest.fixture
def priced_store(tmp_path, monkeypatch) -> str:
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = open_store(url)
    insert_usage(engine, account_id(engine), RECORDS)
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    monkeypatch.setenv("CODEXTIME_RATES", str(rates))
    return url


def run(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def money(text: str) -> float:
    return float(re.sub(r"[^0-9.-]", "", text))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table(at: AppTest, first_column: str):
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_the_prices_switch_gives_the_hand_computed_totals(priced_store):
    at = run("pages/api_equivalent.py")
    then = metric(at, "API-equivalent (estimate)")
    assert money(then) == pytest.approx(SOL_THEN + PRIORITY + AS_STANDARD, abs=0.005)
    models = table(at, "model")
    sol = models.loc[models["model"] == "gpt-5.6-sol", "API-equivalent"].item()
    assert money(sol) == pytest.approx(SOL_THEN, abs=0.005)
    at.button_group(key="prices").set_value("At today's prices").run()
    today = metric(at, "API-equivalent (estimate)")
    assert money(today) == pytest.approx(SOL_TODAY + PRIORITY + AS_STANDARD, abs=0.005)
    models = table(at, "model")
    sol = models.loc[models["model"] == "gpt-5.6-sol", "API-equivalent"].item()
    assert money(sol) == pytest.approx(SOL_TODAY, abs=0.005)
    assert "at today's prices" in captions(at) and "not a bill" in captions(at)


def test_cost_by_tier_unknown_apart_and_cache_writes(priced_store):
    at = run("pages/api_equivalent.py")
    tiers = table(at, "tier").set_index("tier")
    assert money(tiers.loc["priority", "API-equivalent"]) == pytest.approx(PRIORITY, abs=0.005)
    assert money(tiers.loc["unknown", "API-equivalent"]) == pytest.approx(AS_STANDARD, abs=0.005)
    assert tiers.loc["unknown", "priced as"] == "priced as standard"
    assert tiers.loc["priority", "priced as"] == ""
    assert metric(at, "Tokens of unknown tier (priced as standard)") == "110.00 K"
    inputs = sum(r["input"] for r in RECORDS)
    assert metric(at, "Cache writes: share of input") == f"{20_000 / inputs:.1%}"
    assert f"Cache writes cost ${20_000 * 6.25 / 1e6:,.2f}" in captions(at)


def test_an_unpriced_model_is_a_reason_never_zero(priced_store):
    at = run("pages/api_equivalent.py")
    models = table(at, "model").set_index("model")
    assert models.loc[UNPRICED, "API-equivalent"] == "— no published price"
    assert f"{UNPRICED} ` (55,000 tokens)" in captions(at)


def test_a_model_priced_by_the_viewer_is_their_assumption_and_round_trips(priced_store, tmp_path):
    at = run("pages/api_equivalent.py")
    before = money(metric(at, "With your assumptions (estimate)"))
    at.selectbox(key="edit_model").set_value(UNPRICED).run()
    at.slider(key=f"in-{UNPRICED}").set_value(2.0).run()
    at.slider(key=f"out-{UNPRICED}").set_value(10.0).run()
    assert at.session_state["rate_assumptions"][UNPRICED] == (2.0, 0.0, 10.0)
    after = money(metric(at, "With your assumptions (estimate)"))
    assert after == pytest.approx(before + (50_000 * 2 + 5_000 * 10) / 1e6, abs=0.005)
    assert f"Priced at your assumption (no published price): ` {UNPRICED} `" in captions(at)
    # The CSV the page offers, from the same assumptions, reads back through --rates.
    mine = with_assumptions(
        load_rates(),
        assumed=dict(at.session_state["rate_assumptions"]),
        today=date.today(),
    )
    path = tmp_path / "mine.csv"
    path.write_text(to_csv(mine))
    again = load_rates(path)
    rate = again.rate(UNPRICED)
    assert (rate.input, rate.output, rate.origin) == (2.0, 10.0, ANALYST)
    assert ASSUMED in rate.notes
    published = again.rate("gpt-5.5", date(2026, 8, 1))
    assert published.origin == "" and published.input == 5.0
    edited = with_assumptions(load_rates(), edits={"gpt-5.5": (1.0, 0.1, 3.0)}, today=date.today())
    path.write_text(to_csv(edited))
    assert load_rates(path).rate("gpt-5.5").origin == ANALYST


def test_stale_rows_are_flagged_and_mappings_are_estimates(priced_store):
    at = run("pages/api_equivalent.py")
    rates = table(at, "")
    marks = dict(zip(rates["last checked"].astype(str), rates[""], strict=False))
    assert marks["2026-08-02"] == "⚠"  # 120 days before the test's today, or more
    if (date.today() - date(2026, 11, 5)).days <= 90:
        assert marks["2026-11-05"] == ""
    assert "not checked against their source for more than 90 days" in captions(at)
    mapped = rates[rates["model"] == "codex-auto-review"]
    assert mapped["priced as"].item() == "gpt-5.6-sol (estimate)"


def test_a_mapped_label_is_priced_as_an_estimate(priced_store, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    engine = open_store(url)
    insert_usage(
        engine, account_id(engine), [record(9, "codex-auto-review", "standard", 1, 0, 0, 0)]
    )
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    models = table(run("pages/api_equivalent.py"), "model").set_index("model")
    assert models.loc["codex-auto-review", "note"].startswith("estimate")


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def cost_of_chart(at: AppTest) -> float:
    """The sum of the ``usd`` column of the first chart's data (Arrow, in its proto)."""
    chart = at.get("vega_lite_chart")[0].proto
    data = chart.datasets[0].data.data if chart.datasets else chart.data.data
    return float(convert_arrow_bytes_to_pandas_df(data)["usd"].sum())


@pytest.mark.parametrize(
    "page, key, title",
    [
        ("overview", "measure", "API-equivalent per day"),
        ("models", "mix_measure", "API-equivalent by model per week"),
    ],
)
def test_the_tokens_cost_switch(priced_store, page, key, title):
    at = run(f"pages/{page}.py")
    at.button_group(key=key).set_value("cost").run()
    spec = charts(at)[0]
    assert spec["title"] == title or spec["title"].get("text") == title
    assert "USD" in spec["encoding"]["y"]["title"] and "estimate" in spec["encoding"]["y"]["title"]
    assert spec["encoding"]["color"]["field"] == "model"
    assert cost_of_chart(at) == pytest.approx(SOL_THEN + PRIORITY + AS_STANDARD, abs=1e-9)
    assert "not a bill" in captions(at)


def test_the_leaderboard_ranks_by_the_engines_estimate(tmp_path, monkeypatch, priced_store):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    engine = open_store(url)
    create_account(engine, "wide")
    create_account(engine, "fast")
    with engine.begin() as conn:
        conn.exec_driver_sql("update account set leaderboard_opt_in = 1")
    # wide: more tokens at the standard rate; fast: fewer, at gpt-5.5's priority rate.
    wide = [record(n, "gpt-5.5", "standard", 150_000, 0, 0, 0) for n in (1, 2)]
    fast = [record(3, "gpt-5.5", "priority", 200_000, 0, 0, 0)]
    insert_usage(engine, account_id(engine, "wide"), wide)
    insert_usage(engine, account_id(engine, "fast"), fast)
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = run("pages/leaderboard.py")
    at.segmented_control(key="window").set_value("All time").run()
    assert list(at.dataframe[0].value["name"]) == ["profile?name=wide", "profile?name=fast"]
    at.segmented_control(key="by").set_value("API-equivalent").run()
    board = at.dataframe[0].value
    board["name"] = board["name"].str.removeprefix("profile?name=")
    board = board.set_index("name")
    assert list(board.index) == ["fast", "wide"]
    rates = load_rates()
    day = DAY.date()
    expected = {
        name: sum(
            c.usd
            for c in price_groups(
                [(r["model"], day, r["tier"], False, r["input"], 0, 0, 0) for r in rows], rates
            )
        )
        for name, rows in (("wide", wide), ("fast", fast))
    }
    assert expected == pytest.approx({"wide": 1.5, "fast": 2.5})
    for name, usd in expected.items():
        assert board.loc[name, "usd"] == pytest.approx(usd)
