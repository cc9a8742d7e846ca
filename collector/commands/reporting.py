"""``report`` and ``scan``: the logs (or a store) read once, folded or listed.

Loaded by every plain ``codextime report``, so it imports only what a report from the logs uses;
the store, the record type and the rate table load inside the functions that need them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from collector.demo import is_demo_home
from collector.discover import default_codex_home
from collector.render import (
    err,
    note_refused,
    out,
    print_scan_summary,
    progress,
    show_report,
    shown,
    warn_problems,
)
from collector.scan import ReadPlan, ScanResult
from store.errors import UserError
from store.fields import DEMO_LABEL, LABEL_MAX, has_control_chars, is_demo_label
from store.periods import PERIODS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from collector.report import Report

#: What a report groups by: the calendar periods of store.periods, and sessions.
Period = StrEnum("Period", [*(p.report for p in PERIODS), "session"])

#: Why a demo home's records are never uploaded.
DEMO_NOT_SENT = "this is demo data; it is never sent to a server"


def codex_home_of(codex_home: Path | None) -> Path:
    """The Codex home a command reads: the one given, else $CODEX_HOME or ~/.codex."""
    return (codex_home or default_codex_home()).expanduser()


def checked_label(label: str | None) -> str | None:
    """The label as given (flag, CODEXTIME_LABEL or config), refused at once if a record could
    not carry it."""
    if label is None:
        return None
    if len(label) > LABEL_MAX:
        raise UserError(f"the label is {len(label)} characters long; at most {LABEL_MAX} fit")
    if has_control_chars(label):
        raise UserError("the label holds control characters; use plain text")
    return label


def record_label(home: Path, given: str | None, *, quiet: bool = False) -> str | None:
    """The label a home's records carry: ``DEMO_LABEL`` for a demo home whatever was asked for
    (said in one line on stderr unless ``quiet``), so demo data never passes for real usage;
    otherwise the label given, which may not be ``DEMO_LABEL``."""
    label = checked_label(given)
    if not is_demo_home(home):
        if is_demo_label(label):
            raise UserError(f'the label "{DEMO_LABEL}" is reserved for demo data; choose another')
        return label
    if label is not None and not is_demo_label(label) and not quiet:
        err.print(
            f'{shown(str(home))} holds demo data: its records are labelled "{DEMO_LABEL}", '
            f'not "{shown(label)}"',
            soft_wrap=True,
        )
    return DEMO_LABEL


def read_logs(plan: ReadPlan, started: Callable[[], object] | None = None) -> Iterator[ScanResult]:
    """The plan's results, with a progress bar; problems go to stderr as warnings at the end.
    ``started()`` runs once the reading helpers are at work (``ReadPlan.results``)."""
    done = 0
    with progress("Reading Codex logs") as update:

        def advance(nbytes: int) -> None:
            nonlocal done
            done += nbytes
            if update:
                update(done, plan.total_bytes)

        yield from plan.results(progress=advance, started=started)
    warn_problems(plan.stats)


# -- report ---------------------------------------------------------------------------------


def report(
    period: Period,
    codex_home: Path | None = None,
    db: str | None = None,
    account: str | None = None,
    timezone: str | None = None,
    since: str | None = None,
    until: str | None = None,
    last_count: int | None = None,
    json: bool = False,
    rates: Path | None = None,
) -> None:
    """``codextime report``: the usage of the logs or of a store, as a table or JSON."""
    zone, first, last = report_window(timezone, since, until, last_count, period)

    def new_report() -> Report:
        from collector.report import Report
        from store.pricing import load_rates

        return Report(period.value, zone, first, last, load_rates(rates))

    demo, folders = False, {}
    if db:
        rep = new_report()
        rep.add_rows(store_rows(db, account, first, last))
    else:
        if account:
            raise UserError("--account needs --db (the logs hold one account)")
        home = codex_home_of(codex_home)
        # Rows are only folded here, never stored or sent: no event ids to hash.
        plan = ReadPlan(home, keep_cursors=False, event_ids=False)
        # The fold and its rate table are made while the helper processes start reading.
        made: list[Report] = []
        for result in read_logs(plan, started=lambda: made.append(new_report())):
            made[0].add_rows(result.rows)
        rep = made[0]
        note_refused(plan.stats)
        demo, folders = is_demo_home(home), plan.folders
    show_report(rep.to_json(), period.value, json=json, demo=demo, folders=folders)


def store_rows(
    db: str, account: str | None, first: date | None, last: date | None
) -> Iterator[tuple]:
    """The rows of an existing store (reading never creates one), of one account if named."""
    from collector.sqlite_sink import store_rows as read_store

    return read_store(db, account, first, last, command="codextime report --db")


def report_window(
    timezone: str | None, since: str | None, until: str | None, count: int | None, period: Period
) -> tuple[ZoneInfo, date | None, date | None]:
    """The report's zone and first and last days, from the options as typed."""
    from collector.report import parse_day, resolve_zone

    zone, first, last = resolve_zone(timezone), parse_day(since), parse_day(until)
    if count is not None:
        if since:
            raise UserError("--last and --since both set the first day: use one of them")
        first = first_of_last(period, count, datetime.now(zone).date())
    if first and last and first > last:
        raise UserError("--since is after --until")
    return zone, first, last


