"""Reports (R9): days cut in the reader's time zone from line timestamps; weeks start Monday;
--since/--until are inclusive local dates; total = input + output."""

from __future__ import annotations

import os
import re
from datetime import date
from zoneinfo import ZoneInfo

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.report import GROUPINGS, Report, ReportError, parse_day, resolve_zone
from tests.rollout import (
    RATE_LIMITS_050,
    Thread,
    at,
    meta,
    ms,
    scan_home,
    session_of,
    session_path,
    token_event,
    turn,
    write,
)

TOKYO = ZoneInfo("Asia/Tokyo")
UTC = ZoneInfo("UTC")
TOKEN_FIELDS = ("input", "cached", "output", "reasoning", "total", "responses")


def fold(period, zone, rows, since=None, until=None) -> dict:
    """rows: (iso ts, model, input, cached, output, reasoning, session)."""
    report = Report(period, zone, since, until)
    for ts, *rest in rows:
        report.add(ms(ts), *rest)
    return report.to_json()


def keyed(doc: dict, period_key: str) -> dict[str, int]:
    """period -> total tokens."""
    list_key = {grouping.key: grouping.rows for grouping in GROUPINGS.values()}
    return {row[period_key]: row["total"] for row in doc[list_key[period_key]]}


# -- days in a time zone ------------------------------------------------------------------------


def test_2330_utc_is_the_next_day_in_tokyo_and_the_same_day_in_utc():
    rows = [(at("2025-10-24 23:30:00"), "gpt-5-codex", 1000, 400, 100, 20, "s")]
    assert keyed(fold("daily", UTC, rows), "date") == {"2025-10-24": 1100}
    assert keyed(fold("daily", TOKYO, rows), "date") == {"2025-10-25": 1100}
    assert fold("daily", TOKYO, rows)["timezone"] == "Asia/Tokyo"


def test_quarter_hour_zone_cuts_the_day_at_the_right_minute():
    """Asia/Kathmandu is UTC+05:45: its midnight is 18:15 UTC."""
    rows = [
        (at("2025-10-24 18:14:59.999"), "m", 10, 0, 1, 0, "s"),
        (at("2025-10-24 18:15:00"), "m", 20, 0, 2, 0, "s"),
    ]
    doc = fold("daily", ZoneInfo("Asia/Kathmandu"), rows)
    assert keyed(doc, "date") == {"2025-10-24": 11, "2025-10-25": 22}


def test_daylight_saving_change_in_new_york():
    """04:30 UTC is 00:30 EDT on 2 Nov 2025; a day later, after the change, 23:30 EST on 2 Nov."""
    rows = [
        (at("2025-11-02 04:30:00"), "m", 10, 0, 1, 0, "s"),
        (at("2025-11-03 04:30:00"), "m", 20, 0, 2, 0, "s"),
        (at("2025-11-03 05:00:00"), "m", 30, 0, 3, 0, "s"),
    ]
    doc = fold("daily", ZoneInfo("America/New_York"), rows)
    assert keyed(doc, "date") == {"2025-11-02": 33, "2025-11-03": 33}


def test_daily_figures_and_models_per_day():
    rows = [
        (at("2025-10-24 09:00:00"), "gpt-5-codex", 1000, 400, 100, 20, "s1"),
        (at("2025-10-24 10:00:00"), "gpt-5", 2000, 1000, 300, 200, "s1"),
        (at("2025-10-24 11:00:00"), "gpt-5-codex", 500, 0, 50, 0, "s2"),
    ]
    doc = fold("daily", UTC, rows)
    (day,) = doc["days"]
    assert day["date"] == "2025-10-24"
    assert (day["input"], day["cached"], day["output"], day["reasoning"]) == (3500, 1400, 450, 220)
    assert (day["total"], day["responses"]) == (3950, 3)
    codex = day["models"]["gpt-5-codex"]
    assert {k: codex[k] for k in TOKEN_FIELDS} == {
        "input": 1500,
        "cached": 400,
        "output": 150,
        "reasoning": 20,
        "total": 1650,
        "responses": 2,
    }
    assert doc["totals"]["total"] == 3950
    assert doc["totals"]["models"]["gpt-5"]["total"] == 2300


