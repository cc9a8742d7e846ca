"""API-equivalent: your own figures at the chosen prices first (total, by tier, cache writes, by
model), then a what-if on every assumption, then the rate table with its sources and dates.

Edits live in this browser session only; the adjusted table can be downloaded as CSV and used
with `codextime report --rates`.
"""

from datetime import date

import polars as pl
import streamlit as st

from pages.lib import charts
from pages.lib.access import require_viewer
from pages.lib.data import rates
from pages.lib.filters import banners, key_column, prices_picker
from pages.lib.routing import page_view
from pages.lib.text import ESTIMATE_NOTE, compact, inline_text, usd, usd_or_reason
from pages.lib.whatif import STALE_AFTER, can_assume, is_stale, with_assumptions
from store.pricing import Mapping, Rate, RateTable, row_cells, to_csv
from store.queries import by_model, by_tier, cache_writes, cost_summary, repriced

STALE_MARK = "⚠"
MAPPED = "estimate (priced as another model)"
AS_STANDARD = "priced as standard"
#: Headings of the count columns of the tier and model tables.
COUNT_HEADINGS = {"total": "tokens", "responses": "responses", "cache_write": "cache writes"}


def shown_with_estimate(
    table: pl.DataFrame, columns: list[str], flag: str, heading: str, note: str
) -> pl.DataFrame:
    """``columns`` of a by-model or by-tier table, its estimate as text (or why there is none)
    and, under ``heading``, ``note`` where the boolean column ``flag`` is set."""
    return table.select(
        *columns,
        pl.Series("API-equivalent", [usd_or_reason(v) for v in table["usd"]]),
        pl.when(pl.col(flag)).then(pl.lit(note)).otherwise(pl.lit("")).alias(heading),
    )


def model_rows(groups: pl.DataFrame) -> pl.DataFrame:
    """The by-model table as shown: tokens, cache writes, the estimate and whether it was
    priced through a mapping."""
    columns = ["model", "total", "cache_write"]
    return shown_with_estimate(by_model(groups), columns, "mapped", "note", MAPPED)


def tier_rows(groups: pl.DataFrame) -> pl.DataFrame:
    """The by-tier table as shown: tokens, responses, the estimate and how the tier was priced."""
    columns = ["tier", "total", "responses"]
    return shown_with_estimate(by_tier(groups), columns, "as_standard", "priced as", AS_STANDARD)


def rate_rows(table: RateTable, today: date) -> pl.DataFrame:
    """Every row of the rate table, its source and last-checked date, stale rows marked."""

    def shown(row: Rate | Mapping) -> dict:
        cells = row_cells(row)
        stale = is_stale(row.last_checked, today)
        return {
            "": STALE_MARK if stale else "",
            "model": row.model,
            "tier": cells["tier"],
            "from": cells["valid_from"],
            "to": cells["valid_to"],
            "input": cells["input_usd_per_mtok"],
            "cached input": cells["cached_input_usd_per_mtok"],
            "cache write": cells["cache_write_usd_per_mtok"],
            "output": cells["output_usd_per_mtok"],
            "long context": _long_context(row) if isinstance(row, Rate) else "",
            "priced as": f"{row.maps_to} (estimate)" if isinstance(row, Mapping) else "",
            "source": row.source_url,
            "last checked": row.last_checked,
            "notes": row.notes,
        }

    return pl.DataFrame([shown(r) for r in (*table.rates, *table.mappings)])


def _long_context(rate: Rate) -> str:
    if not rate.long_context_threshold:
        return ""
    return (
        f"> {rate.long_context_threshold:,} input: x{rate.long_context_input_multiplier:g} "
        f"input, x{rate.long_context_output_multiplier:g} output"
    )


view = page_view("pages/api_equivalent.py")
table = rates()
today = date.today()
st.title("API-equivalent")
st.warning(ESTIMATE_NOTE, icon=":material/info:")

