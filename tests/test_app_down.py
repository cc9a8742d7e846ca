"""The app with its store out of reach: every page says so in one line, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["overview", "heatmap", "models", "api_equivalent", "leaderboard", "privacy"]
SECRET = "s3cret-pw"


@pytest.fixture(
    params=["postgres", "sqlite"], ids=["postgres-refused", "sqlite-folder-under-a-file"]
)
def down_url(request, tmp_path, monkeypatch) -> str:
    """A store URL nothing answers at: a closed PostgreSQL port (with a password that must never
    be shown), or an SQLite file whose folder cannot be made (its parent is a file)."""
    if request.param == "postgres":
        url = f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/nothing"
    else:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        url = f"sqlite:///{blocker / 'sub' / 'codextime.db'}"
    monkeypatch.setenv("CODEXTIME_DB", url)
    return url


def every_text(at: AppTest) -> str:
    """All the text the page shows, main area and sidebar."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "title", "header")
    parts = [str(e.value) for kind in kinds for e in at.get(kind)]
    parts += [str(e.value) for kind in kinds for e in at.sidebar.get(kind)]
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_the_store_is_out_of_reach_in_one_line(down_url, page):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith("Cannot reach the store at ")
    assert errors[0].endswith("Check CODEXTIME_DB or the db_url secret.")
    assert "\n" not in errors[0]
    assert "Traceback" not in every_text(at)
    assert SECRET not in every_text(at)
    if page == "privacy":  # reads no usage: the method is still there to read
        assert "What never leaves your machine" in [h.value for h in at.header]
    if "postgres" in down_url:
        assert "postgresql+psycopg://postgres:***@127.0.0.1:1/nothing" in errors[0]
