"""API-equivalent: the rate table with its sources and dates, and a what-if on every assumption.

Edits live in this browser session only; the adjusted table can be downloaded as CSV and used
with `codextime report --rates`.
"""

import polars as pl
import streamlit as st

from pages.lib import charts
from pages.lib.shared import ESTIMATE_NOTE, banners, page_view, rates, require_viewer, usd
from pages.lib.text import inline_text
from store.pricing import adjusted, to_csv
from store.queries import estimate, estimate_groups

view = page_view("pages/api_equivalent.py")
table = rates()
st.title("API-equivalent")
st.warning(ESTIMATE_NOTE, icon=":material/info:")

oldest, newest = table.checked
st.subheader("Published list prices (USD per million tokens)")
st.dataframe(
    pl.DataFrame(
        [
            {
                "model": r.model,
                "input": r.input,
                "cached input": r.cached,
                "output": r.output,
                "long context": (
                    f"> {r.long_context_threshold:,} input: x{r.long_context_input_multiplier:g} "
                    f"input, x{r.long_context_output_multiplier:g} output"
                    if r.long_context_threshold
                    else ""
                ),
                "source": r.source_url,
                "last checked": r.last_checked,
            }
            for r in table.rates
        ]
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "source": st.column_config.LinkColumn("source", display_text="source"),
        "last checked": st.column_config.DateColumn("last checked", format="YYYY-MM-DD"),
    },
)
st.caption(
    f"Latest check of this table: {newest:%Y-%m-%d} (oldest row: {oldest:%Y-%m-%d}). Standard "
    "tier, as Codex logs do not record priority or flex service."
)

if require_viewer(view) and banners(view):
    frame = view.frame()
    groups = estimate_groups(frame, table)
    base = estimate(groups, table)

    @st.fragment
    def what_if() -> None:
        st.subheader("What if")
        edits: dict = st.session_state.setdefault("rate_edits", {})
        left, right = st.columns(2)
        multiplier = left.slider(
            "All rates times",
            0.1,
            4.0,
            1.0,
            0.05,
            key="multiplier",
            help="A discount or a price rise across every model.",
        )
        share_on = right.toggle("Assume a cached share of input", key="share_on")
        share = right.slider(
            "Cached share of input",
            0,
            100,
            50,
            5,
            key="share",
            format="%d%%",
            disabled=not share_on,
        )
        used = [m for m in base["per_model"] if table.lookup(m) is not None]
        if used:
            with st.expander("Change one model's rates"):
                model = st.selectbox("Model", used, key="edit_model")
                rate = table.lookup(model)
                current = edits.get(rate.model, (rate.input, rate.cached, rate.output))
                top = max(rate.output * 3, 1.0)
                cols = st.columns(3)
                new = (
                    cols[0].slider("Input", 0.0, top, float(current[0]), key=f"in-{model}"),
                    cols[1].slider("Cached input", 0.0, top, float(current[1]), key=f"ca-{model}"),
                    cols[2].slider("Output", 0.0, top, float(current[2]), key=f"out-{model}"),
                )
                if new != (rate.input, rate.cached, rate.output):
                    edits[rate.model] = new
                else:
                    edits.pop(rate.model, None)
                if edits and st.button("Reset every model"):
                    edits.clear()
                    st.rerun(scope="fragment")
        mine = adjusted(table, multiplier=multiplier, edits=edits)
        result = estimate(groups, mine, cached_share=share / 100 if share_on else None)
        a, b = st.columns(2)
        a.metric("At published rates (estimate)", usd(base["usd"]))
        delta = result["usd"] - base["usd"]
        b.metric(
            "With your assumptions (estimate)",
            usd(result["usd"]),
            delta=f"{delta:+,.2f} USD" if abs(delta) >= 0.005 else None,
        )
        priced = pl.DataFrame(
            [{"model": m, "usd": v} for m, v in result["per_model"].items() if v is not None],
            schema={"model": pl.String, "usd": pl.Float64},
        )
        if not priced.is_empty():
            st.altair_chart(charts.estimate_by_model(priced), width="stretch")
        if result["unpriced"]:
            listed = ", ".join(
                f"{inline_text(m)} ({n:,} tokens)" for m, n in result["unpriced"].items()
            )
            st.caption(f"Not priced (no published rate, never counted as $0): {listed}.")
        st.download_button(
            "Download these rates as CSV",
            to_csv(mine),
            "rates-adjusted.csv",
            "text/csv",
            help="Use it with: codextime report daily --rates rates-adjusted.csv",
        )

    what_if()