def first_of_last(period: Period, count: int, today: date) -> date:
    """The first day of the last ``count`` periods up to ``today``, the current one included."""
    if count < 1:
        raise UserError(f"--last needs a count of 1 or more, not {count}")
    if period == Period.session:
        raise UserError("--last counts days, weeks or months: with sessions, use --since")
    unit = next(p for p in PERIODS if p.report == period.value)
    start = unit.start(today)
    if unit.unit == "month":
        months = start.year * 12 + start.month - 1 - (count - 1)
        return date(months // 12, months % 12 + 1, 1) if months >= 12 else date(1, 1, 1)
    days = (count - 1) * (7 if unit.unit == "week" else 1)
    return start - timedelta(days=min(days, (start - date.min).days))


def update_rates(rates: Path | None, db: str | None, codex_home: Path | None) -> None:
    """``codextime rates update``: the rate table rewritten from genai-prices, for the models
    Codex writes and those of the logs or the store named."""
    from collector.extras import require

    require("codextime rates update", "rates")
    from store import rates_update as updater
    from store.db import store_failures
    from store.pricing import rates_path

    updater.library()  # a one-line error naming the extra when it is missing
    names = set()
    if codex_home:
        names |= updater.models_in_logs(codex_home_of(codex_home))
    if db:
        with store_failures():
            names |= updater.models_in_store(db)
    table = updater.update(rates_path(rates), names)
    out.print(f"Wrote {len(table.rates) + len(table.mappings)} rows to {table.source}.")


# -- scan -----------------------------------------------------------------------------------


def scan(codex_home: Path | None, json: bool, label: str | None) -> None:
    """``codextime scan``: the records a sync would send, or a summary of the read."""
    home = codex_home_of(codex_home)
    label = record_label(home, label)
    plan = ReadPlan(home, keep_cursors=False)
    if json:
        write_records_json(plan, label)
        warn_problems(plan.stats)
        note_refused(plan.stats)
        return
    for _ in read_logs(plan):
        pass  # the figures accumulate in plan.stats
    print_scan_summary(home, plan.stats)


def write_records_json(plan: ReadPlan, label: str | None) -> None:
    """``{"records": [...]}`` on stdout, written record by record as the logs are read."""
    import orjson

    from store.fields import record_json

    sys.stdout.write('{"records":[')
    first = True
    for result in plan.results():
        for row in result.rows:
            record = orjson.dumps(record_json(row, label)).decode()
            sys.stdout.write(("" if first else ",") + record)
            first = False
    sys.stdout.write("]}\n")
