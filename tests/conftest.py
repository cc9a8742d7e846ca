"""Shared fixtures: an isolated user environment, and a store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import settings

# CI runs the property tests on a fixed set of examples, so a run is repeatable; elsewhere each run
# tries new ones (how new edge cases are found: add each as a plain test when one turns up).
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_URL = os.environ.get(
    "CODEXTIME_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("CODEXTIME_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch):
    """Never touch the real ~/.codex, data folder or sync state of whoever runs the tests."""
    for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "user" / var.lower()))
    monkeypatch.setenv("HOME", str(tmp_path / "user" / "home"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "user" / "no-codex-home"))
    for var in ("CODEXTIME_DB", "CODEXTIME_HASH_KEY"):
        monkeypatch.delenv(var, raising=False)


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: not available here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


_PG_PROBLEM = _postgres_available()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty store URL, once on SQLite and once on PostgreSQL (own schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if _PG_PROBLEM:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here but unavailable: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL runs skipped: no server at {PG_URL} ({_PG_PROBLEM})")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield (
        sa.make_url(PG_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# -- the browser: Debian's Chromium through Playwright (never a downloaded browser) ----------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRE_BROWSER = os.environ.get("CODEXTIME_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    """Browser tests need Chromium: CI installs it and requires them; elsewhere they are skipped
    with the reason shown when it is missing."""
    if CHROMIUM or REQUIRE_BROWSER:
        return  # (required and missing: the tests run, and fail on launching the browser)
    skip = pytest.mark.skip(reason="browser tests skipped: no Chromium here (apt install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