# -- weeks and months ---------------------------------------------------------------------------


def test_weeks_start_on_monday():
    rows = [
        (at("2025-10-26 12:00:00"), "m", 10, 0, 1, 0, "s"),  # Sunday
        (at("2025-10-27 12:00:00"), "m", 20, 0, 2, 0, "s"),  # Monday
        (at("2025-11-02 23:59:59"), "m", 30, 0, 3, 0, "s"),  # Sunday
        (at("2025-10-26 23:30:00"), "m", 40, 0, 4, 0, "s"),  # Sunday in UTC, Monday in Tokyo
    ]
    assert keyed(fold("weekly", UTC, rows), "week") == {"2025-10-20": 55, "2025-10-27": 55}
    assert keyed(fold("weekly", TOKYO, rows), "week") == {
        "2025-10-20": 11,
        "2025-10-27": 22 + 44,
        "2025-11-03": 33,  # Sunday 23:59:59 UTC is Monday morning in Tokyo
    }


def test_months_are_cut_in_the_zone():
    rows = [
        (at("2025-10-31 23:30:00"), "m", 10, 0, 1, 0, "s"),
        (at("2025-11-01 02:00:00"), "m", 20, 0, 2, 0, "s"),
    ]
    assert keyed(fold("monthly", UTC, rows), "month") == {"2025-10": 11, "2025-11": 22}
    assert keyed(fold("monthly", TOKYO, rows), "month") == {"2025-11": 33}
    assert keyed(fold("monthly", ZoneInfo("America/New_York"), rows), "month") == {"2025-10": 33}


def test_sessions_with_first_and_last_activity():
    rows = [
        (at("2025-10-24 09:00:00"), "m", 10, 0, 1, 0, "late"),
        (at("2025-10-23 09:00:00"), "m", 20, 0, 2, 0, "early"),
        (at("2025-10-27 09:00:00.250"), "m", 30, 0, 3, 0, "late"),
    ]
    doc = fold("session", TOKYO, rows)
    assert [(s["session"], s["first"], s["last"], s["total"]) for s in doc["sessions"]] == [
        ("early", at("2025-10-23 09:00:00"), at("2025-10-23 09:00:00"), 22),
        ("late", at("2025-10-24 09:00:00"), at("2025-10-27 09:00:00.250"), 44),
    ]


# -- --since / --until --------------------------------------------------------------------------


SPAN = [
    (at("2025-10-24 12:00:00"), "m", 1, 0, 0, 0, "s"),
    (at("2025-10-25 12:00:00"), "m", 10, 0, 0, 0, "s"),
    (at("2025-10-26 12:00:00"), "m", 100, 0, 0, 0, "s"),
    (at("2025-10-26 23:30:00"), "m", 1000, 0, 0, 0, "s"),
]


def test_since_and_until_are_inclusive_local_dates():
    since, until = date(2025, 10, 25), date(2025, 10, 26)
    utc = fold("daily", UTC, SPAN, since, until)
    assert keyed(utc, "date") == {"2025-10-25": 10, "2025-10-26": 1100}
    tokyo = fold("daily", TOKYO, SPAN, since, until)
    assert keyed(tokyo, "date") == {"2025-10-25": 10, "2025-10-26": 100}
    assert tokyo["totals"]["input"] == 110


def test_since_only_and_until_only_and_a_single_day():
    assert fold("daily", UTC, SPAN, since=date(2025, 10, 26))["totals"]["input"] == 1100
    assert fold("daily", UTC, SPAN, until=date(2025, 10, 24))["totals"]["input"] == 1
    day = date(2025, 10, 27)
    assert fold("daily", TOKYO, SPAN, day, day)["totals"]["input"] == 1000


