"""Numbered schema migrations, applied once each and recorded in ``_migrations``.

Each migration states its own DDL (never the current models), so an old store upgrades step by step
to today's schema without losing a row. A test checks that the migrated schema equals the models.
Add a change as the next ``mNNN_`` function; never edit one that has shipped; then run
``python -m store.migrations``, which writes ``store/schema_sqlite.sql``: what the light install
creates a new embedded store from, without SQLAlchemy (a test checks it is current).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

MIGRATIONS: list[Callable[[Connection], None]] = []


def migration(fn: Callable[[Connection], None]) -> Callable[[Connection], None]:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_accounts_and_usage(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "account",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("leaderboard_opt_in", sa.Boolean, nullable=False),
        sa.Column("default_label", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "usage",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("input", sa.BigInteger, nullable=False),
        sa.Column("cached", sa.BigInteger, nullable=False),
        sa.Column("output", sa.BigInteger, nullable=False),
        sa.Column("reasoning", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("session", sa.String(32), nullable=False),
        sa.Column("label", sa.String(100)),
        sa.UniqueConstraint("account_id", "event_id", name="uq_usage_account_event"),
        sa.Index("ix_usage_account_id", "account_id"),
        sa.Index("ix_usage_ts", "ts"),
    )
    md.create_all(conn)


@migration
def m002_api_tokens(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table("account", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "api_token",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Index("ix_api_token_account_id", "account_id"),
    )
    md.tables["api_token"].create(conn)


@migration
def m003_usage_flag(conn: Connection) -> None:
    """A plausibility flag per record: NULL when plausible, else a short reason code."""
    conn.execute(sa.text("ALTER TABLE usage ADD COLUMN flag VARCHAR(40)"))


@migration
def m004_account_names_unique_regardless_of_case(conn: Connection) -> None:
    """ "Alice" and "alice" are one name. Accounts that already differ only in case keep their
    data; every one but the oldest gets its id appended to its name first."""
    conn.execute(
        sa.text(
            "UPDATE account SET name = name || '-' || CAST(id AS VARCHAR(20)) WHERE EXISTS "
            "(SELECT 1 FROM account AS older WHERE lower(older.name) = lower(account.name) "
            "AND older.id < account.id)"
        )
    )
    conn.execute(sa.text("CREATE UNIQUE INDEX uq_account_name_lower ON account (lower(name))"))


@migration
def m005_usage_tier_and_cache_write(conn: Connection) -> None:
    """The service tier and the cache-written input of each record. Rows stored before say
    nothing of either: "unknown" and 0."""
    conn.execute(
        sa.text("ALTER TABLE usage ADD COLUMN tier VARCHAR(16) NOT NULL DEFAULT 'unknown'")
    )
    conn.execute(sa.text("ALTER TABLE usage ADD COLUMN cache_write BIGINT NOT NULL DEFAULT 0"))


@migration
def m006_daily_rollups(conn: Connection) -> None:
    """Usage summed per account, UTC day, model, tier, long-context flag (input over 272,000
    tokens) and plausibility flag, filled from the records already stored (those within the
    record type's bounds); and an index of each account's records in time order, which takes
    the place of the index on the account alone."""
    md = sa.MetaData()
    sa.Table("account", md, sa.Column("id", sa.Integer, primary_key=True))
    rollup = sa.Table(
        "daily_rollup",
        md,
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("tier", sa.String(16), primary_key=True),
        sa.Column("long_context", sa.Boolean, primary_key=True),
        sa.Column("flagged", sa.Boolean, primary_key=True),
        *(
            sa.Column(name, sa.BigInteger, nullable=False)
            for name in ("input", "cached", "cache_write", "output", "reasoning", "responses")
        ),
        sa.Index("ix_daily_rollup_day", "day"),
    )
    rollup.create(conn)
    conn.execute(sa.text("CREATE INDEX ix_usage_account_ts ON usage (account_id, ts)"))
    conn.execute(sa.text("DROP INDEX ix_usage_account_id"))
    postgres = conn.dialect.name == "postgresql"
    day = "CAST(ts AT TIME ZONE 'UTC' AS DATE)" if postgres else "substr(ts, 1, 10)"
    keys = f"account_id, {day}, model, tier, input > 272000, flag IS NOT NULL"
    earliest, latest = datetime(2025, 4, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
    if not postgres:  # SQLite keeps times as UTC text
        earliest, latest = (t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in (earliest, latest))
    conn.execute(
        sa.text(
            "INSERT INTO daily_rollup (account_id, day, model, tier, long_context, flagged, "
            "input, cached, cache_write, output, reasoning, responses) "
            f"SELECT {keys}, sum(input), sum(cached), sum(cache_write), sum(output), "
            "sum(reasoning), count(*) FROM usage WHERE cached >= 0 AND cache_write >= 0 "
            "AND cached + cache_write <= input AND input <= 4000000 AND reasoning >= 0 "
            "AND reasoning <= output AND output <= 1000000 AND ts >= :earliest "
            f"AND ts <= :latest GROUP BY {keys}"
        ),
        {"earliest": earliest, "latest": latest},
    )


@migration
def m007_account_name_keys(conn: Connection) -> None:
    """Each name's look-alike key (``store.names.name_key`` as of this migration: a later change
    to the key needs a migration of its own), unique. Accounts whose names already look alike
    keep their data; every one but the oldest gets its id appended to its name first."""
    from store.names import name_key

    conn.execute(
        sa.text("ALTER TABLE account ADD COLUMN name_key VARCHAR(200) NOT NULL DEFAULT ''")
    )
    accounts = conn.execute(sa.text("SELECT id, name FROM account ORDER BY id")).all()
    keys: set[str] = set()
    lowered = {name.lower() for _, name in accounts}  # a new name must not be one of these
    for account, name in accounts:
        renamed = name
        while name_key(renamed) in keys or (renamed != name and renamed.lower() in lowered):
            suffix = f"-{account}"
            renamed = renamed[: 100 - len(suffix)] + suffix
        keys.add(name_key(renamed))
        lowered.add(renamed.lower())
        conn.execute(
            sa.text("UPDATE account SET name = :name, name_key = :key WHERE id = :id"),
            {"name": renamed, "key": name_key(renamed), "id": account},
        )
    conn.execute(sa.text("CREATE UNIQUE INDEX uq_account_name_key ON account (name_key)"))


@migration
def m008_sign_in_codes(conn: Connection) -> None:
    """One-time sign-in codes for the dashboard, kept as digests."""
    md = sa.MetaData()
    sa.Table("account", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "sign_in_code",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Index("ix_sign_in_code_account_id", "account_id"),
    )
    md.tables["sign_in_code"].create(conn)


@migration
def m009_rollup_kinds(conn: Connection) -> None:
    """The kinds of usage (model, tier, long-context flag) the daily rollups hold, filled from
    the rollups already stored."""
    md = sa.MetaData()
    sa.Table(
        "rollup_kind",
        md,
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("tier", sa.String(16), primary_key=True),
        sa.Column("long_context", sa.Boolean, primary_key=True),
    )
    md.tables["rollup_kind"].create(conn)
    conn.execute(
        sa.text(
            "INSERT INTO rollup_kind (model, tier, long_context) "
            "SELECT DISTINCT model, tier, long_context FROM daily_rollup"
        )
    )


_LOG = sa.Table(
    "_migrations",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def applied(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("_migrations"):
            return []
        return [row[0] for row in conn.execute(sa.select(_LOG.c.name).order_by(_LOG.c.name))]


def migrate(engine: Engine) -> list[str]:
    """Apply what is missing, each in its own transaction; return the names applied now."""
    done_now = []
    with engine.begin() as conn:
        _LOG.create(conn, checkfirst=True)
    already = set(applied(engine))
    for fn in MIGRATIONS:
        if fn.__name__ in already:
            continue
        with engine.begin() as conn:
            fn(conn)
            conn.execute(_LOG.insert().values(name=fn.__name__, applied_at=datetime.now(UTC)))
        done_now.append(fn.__name__)
    return done_now


#: The first line of ``store/schema_sqlite.sql``.
SCHEMA_HEADER = (
    "-- A new SQLite store, as store/migrations.py builds it.\n"
    "-- Generated by `python -m store.migrations`: do not edit.\n"
)
#: When a store made from the file had each migration applied: when it was made (the text
#: SQLAlchemy keeps SQLite datetimes as, to the millisecond).
SCHEMA_APPLIED_AT = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"


def sqlite_schema() -> str:
    """The SQL that makes a new SQLite store as ``migrate`` would: every table and index in the
    order the migrations left them, then the ``_migrations`` rows (stamped when it runs)."""
    engine = sa.create_engine("sqlite://")
    migrate(engine)
    with engine.connect() as conn:
        objects = conn.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ).scalars()
        # (SQLAlchemy's DDL ends lines with a space: not kept)
        statements = [
            "\n".join(line.rstrip() for line in sql.splitlines()) + ";" for sql in objects
        ]
    engine.dispose()
    statements += [
        f"INSERT INTO _migrations (name, applied_at) VALUES ('{fn.__name__}', {SCHEMA_APPLIED_AT});"
        for fn in MIGRATIONS
    ]
    return SCHEMA_HEADER + "\n".join(statements) + "\n"


def write_sqlite_schema(path: Path | None = None) -> Path:
    """Write ``sqlite_schema`` to ``store.sql.SQLITE_SCHEMA`` (or ``path``)."""
    from store.sql import SQLITE_SCHEMA

    target = path or SQLITE_SCHEMA
    target.write_text(sqlite_schema(), encoding="utf-8")
    return target


if __name__ == "__main__":
    print(f"wrote {write_sqlite_schema()}")
