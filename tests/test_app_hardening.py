"""The app against a hostile store: rows written straight into the table (past every check the
ingest service makes), huge counts, names full of markup and control characters, renamed
accounts. Every page must draw, with sane numbers, showing stored strings as plain text."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from pages.lib.text import LONGEST_SHOWN, inline_text
from store.accounts import create_account, revoke_tokens
from store.board import MIX_SHOWN
from store.db import open_store, rebuild_rollups
from store.fields import EARLIEST, FUTURE_SLACK, refusal
from store.models import Account, Usage

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC).replace(microsecond=0)
#: CommonMark with GitHub's tables and strikethrough, as Streamlit renders it (bar linkify).
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
PRIVATE_PAGES = ("overview", "heatmap", "models", "api_equivalent")
IMAGE = "![x](http://attacker.invalid/x.png)"
HOSTILE_NAMES = (
    IMAGE,
    "[click me](http://attacker.invalid/) <img src=http://attacker.invalid/y.png>",
    "# heading **bold** :red[red] $x^2$ `code` <b>html</b>",
    "tab\tnew\nline\r\x1b[31m\u202eevil",
    "",
)


@dataclass
class Planted:
    """A store with hostile rows: its URL, the hostile account's token and exact totals."""

    url: str
    token: str
    total: int  # input + output of the hostile account's records dated as usage, exactly
    other_total: int  # the same for the well-behaved account
    misdated: int  # the hostile account's records dated where no usage can be
    ranked: int  # input + output of the hostile account's records the record type accepts
    out_of_bounds: int  # how many of its records dated as usage it would refuse


def refused(row: dict) -> bool:
    figures = (row["input"], row["cached"], row["cache_write"], row["output"], row["reasoning"])
    return refusal(row["ts"], *figures) is not None


def dated_as_usage(row: dict) -> bool:
    return EARLIEST <= row["ts"] <= NOW + FUTURE_SLACK


def tokens(rows: list[dict]) -> int:
    return sum(r["input"] + r["output"] for r in rows if dated_as_usage(r))


def usage_row(
    account: int, n: int, model: str, label: str | None, flag: str | None = None, **counts
) -> dict:
    """A row of the usage table (``n`` hours ago), written as it stands: nothing checks it."""
    figures = dict(input=1000, cached=0, cache_write=0, output=100, reasoning=0) | counts
    return dict(
        flag=flag,
        account_id=account,
        ts=NOW - timedelta(hours=n),
        model=model,
        event_id=f"{n:032x}",
        session=f"{n % 2:032x}",
        label=label,
        **figures,
    )


def hostile_rows(account: int, postgres: bool, huge: bool) -> list[dict]:
    """Markup and control characters, empty and very long names, and with ``huge`` counts no
    64-bit sum can hold. PostgreSQL refuses NUL in text and enforces the columns' lengths; SQLite
    takes anything."""
    longest = 100 if postgres else 5000
    nul = "" if postgres else "nul\x00byte"
    names = [*HOSTILE_NAMES, "m" * longest, nul or "plain"]
    rows = [usage_row(account, 4, IMAGE + "/gpt-5", IMAGE)]  # priced: the name ends in gpt-5
    if huge:
        rows += [
            usage_row(account, 1, "gpt-5", "laptop", input=5 * 10**18, cached=4 * 10**18),
            usage_row(account, 2, "gpt-5", "laptop", input=5 * 10**18, output=5 * 10**18),
            usage_row(account, 3, "o3", None, input=2**63 - 1, output=2**63 - 1),
            usage_row(account, 41, "o3", "laptop", input=-(5 * 10**18), output=-1),
            usage_row(account, 42, "gpt-5", None, cached=2**63 - 1, reasoning=-(2**63)),
        ]
        # The first and last instants a timestamp can hold: days that no time zone can shift.
        rows[-1]["ts"] = datetime(1, 1, 1, tzinfo=UTC)
        rows[-2]["ts"] = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    for n, name in enumerate(names, start=5):
        rows.append(usage_row(account, n, name, name[:longest]))
    rows.append(usage_row(account, 40, "zero", "", input=0, output=0))
    return rows


