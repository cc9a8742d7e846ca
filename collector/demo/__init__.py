"""A synthetic CODEX_HOME with known ground truth, for demos, tests and the benchmark.

Real rollouts are private, so anything that must run end to end on realistic data (the demo
dashboard, the bench, the parser's edge cases) runs on a generated home instead. The generator
follows the shared notes on the rollout format era by era, and because it writes every model
response itself it knows which ones are genuine usage: that ground truth (:class:`Truth`) is what a
correct parser must reproduce, and what every copy, re-emit, replay and estimate in the corpus is
designed to tempt it away from.

Only the standard library, orjson and zstandard are used, so the package can run anywhere the
collector runs. Its modules, by job:

- ``marker``: what makes a folder a demo home (:func:`is_demo_home`);
- ``truth``: the ground truth, every genuine response and sums over them;
- ``filler``: the stand-in for private content (prompts, tool output, encrypted blobs);
- ``lines``: timestamps, ids and usage vectors that lines are built from;
- ``writer``: one thread's rollout file as cli 0.34 wrote it, the base of every era;
- ``eras``: each later CLI era as a subclass, and the table of eras (:data:`ERAS`);
- ``corpus``: families of threads placed into a home, and :func:`generate`;
- ``board``: demo accounts with usage of their own, for a demo store's leaderboard
  (``seed_demo_board``).

Only the marker is loaded with the package, so that the CLI can ask whether a folder is a demo
home on every command cheaply; the generator loads on first use of any other name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from collector.demo.marker import GENERATOR, MARKER_NAME, NotADemoHome, is_demo_home

if TYPE_CHECKING:
    # So that type checkers know the names loaded lazily below.
    from collector.demo.corpus import generate
    from collector.demo.eras import ERAS, TIER_SPELLINGS
    from collector.demo.truth import TOKEN_KEYS, TrueResponse, Truth

__all__ = [
    "ERAS",
    "GENERATOR",
    "MARKER_NAME",
    "TIER_SPELLINGS",
    "TOKEN_KEYS",
    "NotADemoHome",
    "TrueResponse",
    "Truth",
    "generate",
    "is_demo_home",
]

#: The public names loaded on first use, by the module that defines them.
_LAZY = {
    "generate": "corpus",
    "ERAS": "eras",
    "TIER_SPELLINGS": "eras",
    "TOKEN_KEYS": "truth",
    "TrueResponse": "truth",
    "Truth": "truth",
}


def __getattr__(name: str) -> Any:
    """Load a generator name from its module the first time it is asked for (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
