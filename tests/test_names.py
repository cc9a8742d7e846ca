"""Display names: NFKC, a safe character set, reserved names and look-alikes refused, the
look-alike key enforced by the database (both dialects), and older stores upgraded keeping
every account."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from store.accounts import AccountError, NameTaken, create_account, update_account
from store.db import open_store
from store.names import NameRefused, check_name, name_key
from tests.test_rollups import older_store


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("alice", "aIice"),  # capital I for l
        ("bob", "b0b"),  # zero for o
        ("will1", "wiII1"),
        ("mary", "rnary"),  # m drawn as r n
        ("Ann Lee", "ann_lee"),  # separators
        ("ann.lee", "ann--lee"),
        ("ａｌｉｃｅ", "alice"),  # fullwidth letters are the plain ones after NFKC
    ],
)
def test_look_alikes_share_a_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("alice", "alicia"), ("ann", "anne"), ("bo", "b-o-b")])
def test_different_names_have_different_keys(a, b):
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize(
    "name",
    [
        "аlice",  # Cyrillic a
        "bob\u200b",  # zero-width space
        "eve\u202e",  # right-to-left override
        "zoë",  # letters outside A to Z (NFKC keeps the diaeresis)
        "<b>x</b>",
        " ",
        "-lead",
        "a" * 51,
        "tab\there",
    ],
)
def test_unsafe_names_are_refused_in_one_line(name):
    with pytest.raises(NameRefused, match="^a name has 1 to 50 letters A to Z") as refused:
        check_name(name)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "name",
    ["admin", "ADMlN", "Administrator", "root", "OpenAI", "0penAI", "open.ai", "my-openai-bot",
     "codextime_fan", "C0dex", "null", "Demo", "support", "s.y.s.t.e.m"],
)  # fmt: skip
def test_reserved_names_and_their_look_alikes_are_refused(name):
    with pytest.raises(NameRefused, match="is reserved"):
        check_name(name)


@pytest.mark.parametrize("name", ["alice", "Ann Lee", "dev_42", "x", "codex-fan", "m.r-o_b"])
def test_ordinary_names_pass_in_normal_form(name):
    assert check_name(f" {name} ") == name
    assert check_name("ｄｅｖ") == "dev"


def test_the_store_refuses_a_look_alike_without_naming_its_holder(store_url):
    engine = open_store(store_url)
    create_account(engine, "alice")
    with pytest.raises(
        NameTaken, match=r"^the name 'aIice' is too much like a name already in use$"
    ):
        create_account(engine, "aIice")
    with pytest.raises(NameTaken, match=r"^the name 'ALICE' is taken$"):
        create_account(engine, "ALICE")
    bob, _ = create_account(engine, "bob")
    with pytest.raises(NameTaken, match="too much like"):
        update_account(engine, bob, {"name": "a1ice"})
    with pytest.raises(AccountError, match="reserved"):
        update_account(engine, bob, {"name": "Admin"})
    assert update_account(engine, bob, {"name": "B0B"}).name == "B0B"  # its own look-alike
    engine.dispose()


def test_the_database_decides_a_look_alike_race(store_url):
    """Two sign-ups at once with names that look alike: exactly one wins."""
    engine = open_store(store_url)
    results: list[object] = []
    start = threading.Barrier(2)

    def sign_up(name: str) -> None:
        start.wait()
        try:
            results.append(create_account(engine, name)[0])
        except NameTaken as exc:
            results.append(exc)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in ("mallory", "rnallory")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results) == ["NameTaken", "int"]
    engine.dispose()


def test_an_upgrade_keeps_accounts_whose_names_look_alike(store_url):
    engine = older_store(store_url, 6, ["bob", "b0b", "carol", "b0b-2", "rnary", "mary"])
    upgraded = open_store(store_url)
    with upgraded.connect() as conn:
        rows = conn.execute(sa.text("select name, name_key from account order by id")).all()
    names = [name for name, _ in rows]
    assert names == ["bob", "b0b-2-2", "carol", "b0b-2", "rnary", "mary-6"]
    assert all(key == name_key(name) for name, key in rows)
    with pytest.raises(NameTaken):
        create_account(upgraded, "BOB")
    engine.dispose()
    upgraded.dispose()
