"""The optional parts of an install, and the one-line error when a command needs a missing one.

``pip install codextime`` is the light collector (report, scan, sync, login, demo, hook); the
dashboard and the ingest service are extras (pyproject.toml's ``[project.optional-dependencies]``).
A command checks its extra before importing it, so a missing one reads as the install line to run,
never as an ImportError traceback. ``importlib.util.find_spec`` looks without importing.
"""

from __future__ import annotations

from importlib.util import find_spec

from store.errors import UserError

#: The modules each extra installs that its commands import (a top-level name each).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "app": ("streamlit", "duckdb", "polars", "altair"),
    "server": ("fastapi", "uvicorn", "psycopg"),
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
