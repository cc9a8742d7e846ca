"""The rate table against genai-prices: every row at several dates, tiers and request sizes, the
report on a demo home against the library response by response, and ``codextime rates update``."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import genai_prices  # the dev extra
import orjson
import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.demo import generate
from collector.scan import ReadPlan
from store.fields import CACHE_WRITE, CACHED, INPUT, MODEL, OUTPUT, TIER, TS_MS
from store.pricing import STANDARD, load_rates, normalise, parse_rates, to_csv
from store.rates_update import BEFORE_TIER_MARK, RESEARCH_RATES, build_table

TODAY = date(2026, 11, 30)
#: (input, cached, cache_write, output): a short request and one over 272K input
SIZES = ((100_000, 60_000, 10_000, 2_000), (300_000, 200_000, 20_000, 5_000))


def library_usd(name: str, day: date, tier: str, tokens: tuple[int, int, int, int]) -> float:
    """USD of one request by genai-prices itself (warnings are errors: a misspelled key only
    warns there)."""
    inp, cached, cache_write, out = tokens
    usage = genai_prices.Usage(
        input_tokens=inp,
        cache_read_tokens=cached,
        cache_write_tokens=cache_write,
        output_tokens=out,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = genai_prices.calc_price(
            usage,
            normalise(name),
            provider_id="openai",
            genai_request_timestamp=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            price_context=None if tier in (STANDARD, "unknown") else {"service_tier": tier},
        )
    return float(result.total_price)


def knows(name: str) -> bool:
    from genai_prices.data_snapshot import get_snapshot

    try:
        get_snapshot().find_provider_model(normalise(name), None, "openai", None)
    except LookupError:
        return False
    return True


def days_of(rate) -> list[date]:
    """valid_from, valid_to and a day inside (a month before an open start, today for an open
    end)."""
    last = rate.valid_to or TODAY
    first = rate.valid_from or last - timedelta(days=60)
    return sorted({first, first + (last - first) / 2, last})


@pytest.fixture(scope="module")
def table():
    return load_rates(today=TODAY)


def test_every_library_row_agrees_with_genai_prices(table):
    checked = 0
    for rate in table.rates:
        if not rate.origin.startswith("genai-prices"):
            continue
        assert rate.origin == f"genai-prices {genai_prices.__version__}", rate
        for name in (rate.model, *rate.aliases):
            for day in days_of(rate):
                for tokens in SIZES:
                    long = rate.is_long(tokens[0]) or table.rate(name, day).is_long(tokens[0])
                    ours = rate.cost(*tokens[:2], tokens[3], cache_write=tokens[2], long=long)
                    theirs = library_usd(name, day, rate.tier, tokens)
                    if BEFORE_TIER_MARK in rate.notes:
                        # The note: the library prices this tier as standard on that day.
                        standard = table.rate(name, day)
                        theirs_standard = standard.cost(
                            *tokens[:2], tokens[3], cache_write=tokens[2], long=long
                        )
                        assert theirs == pytest.approx(theirs_standard, rel=1e-9), (name, day)
                        continue
                    assert ours == pytest.approx(theirs, rel=1e-6), (name, rate.tier, day, tokens)
                    checked += 1
    assert checked > 500


def test_rows_the_library_lacks_are_the_research_rows_naming_their_source(table):
    research = load_rates(RESEARCH_RATES, today=TODAY)
    for rate in table.rates:
        if rate.origin.startswith("genai-prices"):
            continue
        assert not knows(rate.model), rate.model
        assert rate.origin.startswith("research"), rate.model
        assert rate in research.rates
    assert {normalise(m.model) for m in table.mappings} == {"codex-auto-review", "gpt-reserve"}
    assert all(m.notes.startswith("estimate") for m in table.mappings)


def test_the_table_is_what_rates_update_writes():
    assert to_csv(build_table(today=TODAY)) == to_csv(load_rates(today=TODAY))


def test_the_report_on_a_demo_home_equals_genai_prices_response_by_response(tmp_path):
    home = tmp_path / "home"
    generate(home, days=120)
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "daily", "--codex-home", str(home), "--json", "--timezone", "UTC"]
    )
    report = orjson.loads(result.stdout)
    expected: dict[tuple[str, str], float] = {}
    skipped: set[tuple[str, str]] = set()
    table = load_rates(today=TODAY)
    for scan in ReadPlan(home, keep_cursors=False).results():
        for row in scan.rows:
            model, tier = row[MODEL], row[TIER]
            day = datetime.fromtimestamp(row[TS_MS] / 1000, UTC).date()
            key = (day.isoformat(), model)
            rate = table.rate(model, day, tier)
            if not knows(model) or (rate is not None and BEFORE_TIER_MARK in rate.notes):
                skipped.add(key)  # no library price, or a tier before the library's tier data
                continue
            tokens = (row[INPUT], row[CACHED], row[CACHE_WRITE], row[OUTPUT])
            expected[key] = expected.get(key, 0.0) + library_usd(model, day, tier, tokens)
    compared = 0
    for entry in report["days"]:
        for model, figures in entry["models"].items():
            key = (entry["date"], model)
            if key in skipped:
                continue
            assert figures["api_equivalent_usd"] == pytest.approx(expected[key], abs=2e-6), key
            compared += 1
    assert compared > 40 and len(expected.keys() - skipped) == compared


def test_rates_update_keeps_analyst_rows_and_drops_the_librarys_for_their_models(tmp_path):
    mine = tmp_path / "rates.csv"
    mine.write_text(
        to_csv(load_rates(today=TODAY))
        + "gpt-5,standard,,,9,0.9,,90,,,,,,,analyst,https://example.com/mine,2026-11-01,my own\n"
        + "my-model,standard,,,1,0.1,,2,,,,,,,analyst,https://example.com/mine,2026-11-01,\n"
    )
    mine.write_text(
        "\n".join(
            line
            for line in mine.read_text().splitlines()
            if not line.startswith("gpt-5,") or ",analyst," in line
        )
        + "\n"
    )
    result = CliRunner().invoke(app, ["rates", "update", "--rates", str(mine)])
    assert result.exit_code == 0, result.output
    table = parse_rates(mine.read_text(), today=TODAY)
    gpt5 = [r for r in table.rates if r.model == "gpt-5"]
    assert [(r.input, r.origin) for r in gpt5] == [(9.0, "analyst")]
    assert table.rate("my-model", TODAY).output == 2.0
    assert table.rate("gpt-6-sol", TODAY).origin.startswith("genai-prices")


def test_rates_update_adds_the_models_of_the_logs(tmp_path):
    home = tmp_path / "home"
    generate(home, days=10)
    target = tmp_path / "rates.csv"
    result = CliRunner().invoke(
        app, ["rates", "update", "--rates", str(target), "--codex-home", str(home)]
    )
    assert result.exit_code == 0, result.output
    assert load_rates(target, today=TODAY).rate("gpt-5.1-codex-max", TODAY).model == "gpt-5.1"


def test_rates_update_without_the_library_names_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "genai_prices", None)  # import fails
    result = CliRunner().invoke(app, ["rates", "update", "--rates", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "pip install 'codextime[rates]'" in " ".join(result.output.split())
    assert not (tmp_path / "r.csv").exists()


def test_only_plain_openai_names_of_the_logs_reach_the_table():
    hostile = [
        "gpt-5.1-codex\n,evil",
        "gpt-5\x1b[31m",
        "kimi-k2.5:cloud",
        "openai/GPT-5.5-codex-high",
    ]
    table = build_table(hostile, today=TODAY)
    aliases = {a for r in table.rates for a in r.aliases}
    assert "gpt-5.5-codex" in aliases  # normalised, then matched by the library to gpt-5.5
    assert not any("\n" in a or "\x1b" in a or ":" in a for a in aliases)
    assert table.rate("kimi-k2.5:cloud", TODAY) is None
