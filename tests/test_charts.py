"""The chart builders' specs: bands per period, one colour per model, axes written as the cards
write numbers, a calendar legend with every shade."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pages.lib import charts
from tests.test_app import charts as page_charts
from tests.test_app import run, store  # noqa: F401  (the fixture)

WEEKS = [date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 11, 2)]


def periods(starts: list[date], models=("gpt-5", "o3")) -> pl.DataFrame:
    rows = [
        dict(period=d, model=m, total=1_950_000_000 * (i + 1), input=1, cached=0, output=1)
        for d in starts
        for i, m in enumerate(models)
    ]
    frame = pl.DataFrame(rows)
    return frame.with_columns(usd=pl.col("total") / 1e6, tokens=pl.col("total"), share=pl.lit(0.5))


@pytest.mark.parametrize("build", [charts.timeline, charts.model_mix])
def test_weeks_and_months_are_one_named_band_each(build):
    spec = build(periods(WEEKS), "week").to_dict()
    x = spec["encoding"]["x"]
    assert x["type"] == "ordinal"  # a band as wide as the period, not a sliver on a time axis
    assert x["sort"] == ["week of 5 Oct", "week of 12 Oct", "week of 19 Oct", "week of 2 Nov"]
    months = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 11, 1)]
    spec = build(periods(months), "month").to_dict()
    assert spec["encoding"]["x"]["sort"] == ["Dec 2025", "Jan 2026", "Nov 2026"]
    days = build(periods([date(2026, 11, 3), date(2026, 11, 30)]), "day").to_dict()
    assert days["encoding"]["x"]["sort"] == ["Nov 3", "Nov 30"]


def test_a_model_keeps_its_colour_whatever_the_other_models_drawn():
    every = ["codex-mini", "gpt-5", "gpt-5.5", "o3"]
    alone = charts.timeline(periods(WEEKS, ("gpt-5.5",)), "week", models=every).to_dict()
    mixed = charts.timeline(periods(WEEKS, ("gpt-5", "gpt-5.5")), "week", models=every).to_dict()
    priced = pl.DataFrame({"model": ["o3", "gpt-5.5"], "usd": [1.0, 2.0]})
    ranked = charts.estimate_by_model(priced, every).to_dict()

    def colour(spec: dict, model: str) -> str:
        scale = spec["encoding"]["color"]["scale"]
        return scale["range"][scale["domain"].index(model)]

    assert colour(alone, "gpt-5.5") == colour(mixed, "gpt-5.5") == colour(ranked, "gpt-5.5")
    assert len({colour(mixed, m) for m in every}) == len(every)
    # The legend names only the models drawn.
    assert alone["encoding"]["color"]["legend"]["values"] == ["gpt-5.5"]


def test_the_same_model_has_the_same_colour_on_every_page_and_filter(store):  # noqa: F811
    """Overview's timeline, Models' mix and API-equivalent's bars, with and without a filter."""
    seen = set()
    for query in ({}, {"models": "gpt-5.1-codex"}, {"models": "gpt-5.1-codex,gpt-5"}):
        for page, index in ((None, 0), ("pages/models.py", 0), ("pages/api_equivalent.py", 0)):
            spec = page_charts(run(page, **query))[index]
            scale = spec["encoding"]["color"]["scale"]
            seen.add(scale["range"][scale["domain"].index("gpt-5.1-codex")])
    assert len(seen) == 1


def test_token_and_usd_axes_read_like_the_cards():
    spec = charts.timeline(periods(WEEKS), "week").to_dict()
    expression = spec["encoding"]["y"]["axis"]["labelExpr"]
    assert "' B'" in expression and "' M'" in expression and "' K'" in expression
    assert "format" not in spec["encoding"]["y"]["axis"]  # no d3 "~s" ("2G", "0M")
    cost = charts.model_mix(periods(WEEKS), "week", "cost").to_dict()
    assert "$" in cost["encoding"]["y"]["axis"]["labelExpr"]


def test_the_calendar_legend_lists_every_shade_with_its_range():
    tokens = pl.Series("tokens", [0, 1_000, 2_000, 3_000, 40_000, 5_000_000, 0])
    names, legend, colours = charts.shades(tokens)
    assert names[0] == names[-1] == "No use"
    assert legend == ["No use", "1.00 K", "2.00 K", "3.00 K", "40.00 K – 5.00 M"]
    assert colours == charts.GREENS[: len(legend)]
    assert set(names) == set(legend)
    assert charts.shades(pl.Series("tokens", [0, 0]))[1] == ["No use"]
