"""The notify hook: editing Codex's config.toml safely, a hook that never blocks or reads prompts,
and the lock that keeps two syncs apart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import hook
from collector.hook import HookError, install, run, uninstall
from collector.sync import LOCK_HUNG_AFTER, Busy, sync_lock

SYNC = ["/opt/codextime/bin/codextime", "sync"]
CANARY = "CANARY-7f3a9c-secret-prompt"

RICH = """\
# Codex settings, kept by hand.
model = "o3"          # the usual
approval_policy = "on-request"

# ping me when a turn ends
notify = ["notify-send", "Codex"]

[tui]
notifications = true   # desktop too

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]

[[profiles.fast.extra]]
name = "one"
"""


@pytest.fixture(autouse=True)
def reap_launched():
    """Stop whatever the hook started in this test process, so no sleeper outlives the test."""
    yield
    for proc in hook._launched:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    hook._launched.clear()


@pytest.fixture(autouse=True)
def no_codex_on_path(monkeypatch):
    """These tests are about the notify hook: the kind ``install`` picks by default must not
    depend on which Codex the machine running them has."""
    monkeypatch.setattr(hook, "codex_version", lambda: None)


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    return home


def config_of(home: Path) -> Path:
    return home / "config.toml"


def notify_of(home: Path) -> list[str] | None:
    return (
        tomllib.loads(config_of(home).read_text())["notify"] if config_of(home).exists() else None
    )


def layout_of(home: Path) -> hook.Layout:
    """The hook's saved arguments in the installed notify value."""
    layout = hook.installed_layout(notify_of(home))
    assert layout is not None
    return layout


def without_notify_line(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("notify =")]


