"""The store's tables. The usage table holds exactly the record's fields plus its owner."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from store.fields import UNKNOWN_TIER


def _now() -> datetime:
    return datetime.now(UTC)


class Account(SQLModel, table=True):
    """A person (or seat) sending usage. Display names are unique regardless of case, and no
    two look alike (``store.names``)."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    #: ``store.names.name_key(name)``: names that look alike share it, and its unique index
    #: lets only one of them in.
    name_key: str = Field(sa_column=Column(String(200), nullable=False, server_default=text("''")))
    leaderboard_opt_in: bool = Field(default=False)
    default_label: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=_now)


# After the class: the index needs the column object.
Index("uq_account_name_lower", func.lower(Account.__table__.c.name), unique=True)
Index("uq_account_name_key", Account.__table__.c.name_key, unique=True)


class Usage(SQLModel, table=True):
    """One model response of one account; (account, event_id) is what makes syncs idempotent."""

    __tablename__ = "usage"
    __table_args__ = (
        UniqueConstraint("account_id", "event_id", name="uq_usage_account_event"),
        # An account's records in time order: its first and last record, and the days a batch
        # touched (plausibility, rollups), are read without visiting its whole history.
        Index("ix_usage_account_ts", "account_id", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    ts: datetime = Field(index=True)
    model: str = Field(max_length=100)
    #: Rows stored before tiers were recorded are "unknown" (the column's default).
    tier: str = Field(
        default=UNKNOWN_TIER,
        sa_column=Column(String(16), nullable=False, server_default=text(f"'{UNKNOWN_TIER}'")),
    )
    input: int = Field(sa_column=Column(BigInteger, nullable=False))
    cached: int = Field(sa_column=Column(BigInteger, nullable=False))
    cache_write: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
    output: int = Field(sa_column=Column(BigInteger, nullable=False))
    reasoning: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: str = Field(max_length=32)
    session: str = Field(max_length=32)
    label: str | None = Field(default=None, max_length=100)
    #: None when plausible; else a short reason code (e.g. "tokens_per_day"). Flagged records are
    #: kept, and their owner sees them, but the leaderboard never ranks them.
    flag: str | None = Field(default=None, max_length=40)


class ApiToken(SQLModel, table=True):
    """A bearer token of an account. Only its SHA-256 digest is stored, never the token."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = Field(default=None)


def _count() -> Column:
    return Column(BigInteger, nullable=False)


class DailyRollup(SQLModel, table=True):
    """An account's usage summed per UTC day, model, tier, long-context flag and plausibility
    flag: what the leaderboard, profiles and badges read instead of the records. Kept by the
    insert itself (``store.sql.rollup_sql``), in the transaction that stores the records.
    Records outside the record type's bounds (kept from older stores) are left out."""

    __tablename__ = "daily_rollup"
    __table_args__ = (Index("ix_daily_rollup_day", "day"),)

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("account.id"), primary_key=True, nullable=False)
    )
    day: date = Field(sa_column=Column(Date, primary_key=True, nullable=False))
    model: str = Field(sa_column=Column(String(100), primary_key=True, nullable=False))
    tier: str = Field(sa_column=Column(String(16), primary_key=True, nullable=False))
    #: The responses' input is over ``store.sql.LONG_CONTEXT_TOKENS``.
    long_context: bool = Field(sa_column=Column(Boolean, primary_key=True, nullable=False))
    #: The responses carry a plausibility flag: never ranked.
    flagged: bool = Field(sa_column=Column(Boolean, primary_key=True, nullable=False))
    input: int = Field(sa_column=_count())
    cached: int = Field(sa_column=_count())
    cache_write: int = Field(sa_column=_count())
    output: int = Field(sa_column=_count())
    reasoning: int = Field(sa_column=_count())
    responses: int = Field(sa_column=_count())


class RollupKind(SQLModel, table=True):
    """Every kind of usage (model, tier, long-context flag) a daily rollup has held: what a board
    read prices, found without a pass over the rollups. Kept by the statement that recomputes
    the rollups (``store.sql.rollup_sql``), in the same transaction; erasing an account's usage
    drops the kinds no rollup holds any more (``store.sql.prune_kinds_sql``)."""

    __tablename__ = "rollup_kind"

    model: str = Field(sa_column=Column(String(100), primary_key=True, nullable=False))
    tier: str = Field(sa_column=Column(String(16), primary_key=True, nullable=False))
    long_context: bool = Field(sa_column=Column(Boolean, primary_key=True, nullable=False))


class SignInCode(SQLModel, table=True):
    """A one-time code that signs the dashboard in as the account whose token asked for it: a
    browser gets a session without a token ever being shown or pasted. Only its SHA-256 digest
    is stored; it is worth one sign-in, for a few minutes, while the token that asked is live."""

    __tablename__ = "sign_in_code"

    id: int | None = Field(default=None, primary_key=True)
    code_sha256: str = Field(max_length=64, unique=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    #: The digest of the token that asked for the code: the session the code opens is that
    #: token's, and ends when it is revoked.
    token_sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    used_at: datetime | None = Field(default=None)