def plant(url: str, *, huge: bool, hostile_name: str = "[evil](http://x.invalid/)") -> Planted:
    """An account with hostile rows and a hostile display name, and a well-behaved one; both on
    the leaderboard."""
    engine = open_store(url)
    _, token = create_account(engine, "mallory")
    _, _ = create_account(engine, "alice")
    postgres = engine.dialect.name == "postgresql"
    a = Account.__table__
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(a.c.name, a.c.id)).all())
        conn.execute(a.update().values(leaderboard_opt_in=True))
        conn.execute(a.update().where(a.c.name == "mallory").values(name=hostile_name))
        bad = hostile_rows(ids["mallory"], postgres, huge)
        good = [usage_row(ids["alice"], n, "gpt-5", "desk") for n in range(100, 103)]
        conn.execute(Usage.__table__.insert(), bad + good)
    rebuild_rollups(engine)  # rows written past insert_usage: the board reads the rollups
    engine.dispose()
    return Planted(
        url,
        token,
        total=tokens(bad),
        other_total=tokens(good),
        misdated=sum(not dated_as_usage(r) for r in bad),
        ranked=tokens([r for r in bad if not refused(r)]),
        out_of_bounds=sum(dated_as_usage(r) and refused(r) for r in bad),
    )


@pytest.fixture
def hostile(store_url, monkeypatch) -> Planted:
    """Hostile names and huge counts."""
    planted = plant(store_url, huge=True)
    monkeypatch.setenv("CODEXTIME_DB", store_url)
    return planted


@pytest.fixture
def marked_up(store_url, monkeypatch) -> Planted:
    """Hostile names only."""
    planted = plant(store_url, huge=False)
    monkeypatch.setenv("CODEXTIME_DB", store_url)
    return planted


def app(shared: bool, token: str | None = None) -> AppTest:
    """The app's first page, signed in with ``token`` on a shared deployment."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    if shared:
        at.secrets["shared"] = True
    at.run()
    if shared and token:
        at.text_input[0].input(token)
        at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_sources(at: AppTest) -> list[str]:
    """Every piece of text the page hands to Streamlit's Markdown renderer."""
    sources = [m.value for m in at.markdown] + [c.value for c in at.caption]
    sources += [e.value for kind in (at.info, at.warning, at.error, at.success) for e in kind]
    sources += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    sources += [m.proto.help for m in at.metric]
    sidebar = at.sidebar
    sources += [m.value for m in sidebar.markdown] + [c.value for c in sidebar.caption]
    return sources


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.-]", "", text))


@pytest.mark.parametrize("shared", [False, True], ids=["personal", "shared"])
def test_every_page_survives_hostile_rows_with_sane_numbers(hostile, shared):
    at = app(shared, hostile.token)
    mine = hostile.total + (0 if shared else hostile.other_total)
    heading = [m.value for m in at.markdown if "tokens all time" in m.value]
    assert heading and heading[0].startswith(f"### {mine:,} tokens all time")
    assert (hostile.misdated, hostile.out_of_bounds) == (2, 3)
    notices = [rendered_text(w.value) for w in at.warning]
    assert any(n.startswith("2 records dated before 2025-04-01 or over a day") for n in notices)
    assert any(n.startswith("3 records flagged as implausible (counts_out_of") for n in notices)
    for page in PRIVATE_PAGES:
        visit(at, page)
        assert at.title, page
    visit(at, "models")
    assert at.dataframe[0].value["total"].sum() == pytest.approx(mine, rel=1e-9)
    visit(at, "heatmap")
    year_captions = [c.value for c in at.caption if " tokens" in c.value and ":" in c.value]
    assert sum(number(c.split(",", 1)[1]) for c in year_captions) == pytest.approx(mine, rel=1e-9)
    visit(at, "api_equivalent")
    estimate = [m.value for m in at.metric if m.label.startswith("At published rates")]
    assert estimate and number(estimate[0]) > 0
    visit(at, "leaderboard")
    board = at.dataframe[0].value
    assert sorted(board["tokens"]) == sorted([hostile.ranked, hostile.other_total])
    assert list(board["rank"]) == [1, 2]
    visit(at, "privacy")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_the_first_and_last_instants_in_far_time_zones(hostile, zone):
    """Days at the ends of the calendar, seen fourteen hours ahead of UTC or twelve behind."""
    at = app(False)
    at.selectbox(key="tz").set_value(zone).run()
    assert not at.exception, [e.value for e in at.exception]
    for page in (*PRIVATE_PAGES, "leaderboard"):
        visit(at, page)


