"""Accounts and their bearer tokens.

A token is shown once, when it is made; the store keeps only its SHA-256 digest. Looking a token up
by its digest means the database never sees the token, and the final comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store import names
from store.db import lock_account, store_failures
from store.errors import UserError
from store.models import Account, ApiToken, DailyRollup, SignInCode, Usage
from store.sql import prune_kinds_sql

TOKEN_PREFIX = "ctk_"
CODE_PREFIX = "ctc_"
#: How long a sign-in code is worth something: long enough to open a browser, too short to
#: leave lying around.
CODE_LIFETIME = timedelta(minutes=5)
#: Unused, unexpired codes one account may hold: a few browsers opened at once, not a stock.
MAX_LIVE_CODES = 5
#: Longer than any code made here: anything longer is not looked up at all.
_CODE_MAX = 100


class AccountError(UserError, ValueError):
    """A request about accounts that cannot be met; the message says why."""


class TooManyCodes(AccountError):
    """The account holds as many live sign-in codes as it may."""

    def __init__(self) -> None:
        super().__init__(
            f"{MAX_LIVE_CODES} sign-in codes are still unused: use one, or wait a few minutes"
        )


class NameTaken(AccountError):
    """Another account has this display name, regardless of case, or one that looks like it
    (``store.names``). The message never says which account."""

    def __init__(self, name: str, *, alike: bool = False) -> None:
        why = "is too much like a name already in use" if alike else "is taken"
        super().__init__(f"the name {name!r} {why}")


def check_name(name: str) -> str:
    """``name`` in its normal form, or AccountError saying why it is not a valid display name
    (``store.names``: characters, reserved names)."""
    try:
        return names.check_name(name)
    except names.NameRefused as exc:
        raise AccountError(str(exc)) from None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@store_failures()
def create_account(engine: Engine, name: str) -> tuple[int, str]:
    """A new account and its first token (the only time the token is seen)."""
    name = check_name(name)
    with Session(engine) as session:
        account = Account(name=name, name_key=names.name_key(name))
        session.add(account)
        _commit_name(session, name)
        session.refresh(account)
        assert account.id is not None
        return account.id, _issue(session, account.id)


@store_failures()
def issue_token(engine: Engine, name: str) -> str:
    """Another token for an existing account (a new machine, or after revoking)."""
    with Session(engine) as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None or account.id is None:
            raise AccountError(f"no account named {name!r}")
        return _issue(session, account.id)


def _issue(session: Session, account_id: int) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(account_id=account_id, token_sha256=token_digest(token)))
    session.commit()
    return token


@store_failures()
def revoke_tokens(engine: Engine, name: str) -> int:
    """Revoke every live token of an account; return how many."""
    with Session(engine) as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None:
            raise AccountError(f"no account named {name!r}")
        live = session.exec(
            select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at == None)  # noqa: E711
        ).all()
        for token in live:
            token.revoked_at = datetime.now(UTC)
            session.add(token)
        session.commit()
        return len(live)


def account_for_token(engine: Engine, token: str) -> Account | None:
    """The account a live token belongs to, or None."""
    digest = token_digest(token)
    with Session(engine) as session:
        found = session.exec(
            select(ApiToken).where(ApiToken.token_sha256 == digest, ApiToken.revoked_at == None)  # noqa: E711
        ).first()
        if found is None or not hmac.compare_digest(found.token_sha256, digest):
            return None
        return session.get(Account, found.account_id)


def update_account(engine: Engine, account_id: int, changes: dict) -> Account:
    with Session(engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise AccountError("no such account")
        if "name" in changes:
            changes["name"] = check_name(changes["name"])
            changes["name_key"] = names.name_key(changes["name"])
        for key, value in changes.items():
            setattr(account, key, value)
        session.add(account)
        _commit_name(session, changes.get("name", account.name))
        session.refresh(account)
        return account


def _commit_name(session: Session, name: str) -> None:
    """Commit, answering NameTaken when the database's unique index on lower(name) or on the
    look-alike key refuses: the indexes, not a look-up first, decide, so two requests at once
    cannot both win."""
    try:
        session.commit()
    except sa.exc.IntegrityError as exc:
        session.rollback()
        alike = "name_key" in str(exc.orig) and not _name_in_use(session, name)
        raise NameTaken(name, alike=alike) from None


def _name_in_use(session: Session, name: str) -> bool:
    a = Account.__table__
    query = sa.select(a.c.id).where(sa.func.lower(a.c.name) == sa.func.lower(name))
    return session.execute(query).first() is not None


@store_failures()
def usage_count(engine: Engine, account_id: int) -> int:
    t = Usage.__table__
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(t).where(t.c.account_id == account_id)
        return conn.execute(query).scalar_one()


def delete_usage(engine: Engine, account_id: int) -> int:
    """Erase every usage record of one account, and its rollups; return how many records."""
    t, r = Usage.__table__, DailyRollup.__table__
    with engine.begin() as conn:
        lock_account(conn, account_id)
        conn.execute(sa.delete(r).where(r.c.account_id == account_id))
        _prune_kinds(conn)
        return conn.execute(sa.delete(t).where(t.c.account_id == account_id)).rowcount


def flagged_counts(engine: Engine, account_id: int) -> dict[str, int]:
    """How many of an account's records are flagged implausible, by reason."""
    t = Usage.__table__
    query = (
        sa.select(t.c.flag, sa.func.count())
        .where(t.c.account_id == account_id, t.c.flag.is_not(None))
        .group_by(t.c.flag)
    )
    with engine.connect() as conn:
        return {flag: count for flag, count in conn.execute(query)}


