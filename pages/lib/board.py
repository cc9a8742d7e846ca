"""The leaderboard's and the profiles' data and pictures: cached reads of ``store.board`` (the
public, opted-in side of the store), and pure builders from what they answer to the frames and
charts the two pages draw.

Everything here is public: opted-in accounts only, their totals per day at most, never an hour and
never a label."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

import altair as alt
import polars as pl
import streamlit as st

from pages.lib import charts
from pages.lib.data import TTL, engine, stops_when_unreachable
from pages.lib.text import counted
from store import board
from store.pricing import load_rates
from store.queries import calendar

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

#: Rows on one page of the board.
PER_PAGE = 100
#: The board's periods: days back, today (UTC) included; None for all time.
PERIODS = {"7 days": 7, "30 days": 30, "All time": None}
#: What the board ranks by.
RANKINGS = {"Tokens": "tokens", "API-equivalent": "usd"}
#: The profile page's address, relative to any page of the app.
PROFILE_PATH = "profile"
#: The highlight of the viewer's own row.
OWN_ROW = "background-color: #fff3bf; font-weight: 600"


def since(period: str, today: date) -> date | None:
    """The first UTC day a period counts."""
    days = PERIODS[period]
    return None if days is None else today - timedelta(days=days - 1)


# -- cached reads ------------------------------------------------------------------------------


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def board_page(
    url: str,
    rates_file: str,
    first_day: date | None,
    by: str,
    model: str | None,
    search: str | None,
    offset: int,
) -> board.BoardPage:
    """One page of the board (see ``store.board.leaderboard``)."""
    return board.leaderboard(
        engine(url),
        load_rates(rates_file),
        since=first_day,
        by=by,
        model=model,
        search=search,
        offset=offset,
        limit=PER_PAGE,
    )


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def rank_of(
    url: str, rates_file: str, account: int, first_day: date | None, by: str, model: str | None
) -> int | None:
    """The place of ``account`` on the whole board (whatever the search), None when unranked."""
    return board.rank_of(
        engine(url), load_rates(rates_file), account, since=first_day, by=by, model=model
    )


@stops_when_unreachable
@st.cache_data(ttl=TTL, show_spinner=False)
def board_models(url: str) -> list[str]:
    """The models the board can be narrowed to."""
    return board.board_models(engine(url))


@stops_when_unreachable
@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def profile(url: str, rates_file: str, name: str) -> board.Profile | None:
    """An opted-in account's public profile; None for any other name."""
    return board.profile(engine(url), load_rates(rates_file), name)


# -- the board ---------------------------------------------------------------------------------


def profile_link(name: str) -> str:
    """The address of ``name``'s profile (the name percent-encoded: it is anyone's to choose)."""
    return f"{PROFILE_PATH}?name={quote(name, safe='')}"


def mix_text(row: board.BoardRow) -> str:
    """``gpt-5 60%, o3 40%, +2 more``: a row's model mix as the table shows it."""
    shown = [f"{model} {share}%" for model, share in row.models]
    if row.more_models:
        shown.append(f"+{row.more_models} more")
    return ", ".join(shown)


#: How the table shows a profile link: the name it carries (the frontend decodes it).
PROFILE_NAME = r"name=(.*)$"


def board_frame(rows: Sequence[board.BoardRow]) -> pl.DataFrame:
    """One page of the board as the table shows it: rank, the link to each profile (shown as the
    name, through ``PROFILE_NAME``), tokens, API-equivalent and model mix."""
    return pl.DataFrame(
        [(r.rank, profile_link(r.name), r.tokens, r.usd, mix_text(r)) for r in rows],
        schema={
            "rank": pl.Int64,
            "name": pl.String,
            "tokens": pl.Float64,
            "usd": pl.Float64,
            "models": pl.String,
        },
        orient="row",
    )