def test_dates_and_zones_are_validated():
    assert parse_day("2025-10-24") == parse_day("20251024") == date(2025, 10, 24)
    assert parse_day(None) is None
    with pytest.raises(ReportError, match="not a date"):
        parse_day("24/10/2025")
    with pytest.raises(ReportError, match="unknown time zone"):
        resolve_zone("Mars/Olympus")
    assert resolve_zone("Asia/Tokyo").key == "Asia/Tokyo"
    with pytest.raises(ReportError, match="unknown period"):
        Report("hourly", UTC)


class _Tzlocal:
    """Stands in for tzlocal: says whether it was asked, and what it would answer."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.asked = 0

    def get_localzone_name(self) -> str | None:
        self.asked += 1
        return self.answer


@pytest.fixture
def machine_zone(monkeypatch, tmp_path):
    """The machine's zone settings under the test's control: no TZ, no link, a tzlocal stub."""
    import sys

    from collector import report as report_mod

    stub = _Tzlocal("Pacific/Auckland")
    monkeypatch.setitem(sys.modules, "tzlocal", stub)
    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(report_mod, "LOCALTIME", str(tmp_path / "no-localtime"))

    def link(target: str) -> None:
        (tmp_path / "localtime").symlink_to(target)
        monkeypatch.setattr(report_mod, "LOCALTIME", str(tmp_path / "localtime"))

    return stub, link


@pytest.mark.parametrize("tz", ["Asia/Tokyo", ":Asia/Tokyo"])
def test_the_machine_zone_is_tz_when_it_names_one(machine_zone, monkeypatch, tz):
    stub, link = machine_zone
    link("/usr/share/zoneinfo/America/Denver")
    monkeypatch.setenv("TZ", tz)
    assert resolve_zone(None).key == "Asia/Tokyo"
    assert stub.asked == 0


def test_the_machine_zone_is_the_localtime_links_target(machine_zone, monkeypatch):
    stub, link = machine_zone
    link("/usr/share/zoneinfo/America/Denver")  # (only its name is read: it need not exist)
    assert resolve_zone(None).key == "America/Denver"
    monkeypatch.setenv("TZ", "Mars/Olympus")  # not a zone: the link still tells
    assert resolve_zone(None).key == "America/Denver"
    assert stub.asked == 0


def test_without_tz_or_a_link_tzlocal_decides(machine_zone, monkeypatch, tmp_path):
    stub, link = machine_zone
    assert resolve_zone(None).key == "Pacific/Auckland"
    link(str(tmp_path / "not-a-zone-folder" / "Europe" / "Paris"))
    monkeypatch.setenv("TZ", str(tmp_path / "my-zone-file"))  # a path: tzlocal reads those
    assert resolve_zone(None).key == "Pacific/Auckland"
    stub.answer = None  # tzlocal found nothing either
    assert resolve_zone(None).key == "UTC"
    assert stub.asked == 3


@pytest.mark.parametrize("prefix", ["", ":"])
def test_a_tz_path_to_a_zone_file_names_its_zone_over_the_link(machine_zone, monkeypatch, prefix):
    """The C library honours TZ=/usr/share/zoneinfo/Asia/Tokyo (and with a colon): days follow
    that zone, not the one /etc/localtime links to."""
    stub, link = machine_zone
    link("/usr/share/zoneinfo/America/Denver")
    monkeypatch.setenv("TZ", f"{prefix}/usr/share/zoneinfo/Asia/Tokyo")
    assert resolve_zone(None).key == "Asia/Tokyo"
    assert stub.asked == 0


def test_a_tz_path_elsewhere_is_read_by_tzlocal_not_taken_from_the_link(
    machine_zone, monkeypatch, tmp_path
):
    stub, link = machine_zone
    link("/usr/share/zoneinfo/America/Denver")
    monkeypatch.setenv("TZ", str(tmp_path / "custom" / "zone"))
    assert resolve_zone(None).key == "Pacific/Auckland"
    assert stub.asked == 1


def test_the_machine_zone_agrees_with_tzlocal_when_tz_is_set(monkeypatch):
    import tzlocal
    import tzlocal.unix

    from collector.report import local_zone_name

    monkeypatch.setenv("TZ", "Europe/Paris")
    monkeypatch.setattr(tzlocal.unix, "_cache_tz_name", None)
    assert local_zone_name() == tzlocal.get_localzone_name() == "Europe/Paris"


# -- end to end: line timestamps, never the directory or the file time ---------------------------


SID = "019a152d-35a0-72a0-91db-8ebe37fac69e"


def resumed_home(home):
    """Written by a UTC+9 user: folder 2025/10/25 (local), meta 2025-10-24T23:00Z; resumed three
    days later; the file's mtime is a month later still."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta(at("2025-10-24 23:00:00"), SID),
        turn(at("2025-10-24 23:00:01")),
        t.respond(at("2025-10-24 23:30:00"), 1000, 0, 100, 0),
        t.reemit(at("2025-10-24 23:30:00.5")),
        turn(at("2025-10-27 08:00:00")),
        token_event(at("2025-10-27 08:00:00.2"), None, rate_limits=RATE_LIMITS_050),
        t.reemit(at("2025-10-27 08:00:01")),
        t.respond(at("2025-10-27 08:00:30"), 2000, 1500, 200, 0),
    ]
    path = write(session_path(home, "2025-10-25T08-00-00", SID), lines)
    month_later = ms(at("2025-11-30 12:00:00")) / 1000
    os.utime(path, (month_later, month_later))
    return path


