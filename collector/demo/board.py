"""A leaderboard for the demo: a dozen demo accounts, opted in, with usage of their own.

A demo store holds one person's (generated) usage, so its leaderboard would rank nobody. This
adds accounts whose names say they are demo ones ("demo-ada"), each with a volume, a working
rhythm and a model mix of its own, every record labelled ``demo``. They go into a demo store only
(an SQLite file whose every record is demo data), through the store's own insert path, and never
to a server. Each account's day is drawn from the seed, the account and the day alone, so running
this again adds only the days that have passed since, and changes none already there.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from collector.demo.eras import ERAS
from store.accounts import update_account
from store.db import account_id, insert_usage, open_store, sqlite_path, store_url
from store.errors import UserError
from store.fields import DEMO_LABEL, is_demo_label
from store.models import Usage

#: The demo accounts: names that read as demo ones, after pioneers of computing.
DEMO_ACCOUNTS = (
    "demo-ada",
    "demo-grace",
    "demo-alan",
    "demo-margaret",
    "demo-edsger",
    "demo-barbara",
    "demo-ken",
    "demo-radia",
    "demo-dennis",
    "demo-frances",
    "demo-donald",
    "demo-katherine",
)
#: The models of the board, oldest first: those of the demo's later eras (the labels priced
#: through a mapping left out), so the board's mix moves over time as the demo's own does.
BOARD_MODELS = tuple(
    dict.fromkeys(
        model
        for era in ERAS
        if era.key in ("0.144", "0.151", "0.159")
        for model in era.models
        if model != "gpt-reserve"
    )
)
TIERS = ("standard", "standard", "standard", "priority", "flex")
#: Context a session starts from, and about how much each response adds to it (tokens).
START_CONTEXT = 12_000
GROWTH = 2_500
SESSION_RESPONSES = (4, 30)


class DemoBoardError(UserError):
    """The store given is not one demo accounts may go into."""


def seed_demo_board(db_url: str, *, seed: int = 7, end: datetime, days: int = 60) -> int:
    """Add the demo accounts, opted in to the leaderboard, and their usage over the ``days``
    before ``end`` to the demo store at ``db_url``; returns how many records were new.

    Refused, in one line and before anything is written, for a store that is not SQLite or that
    holds anything but demo data (a record of real usage, or no record at all)."""
    if sqlite_path(store_url(db_url)) is None:
        shown = store_url(db_url).render_as_string()
        raise DemoBoardError(f"demo accounts go only into an SQLite demo store, not {shown}")
    engine = open_store(db_url, create=False)
    try:
        _check_demo_store(engine)
        new = 0
        for name in DEMO_ACCOUNTS:
            account = account_id(engine, name)
            update_account(engine, account, {"leaderboard_opt_in": True})
            new += insert_usage(engine, account, account_records(name, seed, end, days))
        return new
    finally:
        engine.dispose()


def _check_demo_store(engine: sa.Engine) -> None:
    """A demo store holds records, and every one of them is labelled as demo data."""
    usage = Usage.__table__
    with engine.connect() as conn:
        labels = conn.execute(sa.select(usage.c.label).distinct()).scalars().all()
    if not labels:
        raise DemoBoardError(
            "the store holds no demo data: demo accounts go only into a demo store"
        )
    if not all(is_demo_label(label) for label in labels):
        raise DemoBoardError(
            "the store holds real usage (records not labelled demo): demo accounts go only into "
            "a demo store"
        )


def account_records(name: str, seed: int, end: datetime, days: int) -> Iterator[dict]:
    """One demo account's records, day by day over the ``days`` before ``end`` (UTC days)."""
    habits = random.Random(f"board/{seed}/{name}")
    #: How much this account uses Codex (a few times less or more than the demo's own person),
    #: how often it works on a weekday and on a weekend, and from which hour (UTC).
    volume = habits.lognormvariate(0, 0.8)
    weekday, weekend = habits.uniform(0.55, 0.95), habits.uniform(0.05, 0.35)
    start_hour = habits.randint(5, 14)
    favourite = habits.randrange(len(BOARD_MODELS))
    last_day = end.astimezone(UTC).date()
    for back in range(days, -1, -1):
        day = last_day - timedelta(days=back)
        rng = random.Random(f"board/{seed}/{name}/{day.isoformat()}")
        if rng.random() > (weekend if day.weekday() >= 5 else weekday):
            continue
        progress = 1 - back / max(days, 1)  # newer models as the days go by
        for n in range(rng.randint(1, max(1, round(3 * volume)))):
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                hours=start_hour + rng.uniform(0, 9)
            )
            model = _model(rng, progress, favourite)
            session = _hex(f"{seed}/{name}/{day.isoformat()}/{n}")
            yield from _session(rng, session, start, model, end)


def _model(rng: random.Random, progress: float, favourite: int) -> str:
    """Mostly the model of the time (by ``progress`` through the range), now and then the
    account's favourite."""
    if rng.random() < 0.25:
        return BOARD_MODELS[favourite]
    at = min(len(BOARD_MODELS) - 1, int(progress * len(BOARD_MODELS) + rng.uniform(-1, 1)))
    return BOARD_MODELS[max(0, at)]


def _session(
    rng: random.Random, session: str, start: datetime, model: str, end: datetime
) -> Iterator[dict]:
    """A session's responses: each reads the whole context so far, most of it from the cache."""
    tier = rng.choice(TIERS)
    context = START_CONTEXT + rng.randint(0, 3_000)
    at = start
    for i in range(rng.randint(*SESSION_RESPONSES)):
        at += timedelta(seconds=rng.uniform(10, 240))
        if at > end:
            return
        fresh = int(rng.lognormvariate(7.2, 0.8))
        output = int(rng.lognormvariate(5.8, 0.9)) + 5
        inp = context + fresh
        yield {
            "ts": at,
            "model": model,
            "tier": tier,
            "input": inp,
            "cached": context // 64 * 64 if i else 0,
            "cache_write": 0,
            "output": output,
            "reasoning": int(output * rng.uniform(0, 0.8)),
            "event_id": _hex(f"{session}/{i}"),
            "session": session,
            "label": DEMO_LABEL,
        }
        context = inp + output + int(rng.uniform(0.5, 1.5) * GROWTH)


def _hex(text: str) -> str:
    """A 32-hex-digit id, the same for the same text (records and sessions are named so)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