@pytest.mark.parametrize("shared", [False, True], ids=["personal", "shared"])
def test_stored_strings_reach_markdown_only_as_plain_text(marked_up, shared):
    at = app(shared, marked_up.token)
    for page in PRIVATE_PAGES:
        visit(at, page)
        for source in markdown_sources(at):
            html = MARKDOWN.render(source)
            assert "<img" not in html and "<a " not in html, (page, source)
            assert not linkable(source), (page, source)
    visit(at, "api_equivalent")
    unpriced = [c.value for c in at.caption if c.value.startswith("Not priced")]
    assert unpriced and IMAGE in rendered_text(unpriced[0])


def rendered_text(source: str) -> str:
    """What a reader sees of a Markdown source: its rendered text, tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", MARKDOWN.renderInline(source)))


def linkable(source: str) -> list[str]:
    """Runs of plain text in a Markdown source that GitHub-flavoured Markdown (as Streamlit
    renders it) turns into links after parsing: bare addresses, escaped or not (an escaped
    character is plain text once parsed)."""
    runs, run = [], ""
    for token in MARKDOWN.parse(source):
        for child in token.children or []:
            if child.type in ("text", "text_special"):
                run += child.content
            else:
                runs, run = [*runs, run], ""
        runs, run = [*runs, run], ""
    return [r for r in runs if "://" in r or "www." in r]


def test_a_session_follows_its_account_through_renames(tmp_path, monkeypatch):
    """A signs in; then A is renamed X and B renamed A. The session still shows A's records
    (now under the name X) and nothing of B's."""
    url = f"sqlite:///{tmp_path / 'renames.db'}"
    engine = open_store(url)
    _, token_a = create_account(engine, "A")
    create_account(engine, "B")
    a = Account.__table__
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(a.c.name, a.c.id)).all())
        conn.execute(
            Usage.__table__.insert(),
            [
                usage_row(ids["A"], 1, "gpt-5", "a-laptop", input=111_000, output=0),
                usage_row(ids["B"], 2, "o3", "b-laptop", input=222_000, output=0),
            ],
        )
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = app(True, token_a)
    assert "111,000 tokens all time" in "\n".join(m.value for m in at.markdown)
    with engine.begin() as conn:
        conn.execute(a.update().where(a.c.name == "A").values(name="X"))
        conn.execute(a.update().where(a.c.name == "B").values(name="A"))
    engine.dispose()
    st.cache_data.clear()  # as after the cache's ten minutes
    at.run()
    assert not at.exception
    shown = "\n".join(markdown_sources(at))
    assert "111,000 tokens all time" in shown and "222,000" not in shown
    assert at.sidebar.multiselect(key="labels").options == ["a-laptop"]
    assert "Signed in as X" in [rendered_text(c.value) for c in at.sidebar.caption]
    visit(at, "models")
    assert list(at.dataframe[0].value["model"]) == ["gpt-5"]


def test_a_session_ends_when_its_token_is_revoked(tmp_path, monkeypatch):
    """Revoking an account's tokens (``codextime account revoke``) ends the dashboard sessions
    signed in with them: the token form comes back and no private figure stays on the page."""
    url = f"sqlite:///{tmp_path / 'revoked.db'}"
    engine = open_store(url)
    account, token = create_account(engine, "A")
    with engine.begin() as conn:
        conn.execute(
            Usage.__table__.insert(),
            [usage_row(account, 1, "gpt-5", "a-laptop", input=111_000, output=0)],
        )
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = app(True, token)
    assert "111,000 tokens all time" in "\n".join(m.value for m in at.markdown)
    revoke_tokens(engine, "A")
    engine.dispose()
    at.run()
    assert not at.exception
    assert "111,000" not in "\n".join(markdown_sources(at))
    assert [t.label for t in at.text_input] == ["Token"]


