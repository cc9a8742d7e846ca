"""The Stop lifecycle hook: where install puts it, exact undo, the kind a Codex supports, and a hook
that returns at once and never keeps what Codex writes to its input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from collector import hook
from collector.hook import HookError, install, run_stop, uninstall
from tests import test_hook as notify_tests
from tests.rollout import meta, session_path, token_count, usage, write
from tests.test_hook_cli import stored_records

SYNC = ["/opt/codextime/bin/codextime", "sync"]
MARKER = "MARKER-last-assistant-message-5d1e"

# The notify hook's tests' fixtures and helpers, shared.
codex_home = notify_tests.codex_home
reap_launched = notify_tests.reap_launched
recorder = notify_tests.recorder
wait_for = notify_tests.wait_for

USER_CONFIG = """\
# Codex settings, kept by hand.
model = "o3"          # the usual
notify = ["notify-send", "Codex"]

[[hooks.Stop]]
[[hooks.Stop.hooks]]
type = "command"
command = "~/bin/lint-on-stop"   # mine, approved

[[hooks.PreToolUse]]
matcher = "Bash"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "~/bin/guard"

[hooks.state."/home/u/.codex/config.toml:stop:0:0"]
trusted_hash = "sha256:0000"

[tui]
notifications = true
"""

USER_HOOKS_JSON = """\
{
  "description": "my hooks",
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard"}]}],
    "Stop": [
      {"hooks": [{"type": "command", "command": "lint", "timeout": 5}]}
    ]
  }
}
"""


def stop_groups(path: Path) -> list[dict]:
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    return data["hooks"]["Stop"]


def fake_codex(tmp_path: Path, monkeypatch, version_line: str) -> None:
    """A ``codex`` on PATH that reports ``version_line`` for ``--version``."""
    folder = tmp_path / "fake-bin"
    folder.mkdir(exist_ok=True)
    program = folder / "codex"
    program.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


# -- install / uninstall in config.toml ---------------------------------------------------------


def test_the_group_goes_after_the_users_and_uninstall_restores_the_file_exactly(codex_home):
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    before = tomllib.loads(USER_CONFIG)

    message = install(codex_home, SYNC, kind="stop")

    assert "/hooks" in message and "approve" in message and "\n" not in message
    after = tomllib.loads(config.read_text())
    groups = after["hooks"]["Stop"]
    assert groups[0] == before["hooks"]["Stop"][0]  # theirs keeps its place, so its approval
    (ours,) = groups[1]["hooks"]
    assert hook.installed_stop_layout(ours["command"]).sync == SYNC
    assert ours["type"] == "command" and ours["timeout"] == hook.STOP_TIMEOUT
    assert "async" not in ours
    assert after["hooks"]["PreToolUse"] == before["hooks"]["PreToolUse"]
    assert after["hooks"]["state"] == before["hooks"]["state"]  # no trust written by us
    assert after["notify"] == before["notify"] and after["tui"] == before["tui"]
    assert config.read_text().startswith(USER_CONFIG)
    assert hook.installed_kind(codex_home) == "stop"

    assert "Removed" in uninstall(codex_home)
    assert config.read_text() == USER_CONFIG
    assert hook.installed_kind(codex_home) is None


@pytest.mark.parametrize(
    "original",
    ["", 'model = "o3"', 'model = "o3"\r\n\r\n[tui]\r\nx = 1\r\n', "# only a comment\n"],
)
def test_any_ending_comes_back_byte_for_byte(codex_home, original):
    config = codex_home / "config.toml"
    config.write_bytes(original.encode())

    install(codex_home, SYNC, kind="stop")
    assert len(stop_groups(config)) == 1

    uninstall(codex_home)
    assert config.read_bytes() == original.encode()


def test_a_config_toml_that_install_created_is_removed_again(codex_home):
    install(codex_home, SYNC, kind="stop")
    assert hook.installed_kind(codex_home) == "stop"

    assert "had created" in uninstall(codex_home)
    assert sorted(codex_home.iterdir()) == []


def test_installing_again_is_a_no_op_and_a_new_command_updates_in_place(codex_home):
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    install(codex_home, SYNC, kind="stop")
    once = config.read_bytes()

    assert "already installed" in install(codex_home, SYNC, kind="stop")
    assert config.read_bytes() == once

    assert "Updated" in install(codex_home, [*SYNC, "--db", "x"], kind="stop")
    groups = stop_groups(config)
    assert len(groups) == 2
    assert hook.installed_stop_layout(groups[1]["hooks"][0]["command"]).sync == [*SYNC, "--db", "x"]
    uninstall(codex_home)
    assert config.read_text() == USER_CONFIG


def test_another_kind_already_installed_is_a_clear_error(codex_home):
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    install(codex_home, SYNC, kind="notify")
    with_notify = config.read_bytes()

    with pytest.raises(HookError, match="already installed as notify") as err:
        install(codex_home, SYNC, kind="stop")
    assert "\n" not in str(err.value) and config.read_bytes() == with_notify

    uninstall(codex_home)
    assert config.read_text() == USER_CONFIG


def test_both_kinds_left_by_older_installs_are_both_removed(codex_home):
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    install(codex_home, SYNC, kind="notify")
    text = config.read_text()
    config.write_text(hook._toml_added(text, hook.stop_command(codex_home, SYNC, "group"), ""))

    uninstall(codex_home)
    assert config.read_text() == USER_CONFIG


# -- hooks.json ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        USER_HOOKS_JSON,
        "{}",
        '{"description": "x"}\n',
        '{"hooks": {}}',
        '{"hooks": {"SessionStart": []}}',
        '{ "hooks" : { "Stop" : [ ] } }',
    ],
)
def test_a_folder_with_hooks_json_gets_the_hook_there(codex_home, original):
    (codex_home / "config.toml").write_text(
        'model = "o3"\n[hooks.state."x:stop:0:0"]\nenabled = true\n'
    )
    hooks_json = codex_home / "hooks.json"
    hooks_json.write_text(original)
    config_before = (codex_home / "config.toml").read_bytes()
    groups_before = json.loads(original).get("hooks", {}).get("Stop", [])

    assert str(hooks_json) in install(codex_home, SYNC, kind="stop")

    groups = stop_groups(hooks_json)
    assert groups[: len(groups_before)] == groups_before and len(groups) == len(groups_before) + 1
    assert json.loads(hooks_json.read_text()).get("description") == json.loads(original).get(
        "description"
    )
    assert (codex_home / "config.toml").read_bytes() == config_before  # one file per folder

    uninstall(codex_home)
    assert hooks_json.read_text() == original


def test_a_group_the_user_added_after_ours_stays_when_ours_goes(codex_home):
    hooks_json = codex_home / "hooks.json"
    hooks_json.write_text('{"hooks": {}}')
    install(codex_home, SYNC, kind="stop")
    data = json.loads(hooks_json.read_text())
    later = {"hooks": [{"type": "command", "command": "later"}]}
    data["hooks"]["Stop"].append(later)
    data["hooks"]["SessionStart"] = [later]
    hooks_json.write_text(json.dumps(data, indent=2))

    uninstall(codex_home)
    assert json.loads(hooks_json.read_text()) == {
        "hooks": {"Stop": [later], "SessionStart": [later]}
    }


def test_inline_hooks_in_config_toml_keep_the_hook_there(codex_home):
    config = codex_home / "config.toml"
    config.write_text(USER_CONFIG)
    (codex_home / "hooks.json").write_text(USER_HOOKS_JSON)

    install(codex_home, SYNC, kind="stop")

    assert (codex_home / "hooks.json").read_text() == USER_HOOKS_JSON
    assert len(stop_groups(config)) == 2
    uninstall(codex_home)
    assert config.read_text() == USER_CONFIG


# -- files that can't be edited safely ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("hooks.json", '{"hooks": {"Stop": [}', "not valid JSON"),
        ("hooks.json", "[]", "not a JSON object"),
        ("hooks.json", '{"hooks": {}, "hooks": {}}', "not valid JSON"),
        ("hooks.json", '{"hooks": {"Stop": {"hooks": []}}}', "not what Codex expects"),
        ("config.toml", "[hooks\n", "not valid TOML"),
        ("config.toml", "hooks = 3\n", "not what Codex expects"),
    ],
)
def test_a_file_not_read_as_codex_does_is_left_untouched(codex_home, name, content, error):
    path = codex_home / name
    path.write_text(content)

    for action in (lambda: install(codex_home, SYNC, kind="stop"), lambda: uninstall(codex_home)):
        with pytest.raises(HookError, match=error) as err:
            action()
        assert "\n" not in str(err.value) and "left unchanged" in str(err.value)
        assert path.read_text() == content
    assert sorted(p.name for p in codex_home.iterdir()) == [name]


def test_an_inline_stop_array_is_refused_untouched(codex_home):
    config = codex_home / "config.toml"
    config.write_text("[hooks]\nStop = [{hooks = []}]\n")
    with pytest.raises(HookError, match="inline array") as err:
        install(codex_home, SYNC, kind="stop")
    assert "\n" not in str(err.value)
    assert config.read_text() == "[hooks]\nStop = [{hooks = []}]\n"


def test_an_unreadable_hooks_json_is_one_clear_error(codex_home):
    (codex_home / "hooks.json").mkdir()  # unreadable as a file, even for root
    with pytest.raises(HookError, match="cannot read it"):
        install(codex_home, SYNC, kind="stop")
    assert sorted(p.name for p in codex_home.iterdir()) == ["hooks.json"]


def test_a_hook_edited_by_hand_is_not_guessed_at(codex_home):
    config = codex_home / "config.toml"
    install(codex_home, SYNC, kind="stop")
    edited = config.read_text().replace("timeout = 30", "timeout = 31")
    config.write_text(edited)

    with pytest.raises(HookError, match="edited by hand"):
        uninstall(codex_home)
    assert config.read_text() == edited


def test_a_sync_command_the_shell_would_change_is_refused(codex_home):
    with pytest.raises(HookError, match="shell safely"):
        install(codex_home, ["/opt/it's/codextime", "sync"], kind="stop")
    assert list(codex_home.iterdir()) == []


# -- which kind by default ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version_line", "config", "kind"),
    [
        ("codex-cli 0.152.1", "", "stop"),
        ("codex-cli 0.130.0", "[features]\ncodex_hooks = true\n", "stop"),
        ("codex-cli 0.129.9", "", "notify"),
        ("codex-cli 0.152.1", "[features]\nhooks = false\n", "notify"),
        ("codex-cli 0.152.1", "[features]\ncodex_hooks = false\n", "notify"),
        ("no version here", "", "notify"),
    ],
)
def test_the_default_kind_follows_the_installed_codex(
    codex_home, tmp_path, monkeypatch, version_line, config, kind
):
    fake_codex(tmp_path, monkeypatch, version_line)
    (codex_home / "config.toml").write_text(config)

    assert hook.default_kind(codex_home) == kind
    install(codex_home, SYNC)
    assert hook.installed_kind(codex_home) == kind


def test_without_codex_on_path_the_default_is_notify(codex_home, monkeypatch):
    monkeypatch.setenv("PATH", "")
    assert hook.codex_version() is None
    assert hook.default_kind(codex_home) == "notify"


# -- the hook as Codex runs it --------------------------------------------------------------------


def stop_input(cwd: str = "/work/secret-project") -> bytes:
    """What Codex writes to a Stop hook's standard input, the last message padded past a pipe's
    buffer so the hook must read it all for Codex's write to finish."""
    return json.dumps(
        {
            "session_id": "019a152d-35a0-72a0-91db-8ebe37fac69e",
            "turn_id": "7",
            "transcript_path": None,
            "cwd": cwd,
            "hook_event_name": "Stop",
            "model": "gpt-5.1-codex",
            "permission_mode": "default",
            "stop_hook_active": False,
            "last_assistant_message": f"{MARKER} " + "x" * 300_000,
        }
    ).encode()


