"""Cheap realistic filler: the prompts, tool output and encrypted blobs of a rollout.

Real rollouts hold private content; the demo's stands in for it, sliced from a pool built once per
corpus so that bulk costs little more than a copy.
"""

from __future__ import annotations

import base64
import math
import random

_WORD_TEXT = (
    "the a of to in is that for it with as on be this are by from or an config value "
    "request response handler client server cache token session stream buffer parse error "
    "retry timeout user model file path line test assert expected actual returned None True "
    "False self def return import from class async await yield raise except try finally with "
    "lambda list dict str int bytes len range for while if else elif pass continue break "
    "src lib app core utils tests docs main index build dist module package version update "
    "fix add remove rename refactor migrate schema table column query insert select where "
    "order group join limit offset commit branch merge rebase diff patch hunk staged "
    "warning deprecated failed passed skipped collected seconds ms ok done running compiling "
    "Finished Compiling Checking warning: error[E0308]: mismatched types --> note: help: "
    "TypeError: KeyError: ValueError: AttributeError: Traceback (most recent call last): "
    "{ } ( ) [ ] => -> :: == != <= >= && || += -= ; , . : = + - * / % # @ $ ~ "
    "useState useEffect props render component export default const let var function "
    "fn impl struct enum match Some Ok Err Vec String Option Result pub mod crate use"
)
WORDS = tuple(_WORD_TEXT.split())
FILES = (
    "src/app.py",
    "src/server/routes.ts",
    "crates/core/src/lib.rs",
    "tests/test_api.py",
    "web/components/Chart.tsx",
    "pkg/store/sqlite.go",
    "README.md",
    "Makefile",
    "src/models/user.py",
    "src/utils/retry.ts",
    "migrations/0004_add_index.sql",
)
COMMANDS = (
    'rg -n "{w}" src',
    "sed -n '1,220p' {f}",
    "pytest -q tests -k {w}",
    "git status --short",
    "git diff --stat",
    "ls -la src",
    "npm test -- --run {w}",
    "cargo test {w}",
    "go test ./...",
    "cat {f}",
    "python -m mypy src",
    "ruff check .",
    "make build",
)
PROJECTS = ("ledger", "pixel-garden", "atlas-api", "notes-sync", "quarry", "tiny-http", "orbit")
USERS = ("sam", "ana", "dev", "kim", "lee")


class Filler:
    """Slices of a pre-built text pool: realistic-looking bulk at memcpy speed."""

    def __init__(self, rng: random.Random, size: int = 1_500_000) -> None:
        self.rng = rng
        words = rng.choices(WORDS, k=size // 5)
        lines: list[str] = []
        i = 0
        while i < len(words):
            n = rng.randint(2, 14)
            indent = " " * (4 * rng.randint(0, 3))
            prefix = rng.choice(("", "", "", f"{rng.choice(FILES)}:{rng.randint(1, 900)}: "))
            lines.append(indent + prefix + " ".join(words[i : i + n]))
            i += n
        self.text = "\n".join(lines)
        self.b64 = base64.urlsafe_b64encode(rng.randbytes(600_000)).decode()

    def text_of(self, n: int) -> str:
        n = max(1, min(n, len(self.text) - 1))
        at = self.rng.randrange(len(self.text) - n)
        return self.text[at : at + n]

    def blob(self, n: int) -> str:
        """An encrypted-content-like blob: ``gAAAAA`` + url-safe base64."""
        n = max(16, min(n, len(self.b64) - 1))
        at = self.rng.randrange(len(self.b64) - n)
        return "gAAAAA" + self.b64[at : at + n]

    def size(self, median: float, sigma: float, lo: int, hi: int) -> int:
        """A log-normally distributed size: most lines short, a few very long."""
        return max(lo, min(hi, int(self.rng.lognormvariate(math.log(median), sigma))))