if require_viewer(view) and banners(view):
    at = prices_picker()
    groups = view.groups(at)
    figures = cost_summary(groups)
    writes = cache_writes(groups, table, at=at)
    when = "at today's prices" if at else "each day at the prices in force that day"
    st.subheader("Your usage, priced")
    total, tiers_apart, cache = st.columns(3)
    total.metric("API-equivalent (estimate)", usd(figures["usd"]), help=f"Tokens {when}.")
    tiers_apart.metric(
        "Tokens of unknown tier (priced as standard)",
        compact(figures["as_standard_tokens"]),
        help="Responses whose log names no tier (or a tier with no price of its own) are "
        "priced at the standard rate and counted here apart.",
    )
    cache.metric(
        "Cache writes: share of input",
        f"{writes['share']:.1%}",
        help="Input written to the prompt cache, priced at the cache-write rate.",
    )
    cache.caption(f"Cache writes cost {usd(writes['usd'])} of the estimate.")
    st.caption(f"Prices: {when}; an estimate, not a bill and not an official price.")
    counts = {
        name: st.column_config.NumberColumn(heading, format="localized")
        for name, heading in COUNT_HEADINGS.items()
    }
    st.markdown("**By service tier**")
    st.dataframe(
        tier_rows(groups), hide_index=True, column_config={**counts, "tier": key_column("tier")}
    )
    st.markdown("**By model**")
    st.dataframe(
        model_rows(groups),
        hide_index=True,
        column_config={**counts, "model": key_column("model")},
        width="stretch",
    )
    unpriced = groups.filter(pl.col("usd").is_null())
    if not unpriced.is_empty():
        listed = ", ".join(
            f"{inline_text(m)} ({int(n):,} tokens)"
            for m, n in by_model(unpriced).select("model", "total").iter_rows()
        )
        st.caption(f"Not priced (no published rate, never counted as $0): {listed}.")

    @st.fragment
    def what_if() -> None:
        st.subheader("What if")
        edits: dict = st.session_state.setdefault("rate_edits", {})
        assumed: dict = st.session_state.setdefault("rate_assumptions", {})
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
        used = [m for m in by_model(groups)["model"] if table.rate(m) or can_assume(m)]
        if used:
            with st.expander("Change one model's rates, or price an unpriced one"):
                model = st.selectbox("Model", used, key="edit_model")
                rate = table.rate(model)
                if rate is None:
                    st.caption(
                        "No published price: what you set here is your assumption, and is "
                        "marked so in the table you download."
                    )
                    current = assumed.get(model, (0.0, 0.0, 0.0))
                    published, store, key, top = (0.0, 0.0, 0.0), assumed, model, 100.0
                else:
                    published = (rate.input, rate.cached or rate.input, rate.output)
                    current = edits.get(rate.model, published)
                    store, key, top = edits, rate.model, max(rate.output * 3, 1.0)
                cols = st.columns(3)
                new = (
                    cols[0].slider("Input", 0.0, top, float(current[0]), key=f"in-{model}"),
                    cols[1].slider("Cached input", 0.0, top, float(current[1]), key=f"ca-{model}"),
                    cols[2].slider("Output", 0.0, top, float(current[2]), key=f"out-{model}"),
                )
                if new != published:
                    store[key] = new
                else:
                    store.pop(key, None)
                if (edits or assumed) and st.button("Reset every model"):
                    edits.clear()
                    assumed.clear()
                    st.rerun(scope="fragment")
        mine = with_assumptions(
            table, multiplier=multiplier, edits=edits, assumed=assumed, today=today
        )
        result = repriced(groups, mine, at=at, cached_share=share / 100 if share_on else None)
        mine_usd = cost_summary(result)["usd"] or 0.0
        a, b = st.columns(2)
        a.metric("At published rates (estimate)", usd(figures["usd"]))
        delta = mine_usd - (figures["usd"] or 0.0)
        b.metric(
            "With your assumptions (estimate)",
            usd(mine_usd),
            delta=f"{delta:+,.2f} USD" if abs(delta) >= 0.005 else None,
        )
        priced = by_model(result).filter(pl.col("usd").is_not_null()).select("model", "usd")
        if not priced.is_empty():
            st.altair_chart(charts.estimate_by_model(priced, view.all_models), width="stretch")
        if assumed:
            named = ", ".join(inline_text(m) for m in assumed)
            st.caption(f"Priced at your assumption (no published price): {named}.")
        st.download_button(
            "Download these rates as CSV",
            to_csv(mine),
            "rates-adjusted.csv",
            "text/csv",
            help="Use it with: codextime report daily --rates rates-adjusted.csv. Rows you "
            "changed or added are marked with origin 'analyst' and a note.",
        )

    what_if()

oldest, newest = table.checked
st.subheader("Published list prices (USD per million tokens)")
st.dataframe(
    rate_rows(table, today),
    hide_index=True,
    width="stretch",
    column_config={
        "": st.column_config.TextColumn("", width=30, help="⚠: stale (see below)", pinned=True),
        "model": key_column("model"),
        "from": st.column_config.TextColumn("from", width=95),
        "to": st.column_config.TextColumn("to", width=95),
        "source": st.column_config.LinkColumn("source", display_text="source"),
        "last checked": st.column_config.DateColumn("last checked", format="YYYY-MM-DD"),
    },
)
stale = sum(is_stale(r.last_checked, today) for r in (*table.rates, *table.mappings))
st.caption(
    f"Latest check of this table: {newest:%Y-%m-%d} (oldest row: {oldest:%Y-%m-%d}). "
    "A row priced as another model (codex-auto-review, gpt-reserve) is an estimate: the model "
    "behind it is not published."
)
if stale:
    st.caption(
        f"{STALE_MARK} stale: {stale} row(s) not checked against their source for more than "
        f"{STALE_AFTER.days} days; the price may have changed since."
    )
