"""Models: the mix over time and totals per model, under the shared filters."""

import polars as pl
import streamlit as st

from pages.lib import charts
from pages.lib.access import require_viewer
from pages.lib.filters import (
    banners,
    chosen_usage,
    key_column,
    measure_picker,
    period_picker,
)
from pages.lib.routing import page_view
from pages.lib.text import COST_NOTE, ESTIMATE_NOTE, usd_or_reason
from store.queries import by_model, by_tier, model_mix

#: Headings of the models table's token columns.
COUNT_HEADINGS = {
    "input": "Input",
    "cached": "Cached",
    "cache_write": "Cache writes",
    "output": "Output",
    "reasoning": "Reasoning",
    "total": "Total",
    "responses": "Responses",
}

#: The models table's columns, the model and its headline figures first: on a phone the
#: table scrolls sideways, and these stay in view.
MODEL_COLUMNS = ["model", "total", "share", "usd", *(k for k in COUNT_HEADINGS if k != "total")]


def with_usd_as_text(table: pl.DataFrame) -> pl.DataFrame:
    """The ``usd`` column as dollars, or the reason there is none (never "None" or $0)."""
    return table.with_columns(pl.Series("usd", [usd_or_reason(v) for v in table["usd"]]))


def models_shown(table: pl.DataFrame) -> pl.DataFrame:
    """The models table as shown: model first, then its tokens, share and estimate."""
    return with_usd_as_text(table).select(MODEL_COLUMNS)


view = page_view("pages/models.py")
st.title("Models")
if require_viewer(view) and banners(view):
    frame = chosen_usage(view)
    if frame is not None:
        groups = view.groups()
        left, right = st.columns(2)
        with left:
            period = period_picker("Per", "week", "mix_period")
        with right:
            measure = measure_picker("mix_measure")
        mix = model_mix(groups, period)
        st.altair_chart(charts.model_mix(mix, period, measure, view.all_models), width="stretch")
        if measure == "cost":
            st.caption(COST_NOTE)
        table = by_model(groups).drop("mapped")
        total = table["total"].sum()
        share = pl.col("total") / total if total else pl.lit(0.0)  # all-zero rows: no share
        st.dataframe(
            models_shown(table.with_columns(share.alias("share"))),
            hide_index=True,
            width="stretch",
            column_config={
                "model": key_column("Model"),
                "share": st.column_config.ProgressColumn("Share", format="percent"),
                "usd": st.column_config.TextColumn("API-equivalent (estimate)"),
                **{
                    k: st.column_config.NumberColumn(heading, format="localized")
                    for k, heading in COUNT_HEADINGS.items()
                },
            },
        )
        st.subheader("Service tiers")
        st.dataframe(
            with_usd_as_text(by_tier(groups).drop("as_standard")),
            hide_index=True,
            column_config={
                "tier": key_column("Tier"),
                "total": st.column_config.NumberColumn("Tokens", format="localized"),
                "responses": st.column_config.NumberColumn("Responses", format="localized"),
                "share": st.column_config.ProgressColumn("Share", format="percent"),
                "usd": st.column_config.TextColumn("API-equivalent (estimate)"),
            },
        )
        st.caption(
            "The tier each response ran at, as Codex logged it: unknown when the log does not say "
            "(Codex before 0.144, or a thread whose settings never named one). Cache writes are "
            "input written to the prompt cache, apart from cached input."
        )
        st.caption(
            "Filters (models, dates, machines) live in the sidebar and in the page address, so a "
            "view can be shared as a link. " + ESTIMATE_NOTE
        )