def highlighted(frame: pl.DataFrame, rows: Sequence[board.BoardRow], own: int | None) -> Styler:
    """The table with the viewer's own row (the account ``own``, when on this page) marked."""
    mine = [row.account_id == own for row in rows]
    return frame.to_pandas().style.apply(
        lambda line: [OWN_ROW if mine[line.name] else ""] * len(line), axis=1
    )


def page_count(total: int) -> int:
    """How many pages of ``PER_PAGE`` rows the board has (at least one)."""
    return max(1, math.ceil(total / PER_PAGE))


def rows_shown(offset: int, shown: int, total: int) -> str:
    """``Rows 101–200 of 1,234``."""
    if not shown:
        return f"No rows of {total:,}"
    return f"Rows {offset + 1:,}–{offset + shown:,} of {total:,}"


def own_rank_line(rank: int | None, total: int, name_shown: str) -> str:
    """The line above the table for a signed-in viewer. ``name_shown`` is already safe Markdown."""
    if rank is None:
        return (
            f"You are signed in as {name_shown}, who is not ranked here: not opted in "
            "(`codextime leaderboard join`), or no usage of yours counts in this period and "
            "model."
        )
    return f"You ({name_shown}) are **#{rank:,}** of {total:,}."


def flagged_note(records: int) -> str | None:
    """The note on records left out: None when there are none."""
    if not records:
        return None
    return (
        f"{counted(records, 'record')} failed the plausibility checks and "
        f"{'is' if records == 1 else 'are'} not ranked: kept, and shown to their owner."
    )


# -- profiles ----------------------------------------------------------------------------------


def calendars(days: Sequence[tuple[date, int]]) -> list[tuple[int, pl.DataFrame]]:
    """Every day of each year with usage, newest year first, as ``charts.calendar`` draws them
    (``days``: a profile's daily totals)."""
    daily = pl.DataFrame(list(days), schema={"day": pl.Date, "total": pl.Float64}, orient="row")
    return [
        (year, calendar(daily, year)) for year in sorted({d.year for d, _ in days}, reverse=True)
    ]


def mix_chart(models: Sequence[tuple[str, int, int]]) -> alt.Chart:
    """A profile's model mix: each model's share of its tokens, one bar each, largest first."""
    frame = pl.DataFrame(
        list(models),
        schema={"model": pl.String, "tokens": pl.Float64, "share": pl.Float64},
        orient="row",
    ).with_columns(pl.col("share") / 100)
    return (
        alt.Chart(frame, title="Model mix (share of tokens)")
        .mark_bar()
        .encode(
            x=alt.X(
                "share:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            y=alt.Y("model:N", sort="-x", title=None),
            color=alt.Color("model:N", scale=charts.model_colours(frame["model"]), legend=None),
            tooltip=[
                "model:N",
                alt.Tooltip("share:Q", format=".0%", title="Share"),
                alt.Tooltip("tokens:Q", format=",", title="Tokens"),
            ],
        )
        .properties(height=alt.Step(28))
    )


def monthly_chart(months: Sequence[tuple[str, int, float | None]]) -> alt.Chart:
    """A profile's API-equivalent per month (``YYYY-MM``); a month with no priced usage has no
    bar (never a $0 one)."""
    frame = pl.DataFrame(
        [
            (charts.period_name("month", date.fromisoformat(f"{month}-01")), tokens, usd)
            for month, tokens, usd in months
            if usd is not None
        ],
        schema={"when": pl.String, "tokens": pl.Float64, "usd": pl.Float64},
        orient="row",
    )
    return (
        alt.Chart(frame, title="API-equivalent per month (estimate)")
        .mark_bar()
        .encode(
            x=alt.X(
                "when:O", title=None, sort=frame["when"].to_list(), axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("usd:Q", title="USD (estimate)", axis=charts.usd_axis()),
            tooltip=[
                alt.Tooltip("when:N", title="Month"),
                alt.Tooltip("usd:Q", format="$,.2f", title="Estimate"),
                alt.Tooltip("tokens:Q", format=",", title="Tokens"),
            ],
        )
        .properties(height=260)
    )
