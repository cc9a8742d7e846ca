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


def unpriced_periods() -> pl.DataFrame:
    """Two models per week, one of them with no published price (its ``usd`` null)."""
    frame = periods(WEEKS, ("gpt-5", "no-such-model"))
    return frame.with_columns(
        usd=pl.when(pl.col("model") == "gpt-5").then(pl.col("usd")).otherwise(None)
    )


def tooltip_values(spec: dict) -> list[tuple[str, object]]:
    """(field, value) of every tooltip line of every data row of a chart's spec."""
    rows = next(iter(spec["datasets"].values()))
    fields = [t["field"] for t in spec["encoding"]["tooltip"]]
    return [(f, row.get(f)) for row in rows for f in fields]


@pytest.mark.parametrize("measure", ["tokens", "cost"])
@pytest.mark.parametrize("build", [charts.timeline, charts.model_mix])
def test_no_tooltip_shows_null_for_an_unpriced_model(build, measure):
    spec = build(unpriced_periods(), "week", measure).to_dict()
    shown = tooltip_values(spec)
    assert not [f for f, value in shown if value is None]
    estimates = {value for f, value in shown if f == "estimate"}
    assert "— no published price" in estimates  # the dash, with the reason
    assert any(value.startswith("$") for value in estimates)
    ranked = charts.estimate_by_model(pl.DataFrame({"model": ["o3"], "usd": [2.5]})).to_dict()
    assert ("estimate", "$2.50") in tooltip_values(ranked)


def test_two_dozen_models_get_two_dozen_colours_and_unknown_is_grey():
    models = [f"gpt-{n}" for n in range(24)] + ["unknown", "other"]
    scale = charts.model_colours(models).to_dict()
    colour = dict(zip(scale["domain"], scale["range"], strict=True))
    named = [colour[m] for m in models[:24]]
    assert len(set(named)) == 24
    assert colour["unknown"] == colour["other"] == charts.GREY
    assert charts.GREY not in named


def test_palette_colours_are_far_apart_and_none_is_grey():
    """No two palette colours within 19 of each other in CIELAB (22 among the first 24), and
    each far from the grey of unknown models."""

    def lab(hex_colour: str) -> tuple[float, float, float]:
        linear = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in linear]
        x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047
        y = r * 0.2126 + g * 0.7152 + b * 0.0722
        z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883
        f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
        return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])

    def apart(a: str, b: str) -> float:
        return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5

    palette = charts.PALETTE
    assert len(palette) >= 24
    pairs = [(a, b) for i, a in enumerate(palette) for b in palette[i + 1 :]]
    assert min(apart(a, b) for a, b in pairs) > 19
    first = palette[:24]
    assert min(apart(a, b) for i, a in enumerate(first) for b in first[i + 1 :]) > 22
    assert min(apart(c, charts.GREY) for c in palette) > 20


BUILT = {
    "timeline": lambda: charts.timeline(periods(WEEKS), "week"),
    "model_mix": lambda: charts.model_mix(periods(WEEKS), "week"),
    "estimate_by_model": lambda: charts.estimate_by_model(
        pl.DataFrame({"model": ["o3"], "usd": [1.0]})
    ),
}


@pytest.mark.parametrize("name", BUILT)
def test_charts_keep_their_plot_height_with_the_legend_below(name):
    """Fitted in width only: a legend below adds to the chart's height instead of squeezing the
    plot (Streamlit's default fits the whole chart, legend included, in its height)."""
    spec = BUILT[name]().to_dict()
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert spec["height"] >= 28
    legend = spec["encoding"]["color"].get("legend")
    if legend is not None:
        assert legend["orient"] == "bottom"
        assert "width" in legend["columns"]["expr"]  # as many columns as the width holds
