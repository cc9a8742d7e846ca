"""A command whose extra is missing names the install line (collector/extras.py), and the extras
it names are the ones pyproject.toml declares."""

import re
import sys
import tomllib
from pathlib import Path

import pytest

from collector.extras import EXTRA_MODULES, MissingExtra, dashboard_script, require
from store.errors import UserError

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def names(requirements: list[str]) -> set[str]:
    """The distribution names of requirement strings."""
    return {re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower() for req in requirements}


def declared_names(extra: str) -> set[str]:
    """The distribution names pyproject.toml lists under ``extra``."""
    return names(tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"][extra])


@pytest.mark.parametrize("extra", sorted(EXTRA_MODULES))
def test_each_checked_module_is_installed_by_its_extra(extra):
    assert set(EXTRA_MODULES[extra]) <= declared_names(extra)


def test_the_light_install_holds_no_extra_module():
    base = names(tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"])
    for modules in EXTRA_MODULES.values():
        assert not base & set(modules)


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
    ("args", "extra"), [(["serve"], "server"), (["start", "--codex-home", "."], "app")]
)
def test_a_command_without_its_extra_says_which_to_install(monkeypatch, args, extra):
    """`codextime serve` without [server], `codextime start` without [app]: one line naming the
    install, before any work is done."""
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
