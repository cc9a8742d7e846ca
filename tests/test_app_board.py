"""The Leaderboard and profile pages, and sign-in by link, through Streamlit's AppTest."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from pages.lib import board
from pages.lib.access import LINK_REFUSED, SIGNED_IN, SIGNED_TOKEN
from pages.lib.text import NO_PRICE
from store.accounts import create_account, issue_code, revoke_tokens, token_digest
from store.db import insert_usage, open_store
from store.models import Account

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC).replace(microsecond=0)
MARKDOWN = MarkdownIt("commonmark")
#: Display names no sign-up accepts, but that a store may hold (written past the API).
HOSTILE = [
    "![x](http://img.invalid/i.png)",
    "[evil](http://x.invalid/)",
    "<b>bold</b>&amp;",
    "a&name=b#c",
    "http://bare.invalid",
    "`tick`",
    "line\nbreak",
]


def usage(n: int, *, days_ago: float = 0, model: str = "gpt-5", **counts) -> dict:
    return (
        dict(
            ts=NOW - timedelta(days=days_ago, minutes=n),
            model=model,
            tier="standard",
            input=1_000,
            cached=0,
            cache_write=0,
            output=100,
            reasoning=0,
            event_id=f"{n:032x}",
            session=f"{n % 3:032x}",
            label="secret-seat",
        )
        | counts
    )


def fill(url: str, people: dict[str, list[dict]], opted_in: set[str]) -> dict[str, tuple]:
    """Accounts with their usage (through the store's own insert, so rollups and flags are as a
    server keeps them); ``opted_in`` on the board. Each name's (account id, token)."""
    engine = open_store(url)
    made = {}
    for name, rows in people.items():
        made[name] = create_account(engine, name)
        insert_usage(engine, made[name][0], rows)
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(a.update().where(a.c.name.in_(opted_in)).values(leaderboard_opt_in=True))
    engine.dispose()
    return made


def rename(url: str, old: str, new: str) -> None:
    """A name the API would refuse, written straight into the store."""
    engine = open_store(url)
    a = Account.__table__
    with engine.begin() as conn:
        conn.execute(a.update().where(a.c.name == old).values(name=new))
    engine.dispose()


