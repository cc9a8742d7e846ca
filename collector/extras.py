"""The optional parts of an install, and the one-line error when a command needs a missing one.

``pip install codextime`` is the light collector (report, scan, sync, login, demo, hook): it
keeps an embedded SQLite store of its own version with the standard library alone
(``collector.sqlite_sink``). The store layer (SQLAlchemy, SQLModel, pydantic: PostgreSQL, older
stores to upgrade, the operators' commands), the dashboard and the ingest service are extras
(pyproject.toml's ``[project.optional-dependencies]``; ``app`` and ``server`` include ``store``).
A command checks its extra before importing it, so a missing one reads as the install line to run,
never as an ImportError traceback. ``importlib.util.find_spec`` looks without importing.

The dashboard's own files (``streamlit_app.py`` and ``pages/``) live at the repository root and,
in a built wheel, in a copy inside this package: ``dashboard_script`` finds the one to run.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from store.errors import UserError
from store.sql import SUPPORTED_URLS, StoreError, url_backend

#: The installed ``collector`` package's folder.
PACKAGE = Path(__file__).resolve().parent
#: Where a built wheel keeps its copy of the dashboard, in the package (setup.py puts it there).
DASHBOARD = "dashboard"
#: The dashboard's entry point, at the repository root and in the packaged copy alike.
DASHBOARD_SCRIPT = "streamlit_app.py"

#: The store layer's modules (the ``store`` extra, which ``app`` and ``server`` include).
STORE_MODULES = ("sqlalchemy", "sqlmodel", "pydantic")
#: The modules each extra installs that its commands import (a top-level name each).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "store": STORE_MODULES,
    "app": ("streamlit", "duckdb", "polars", "altair", *STORE_MODULES),
    "server": ("fastapi", "uvicorn", "psycopg", *STORE_MODULES),
    "rates": ("genai_prices", *STORE_MODULES),
}


class MissingExtra(UserError):
    """A command needs a part of Codextime that is not installed."""


def install_line(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f"pip install 'codextime[{extra}]'"


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """Those of ``modules`` that cannot be imported here."""
    return [name for name in modules if find_spec(name) is None]


def require(command: str, extra: str) -> None:
    """Raise MissingExtra, naming the install line, when ``extra`` is not installed."""
    if missing_modules(EXTRA_MODULES[extra]):
        raise MissingExtra(f"{command} needs the {extra} extra: {install_line(extra)}")


def require_store(command: str, url: str) -> None:
    """Raise MissingExtra, naming the install line, when the store layer ``url`` needs is not
    installed: the ``store`` extra for SQLite, PostgreSQL's driver too (the ``server`` or ``app``
    extra) for PostgreSQL; a StoreError for a URL of any other database."""
    backend = url_backend(url)
    if backend == "postgresql":
        if missing_modules((*STORE_MODULES, "psycopg")):
            raise MissingExtra(
                f"{command} on PostgreSQL needs the server or app extra: {install_line('server')} "
                f"or {install_line('app')}"
            )
    elif backend == "sqlite":
        require(command, "store")
    elif missing_modules(STORE_MODULES):  # with the store layer, it says what is wrong
        raise StoreError(f"not a database URL this install reads: {SUPPORTED_URLS}")


def dashboard_script(package: Path = PACKAGE) -> Path:
    """The dashboard's entry point: the repository's ``streamlit_app.py`` in a source tree (a
    clone or an editable install), else the copy a built wheel carries in the package, with the
    pages, theme and settings beside it. A UserError when neither is there."""
    tree = package.parent
    if (tree / "pyproject.toml").is_file() and (tree / DASHBOARD_SCRIPT).is_file():
        return tree / DASHBOARD_SCRIPT
    packaged = package / DASHBOARD / DASHBOARD_SCRIPT
    if packaged.is_file():
        return packaged
    raise UserError(f"the dashboard is missing from this install ({packaged}): reinstall codextime")
