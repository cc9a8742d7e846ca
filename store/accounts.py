"""Accounts and their bearer tokens.

A token is shown once, when it is made; the store keeps only its SHA-256 digest. Looking a token up
by its digest means the database never sees the token, and the final comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store import names
from store.db import lock_account, store_failures
from store.errors import UserError
from store.models import Account, ApiToken, DailyRollup, Usage

TOKEN_PREFIX = "ctk_"


class AccountError(UserError, ValueError):
    """A request about accounts that cannot be met; the message says why."""


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