def run_as_codex(command: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The installed command, run the way Codex runs a hook: through the shell, input on stdin,
    output captured (Codex waits until both pipes close)."""
    return subprocess.run(
        ["/bin/sh", "-lc", command], input=stop_input(), capture_output=True, cwd=cwd, timeout=10
    )


def installed_command(codex_home: Path) -> str:
    for path in (codex_home / "hooks.json", codex_home / "config.toml"):
        if path.exists():
            return stop_groups(path)[-1]["hooks"][0]["command"]
    raise AssertionError("no Stop hook installed")


def test_the_hook_returns_at_once_prints_nothing_and_keeps_nothing_of_its_input(
    codex_home, tmp_path
):
    sync_out = tmp_path / "sync.json"
    install(codex_home, [sys.executable, str(recorder(tmp_path)), str(sync_out)], kind="stop")
    project = tmp_path / "project with space"
    project.mkdir()

    started = time.perf_counter()
    done = run_as_codex(installed_command(codex_home), project)

    assert done.returncode == 0 and time.perf_counter() - started < 5
    assert done.stdout == b""  # Codex would read output as the hook's answer
    sync = wait_for(sync_out)
    assert json.loads(sync)["argv"] == [str(sync_out)]
    assert json.loads(sync)["env"]["CODEX_HOME"] == str(codex_home.absolute())
    assert MARKER not in sync and MARKER.encode() not in done.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path


def test_the_hook_does_not_wait_for_the_sync(codex_home, tmp_path):
    install(codex_home, [sys.executable, "-c", "import time; time.sleep(30)"], kind="stop")

    started = time.perf_counter()
    done = run_as_codex(installed_command(codex_home), tmp_path)

    assert done.returncode == 0 and time.perf_counter() - started < 5  # the sync sleeps 30 s


def test_broken_arguments_never_exit_2_which_codex_reads_as_continue(tmp_path):
    source = tmp_path / "input"
    source.write_bytes(stop_input())
    with source.open("rb") as stdin:
        assert run_stop(["--codex-home", "/x"], stdin) == 1
        assert stdin.read() == b""  # drained all the same
    assert hook._launched == []
    log = hook.log_path().read_text()
    assert "reinstall" in log and MARKER not in log


def test_a_turn_syncs_into_the_store_and_the_message_reaches_nothing(tmp_path):
    home = tmp_path / "codex"
    a = usage(1000, 200, 50, 10)
    write(
        session_path(home, "2026-03-01T10-00-00", "019a152d-35a0-72a0-91db-8ebe37fac69e"),
        [meta(ts="2026-03-01T10:00:00.000Z"), token_count("2026-03-01T10:00:05.000Z", a, a)],
    )
    install(home, [sys.executable, "-I", "-m", "collector", "sync", "--background"], kind="stop")

    done = run_as_codex(installed_command(home), tmp_path)

    assert done.returncode == 0 and done.stdout == b""
    assert stored_records() == 1
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
