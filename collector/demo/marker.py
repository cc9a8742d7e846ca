"""What makes a folder a demo home: the marker file the generator leaves in it.

Kept apart from the generator, so that asking whether a folder is a demo home (the CLI does on
most commands) costs one small module.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from collector.discover import CodexHomeError

MARKER_NAME = "codextime-demo.json"
GENERATOR = "codextime demo"


class NotADemoHome(CodexHomeError):
    """The folder to write into holds something other than a generated home: left untouched.

    A CodexHomeError, so the CLI prints it as one line."""


def is_demo_home(path: Path) -> bool:
    """Whether ``path`` holds a home the demo generator wrote (its marker file says so)."""
    marker = Path(path) / MARKER_NAME
    try:
        doc = orjson.loads(marker.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("demo") is True