def wait_for(path: Path, timeout: float = 15.0) -> str:
    """The file's text once it exists and is complete (written as ``<text>\\n.done``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text()
            if text.endswith("\n.done"):
                return text[: -len("\n.done")]
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written within {timeout} s")


def recorder(tmp_path: Path) -> Path:
    """A tiny program that writes its arguments and its environment to argv[1]."""
    script = tmp_path / "bin" / "record.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        "import json, os, sys\n"
        "env = dict(os.environ)\n"
        "print('recorder ran', flush=True)\n"
        "with open(sys.argv[1], 'w') as fh:\n"
        "    fh.write(json.dumps({'argv': sys.argv[1:], 'env': env}) + '\\n.done')\n"
    )
    return script


def payload(cwd: str = "/work/secret-project") -> str:
    return json.dumps(
        {
            "type": "agent-turn-complete",
            "thread-id": "b5f6c1c2-1111-2222-3333-444455556666",
            "turn-id": "12345",
            "cwd": cwd,
            "client": "codex-tui",
            "input-messages": [f"please refactor {CANARY}", "--chain-toml", "'\"\\\n"],
            "last-assistant-message": f"done with {CANARY} ✓",
        }
    )


def hook_argv(home: Path) -> list[str]:
    """What ``run`` receives when Codex calls the installed notify command (minus the payload)."""
    notify = notify_of(home)
    assert notify is not None and notify[1:5] == ["-I", "-m", "collector.hook", "run"]
    return notify[5:]


# -- install / uninstall -------------------------------------------------------------------------


def test_install_into_empty_codex_home(codex_home):
    message = install(codex_home, SYNC)

    assert "Installed" in message and "\n" not in message
    notify = notify_of(codex_home)
    assert notify == hook.notify_command(codex_home, SYNC, made_config=True)
    assert notify[0] == sys.executable
    layout = layout_of(codex_home)
    assert json.loads(layout.sync_json) == SYNC and layout.previous == ""
    assert tomllib.loads(config_of(codex_home).read_text()).keys() == {"notify"}
    assert config_of(codex_home).stat().st_mode & 0o777 == 0o600
    assert hook.is_installed(codex_home)


def test_install_creates_a_missing_codex_home(tmp_path):
    home = tmp_path / "not-yet" / ".codex"
    install(home, SYNC)
    assert hook.is_installed(home)


def test_install_keeps_the_rest_of_the_file_and_uninstall_restores_it_exactly(codex_home):
    config_of(codex_home).write_text(RICH)

    message = install(codex_home, SYNC)

    text = config_of(codex_home).read_text()
    assert "notify-send" in message
    assert without_notify_line(text) == without_notify_line(RICH)
    data, original = tomllib.loads(text), tomllib.loads(RICH)
    assert {k: v for k, v in data.items() if k != "notify"} == {
        k: v for k, v in original.items() if k != "notify"
    }
    previous = layout_of(codex_home).previous
    assert previous == '["notify-send", "Codex"]'
    assert hook._chained_program(previous) == ["notify-send", "Codex"]

    assert "restored" in uninstall(codex_home)
    assert config_of(codex_home).read_text() == RICH


def test_install_twice_is_a_no_op(codex_home):
    config_of(codex_home).write_text(RICH)
    install(codex_home, SYNC)
    once = config_of(codex_home).read_bytes()
    inode = config_of(codex_home).stat().st_ino

    message = install(codex_home, SYNC)

    assert "already installed" in message
    assert config_of(codex_home).read_bytes() == once
    assert config_of(codex_home).stat().st_ino == inode  # not even rewritten
    uninstall(codex_home)
    assert config_of(codex_home).read_text() == RICH  # never chained to itself


@pytest.mark.parametrize(
    "original",
    [
        '# header\nmodel = "o3"\n\n[tui]\nnotifications = true\n',
        "a = {b = 1}\n[t]\nc = 2\n",  # tomlkit alone would add a blank line here
        '# windows\r\nmodel = "o3"\r\n\r\n[tui]\r\nx = 1\r\n',
        "# only tables\n[[profiles]]\nname = 'x'\n",
        "",
    ],
)
def test_install_without_a_previous_notify_goes_before_the_first_table(codex_home, original):
    config_of(codex_home).write_bytes(original.encode())

    install(codex_home, SYNC)

    text = config_of(codex_home).read_bytes().decode()
    if "[" in original:
        assert text.index("notify =") < text.index("\n[") + 1
    data = tomllib.loads(text)
    assert hook._is_ours(data["notify"]) and layout_of(codex_home).previous == ""
    assert without_notify_line(text) == without_notify_line(original)

    assert uninstall(codex_home) == f"Removed the codextime hook from {config_of(codex_home)}."
    assert config_of(codex_home).read_bytes().decode() == original


def test_a_multiline_commented_notify_comes_back_byte_for_byte(codex_home):
    original = (
        'model = "o3"\n'
        "notify = [\n"
        '  "python3",  # the interpreter\n'
        '  "/Users/me/.codex/notify.py",\n'
        "]   # trailing note\n"
        "\n[tui]\nnotifications = true\n"
    )
    config_of(codex_home).write_text(original)

    install(codex_home, SYNC)
    chain = layout_of(codex_home).previous
    assert hook._chained_program(chain) == ["python3", "/Users/me/.codex/notify.py"]
    assert "# trailing note" in config_of(codex_home).read_text()

    uninstall(codex_home)
    assert config_of(codex_home).read_text() == original


def test_reinstalling_with_another_command_keeps_the_saved_program(codex_home):
    config_of(codex_home).write_text(RICH)
    install(codex_home, SYNC)

    message = install(codex_home, ["/elsewhere/codextime", "sync", "--db", "x"])

    assert message.startswith("Updated")
    layout = layout_of(codex_home)
    assert json.loads(layout.sync_json) == ["/elsewhere/codextime", "sync", "--db", "x"]
    assert layout.previous == '["notify-send", "Codex"]'
    uninstall(codex_home)
    assert config_of(codex_home).read_text() == RICH


@pytest.mark.parametrize(
    "bad",
    [
        'model = "o3"\nnotify = [\n[tui\n',
        'model = "o3"\nmodel = "o4"\n',  # duplicate keys: strict TOML (and Codex) reject them
        "[tui]\nnotifications = true\n[tui]\n",
    ],
)
def test_invalid_toml_is_refused_and_left_untouched(codex_home, bad):
    config_of(codex_home).write_text(bad)

    for action in (lambda: install(codex_home, SYNC), lambda: uninstall(codex_home)):
        with pytest.raises(HookError) as err:
            action()
        assert "not valid TOML" in str(err.value) and "\n" not in str(err.value)
        assert isinstance(err.value, ValueError)
        assert config_of(codex_home).read_text() == bad
    assert sorted(p.name for p in codex_home.iterdir()) == ["config.toml"]


def test_a_notify_that_is_not_an_array_of_strings_is_refused(codex_home):
    original = 'notify = "notify-send Codex"\n'
    config_of(codex_home).write_text(original)
    with pytest.raises(HookError, match="not an array of strings"):
        install(codex_home, SYNC)
    assert config_of(codex_home).read_text() == original


def test_non_utf8_config_is_refused(codex_home):
    config_of(codex_home).write_bytes(b'model = "\xff"\n')
    with pytest.raises(HookError, match="UTF-8"):
        install(codex_home, SYNC)
    assert config_of(codex_home).read_bytes() == b'model = "\xff"\n'


@pytest.mark.parametrize("command", [[], [""], ["relative/bin/codextime", "sync"]])
def test_bad_sync_commands_are_refused(codex_home, command):
    with pytest.raises(HookError):
        install(codex_home, command)
    assert not config_of(codex_home).exists()


def test_uninstall_when_not_installed_changes_nothing(codex_home):
    assert "not installed" in uninstall(codex_home)
    assert not config_of(codex_home).exists()  # a missing file is not created

    config_of(codex_home).write_text(RICH)
    assert "not installed" in uninstall(codex_home)
    assert config_of(codex_home).read_text() == RICH


def test_a_program_that_already_chains_to_us_is_left_alone(codex_home):
    original = (
        'notify = ["other-notifier", "--previous-notify", '
        '"python -m collector.hook run --codex-home /x"]\n'
    )
    config_of(codex_home).write_text(original)

    assert "other-notifier" in install(codex_home, SYNC)
    assert "remove it there" in uninstall(codex_home)
    assert config_of(codex_home).read_text() == original


def test_file_mode_is_kept_and_no_temp_file_is_left(codex_home):
    config_of(codex_home).write_text(RICH)
    config_of(codex_home).chmod(0o640)

    install(codex_home, SYNC)
    assert config_of(codex_home).stat().st_mode & 0o777 == 0o640
    uninstall(codex_home)
    assert config_of(codex_home).stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in codex_home.iterdir()) == ["config.toml"]


def test_a_symlinked_config_stays_a_symlink(codex_home, tmp_path):
    real = tmp_path / "dotfiles" / "codex.toml"
    real.parent.mkdir()
    real.write_text(RICH)
    config_of(codex_home).symlink_to(real)

    install(codex_home, SYNC)

    assert config_of(codex_home).is_symlink()
    assert hook._is_ours(tomllib.loads(real.read_text())["notify"])
    uninstall(codex_home)
    assert config_of(codex_home).is_symlink() and real.read_text() == RICH


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4))
def test_any_previous_notify_round_trips(previous):
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        original = (
            "# mine\n"
            + tomlkit.dumps({"notify": previous})
            + '\n[tui]\nnotifications = ["agent-turn-complete"]\n'
        )
        config_of(home).write_text(original, encoding="utf-8")

        install(home, SYNC)
        saved = layout_of(home).previous
        assert hook._chained_program(saved) == previous
        uninstall(home)

        assert config_of(home).read_text(encoding="utf-8") == original


# -- run: the program Codex calls ----------------------------------------------------------------


def test_run_returns_at_once_while_the_sync_keeps_running(codex_home):
    install(codex_home, [sys.executable, "-c", "import time; time.sleep(5)"])

    started = time.perf_counter()
    status = run(hook_argv(codex_home) + [payload()])
    elapsed = time.perf_counter() - started

    assert status == 0
    assert elapsed < 0.5
    (sync,) = hook._launched
    assert sync.poll() is None  # still sleeping: started, not waited for
    if hasattr(os, "getsid"):
        assert os.getsid(sync.pid) != os.getsid(0)  # its own session, away from Codex's terminal


def test_the_sync_gets_no_payload_and_the_payload_is_written_nowhere(codex_home, tmp_path, capfd):
    out = tmp_path / "records"
    out.mkdir()
    chained_out = out / "chained.json"
    config_of(codex_home).write_text(
        tomlkit.dumps({"notify": [sys.executable, str(recorder(tmp_path)), str(chained_out)]})
    )
    sync_out = tmp_path / "sync.json"
    install(codex_home, [sys.executable, str(recorder(tmp_path)), str(sync_out)])

    assert run(hook_argv(codex_home) + [payload()]) == 0

    sync = json.loads(wait_for(sync_out))
    assert sync["argv"] == [str(sync_out)]
    assert sync["env"]["CODEX_HOME"] == str(codex_home)
    assert CANARY in wait_for(chained_out)
    for proc in hook._launched:
        proc.wait(timeout=10)
    assert "recorder ran" in hook.log_path().read_text()  # the sync's output went to the log

    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != chained_out]
    assert hook.log_path() in written and config_of(codex_home) in written
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path
    captured = capfd.readouterr()
    assert CANARY not in captured.out + captured.err


def test_the_previous_program_receives_the_payload_unchanged(codex_home, tmp_path):
    chained_out = tmp_path / "chained.json"
    config_of(codex_home).write_text(
        tomlkit.dumps({"notify": [sys.executable, str(recorder(tmp_path)), str(chained_out)]})
    )
    install(codex_home, [sys.executable, "-c", "pass"])
    sent = payload(cwd="/tmp/with space/and 'quotes'")

    assert run(hook_argv(codex_home) + [sent]) == 0

    assert json.loads(wait_for(chained_out))["argv"] == [str(chained_out), sent]


def test_end_to_end_as_codex_runs_it(codex_home, tmp_path):
    """The installed notify array, run the way Codex does: payload appended, stdio to null."""
    chained_out, sync_out = tmp_path / "chained.json", tmp_path / "sync.json"
    config_of(codex_home).write_text(
        tomlkit.dumps({"notify": [sys.executable, str(recorder(tmp_path)), str(chained_out)]})
        + RICH.replace('notify = ["notify-send", "Codex"]\n', "")
    )
    install(codex_home, [sys.executable, str(recorder(tmp_path)), str(sync_out)])
    sent = payload()

    started = time.perf_counter()
    done = subprocess.run(
        notify_of(codex_home) + [sent],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        timeout=5,  # Codex kills a notify program after 5 s
    )
    elapsed = time.perf_counter() - started

    assert done.returncode == 0
    assert elapsed < 3
    assert json.loads(wait_for(sync_out))["argv"] == [str(sync_out)]
    assert json.loads(wait_for(chained_out))["argv"] == [str(chained_out), sent]


def test_run_with_a_broken_layout_starts_nothing_and_prints_nothing(capfd):
    assert run([]) == 2
    assert run(["--sync-json", "[]", payload()]) == 2
    assert hook.main(["nonsense", payload()]) == 2
    assert hook._launched == []
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    assert CANARY not in hook.log_path().read_text()


def test_a_missing_sync_program_still_runs_the_previous_one(codex_home, tmp_path):
    chained_out = tmp_path / "chained.json"
    config_of(codex_home).write_text(
        tomlkit.dumps({"notify": [sys.executable, str(recorder(tmp_path)), str(chained_out)]})
    )
    install(codex_home, [str(tmp_path / "gone" / "codextime"), "sync"])

    assert run(hook_argv(codex_home) + [payload()]) == 1

    assert CANARY in wait_for(chained_out)
    log = hook.log_path().read_text()
    assert "could not start the sync" in log and CANARY not in log


def test_the_log_is_rotated_when_large(codex_home):
    install(codex_home, [sys.executable, "-c", "pass"])
    hook.log_path().parent.mkdir(parents=True, exist_ok=True)
    hook.log_path().write_bytes(b"x" * (hook.LOG_MAX_BYTES + 1))

    assert run(hook_argv(codex_home) + [payload()]) == 0

    assert hook.log_path().with_name("hook.log.1").stat().st_size == hook.LOG_MAX_BYTES + 1
    assert hook.log_path().stat().st_size < hook.LOG_MAX_BYTES


def test_main_dispatches_run(codex_home):
    install(codex_home, [sys.executable, "-c", "pass"])
    assert hook.main(["run", *hook_argv(codex_home), payload()]) == 0


# -- the sync lock -------------------------------------------------------------------------------


def can_lock(state: Path) -> bool:
    try:
        with sync_lock(state):
            return True
    except Busy:
        return False


def test_a_second_holder_is_busy_until_the_first_releases(tmp_path):
    state = tmp_path / "state" / "cursors-x.lock"
    with sync_lock(state):
        assert not can_lock(state)
        assert not can_lock(state)  # a refused attempt does not disturb the holder
    assert can_lock(state)
    with sync_lock(state):
        pid, since = state.read_text().split()
        assert int(pid) == os.getpid() and abs(float(since) - time.time()) < 60


def test_the_lock_is_released_when_the_block_raises(tmp_path):
    with pytest.raises(KeyError), sync_lock(tmp_path / "x.lock"):
        raise KeyError("boom")
    with sync_lock(tmp_path / "x.lock"):
        pass


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from collector.sync import sync_lock
with sync_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")
def test_another_process_holding_the_lock_makes_us_busy_and_its_death_frees_it(tmp_path):
    lock = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(Busy, match="another codextime sync is running") as busy,
            sync_lock(lock),
        ):
            pass
        assert not busy.value.hung
        # The same holder, seen as if it had taken the lock long ago: named as maybe hung.
        lock.write_text(f"{holder.pid} {time.time() - LOCK_HUNG_AFTER - 60:.0f}\n")
        with pytest.raises(Busy) as busy, sync_lock(lock):
            pass
        assert busy.value.hung and f"process {holder.pid}" in str(busy.value)
        assert "may be hung" in str(busy.value) and "\n" not in str(busy.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        holder.stdout.close()
    with sync_lock(lock):  # no stale lock after a crash
        pass


# -- upgrades and exact restores -------------------------------------------------------------


def old_layout_notify(home: Path, previous: str) -> list[str]:
    """A notify value as ``install`` wrote it before isolation (no -I, no --made-config)."""
    return [
        sys.executable,
        "-m",
        "collector.hook",
        "run",
        "--codex-home",
        str(home),
        "--sync-json",
        json.dumps(SYNC),
        "--chain-toml",
        previous,
    ]


def test_the_layout_before_isolation_is_still_ours_and_is_upgraded(codex_home):
    old = old_layout_notify(codex_home, '["notify-send", "Codex"]')
    original = RICH.replace('notify = ["notify-send", "Codex"]', f"notify = {json.dumps(old)}")
    config_of(codex_home).write_text(original)
    assert hook.is_installed(codex_home)

    assert install(codex_home, SYNC).startswith("Updated")
    notify = notify_of(codex_home)
    assert notify[1] == "-I" and layout_of(codex_home).previous == '["notify-send", "Codex"]'

    uninstall(codex_home)
    assert config_of(codex_home).read_text() == RICH


def test_an_old_layout_hook_uninstalls_cleanly(codex_home):
    config_of(codex_home).write_text(
        f'model = "o3"\nnotify = {json.dumps(old_layout_notify(codex_home, ""))}\n'
    )
    assert "Removed" in uninstall(codex_home)
    assert config_of(codex_home).read_text() == 'model = "o3"\n'


@pytest.mark.parametrize("original", ['model = "o3"', "# just a comment", "a = 1\r\nb = 2"])
def test_a_file_without_a_final_newline_comes_back_without_one(codex_home, original):
    config_of(codex_home).write_bytes(original.encode())
    install(codex_home, SYNC)
    assert hook.is_installed(codex_home)
    uninstall(codex_home)
    assert config_of(codex_home).read_bytes() == original.encode()


def test_a_config_that_install_created_is_removed_by_uninstall(codex_home):
    install(codex_home, SYNC)
    assert config_of(codex_home).exists() and layout_of(codex_home).made_config

    assert "had created" in uninstall(codex_home)
    assert not config_of(codex_home).exists()


def test_a_created_config_that_gained_other_settings_is_kept(codex_home):
    install(codex_home, SYNC)
    with config_of(codex_home).open("a") as fh:
        fh.write('model = "o3"\n')

    uninstall(codex_home)
    assert config_of(codex_home).read_text() == 'model = "o3"\n'


def test_an_empty_config_that_existed_stays(codex_home):
    config_of(codex_home).write_text("")
    install(codex_home, SYNC)
    uninstall(codex_home)
    assert config_of(codex_home).read_text() == ""


@pytest.mark.parametrize("action", ["install", "uninstall"])
def test_a_read_only_config_is_left_untouched(codex_home, action):
    config_of(codex_home).write_text(RICH)
    if action == "uninstall":
        install(codex_home, SYNC)
    before = config_of(codex_home).read_bytes()
    config_of(codex_home).chmod(0o444)
    inode = config_of(codex_home).stat().st_ino

    with pytest.raises(HookError) as err:
        install(codex_home, SYNC) if action == "install" else uninstall(codex_home)

    assert "read-only; left unchanged" in str(err.value) and "\n" not in str(err.value)
    assert config_of(codex_home).read_bytes() == before
    assert config_of(codex_home).stat().st_ino == inode
    assert config_of(codex_home).stat().st_mode & 0o777 == 0o444


def test_a_read_only_codex_home_is_one_clear_error(codex_home):
    config_of(codex_home).write_text(RICH)
    codex_home.chmod(0o555)
    try:
        if os.access(codex_home, os.W_OK):
            # root writes anywhere: make the temporary file fail as a read-only folder would
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(tempfile, "mkstemp", _raise_erofs)
                with pytest.raises(HookError) as err:
                    install(codex_home, SYNC)
        else:
            with pytest.raises(HookError) as err:
                install(codex_home, SYNC)
    finally:
        codex_home.chmod(0o755)
    assert "cannot write" in str(err.value) and "left unchanged" in str(err.value)
    assert config_of(codex_home).read_text() == RICH


def _raise_erofs(*args, **kwargs):
    raise OSError(30, "Read-only file system")
