"""API-equivalent pricing: hand-computed examples for each rule, and the shipped table's hygiene."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.report import Report, resolve_zone
from store.pricing import DEFAULT_RATES, RatesError, load_rates, normalise, parse_rates
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