def flagged_store(url: str) -> dict[str, str]:
    """Two accounts on the leaderboard, each with plausible and flagged records; their tokens."""
    engine = open_store(url)
    tokens = {name: create_account(engine, name)[1] for name in ("honest", "inflated")}
    a = Account.__table__
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(a.c.name, a.c.id)).all())
        conn.execute(a.update().values(leaderboard_opt_in=True))
        rows = [
            usage_row(ids["honest"], 1, "gpt-5", None, input=2000, output=200),
            usage_row(ids["honest"], 2, "gpt-5", None, "too_fast", input=3_000_000),
            usage_row(ids["inflated"], 3, "gpt-5", None, input=1000, output=100),
        ] + [
            usage_row(
                ids["inflated"],
                n,
                "gpt-5",
                None,
                "tokens_per_day",
                input=4_000_000,
                output=1_000_000,
            )
            for n in (4, 5)
        ]
        conn.execute(Usage.__table__.insert(), rows)
    rebuild_rollups(engine)  # rows written past insert_usage: the board reads the rollups
    engine.dispose()
    return tokens


def test_the_leaderboard_never_ranks_flagged_records_and_says_so(store_url, monkeypatch):
    flagged_store(store_url)
    monkeypatch.setenv("CODEXTIME_DB", store_url)
    at = visit(app(False), "leaderboard")
    board = at.dataframe[0].value
    assert list(board["name"]) == ["profile?name=honest", "profile?name=inflated"]
    assert list(board["tokens"]) == [2_200, 1_100]
    assert "fail the plausibility checks" in "\n".join(c.value for c in at.caption)


@pytest.mark.parametrize(
    "owner, notice, total",
    [
        ("inflated", "2 records flagged as implausible (tokens_per_day)", 10_001_100),
        ("honest", "1 record flagged as implausible (too_fast)", 3_002_300),
    ],
)
def test_owners_see_their_flagged_records_counted_and_why(
    store_url, monkeypatch, owner, notice, total
):
    tokens = flagged_store(store_url)
    monkeypatch.setenv("CODEXTIME_DB", store_url)
    at = app(True, tokens[owner])
    warnings = [rendered_text(w.value) for w in at.warning]
    assert [w for w in warnings if w.startswith(notice)], warnings
    assert not [w for w in warnings if "flagged" in w and not w.startswith(notice)]
    assert f"### {total:,} tokens all time" in "\n".join(m.value for m in at.markdown)


def test_no_flag_notice_when_every_record_is_plausible(marked_up):
    at = app(False)
    assert not [w for w in at.warning if "flagged" in w.value]


@pytest.mark.parametrize(
    "name",
    [IMAGE, "`", "a``b`", "` leading and trailing `", "  spaced  ", "<b>x</b> & *y*", "日本語"],
)
def test_inline_text_renders_exactly_the_name(name):
    assert rendered_text(inline_text(name)) == name


def test_inline_text_shows_control_characters_and_cuts_long_names():
    assert rendered_text(inline_text("a\x00b\nc\u202ed")) == "a\ufffdb\ufffdc\ufffdd"
    shown = rendered_text(inline_text("m" * 5000))
    assert len(shown) == LONGEST_SHOWN and shown.endswith("…")


def test_a_leaderboard_row_names_a_few_models_and_counts_the_rest(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'many.db'}"
    engine = open_store(url)
    owner, _ = create_account(engine, "many-models")
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(a.update().values(leaderboard_opt_in=True))
        conn.execute(
            Usage.__table__.insert(),
            [usage_row(owner, n, f"model-{n:03d}", None, input=1000 + n) for n in range(200)],
        )
    rebuild_rollups(engine)
    engine.dispose()
    monkeypatch.setenv("CODEXTIME_DB", url)
    mix = visit(app(False), "leaderboard").dataframe[0].value["models"][0]
    assert mix.startswith("model-199 1%, model-198 1%, model-197 1%")
    assert mix.count("model-") == MIX_SHOWN and mix.endswith(f", +{200 - MIX_SHOWN} more")