@store_failures()
def issue_code(
    engine: Engine, account_id: int, token_sha256: str, *, now: datetime | None = None
) -> tuple[str, datetime]:
    """A one-time sign-in code for the account, tied to the token (by its digest) that asked,
    and when it expires; TooManyCodes past ``MAX_LIVE_CODES`` live ones. Only the code's digest
    is stored, and the account's spent codes are cleared."""
    now = now or datetime.now(UTC)
    c = SignInCode.__table__
    mine = c.c.account_id == account_id
    live = sa.and_(mine, c.c.used_at.is_(None), c.c.expires_at > now)
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    expires = now + CODE_LIFETIME
    with engine.begin() as conn:
        lock_account(conn, account_id)  # two requests at once cannot both take the last place
        conn.execute(sa.delete(c).where(mine, sa.not_(live)))
        if conn.execute(sa.select(sa.func.count()).where(live)).scalar_one() >= MAX_LIVE_CODES:
            raise TooManyCodes()
        conn.execute(
            sa.insert(c).values(
                code_sha256=token_digest(code),
                account_id=account_id,
                token_sha256=token_sha256,
                created_at=now,
                expires_at=expires,
            )
        )
    return code, expires


@store_failures()
def redeem_code(
    engine: Engine, code: str, *, now: datetime | None = None
) -> tuple[int, str] | None:
    """``(account_id, token_sha256)`` of a sign-in code, spending it; None when the code is
    unknown, spent, expired, or its token was revoked since. One UPDATE both checks and spends
    it, so of two redeemers at once exactly one wins."""
    if not isinstance(code, str) or not 0 < len(code) <= _CODE_MAX:
        return None
    now = now or datetime.now(UTC)
    c, t = SignInCode.__table__, ApiToken.__table__
    token_live = (
        sa.exists()
        .where(
            t.c.token_sha256 == c.c.token_sha256,
            t.c.account_id == c.c.account_id,
            t.c.revoked_at.is_(None),
        )
        .correlate(c)
    )
    spend = (
        sa.update(c)
        .where(
            c.c.code_sha256 == token_digest(code),
            c.c.used_at.is_(None),
            c.c.expires_at > now,
            token_live,
        )
        .values(used_at=now)
        .returning(c.c.account_id, c.c.token_sha256)
    )
    with engine.begin() as conn:
        found = conn.execute(spend).first()
    return None if found is None else (found.account_id, found.token_sha256)


@store_failures()
def record_span(engine: Engine, account_id: int) -> tuple[datetime | None, datetime | None]:
    """The times (UTC) of the account's first and last record; (None, None) with none."""
    u = Usage.__table__
    query = sa.select(sa.func.min(u.c.ts), sa.func.max(u.c.ts)).where(u.c.account_id == account_id)
    with engine.connect() as conn:
        first, last = conn.execute(query).one()
    return tuple(  # SQLite gives back times without their zone: they are UTC
        None if ts is None else ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
        for ts in (first, last)
    )


@store_failures()
def delete_account(engine: Engine, account_id: int) -> int:
    """Erase an account and everything of it (sign-in codes, tokens, rollups, records) in one
    transaction; return how many records were erased."""
    with engine.begin() as conn:
        lock_account(conn, account_id)
        for table in (SignInCode, ApiToken, DailyRollup):
            t = table.__table__
            conn.execute(sa.delete(t).where(t.c.account_id == account_id))
        _prune_kinds(conn)
        u, a = Usage.__table__, Account.__table__
        erased = conn.execute(sa.delete(u).where(u.c.account_id == account_id)).rowcount
        conn.execute(sa.delete(a).where(a.c.id == account_id))
    return erased


def _prune_kinds(conn: sa.Connection) -> None:
    """Drop the kinds of usage no rollup holds now (an erased account's model names)."""
    for statement in prune_kinds_sql(conn.dialect.name):
        conn.execute(sa.text(statement))
