"""The collector's own settings: flags first, then the environment, then the config file.

The config file (written by ``codextime login``) lives in the user's config folder with mode 0600,
since it holds a token.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from store.settings import LABEL, SERVER, TOKEN

#: The settings the config file can also hold, by their key there.
ENV = {"server": SERVER, "token": TOKEN, "label": LABEL}


def state_dir() -> Path:
    """The collector's state folder (cursors, the sync locks, the hook's log)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("codextime"))


def config_path() -> Path:
    from platformdirs import user_config_dir  # only when the file is needed: a report is not

    return Path(user_config_dir("codextime")) / "config.json"


def load_config() -> dict:
    try:
        data = orjson.loads(config_path().read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save_config(changes: dict) -> Path:
    """Merge ``changes`` into the config file, readable by its owner only; a key whose value is
    None is removed."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**load_config(), **changes}
    data = {key: value for key, value in merged.items() if value is not None}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def setting(name: str, flag: str | None) -> str | None:
    """A setting's value: the flag, else its environment variable (those of ``ENV``), else the
    config file."""
    if flag:
        return flag
    env = ENV[name].value() if name in ENV else None
    if env:
        return env
    value = load_config().get(name)
    return value if isinstance(value, str) and value else None
