"""Every environment variable is declared once, in store/settings.py, and documented in README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from store.settings import SETTINGS, Setting

ROOT = Path(__file__).resolve().parent.parent
#: Where the project's own code lives (the tests and benchmarks set variables for it).
SOURCES = ("collector", "store", "pages", "streamlit_app.py")
#: An environment variable read by its literal name.
LITERAL_READ = re.compile(r"""(?:environ(?:\.get)?\s*[(\[]|getenv\s*\()\s*["'](\w+)["']""")
#: Variables of the system, not of Codextime, read as every program reads them: the terminal's
#: width (POSIX) and the local time zone.
SYSTEM_VARIABLES = {"COLUMNS", "TZ"}


def readme_settings() -> dict[str, str]:
    """README's Settings table: each variable named in a row's first cell, with the row's
    meaning."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            for name in re.findall(r"`(\w+)`", cells[0]):
                documented[name] = cells[1]
    return documented


def test_the_readme_documents_exactly_the_settings_users_set():
    public = {s.name for s in SETTINGS if not s.internal}
    documented = readme_settings()
    assert sorted(documented) == sorted(public)
    assert all(documented.values())


def test_each_setting_is_declared_once_with_a_meaning():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.meaning and s.default for s in SETTINGS)


def source_files() -> list[Path]:
    files = []
    for name in SOURCES:
        path = ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_no_module_reads_a_variable_by_its_name_but_the_settings():
    """Each reader asks store.settings, so a new variable cannot go undeclared."""
    readers = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in source_files()
        if path != ROOT / "store" / "settings.py"
        for name in LITERAL_READ.findall(path.read_text(encoding="utf-8"))
        if name not in SYSTEM_VARIABLES
    }
    assert readers == set()


@pytest.mark.parametrize("raw", ["", None])
def test_an_empty_or_missing_variable_is_unset(monkeypatch, raw):
    setting = Setting("CODEXTIME_TEST_ONLY", "a default", "a test's own")
    if raw is None:
        monkeypatch.delenv(setting.name, raising=False)
    else:
        monkeypatch.setenv(setting.name, raw)
    assert setting.value() is None
    monkeypatch.setenv(setting.name, "set")
    assert setting.value() == "set"
