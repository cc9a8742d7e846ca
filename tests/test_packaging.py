"""The installed package finds its rate table and its dashboard: the build copies the root
rates.csv into the ``store`` package and the dashboard (streamlit_app.py, pages/, the Streamlit
settings and the doc the Privacy page shows) into ``collector/dashboard`` (setup.py);
``store.pricing.default_rates`` and ``collector.extras.dashboard_script`` pick the root files in a
source tree and the packaged copies anywhere else. The build test takes about 10 s (it builds an
sdist and a wheel from it, as pip does); tests/test_wheel_app.py runs what it installs."""

import email
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from store.pricing import DEFAULT_RATES, default_rates, load_rates

ROOT = Path(__file__).resolve().parent.parent


def test_a_source_tree_prices_with_its_root_table():
    assert DEFAULT_RATES == ROOT / "rates.csv"


def test_an_installed_package_prices_with_its_packaged_copy(tmp_path):
    site = tmp_path / "site-packages"
    (site / "store").mkdir(parents=True)
    (site / "rates.csv").write_text("model,source_url,last_checked\n")  # someone else's file
    assert default_rates(site / "store") == site / "store" / "rates.csv"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """An sdist and the wheel built from it, as `python -m build` makes them."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def dashboard_sources() -> list[str]:
    """The root files the dashboard runs from, relative to the root."""
    pages = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").rglob("*.py"))
    return ["streamlit_app.py", *pages, ".streamlit/config.toml", "docs/counting.md"]


def test_the_wheel_ships_the_root_rate_table(built):
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("store/rates.csv") == (ROOT / "rates.csv").read_bytes()
        assert "store/rates_research.csv" in archive.namelist()
        # a new embedded store is made from it by the light install
        schema = (ROOT / "store" / "schema_sqlite.sql").read_bytes()
        assert archive.read("store/schema_sqlite.sql") == schema
        licenses = [n for n in archive.namelist() if n.endswith("/LICENSE")]
        assert licenses and archive.read(licenses[0]) == (ROOT / "LICENSE").read_bytes()


def test_the_sdist_holds_what_the_wheel_is_built_from(built):
    (sdist,) = built.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {
        "rates.csv",
        "setup.py",
        "LICENSE",
        "collector/_heads.c",
        "store/rates_research.csv",
        "store/schema_sqlite.sql",
        *dashboard_sources(),
    } <= names


def test_the_wheel_carries_the_dashboard_as_copies_of_the_root_files(built):
    """Exactly the dashboard's files (no secrets, nothing else), each byte for byte its source."""
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name.removeprefix("collector/dashboard/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith("collector/dashboard/")
        }
    assert sorted(packaged) == sorted(dashboard_sources())
    for name, data in packaged.items():
        assert data == (ROOT / name).read_bytes(), name
    assert b"gatherUsageStats = false" in packaged[".streamlit/config.toml"]


def test_the_packaged_table_loads(built, tmp_path):
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extract("store/rates.csv", tmp_path)
    table = load_rates(default_rates(tmp_path / "store"))
    assert table.rates


def wheel_metadata(built) -> email.message.Message:
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def heading_anchors(markdown: str) -> set[str]:
    """The anchors a Markdown renderer gives the headings: lower case, punctuation dropped,
    spaces as hyphens."""
    titles = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", t).strip().lower().replace(" ", "-") for t in titles}


def test_the_metadata_is_complete(built):
    meta = wheel_metadata(built)
    assert meta["License-Expression"] == "MIT"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# Codextime")
    assert meta["Author"] and meta["Requires-Python"] == ">=3.11"
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Repository", "Issues"} <= set(urls)
    anchors = heading_anchors((ROOT / "README.md").read_text())
    for label, url in urls.items():
        assert url.startswith("https://"), label
        fragment = url.partition("#")[2]
        assert not fragment or fragment in anchors, (label, fragment)


def test_zstd_comes_from_the_standard_library_or_its_backport(built):
    """The light install reads .jsonl.zst through compression.zstd (Python 3.14) or its
    backport; zstandard (24 MB) is no dependency of it."""
    base = [r for r in wheel_metadata(built).get_all("Requires-Dist") if "extra ==" not in r]
    assert [r for r in base if "zstd" in r] == ['backports.zstd>=1.0; python_version < "3.14"']


def test_the_light_install_requires_no_store_layer(built):
    """SQLAlchemy, SQLModel and pydantic come with the store extra, which the dashboard, the
    service and the rate update include."""
    required = wheel_metadata(built).get_all("Requires-Dist")
    base = [r for r in required if "extra ==" not in r]
    assert not [r for r in base if r.lower().startswith(("sqlalchemy", "sqlmodel", "pydantic"))]
    store = sorted(
        r.split(";")[0].split(">")[0].lower() for r in required if 'extra == "store"' in r
    )
    assert store == ["pydantic", "sqlalchemy", "sqlmodel"]
    for extra in ("app", "server", "rates"):
        assert f'codextime[store]; extra == "{extra}"' in required, extra
