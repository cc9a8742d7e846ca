"""API-equivalent pricing: hand-computed examples for each rule, and the shipped table's hygiene."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.report import Report, resolve_zone
from store.pricing import (
    DEFAULT_RATES,
    Group,
    RatesError,
    adjusted,
    load_rates,
    normalise,
    parse_rates,
    price_frame,
    price_groups,
    with_long_flag,
)
from tests.rollout import meta, session_path, token_count, turn, usage, write

HEADER = (
    "model,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok,source_url,"
    "last_checked,long_context_threshold_tokens,long_context_input_multiplier,"
    "long_context_output_multiplier,aliases\n"
)


@pytest.fixture(scope="module")
def rates():
    return load_rates()


def test_fresh_and_cached_input_are_priced_apart_and_reasoning_is_not_added(rates):
    # gpt-5: $1.25 input, $0.125 cached, $10 output per million.
    # 600k fresh x 1.25 + 400k cached x 0.125 + 100k output x 10 = 0.75 + 0.05 + 1.00
    assert rates.cost("gpt-5", 1_000_000, 400_000, 100_000) == pytest.approx(1.80)
    # Reasoning is part of output: the record's reasoning figure changes nothing.
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    rep.add(0, "gpt-5", 1_000_000, 400_000, 100_000, 90_000, "s" * 32)
    assert rep.to_json()["totals"]["api_equivalent_usd"] == pytest.approx(1.80)


def test_long_context_surcharge_applies_per_request(rates):
    # gpt-5.4 over 272K input: input and cached x2, output x1.5.
    # 200k fresh x 5.00 + 100k cached x 0.50 + 10k output x 22.50 = 1.00 + 0.05 + 0.225
    assert rates.cost("gpt-5.4", 300_000, 100_000, 10_000) == pytest.approx(1.275)
    # At the threshold itself there is no surcharge: 272k x 2.50
    assert rates.cost("gpt-5.4", 272_000, 0, 0) == pytest.approx(0.68)
    # Two 200k requests on one day are two normal requests, not one 400k request.
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    rep.add(0, "gpt-5.4", 200_000, 0, 0, 0, "s" * 32)
    rep.add(1000, "gpt-5.4", 200_000, 0, 0, 0, "s" * 32)
    assert rep.to_json()["totals"]["api_equivalent_usd"] == pytest.approx(1.00)
    # A long request and a normal one on the same day are each priced at their own rate.
    rep.add(2000, "gpt-5.4", 300_000, 100_000, 10_000, 0, "s" * 32)
    day = rep.to_json()["days"][0]
    assert day["api_equivalent_usd"] == pytest.approx(1.00 + 1.275)
    assert day["models"]["gpt-5.4"]["input"] == 700_000
    # A model without a long-context rule never gets one.
    assert rates.cost("gpt-5", 1_000_000, 0, 0) == pytest.approx(1.25)


@pytest.mark.parametrize(
    "name, priced_as",
    [
        ("gpt-5.1-codex-max", "gpt-5.1"),
        ("openai/gpt-5.1-codex-max", "gpt-5.1"),
        ("gpt-5.1-codex-max-high", "gpt-5.1"),
        ("gpt-5 (high)", "gpt-5"),
        ("GPT-5-Codex", "gpt-5"),
        ("codex-mini-latest", "codex-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("o4-mini-high", "o4-mini"),
        ("gpt-5.3-codex-spark", None),  # a different model, never a look-alike
        ("gpt-5.6", "gpt-5.6-sol"),
        ("gpt-5.4-codex", None),
        ("kimi-k2.5:cloud", None),
        ("unknown", None),
    ],
)
def test_names_are_normalised_then_matched_exactly(rates, name, priced_as):
    found = rates.lookup(name)
    assert (found.model if found else None) == priced_as


def test_aliases_are_explicit():
    table = parse_rates(
        HEADER + "gpt-x,1,0.1,10,https://example.com/x,2026-01-01,,,,gpt-x-latest;gpt-x-preview\n",
        today=date(2026, 11, 1),
    )
    assert table.lookup("gpt-x-preview").model == "gpt-x"
    assert table.lookup("openai/gpt-x-latest-high").model == "gpt-x"
    assert table.lookup("gpt-x-mini") is None
    assert normalise("openai/gpt-x-latest (medium)") == "gpt-x-latest"


def test_unpriced_models_are_reported_with_their_tokens_never_as_zero(rates):
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    rep.add(0, "unknown", 1000, 0, 200, 0, "s" * 32)
    rep.add(0, "gpt-5", 1_000_000, 0, 0, 0, "s" * 32)
    data = rep.to_json()
    day = data["days"][0]
    assert data["unpriced"] == {"unknown": 1200}
    assert day["models"]["unknown"]["api_equivalent_usd"] is None
    assert day["models"]["gpt-5"]["api_equivalent_usd"] == pytest.approx(1.25)
    assert day["api_equivalent_usd"] == pytest.approx(1.25)
    assert data["api_equivalent"]["last_checked"] == {
        "oldest": "2026-04-17",
        "newest": "2026-11-18",
    }
    only_unknown = Report("daily", resolve_zone("UTC"), rates=rates)
    only_unknown.add(0, "unknown", 10, 0, 1, 0, "s" * 32)
    assert only_unknown.to_json()["totals"]["api_equivalent_usd"] is None


def test_shipped_rates_have_https_sources_and_no_future_dates():
    with DEFAULT_RATES.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        assert row["source_url"].startswith("https://"), row["model"]
        assert date.fromisoformat(row["last_checked"]) <= date.today(), row["model"]
    table = load_rates()
    assert len(table.rates) + len(table.mappings) == len(rows)


@pytest.mark.parametrize(
    "row, message",
    [
        (
            "gpt-x,abc,0.1,10,https://e.com,2026-01-01,,,,",
            "row 2 (gpt-x), column input_usd_per_mtok: 'abc' is not a number",
        ),
        ("gpt-x,1,0.1,10,http://e.com,2026-01-01,,,,", "row 2 (gpt-x), column source_url"),
        (
            "gpt-x,1,0.1,10,https://e.com,2026-12-01,,,,",
            "column last_checked: 2026-12-01 is in the future",
        ),
        ("gpt-x,1,0.1,10,https://e.com,yesterday,,,,", "column last_checked: 'yesterday'"),
        ("gpt-x,1,0.1,,https://e.com,2026-01-01,,,,", "column output_usd_per_mtok: empty"),
        ("gpt-x,-1,0.1,10,https://e.com,2026-01-01,,,,", "must not be negative"),
        ("gpt-x,1,0.1,10,https://e.com,2026-01-01,,2,1.5,", "long_context_threshold_tokens"),
        (",1,0.1,10,https://e.com,2026-01-01,,,,", "row 2, column model: empty"),
    ],
)
def test_malformed_tables_name_the_row_and_column(row, message):
    with pytest.raises(RatesError, match=rf"{message.replace('(', '.').replace(')', '.')}"):
        parse_rates(HEADER + row + "\n", "mine.csv", today=date(2026, 11, 1))


def test_duplicate_and_missing_columns_are_errors():
    with pytest.raises(RatesError, match=r"row 3 \(gpt-x\), column valid_from: overlaps row 2"):
        parse_rates(
            HEADER + "gpt-x,1,0.1,10,https://e.com,2026-01-01,,,,\n" * 2, today=date(2026, 11, 1)
        )
    with pytest.raises(RatesError, match="row 3, column model/aliases: 'gpt-y' is already"):
        parse_rates(
            HEADER
            + "gpt-x,1,0.1,10,https://e.com,2026-01-01,,,,gpt-y\n"
            + "gpt-y,1,0.1,10,https://e.com,2026-01-01,,,,\n",
            today=date(2026, 11, 1),
        )
    with pytest.raises(RatesError, match="missing column.*source_url"):
        parse_rates("model,input_usd_per_mtok\n", today=date(2026, 11, 1))


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "codex"
    a = usage(1_000_000, 400_000, 100_000, 50_000)
    b = usage(5000, 0, 100, 0)
    total_b = usage(1_005_000, 400_000, 100_100, 50_000)
    sid = "019a152d-35a0-72a0-91db-8ebe37fac69e"
    write(
        session_path(home, "2026-03-01T10-00-00", sid),
        [
            meta(ts="2026-03-01T10:00:00.000Z"),
            turn("2026-03-01T10:00:01.000Z", model="gpt-5"),
            token_count("2026-03-01T10:00:05.000Z", a, a),
            turn("2026-03-01T10:01:00.000Z", model="gpt-5.3-codex-spark"),
            token_count("2026-03-01T10:01:05.000Z", total_b, b),
        ],
    )
    return home


def test_report_json_carries_estimates_and_unpriced(home):
    result = CliRunner().invoke(
        app, ["report", "daily", "--codex-home", str(home), "--json", "--timezone", "UTC"]
    )
    data = orjson.loads(result.stdout)
    assert data["days"][0]["api_equivalent_usd"] == pytest.approx(1.80)
    assert data["unpriced"] == {"gpt-5.3-codex-spark": 5100}
    assert "not a bill" in data["api_equivalent"]["note"]


def test_table_says_estimate_with_dates_and_flags_unpriced(home):
    result = CliRunner().invoke(app, ["report", "daily", "--codex-home", str(home)])
    text = " ".join(result.output.split())
    assert "API-equivalent (estimate)" in text
    assert "last checked 2026-04-17 to 2026-11-18" in text
    assert "Not a bill" in text
    assert "$1.80*" in text
    assert "gpt-5.3-codex-spark (5,100 tokens)" in text


def test_own_rates_from_flag_or_environment(home, tmp_path, monkeypatch):
    mine = tmp_path / "mine.csv"
    mine.write_text(HEADER + "gpt-5,2,2,2,https://e.com/p,2026-01-01,,,,\n")
    runner = CliRunner()
    args = ["report", "daily", "--codex-home", str(home), "--json"]
    flag = orjson.loads(runner.invoke(app, [*args, "--rates", str(mine)]).stdout)
    # (1,000,000 input + 100,000 output) x $2 per million
    assert flag["totals"]["api_equivalent_usd"] == pytest.approx(2.2)
    monkeypatch.setenv("CODEXTIME_RATES", str(mine))
    env = orjson.loads(runner.invoke(app, args).stdout)
    assert env["totals"]["api_equivalent_usd"] == pytest.approx(2.2)
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + "gpt-5,two,2,2,https://e.com/p,2026-01-01,,,,\n")
    failed = runner.invoke(app, [*args, "--rates", str(broken)])
    assert failed.exit_code == 2
    assert "row 2 (gpt-5), column input_usd_per_mtok: 'two' is not a number" in failed.output
    missing = runner.invoke(app, [*args, "--rates", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "cannot read rates file" in missing.output


def test_rates_file_is_at_the_project_root():
    assert Path(__file__).resolve().parent.parent / "rates.csv" == DEFAULT_RATES


# -- the engine: dated rates, tiers, cache writes, long context, mappings (hand-computed) --------

NOV = date(2026, 11, 1)


def _ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def test_a_price_change_applies_from_its_utc_day(rates):
    # gpt-5.6-sol, 100k input of which 60k cached and 10k cache writes, 2k output.
    # To 2026-08-20: 30k x 5 + 60k x 0.5 + 10k x 6.25 + 2k x 30 = 0.15 + 0.03 + 0.0625 + 0.06
    # From 2026-08-21: 30k x 4 + 60k x 0.4 + 10k x 5 + 2k x 20 = 0.12 + 0.024 + 0.05 + 0.04
    rep = Report("daily", resolve_zone("America/New_York"), rates=rates)
    for stamp in ("2026-08-20T23:59:00+00:00", "2026-08-21T00:01:00+00:00"):
        rep.add(_ms(stamp), "gpt-5.6-sol", 100_000, 60_000, 2_000, 0, "s" * 32, cache_write=10_000)
    (day,) = rep.to_json()["days"]  # one local day (New York), two UTC days of prices
    assert day["date"] == "2026-08-20"
    assert day["api_equivalent_usd"] == pytest.approx(0.3025 + 0.234)
    assert rates.cost_of(
        "gpt-5.6-sol", date(2026, 8, 20), "standard", False, 100_000, 60_000, 10_000, 2_000
    ).usd == pytest.approx(0.3025)
    assert rates.cost_of(
        "gpt-5.6-sol", date(2026, 8, 21), "standard", False, 100_000, 60_000, 10_000, 2_000
    ).usd == pytest.approx(0.234)


def test_priority_on_gpt_5_5_is_2_5x_and_flat_over_272k(rates):
    # 20k fresh x 12.5 + 80k cached x 1.25 + 3k output x 75 = 0.25 + 0.1 + 0.225
    cost = rates.cost_of("gpt-5.5", NOV, "priority", False, 100_000, 80_000, 0, 3_000)
    assert cost.usd == pytest.approx(0.575) and cost.tier == "priority" and not cost.as_standard
    # Over 272K priority keeps its rates: 100k x 12.5 + 200k x 1.25 + 3k x 75
    assert rates.cost_of("gpt-5.5", NOV, "priority", True, 300_000, 200_000, 0, 3_000).usd == (
        pytest.approx(1.725)
    )
    # Standard over 272K pays 2x input and cached, 1.5x output: 100k x 10 + 200k x 1 + 3k x 45
    assert rates.cost_of("gpt-5.5", NOV, "standard", True, 300_000, 200_000, 0, 3_000).usd == (
        pytest.approx(1.335)
    )


def test_cache_writes_have_their_rate_from_gpt_5_6_and_are_input_before(rates):
    args = (NOV, "standard", False, 100_000, 60_000, 10_000, 2_000)
    # gpt-5.6-sol: 30k x 4 + 60k x 0.4 + 10k x 5 (cache write) + 2k x 20
    assert rates.cost_of("gpt-5.6-sol", *args).usd == pytest.approx(0.234)
    # gpt-5.4 has no cache-write rate: 40k x 2.5 (fresh and written alike) + 60k x 0.25 + 2k x 15
    assert rates.cost_of("gpt-5.4", *args).usd == pytest.approx(0.145)


def test_a_300k_request_on_gpt_6_sol_is_long_context_as_a_whole(rates):
    assert rates.threshold("gpt-6-sol", NOV) == 272_000
    assert rates.rate("gpt-6-sol", NOV).is_long(300_000)
    assert not rates.rate("gpt-6-sol", NOV).is_long(272_000)
    # 80k fresh x 4 + 200k cached x 0.4 + 20k cache writes x 5 + 5k output x 15
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    rep.add(
        _ms("2026-11-01T12:00:00+00:00"),
        "gpt-6-sol",
        300_000,
        200_000,
        5_000,
        0,
        "s" * 32,
        cache_write=20_000,
        tier="standard",
    )
    # the same at exactly 272K input is not long: 52k x 2 + 200k x 0.2 + 20k x 2.5 + 5k x 10
    rep.add(
        _ms("2026-11-01T12:01:00+00:00"),
        "gpt-6-sol",
        272_000,
        200_000,
        5_000,
        0,
        "s" * 32,
        cache_write=20_000,
        tier="standard",
    )
    assert rep.to_json()["totals"]["api_equivalent_usd"] == pytest.approx(0.575 + 0.244)


def test_an_alias_prices_as_its_model(rates):
    args = (date(2026, 9, 1), "standard", False, 100_000, 60_000, 10_000, 2_000)
    alias, model = rates.cost_of("gpt-5.6", *args), rates.cost_of("gpt-5.6-sol", *args)
    assert alias == model and alias.model == "gpt-5.6-sol" and not alias.estimate


def test_other_providers_models_stay_unpriced_and_listed(rates):
    assert rates.cost_of("kimi-k2.5:cloud", NOV, "standard", False, 1000, 0, 0, 10) is None
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    rep.add(_ms("2026-11-01T12:00:00+00:00"), "kimi-k2.5:cloud", 1000, 0, 10, 0, "s" * 32)
    data = rep.to_json()
    assert data["unpriced"] == {"kimi-k2.5:cloud": 1010}
    assert data["totals"]["models"]["kimi-k2.5:cloud"]["api_equivalent_usd"] is None


def test_codex_auto_review_is_an_estimate_through_its_dated_mapping(rates):
    tokens = (100_000, 60_000, 0, 2_000)
    # to 2026-07-29 as gpt-5.4: 40k x 2.5 + 60k x 0.25 + 2k x 15
    before = rates.cost_of("codex-auto-review", date(2026, 7, 29), "standard", False, *tokens)
    assert (before.model, before.estimate) == ("gpt-5.4", True)
    assert before.usd == pytest.approx(0.145)
    # from 2026-07-30 as gpt-5.6-luna after its cut: 40k x 0.2 + 60k x 0.02 + 2k x 1.2
    after = rates.cost_of("codex-auto-review", date(2026, 7, 30), "standard", False, *tokens)
    assert (after.model, after.estimate) == ("gpt-5.6-luna", True)
    assert after.usd == pytest.approx(0.0116)
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    rep.add(
        _ms("2026-07-29T12:00:00+00:00"), "codex-auto-review", 100_000, 60_000, 2_000, 0, "s" * 32
    )
    rep.add(
        _ms("2026-07-30T12:00:00+00:00"), "codex-auto-review", 100_000, 60_000, 2_000, 0, "s" * 32
    )
    rep.add(_ms("2026-07-30T12:00:00+00:00"), "gpt-5.4", 100_000, 60_000, 2_000, 0, "s" * 32)
    data = rep.to_json()
    assert data["totals"]["models"]["codex-auto-review"]["estimate"] is True
    assert data["totals"]["models"]["codex-auto-review"]["api_equivalent_usd"] == pytest.approx(
        0.1566
    )
    assert "estimate" not in data["totals"]["models"]["gpt-5.4"]
    assert data["unpriced"] == {}


def test_unknown_and_unpriced_tiers_are_priced_as_standard_and_counted_apart(rates):
    tokens = (100_000, 60_000, 10_000, 2_000)
    standard = rates.cost_of("gpt-6-sol", NOV, "standard", False, *tokens)
    for tier in ("unknown", "ultrafast"):
        cost = rates.cost_of("gpt-6-sol", NOV, tier, False, *tokens)
        assert cost.usd == standard.usd and cost.as_standard and cost.tier == "standard"
    # flex: 30k x 1 + 60k x 0.1 + 10k x 1.25 + 2k x 5
    assert rates.cost_of("gpt-6-sol", NOV, "flex", False, *tokens).usd == pytest.approx(0.0585)
    rep = Report("daily", resolve_zone("UTC"), rates=rates)
    for tier in ("priority", "unknown", "ultrafast"):
        rep.add(
            _ms("2026-11-01T12:00:00+00:00"),
            "gpt-6-sol",
            100_000,
            60_000,
            2_000,
            0,
            "s" * 32,
            cache_write=10_000,
            tier=tier,
        )
    data = rep.to_json()
    assert data["api_equivalent"]["priced_as_standard"] == {
        "ultrafast": 102_000,
        "unknown": 102_000,
    }
    # priority 2x: 30k x 4 + 60k x 0.4 + 10k x 5 + 2k x 20
    assert data["totals"]["tier_api_equivalent_usd"] == {
        "priority": pytest.approx(0.234),
        "ultrafast": pytest.approx(0.117),
        "unknown": pytest.approx(0.117),
    }


def test_priority_before_the_librarys_tier_data_scales_the_standard_price_then(rates):
    # gpt-5.6-sol priority before 2026-08-21: 2x the launch price (10 / 1 / 12.5 / 60)
    cost = rates.cost_of(
        "gpt-5.6-sol", date(2026, 8, 1), "priority", False, 100_000, 60_000, 10_000, 2_000
    )
    assert cost.usd == pytest.approx(0.605) and not cost.as_standard
    assert "before 2026-10-12" in rates.rate("gpt-5.6-sol", date(2026, 8, 1), "priority").notes


def test_at_prices_everything_at_one_dates_rates(rates):
    groups = [
        Group("gpt-5.6-sol", date(2026, 8, 1), "standard", False, 100_000, 60_000, 10_000, 2_000)
    ]
    assert price_groups(groups, rates)[0].usd == pytest.approx(0.3025)
    assert price_groups(groups, rates, at=date(2026, 11, 1))[0].usd == pytest.approx(0.234)


def test_polars_helpers_flag_long_responses_and_price_groups(rates):
    import polars as pl

    day = date(2026, 11, 1)
    responses = pl.DataFrame(
        {
            "model": ["gpt-6-sol", "gpt-6-sol", "gpt-5", "kimi"],
            "day": [day] * 4,
            "input": [300_000, 272_000, 300_000, 300_000],
        }
    )
    assert with_long_flag(responses, rates)["long"].to_list() == [True, False, False, False]
    groups = pl.DataFrame(
        {
            "model": ["gpt-6-sol", "codex-auto-review", "kimi"],
            "day": [day] * 3,
            "tier": ["standard", "unknown", "standard"],
            "long": [True, False, False],
            "input": [300_000, 100_000, 1],
            "cached": [200_000, 60_000, 0],
            "cache_write": [20_000, 0, 0],
            "output": [5_000, 2_000, 0],
        }
    )
    priced = price_frame(groups, rates)
    assert priced["usd"].to_list()[0] == pytest.approx(0.575)
    assert priced["usd"].to_list()[1] == pytest.approx(0.0116)
    assert priced["usd"].to_list()[2] is None
    assert priced["estimate"].to_list() == [False, True, False]
    assert priced["as_standard"].to_list() == [False, True, False]


def test_long_context_follows_the_rate_of_each_day_when_a_threshold_changes():
    table = parse_rates(
        "model,valid_from,valid_to,input_usd_per_mtok,cached_input_usd_per_mtok,"
        "output_usd_per_mtok,long_context_threshold_tokens,long_context_input_multiplier,"
        "long_context_output_multiplier,source_url,last_checked\n"
        "gpt-x,,2026-01-31,1,0.1,10,,,,https://e.com/x,2026-01-01\n"
        "gpt-x,2026-02-01,,1,0.1,10,100000,2,1.5,https://e.com/x,2026-01-01\n",
        today=NOV,
    )
    assert table.thresholds("gpt-x") == {None, 100_000}
    rep = Report("daily", resolve_zone("UTC"), rates=table)
    for stamp in ("2026-01-31T12:00:00+00:00", "2026-02-01T12:00:00+00:00"):
        rep.add(_ms(stamp), "gpt-x", 200_000, 0, 0, 0, "s" * 32)
    # 200k x 1 on the last day without a threshold, 200k x 2 on the first day with one
    assert [d["api_equivalent_usd"] for d in rep.to_json()["days"]] == [
        pytest.approx(0.2),
        pytest.approx(0.4),
    ]


def test_a_what_if_edit_reaches_every_tier_of_the_model():
    """Editing gpt-5.5's rates in the what-if moves its priority and flex rows by the same
    ratio (priority stays 2.5x standard), so usage at any tier sees the edit."""
    table = load_rates()
    edited = adjusted(table, edits={"gpt-5.5": (10.0, 1.0, 60.0)})  # twice the list price
    day = date(2026, 11, 1)
    for tier, (inp, cached, out) in {
        "standard": (10.0, 1.0, 60.0),
        "priority": (25.0, 2.5, 150.0),
        "flex": (5.0, 0.5, 30.0),
    }.items():
        (rate,) = [
            r for r in edited.rates if r.model == "gpt-5.5" and r.tier == tier and r.in_force(day)
        ]
        assert (rate.input, rate.cached, rate.output) == pytest.approx((inp, cached, out)), tier
    untouched = [r for r in edited.rates if r.model == "gpt-5.4" and r.tier == "priority"]
    assert untouched == [r for r in table.rates if r.model == "gpt-5.4" and r.tier == "priority"]
