"""What a built wheel installs works on its own, in fresh virtual environments outside the
repository: the light collector (no extra: no SQLAlchemy, SQLModel or pydantic) reports, scans
and syncs a demo home, .jsonl.zst files included, into a new embedded store and again, installs
and removes the hook, and logs in and syncs to a server; the dashboard runs from the copy the
wheel carries, as ``codextime start`` runs it, over the store the light collector made.
Slow (a wheel build and two installs from pip's cache: a minute or two), so marked ``slow``."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from collector.demo import generate
from store.fields import RECORD_FIELDS
from tests.test_serve import serving
from tests.test_sync_errors import session

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

#: The pages an entry point registers (``st.Page("pages/x.py", ...)``).
PAGE_PATHS = r'st\.Page\(\s*"([^"]+)"'
#: Run in the dashboard's environment with the entry point and its pages as arguments: each
#: page through Streamlit's AppTest, as JSON {page: {"exceptions": [...], "text": "..."}}.
EVERY_PAGE = """
import json, sys
from streamlit.testing.v1 import AppTest

shown = {}
for page in sys.argv[2:]:
    at = AppTest.from_file(sys.argv[1], default_timeout=120)
    at.run()
    at.switch_page(page).run()
    text = [e.value for kind in ("title", "markdown", "caption", "metric") for e in at.get(kind)]
    exceptions = [e.value for e in at.exception]
    shown[page] = {"exceptions": exceptions, "text": "\\n".join(str(t) for t in text)}
print(json.dumps(shown))
"""


def run(*command: str | Path, **kwargs) -> str:
    """stdout of ``command``, which must succeed."""
    kwargs.setdefault("timeout", 900)
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def venv_with(path: Path, requirement: str) -> Path:
    """A fresh virtual environment at ``path`` with ``requirement`` installed by pip."""
    run(sys.executable, "-m", "venv", path)
    run(path / "bin" / "pip", "install", "-q", "--disable-pip-version-check", requirement)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder outside the repository, and a HOME of its own for what is run there."""
    return tmp_path_factory.mktemp("wheel")


