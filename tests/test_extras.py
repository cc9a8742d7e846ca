"""A command whose extra is missing names the install line (collector/extras.py), the extras it
names are the ones pyproject.toml declares, and the light install holds no store layer."""

import re
import sys
import tomllib
from pathlib import Path

import pytest

from collector import extras
from collector.extras import (
    EXTRA_MODULES,
    STORE_MODULES,
    MissingExtra,
    dashboard_script,
    require,
    require_store,
)
from store.errors import UserError
from store.sql import StoreError

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def names(requirements: list[str]) -> set[str]:
    """The distribution names of requirement strings (``_`` spelt ``-``, as in a module name)."""
    return {
        re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower().replace("_", "-")
        for req in requirements
    }


def declared_names(extra: str) -> set[str]:
    """The distribution names pyproject.toml lists under ``extra``, with those of the extras it
    includes (``codextime[store]``)."""
    listed = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"][extra]
    included = [r for r in listed if r.startswith("codextime[")]
    found = names([r for r in listed if r not in included])
    for requirement in included:
        for other in requirement.removeprefix("codextime[").removesuffix("]").split(","):
            found |= declared_names(other)
    return found


@pytest.mark.parametrize("extra", sorted(EXTRA_MODULES))
def test_each_checked_module_is_installed_by_its_extra(extra):
    assert {m.replace("_", "-") for m in EXTRA_MODULES[extra]} <= declared_names(extra)


def test_the_light_install_holds_no_extra_module():
    base = names(tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"])
    for modules in EXTRA_MODULES.values():
        assert not base & set(modules)
    assert not base & {"sqlalchemy", "sqlmodel", "pydantic", "pydantic-core"}


def test_the_dashboard_the_service_and_the_rate_update_include_the_store_layer():
    for extra in ("app", "server", "rates", "all"):
        assert set(STORE_MODULES) <= declared_names(extra), extra


def without_store_layer(monkeypatch, *missing: str) -> None:
    """As in the light install: these modules (by default the store layer's) not installed."""
    gone = set(missing or STORE_MODULES)
    monkeypatch.setattr(
        extras, "missing_modules", lambda modules: [m for m in modules if m in gone]
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "sqlite:////tmp/old.db",
            "reading needs the store extra: pip install 'codextime[store]'",
        ),
        (
            "postgres://u:secret@host/db",
            "reading on PostgreSQL needs the server or app extra: pip install "
            "'codextime[server]' or pip install 'codextime[app]'",
        ),
    ],
)
def test_a_store_without_its_layer_names_the_extra_in_one_line(monkeypatch, url, message):
    without_store_layer(monkeypatch)
    with pytest.raises(MissingExtra) as caught:
        require_store("reading", url)
    assert str(caught.value) == message


def test_postgresql_without_its_driver_names_the_extra(monkeypatch):
    without_store_layer(monkeypatch, "psycopg")
    with pytest.raises(MissingExtra, match="server or app extra"):
        require_store("reading", "postgresql+psycopg://u@host/db")
    require_store("reading", "sqlite:///x.db")  # SQLite needs no driver


def test_another_database_is_refused_without_echoing_its_url(monkeypatch):
    without_store_layer(monkeypatch)
    with pytest.raises(StoreError) as caught:
        require_store("reading", "mysql://u:secret@host/db")
    assert "secret" not in str(caught.value)
    assert str(caught.value).startswith("not a database URL this install reads: use sqlite")


def test_an_installed_store_layer_passes():
    for url in ("sqlite:///x.db", "postgresql://u@h/db", "nonsense"):
        require_store("reading", url)  # the store layer itself says what is wrong with it


def test_a_missing_extra_is_one_line_naming_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # what find_spec reports for a missing one
    with pytest.raises(MissingExtra) as caught:
        require("codextime serve", "server")
    message = str(caught.value)
    assert message == "codextime serve needs the server extra: pip install 'codextime[server]'"
    assert isinstance(caught.value, UserError)


def test_an_installed_extra_passes():
    require("codextime serve", "server")
    require("codextime start", "app")


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["serve"], "server"),
        (["start", "--codex-home", "."], "app"),
        (["sync", "--codex-home", ".", "--db", "postgresql://u@h/db"], "server"),
    ],
)
def test_a_command_without_its_extra_says_which_to_install(monkeypatch, args, extra):
    """`codextime serve` without [server], `codextime start` without [app], a sync into
    PostgreSQL without either: one line naming the install, before any work is done."""
    from typer.testing import CliRunner

    from collector import extras
    from collector.cli import app

    monkeypatch.setattr(extras, "missing_modules", lambda modules: list(modules))
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    assert f"codextime[{extra}]" in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1


def tree_with(root: Path, *files: str) -> Path:
    """``root`` with each of ``files`` (relative paths) written, empty; returns ``root``."""
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root


def test_a_source_tree_runs_the_root_dashboard():
    root = PYPROJECT.parent
    assert dashboard_script() == root / "streamlit_app.py"


def test_an_installed_package_runs_its_packaged_dashboard(tmp_path):
    # someone else's streamlit_app.py at the top of site-packages is never the one run
    site = tree_with(tmp_path, "streamlit_app.py", "collector/dashboard/streamlit_app.py")
    assert dashboard_script(site / "collector") == site / "collector/dashboard/streamlit_app.py"


def test_a_dashboard_missing_from_the_install_is_one_line(tmp_path):
    site = tree_with(tmp_path, "collector/extras.py")
    with pytest.raises(UserError) as caught:
        dashboard_script(site / "collector")
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("the dashboard is missing from this install (")