def test_r9_resumed_session_days_come_from_line_timestamps(tmp_path):
    resumed_home(tmp_path)
    rows, _ = scan_home(tmp_path)
    for zone, expected in (
        (UTC, {"2025-10-24": 1100, "2025-10-27": 2200}),
        (TOKYO, {"2025-10-25": 1100, "2025-10-27": 2200}),
    ):
        report = Report("daily", zone)
        report.add_rows(rows)
        assert keyed(report.to_json(), "date") == expected
    report = Report("session", UTC)
    report.add_rows(rows)
    (session,) = report.to_json()["sessions"]
    assert session["session"] == session_of(SID)
    assert (session["first"], session["last"]) == (
        at("2025-10-24 23:30:00"),
        at("2025-10-27 08:00:30"),
    )


def test_cli_report_since_until_in_a_zone(tmp_path):
    resumed_home(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "report",
            "daily",
            "--codex-home",
            str(tmp_path),
            "--timezone",
            "Asia/Tokyo",
            "--since",
            "2025-10-25",
            "--until",
            "20251025",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert [(d["date"], d["input"], d["output"], d["total"]) for d in doc["days"]] == [
        ("2025-10-25", 1000, 100, 1100)
    ]


def test_cli_since_after_until_is_an_error(tmp_path):
    resumed_home(tmp_path)
    result = CliRunner().invoke(
        app,
        ["report", "daily", "--codex-home", str(tmp_path), "--timezone", "UTC"]
        + ["--since", "2025-10-27", "--until", "2025-10-25"],
    )
    assert result.exit_code == 2
    assert "--since is after --until" in result.stderr


# -- cache writes and service tiers --------------------------------------------------------------


def test_cache_writes_per_row_and_model_and_tokens_per_tier():
    report = Report("daily", UTC)
    report.add(ms(at("2026-09-01 09:00:00")), "gpt-5.5", 1000, 300, 100, 0, "s", cache_write=200)
    report.add(ms(at("2026-09-01 10:00:00")), "gpt-5.5", 500, 0, 50, 5, "s", tier="priority")
    report.add(
        ms(at("2026-09-02 10:00:00")), "gpt-5.4", 400, 100, 40, 0, "s", cache_write=50, tier="flex"
    )
    doc = report.to_json()
    first, second = doc["days"]
    assert (first["cache_write"], first["models"]["gpt-5.5"]["cache_write"]) == (200, 200)
    # Tiers in their documented order, each with its tokens (input + output).
    assert first["tiers"] == {"priority": 550, "unknown": 1100}
    assert list(first["tiers"]) == ["priority", "unknown"]
    assert second["tiers"] == {"flex": 440}
    totals = doc["totals"]
    assert totals["cache_write"] == 250
    assert totals["models"]["gpt-5.4"]["cache_write"] == 50
    assert totals["tiers"] == {"priority": 550, "flex": 440, "unknown": 1100}
    assert sum(totals["tiers"].values()) == totals["total"]


def store_with_cache_writes(tmp_path, cache_write: int) -> str:
    from datetime import UTC as utc
    from datetime import datetime

    from store.db import account_id, insert_usage, open_store

    db = f"sqlite:///{tmp_path / 'usage.db'}"
    engine = open_store(db)
    records = [
        dict(
            ts=datetime(2026, 3, 1, 10, n, tzinfo=utc),
            model="gpt-5.1-codex-max",
            tier=("priority", "standard")[n % 2],
            input=3_900_000,
            cached=2_000_000,
            cache_write=cache_write,
            output=900_000,
            reasoning=100_000,
            event_id=f"{n:032x}",
            session="a" * 32,
        )
        for n in range(30)
    ]
    insert_usage(engine, account_id(engine), records)
    engine.dispose()
    return db


def test_report_from_a_store_reads_tiers_and_cache_writes(tmp_path):
    db = store_with_cache_writes(tmp_path, 1_234_567)
    shown = CliRunner().invoke(app, ["report", "monthly", "--db", db, "--json"])
    assert shown.exit_code == 0, shown.output
    (month,) = orjson.loads(shown.stdout)["months"]
    assert month["cache_write"] == 30 * 1_234_567
    assert month["tiers"] == {"standard": 15 * 4_800_000, "priority": 15 * 4_800_000}


@pytest.mark.parametrize(
    "period, width", [("daily", 80), ("weekly", 80), ("monthly", 80), ("session", 100)]
)
def test_a_cache_write_column_fits_and_shows_only_when_there_are_any(
    tmp_path, period, width, monkeypatch
):
    """At 80 columns the session table, with its times, leaves the parts of input out (and says
    so); from 100 it has room for them."""
    from collector import render

    for cache_write, shown_column in ((1_234_567, True), (0, False)):
        # A console per run, as a process has: its width is read when it is made.
        monkeypatch.setattr(render, "out", render._LazyConsole())
        home = tmp_path / str(cache_write)
        home.mkdir()
        db = store_with_cache_writes(home, cache_write)
        shown = CliRunner().invoke(app, ["report", period, "--db", db], env={"COLUMNS": str(width)})
        assert shown.exit_code == 0, shown.output
        lines = shown.stdout.splitlines()
        assert max(map(len, lines)) <= width, shown.stdout
        assert bool(re.search(r"\bwrite\b", shown.stdout)) is shown_column  # the heading
        assert ("37.0M" in shown.stdout) is shown_column  # the cache writes, in M like their column


def test_the_same_rows_in_any_order_give_the_same_document(tmp_path):
    """Workers hand rows back in whatever order they finish: the report, its costs included (sums
    of floating-point figures), must not depend on it."""
    import random

    from collector.demo import generate
    from collector.scan import ReadPlan
    from store.pricing import load_rates

    generate(tmp_path / "home", days=90, seed=5)
    rows = [
        row
        for result in ReadPlan(tmp_path / "home", keep_cursors=False).results()
        for row in result.rows
    ]
    documents = []
    for seed in range(8):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        report = Report("daily", resolve_zone("UTC"), rates=load_rates())
        for start in range(0, len(shuffled), 97):  # in uneven batches, as files return
            report.add_rows(shuffled[start : start + 97])
        documents.append(orjson.dumps(report.to_json()))
    assert len(set(documents)) == 1