@pytest.fixture(scope="module")
def wheel(work) -> Path:
    run(sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", ROOT)
    (built,) = (work / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def env(work) -> dict[str, str]:
    """The environment the installed commands run in: no project on the path, nothing of the
    user's (Streamlit's and Codextime's folders live under this HOME)."""
    home = work / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CODEXTIME_", "PYTHON"))}
    return {**keep, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}


@pytest.fixture(scope="module")
def demo(work):
    """A demo Codex home and its true usage."""
    home = work / "codex"
    return home, generate(home, end=datetime.now(UTC))


@pytest.fixture(scope="module")
def light(wheel, work) -> Path:
    return venv_with(work / "light", str(wheel))


@pytest.fixture(scope="module")
def store(light, demo, env, work) -> str:
    """A new embedded store, made by the light collector's first sync of the demo home."""
    url = f"sqlite:///{work / 'store.db'}"
    run(
        light / "bin" / "codextime", "sync", "--codex-home", demo[0], "--db", url, env=env, cwd=work
    )
    return url


def installed(venv: Path) -> set[str]:
    listed = json.loads(run(venv / "bin" / "pip", "list", "--format", "json"))
    return {re.sub(r"[-_.]+", "-", package["name"]).lower() for package in listed}  # PEP 503


def test_the_light_install_has_no_extra_no_store_layer_and_no_zstandard(light):
    names = installed(light)
    assert "codextime" in names
    assert not names & {"zstandard", "streamlit", "duckdb", "polars", "fastapi", "psycopg"}
    assert not names & {"sqlalchemy", "sqlmodel", "pydantic", "pydantic-core"}
    assert ("backports-zstd" in names) == (sys.version_info < (3, 14))


def test_the_light_install_reports_a_demo_home_with_zstd_files_exactly(light, demo, env, work):
    home, truth = demo
    assert list(home.rglob("*.jsonl.zst"))
    report = json.loads(
        run(
            light / "bin" / "codextime",
            "report",
            "daily",
            "--json",
            "--timezone",
            "UTC",
            "--codex-home",
            home,
            env=env,
            cwd=work,
        )
    )
    assert {k: report["totals"][k] for k in truth.totals()} == truth.totals()


def test_the_light_install_syncs_into_a_new_embedded_store_and_again(light, store, demo, env, work):
    codextime = light / "bin" / "codextime"
    report = json.loads(run(codextime, "report", "daily", "--json", "--db", store, env=env))
    assert report["totals"]["responses"] == demo[1].totals()["responses"]
    again = run(codextime, "sync", "--codex-home", demo[0], "--db", store, env=env, cwd=work)
    assert again.startswith("Synced: 0 new records")


def test_the_light_install_scans_and_writes_the_demo(light, demo, env, work):
    codextime = light / "bin" / "codextime"
    records = json.loads(run(codextime, "scan", "--json", "--codex-home", demo[0], env=env))
    assert len(records["records"]) == demo[1].totals()["responses"]
    assert all(list(r) == list(RECORD_FIELDS) for r in records["records"])
    summary = run(codextime, "scan", "--codex-home", demo[0], env=env)
    assert f"Records: {demo[1].totals()['responses']:,} model responses" in summary
    run(codextime, "demo", "--out", work / "demo-written", "--days", "2", env=env, cwd=work)
    assert list((work / "demo-written").rglob("rollout-*"))


def test_the_light_install_installs_and_removes_the_hook(light, env, work):
    home = work / "hooked"
    home.mkdir()
    codextime = light / "bin" / "codextime"
    run(codextime, "hook", "install", "--kind", "notify", "--codex-home", home, env=env)
    assert "collector.hook" in (home / "config.toml").read_text()
    run(codextime, "hook", "uninstall", "--codex-home", home, env=env)
    assert not (home / "config.toml").exists()  # install made it; uninstall takes it away


def test_the_light_install_logs_in_and_syncs_to_a_server(light, env, work):
    home = work / "real-codex"
    session(home, 1)
    codextime = light / "bin" / "codextime"
    with serving(work) as server:
        said = run(codextime, "login", "--server", server, "--name", "light-user", env=env)
        assert said.startswith(f"Logged in to {server} as light-user.")
        synced = run(codextime, "sync", "--codex-home", home, env=env)
        assert synced.startswith("Synced: 3 new records")
        assert "Records: 3" in run(codextime, "account", env=env)


def test_the_light_install_names_the_extra_a_store_needs(light, env, work):
    done = subprocess.run(
        [light / "bin" / "codextime", "sync", "--codex-home", work, "--db", "postgres://u@h/db"],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: syncing into this store on PostgreSQL needs the server or app extra: "
        "pip install 'codextime[server]' or pip install 'codextime[app]'"
    ]


@pytest.fixture(scope="module")
def app(wheel, work) -> Path:
    return venv_with(work / "app", f"{wheel}[app]")


@pytest.fixture(scope="module")
def script(app, env, work) -> Path:
    """The entry point ``codextime start`` hands Streamlit in the dashboard's environment."""
    found = run(
        app / "bin" / "python",
        "-c",
        "from collector.extras import dashboard_script; print(dashboard_script())",
        env=env,
        cwd=work,
    )
    return Path(found.strip())


def test_the_installed_dashboard_is_the_packaged_copy(app, script):
    site = next((app / "lib").glob("python*/site-packages"))
    assert script == site / "collector" / "dashboard" / "streamlit_app.py"
    assert script.read_bytes() == (ROOT / "streamlit_app.py").read_bytes()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_packaged_dashboard_serves_its_page_and_health(app, script, store, env, work):
    port = free_port()
    command = [app / "bin" / "python", "-m", "streamlit", "run", script]
    options = ["--server.headless", "true", "--server.port", str(port)]
    server = subprocess.Popen(
        [str(c) for c in command + options],
        env={**env, "CODEXTIME_DB": store},
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(base + "/_stcore/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert health is not None, server.stderr.read().decode()[-3000:] if server.stderr else ""
        assert (health.status_code, health.text) == (200, "ok")
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 200 and '<div id="root">' in page.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_every_packaged_page_renders(app, script, store, env):
    pages = re.findall(PAGE_PATHS, script.read_text())
    assert "pages/privacy.py" in pages and len(pages) >= 6
    env = {**env, "CODEXTIME_DB": store}
    shown = json.loads(run(app / "bin" / "python", "-c", EVERY_PAGE, script, *pages, env=env))
    assert list(shown) == pages
    for page, result in shown.items():
        assert result["exceptions"] == [], page
        assert result["text"], page
    # the Privacy page shows the packaged copy of docs/counting.md
    counting = (ROOT / "docs" / "counting.md").read_text().split("\n", 3)[2]
    assert counting and counting in shown["pages/privacy.py"]["text"]
