"""The demo package's entry: asking whether a folder is a demo home stays cheap, and every public
name is reachable from ``collector.demo`` and from ``python -m collector.demo``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter, so that modules other tests imported do not count."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_is_demo_home_loads_neither_the_generator_nor_zstandard() -> None:
    probe = (
        "import sys, orjson\n"
        "import collector.demo as demo\n"
        "from collector.demo import is_demo_home\n"
        "print(orjson.dumps({'zstd': 'zstandard' in sys.modules,"
        " 'generate': 'generate' in vars(demo),"
        " 'modules': sorted(m for m in sys.modules if m.startswith('collector.demo'))}).decode())"
    )
    loaded = orjson.loads(run_python("-c", probe).stdout)
    assert loaded == {
        "zstd": False,
        "generate": False,
        "modules": ["collector.demo", "collector.demo.marker"],
    }


def test_public_names_load_on_first_use_from_their_modules() -> None:
    import collector.demo as demo
    from collector.demo import ERAS, TOKEN_KEYS, TrueResponse, Truth, generate
    from collector.demo.corpus import generate as corpus_generate
    from collector.demo.eras import ERAS as table
    from collector.demo.truth import TOKEN_KEYS as keys
    from collector.demo.truth import TrueResponse as response
    from collector.demo.truth import Truth as truth

    assert generate is corpus_generate and ERAS is table and TOKEN_KEYS is keys
    assert TrueResponse is response and Truth is truth
    with pytest.raises(AttributeError, match="has no attribute 'Corpus'"):
        _ = demo.Corpus


def test_module_run_writes_a_demo_home(tmp_path: Path) -> None:
    from collector.demo import MARKER_NAME, is_demo_home

    home = tmp_path / "home"
    totals = orjson.loads(run_python("-m", "collector.demo", str(home)).stdout.split(" ")[0])
    assert is_demo_home(home)
    assert orjson.loads((home / MARKER_NAME).read_bytes())["seed"] == 7
    assert totals["responses"] > 0 and totals["total"] == totals["input"] + totals["output"]