def app(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def leaderboard(**query) -> AppTest:
    return app("pages/leaderboard.py", **query)


def profile(name: str) -> AppTest:
    return app("pages/profile.py", name=name)


def names(at: AppTest) -> list[str]:
    """The display names of the table, read back from their profile links."""
    links = at.dataframe[0].value["name"]
    return [parse_qs(urlsplit(link).query)["name"][0] for link in links]


def shown(at: AppTest) -> str:
    """Every text the page hands to Streamlit's Markdown."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.info, at.warning, at.error) for e in kind]
    parts += [t.value for t in at.title] + [m.label + " " + m.value for m in at.metric]
    return "\n".join(parts)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


@pytest.fixture
def crowd(tmp_path, monkeypatch) -> dict[str, tuple]:
    """130 opted-in accounts (so two pages), with tokens growing with their number, and one
    account that keeps off the board."""
    url = f"sqlite:///{tmp_path / 'board.db'}"
    people = {
        f"user{i:03d}": [usage(j, days_ago=j, input=1_000 * (i + 1)) for j in range(2)]
        for i in range(130)
    }
    people["hidden"] = [usage(1, input=9_000_000, output=1_000)]
    made = fill(url, people, opted_in=set(people) - {"hidden"})
    monkeypatch.setenv("CODEXTIME_DB", url)
    return made


# -- the board -----------------------------------------------------------------------------------


def test_the_board_pages_past_100_rows_and_counts_them_all(crowd):
    at = leaderboard()
    assert names(at)[:2] == ["user129", "user128"] and len(names(at)) == 100
    assert "hidden" not in names(at)
    assert "Rows 1–100 of 130" in shown(at)
    at.number_input(key="board_page").set_value(2).run()
    assert names(at) == [f"user{i:03d}" for i in range(29, -1, -1)]
    assert list(at.dataframe[0].value["rank"])[:2] == [101, 102]
    assert "Rows 101–130 of 130" in shown(at)


def test_search_finds_people_with_their_rank_and_goes_back_to_the_first_page(crowd):
    at = leaderboard()
    at.number_input(key="board_page").set_value(2).run()
    at.text_input(key="q").input("USER12").run()
    assert names(at) == [f"user{i}" for i in range(129, 119, -1)]
    assert list(at.dataframe[0].value["rank"]) == list(range(1, 11))
    at.text_input(key="q").input("user01").run()
    assert names(at) == [f"user{i:03d}" for i in range(19, 9, -1)]
    assert list(at.dataframe[0].value["rank"]) == list(range(111, 121))
    assert "Rows 1–10 of 10" in shown(at) and not at.number_input
    at.text_input(key="q").input("nobody").run()
    assert "No one matches that search." in shown(at)


def test_the_model_filter_ranks_one_models_usage(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'models.db'}"
    fill(
        url,
        {
            "big-gpt": [usage(1, input=900_000)],
            "mixed": [usage(2, input=100_000), usage(3, model="o3", input=500_000)],
        },
        opted_in={"big-gpt", "mixed"},
    )
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = leaderboard()
    assert at.selectbox(key="model").options == ["gpt-5", "o3"]
    assert names(at) == ["big-gpt", "mixed"]
    assert list(at.dataframe[0].value["models"]) == ["gpt-5 100%", "o3 83%, gpt-5 17%"]
    at.selectbox(key="model").set_value("o3").run()
    assert names(at) == ["mixed"]
    assert list(at.dataframe[0].value["tokens"]) == [500_100]


def test_ranking_by_api_equivalent_says_it_is_an_estimate(crowd):
    at = leaderboard()
    assert "educational estimate" not in shown(at)
    at.segmented_control(key="by").set_value("API-equivalent").run()
    assert "an educational estimate, **not a bill" in shown(at)
    usd = list(at.dataframe[0].value["usd"])
    assert usd == sorted(usd, reverse=True) and usd[0] > 0


def test_the_period_counts_only_its_days(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'period.db'}"
    fill(
        url,
        {"recent": [usage(1, days_ago=1)], "old": [usage(2, days_ago=20, input=50_000)]},
        opted_in={"recent", "old"},
    )
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = leaderboard()
    assert names(at) == ["old", "recent"]
    at.segmented_control(key="window").set_value("7 days").run()
    assert names(at) == ["recent"]


def test_the_board_says_what_it_is_and_links_the_method(crowd):
    at = leaderboard()
    text = shown(at).lower()
    assert "self-reported" in text and "plausibility-checked" in text and "open rules" in text
    links = at.get("page_link")
    assert [link.proto.page for link in links if "Privacy" in link.proto.label] == ["privacy"]
    assert not at.warning  # no demo data here


def test_flagged_usage_is_left_out_with_a_note(tmp_path, monkeypatch):
    """25 responses of 5 million tokens in one minute: more than one person's sessions can
    spend, so the server flags them; the board ranks the rest and says how many it left out."""
    url = f"sqlite:///{tmp_path / 'flagged.db'}"
    burst = [usage(n, input=4_000_000, output=1_000_000) for n in range(25)]
    for record in burst:
        record["ts"] = NOW.replace(second=0) - timedelta(hours=1)
    fill(
        url,
        {"honest": [usage(100, input=2_000)], "inflated": [usage(200), *burst]},
        opted_in={"honest", "inflated"},
    )
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = leaderboard()
    assert names(at) == ["honest", "inflated"]
    assert list(at.dataframe[0].value["tokens"]) == [2_100, 1_100]
    assert "25 records failed the plausibility checks and are not ranked" in shown(at)


def test_a_demo_store_says_the_board_shows_demo_accounts(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    fill(url, {"demo-person": [usage(1, label="demo")]}, opted_in={"demo-person"})
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = leaderboard()
    assert [w for w in at.warning if "shows demo accounts" in w.value]


def sign_in(at: AppTest, token: str) -> AppTest:
    """Sign in through the token prompt of a private page, then come back to the board."""
    at.switch_page("pages/overview.py").run()
    at.text_input[0].input(token)
    at.button[0].click().run()
    at.switch_page("pages/leaderboard.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def styled_rows(at: AppTest) -> set[int]:
    """The table rows that carry a style of their own."""
    styles = at.dataframe[0].proto.arrow_data.styler.styles
    return {int(row) for row in re.findall(r"_row(\d+)_col0", styles)}


def test_your_rank_is_shown_above_the_table_and_your_row_highlighted(crowd, monkeypatch):
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    at = sign_in(leaderboard(), crowd["user010"][1])
    assert "are **#120** of 130" in shown(at) and "` user010 `" in shown(at)
    assert not styled_rows(at)  # not on the first page
    at.number_input(key="board_page").set_value(2).run()
    assert styled_rows(at) == {names(at).index("user010")}
    at.text_input(key="q").input("user01").run()
    assert "are **#120** of 130" in shown(at)
    assert styled_rows(at) == {names(at).index("user010")}


def test_a_signed_in_viewer_off_the_board_is_told_so(crowd, monkeypatch):
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    at = sign_in(leaderboard(), crowd["hidden"][1])
    assert "who is not ranked here" in shown(at)
    assert not styled_rows(at)


def test_hostile_names_are_shown_as_text_and_linked_exactly(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    made = fill(
        url,
        {f"h{i}": [usage(i, input=10_000 * (i + 1))] for i in range(len(HOSTILE))},
        opted_in={f"h{i}" for i in range(len(HOSTILE))},
    )
    for i, name in enumerate(HOSTILE):
        rename(url, f"h{i}", name)
    monkeypatch.setenv("CODEXTIME_DB", url)
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    at = sign_in(leaderboard(), made["h0"][1])
    assert names(at) == HOSTILE[::-1]
    for source in shown(at).split("\n"):
        rendered = MARKDOWN.render(source)
        assert "<img" not in rendered and "<a " not in rendered and "<b>" not in rendered
    for name in HOSTILE:
        at = profile(name)
        rendered = MARKDOWN.renderInline(at.title[0].value)
        assert "<img" not in rendered and "<a " not in rendered and "<b>" not in rendered
        expected = name.replace("\n", "\ufffd")
        assert html.unescape(re.sub(r"<[^>]+>", "", rendered)) == f"Profile of {expected}"


@pytest.mark.parametrize("name", ["plain", "with space", "a&b=c#d", "50%+x", "名前"])
def test_a_profile_link_carries_the_exact_name(name):
    link = board.profile_link(name)
    assert link.startswith(f"{board.PROFILE_PATH}?name=")
    assert parse_qs(urlsplit(link).query)["name"] == [name]
    assert "&" not in link and "#" not in link and " " not in link
    assert re.search(board.PROFILE_NAME, link)


# -- profiles ------------------------------------------------------------------------------------


@pytest.fixture
def two(tmp_path, monkeypatch) -> str:
    """An opted-in account with usage over 400 days and one that keeps off the board."""
    url = f"sqlite:///{tmp_path / 'profiles.db'}"
    fill(
        url,
        {
            "proud": [
                usage(n, days_ago=n * 2, model=("gpt-5", "o3")[n % 2], input=10_000 * (1 + n % 3))
                for n in range(200)
            ],
            "shy": [usage(1000 + n, days_ago=n) for n in range(30)],
        },
        opted_in={"proud"},
    )
    monkeypatch.setenv("CODEXTIME_DB", url)
    return url


def test_an_opted_in_profile_shows_calendar_streaks_mix_and_months(two):
    at = profile("PROUD")  # names are found regardless of case
    assert [t.value for t in at.title] == ["Profile of ` proud `"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Current streak"] == "1 day" and metrics["Longest streak"] == "1 day"
    specs = charts(at)
    titles = [s.get("title") for s in specs]
    years = sorted({(NOW - timedelta(days=2 * n)).year for n in range(200)}, reverse=True)
    assert titles == [
        *(str(y) for y in years),
        "Model mix (share of tokens)",
        "API-equivalent per month (estimate)",
    ]
    captions = [c.value for c in at.caption]
    active = [c for c in captions if re.match(r"^\d{4}: ", c)]
    assert sum(int(re.search(r"(\d+) active day", c).group(1)) for c in active) == 200
    days_tokens = sum(int(c.split(", ")[1].split(" ")[0].replace(",", "")) for c in active)
    assert days_tokens == sum(10_000 * (1 + n % 3) + 100 for n in range(200))
    assert any("educational estimate" in c for c in captions)


def test_a_profile_never_shows_hours_or_labels(two):
    at = profile("proud")
    page = shown(at) + json.dumps(charts(at))
    datasets = b"".join(d.data.data for c in at.get("vega_lite_chart") for d in c.proto.datasets)
    assert "secret-seat" not in page and b"secret-seat" not in datasets
    for spec in charts(at):
        fields = re.findall(r'"field": "([^"]+)"', json.dumps(spec))
        assert not {"hour", "ts", "label"} & set(fields), fields


@pytest.mark.parametrize("name", ["shy", "nobody", "", "   "])
def test_a_profile_that_is_not_public_says_the_same_for_everyone(two, name):
    at = profile(name)
    assert [t.value for t in at.title] == ["Profile"]
    assert [i.value for i in at.info] == [
        "No public profile here. Only accounts that chose to appear on the leaderboard have one."
    ]
    assert not at.metric and not charts(at)


def test_a_streak_runs_to_today(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'streak.db'}"
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    days = [0, 1, 2, 5, 6, 7, 8, 9]
    rows = [usage(n, ts=today - timedelta(days=d)) for n, d in enumerate(days)]
    fill(url, {"runner": rows}, opted_in={"runner"})
    monkeypatch.setenv("CODEXTIME_DB", url)
    metrics = {m.label: m.value for m in profile("runner").metric}
    assert metrics["Current streak"] == "3 days" and metrics["Longest streak"] == "5 days"


# -- pure builders -------------------------------------------------------------------------------


def test_periods_count_today_in():
    today = date(2026, 3, 10)
    assert board.since("7 days", today) == date(2026, 3, 4)
    assert board.since("30 days", today) == date(2026, 2, 9)
    assert board.since("All time", today) is None


def test_page_counts_and_rows_shown():
    assert [board.page_count(n) for n in (0, 1, 100, 101, 250)] == [1, 1, 1, 2, 3]
    assert board.rows_shown(100, 30, 130) == "Rows 101–130 of 130"
    assert board.flagged_note(0) is None
    assert board.flagged_note(1).startswith("1 record failed the plausibility checks and is not")


def test_a_month_without_a_price_has_no_bar():
    chart = board.monthly_chart([("2026-01", 10, 1.5), ("2026-02", 20, None)]).to_dict()
    values = next(iter(chart["datasets"].values()))
    assert [v["when"] for v in values] == ["Jan 2026"]


# -- sign-in by link -------------------------------------------------------------------------------


@pytest.fixture
def team(tmp_path, monkeypatch) -> tuple[str, dict[str, tuple]]:
    """A shared deployment: alice and bob, each with usage of their own."""
    url = f"sqlite:///{tmp_path / 'team.db'}"
    made = fill(
        url,
        {"alice": [usage(1, input=111_000)], "bob": [usage(2, input=222_000)]},
        opted_in={"alice", "bob"},
    )
    monkeypatch.setenv("CODEXTIME_DB", url)
    monkeypatch.setenv("CODEXTIME_APP_SHARED", "1")
    return url, made


def code_for(url: str, account: tuple, *, now: datetime | None = None) -> str:
    """A sign-in code for ``account`` (id, token), as the server hands one to ``codextime
    open``."""
    engine = open_store(url)
    code, _ = issue_code(engine, account[0], token_digest(account[1]), now=now)
    engine.dispose()
    return code


def signed_in_total(at: AppTest) -> str | None:
    heading = [m.value for m in at.markdown if "tokens all time" in m.value]
    return heading[0].split(" tokens")[0].removeprefix("### ") if heading else None


def refused(at: AppTest) -> bool:
    return [w.value for w in at.warning] == [LINK_REFUSED] and [t.label for t in at.text_input] == [
        "Token"
    ]


def test_a_sign_in_link_signs_in_once_and_leaves_the_address(team):
    url, made = team
    code = code_for(url, made["alice"])
    at = app(signin=code)
    assert signed_in_total(at) == "111,100"
    assert at.session_state[SIGNED_IN] == made["alice"][0]
    assert at.session_state[SIGNED_TOKEN] == token_digest(made["alice"][1])
    at.run()  # AppTest shows the address a run leaves once the next run starts
    assert "signin" not in at.query_params
    assert code not in repr([at.session_state[k] for k in at.session_state])
    assert "Signed in as ` alice `" in [c.value for c in at.sidebar.caption]
    at.switch_page("pages/leaderboard.py").run()
    assert "You (` alice `) are **#2** of 2." in shown(at)
    again = app(signin=code)  # another browser, the same link
    assert signed_in_total(again) is None and refused(again)


def test_a_link_works_from_any_page(team):
    url, made = team
    at = app("pages/leaderboard.py", signin=code_for(url, made["bob"]))
    assert "You (` bob `) are **#1** of 2." in shown(at)
    at.switch_page("pages/overview.py").run()
    assert signed_in_total(at) == "222,100"


@pytest.mark.parametrize("kind", ["expired", "unknown", "empty", "revoked", "huge"])
def test_a_link_the_store_does_not_take_says_so_and_keeps_the_token_prompt(team, kind):
    url, made = team
    code = {
        "expired": lambda: code_for(url, made["alice"], now=NOW - timedelta(minutes=6)),
        "unknown": lambda: "ctc_" + "x" * 32,
        "empty": lambda: "",
        "revoked": lambda: code_for(url, made["alice"]),
        "huge": lambda: "c" * 100_000,
    }[kind]()
    if kind == "revoked":
        engine = open_store(url)
        revoke_tokens(engine, "alice")
        engine.dispose()
    at = app(signin=code)
    assert signed_in_total(at) is None and refused(at)
    assert SIGNED_IN not in at.session_state
    at.run()
    assert "signin" not in at.query_params
    at.text_input[0].input(made["bob"][1])  # the token prompt still works
    at.button[0].click().run()
    assert signed_in_total(at) == "222,100"


def test_usage_without_a_published_price_is_never_priced_at_zero(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'unpriced.db'}"
    fill(url, {"odd": [usage(1, model="no-such-model")]}, opted_in={"odd"})
    monkeypatch.setenv("CODEXTIME_DB", url)
    at = profile("odd")
    assert {m.label: m.value for m in at.metric}["API-equivalent"] == NO_PRICE
    assert f"No estimate for {NOW:%Y-%m}: no published price" in shown(at)
    assert [s.get("title") for s in charts(at)][-1] == "Model mix (share of tokens)"


def test_a_timeline_period_chosen_on_the_overview_does_not_reach_the_board(crowd):
    """Widget keys are shared by every page of a session: the board's period keeps a key of
    its own, and a timeline period chosen before a visit never upsets the board."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.button_group(key="period").set_value("month").run()
    at.switch_page("pages/leaderboard.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert names(at)[:2] == ["user129", "user128"]
