"""collector.workers: every result exactly once, failures surface, no helper outlives a run."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from collector.workers import WorkerError, unordered_map

MAIN = os.getpid()


def square(n: int) -> int:
    return n * n


def slow_square(n: int) -> int:
    time.sleep(0.002)
    return n * n


def big(n: int) -> bytes:
    return bytes([n % 256]) * (3 << 20)  # larger than any pipe buffer


def fails_in_helper(n: int) -> int:
    time.sleep(0.002)
    if os.getpid() != MAIN:
        raise ValueError(f"bad item {n}")
    return n


def fails_in_main(n: int) -> int:
    time.sleep(0.002)
    if os.getpid() == MAIN:
        raise ValueError(f"bad item {n}")
    return n


def dies_in_helper(n: int) -> int:
    time.sleep(0.002)
    if os.getpid() != MAIN:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def children() -> set[int]:
    """This process's child processes, but ``ps`` itself (other tests may have servers running:
    only new ones count)."""
    listing = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,comm="], capture_output=True, text=True)
    me = os.getpid()
    found = set()
    for line in listing.stdout.splitlines():
        pid, ppid, command = line.split(None, 2)
        if int(ppid) == me and command.strip() != "ps":
            found.add(int(pid))
    return found


@pytest.fixture(autouse=True)
def no_children_left():
    """Every helper a run started is gone after it, whatever way the run ended."""
    before = children()
    yield
    assert children() <= before


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_result_once_in_any_order(workers):
    items = list(range(200))
    assert sorted(unordered_map(slow_square, items, workers)) == [n * n for n in items]


def test_helpers_take_part():
    pids = set(unordered_map(lambda _: (time.sleep(0.002), os.getpid())[1], range(100), 2))
    assert MAIN in pids and len(pids) == 2


def test_results_larger_than_a_pipe_arrive_whole():
    out = sorted(unordered_map(big, [1, 2, 3, 4], 2))
    assert out == [big(n) for n in (1, 2, 3, 4)]


def test_an_exception_in_a_helper_is_raised_here_with_its_message():
    with pytest.raises(WorkerError, match="ValueError: bad item"):
        list(unordered_map(fails_in_helper, list(range(100)), 2))


def test_an_exception_here_stops_the_helpers():
    with pytest.raises(ValueError, match="bad item"):
        list(unordered_map(fails_in_main, list(range(100)), 3))


def test_a_helper_killed_mid_run_is_an_error_not_a_silent_loss():
    with pytest.raises(WorkerError, match="ended early"):
        list(unordered_map(dies_in_helper, list(range(100)), 2))


def test_stopping_early_stops_the_helpers():
    results = unordered_map(slow_square, list(range(1000)), 3)
    next(results)
    results.close()


def test_empty_and_single_inputs():
    assert list(unordered_map(square, [], 4)) == []
    assert list(unordered_map(square, [3], 4)) == [9]


def test_more_items_than_the_queue_holds_at_once(monkeypatch):
    from collector import workers

    monkeypatch.setattr(workers, "_QUEUE_PIPE", 4096)  # the smallest pipe: 1,024 item numbers
    items = list(range(5000))
    assert sorted(unordered_map(square, items, 3)) == [n * n for n in items]


def test_when_no_process_can_be_started_this_one_does_all_the_work(monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert sorted(unordered_map(square, list(range(50)), 4)) == [n * n for n in range(50)]


def test_when_no_spool_can_be_made_this_one_does_the_work_and_keeps_no_descriptor(monkeypatch):
    from collector import workers

    def no_spool():
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(workers, "_spool_file", no_spool)
    before = set(os.listdir("/proc/self/fd"))
    assert sorted(unordered_map(square, list(range(50)), 4)) == [n * n for n in range(50)]
    assert set(os.listdir("/proc/self/fd")) <= before


def slow_here(n: int) -> int:
    if os.getpid() == MAIN:
        time.sleep(0.001)  # the helpers empty the queue while this process is busy
    return n * n


def test_a_queue_emptied_while_this_process_works_does_not_stall(monkeypatch):
    from collector import workers

    monkeypatch.setattr(workers, "_QUEUE_PIPE", 4096)
    items = list(range(3000))
    assert sorted(unordered_map(slow_here, items, 3)) == [n * n for n in items]


def test_helpers_work_with_file_numbers_past_1024():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert sorted(unordered_map(square, list(range(50)), 2)) == [n * n for n in range(50)]
    finally:
        for fd in held:
            os.close(fd)


def test_started_runs_once_the_helpers_work_before_this_process_takes_an_item(tmp_path):
    def leave_pid(n: int) -> int:
        (tmp_path / f"{n}.pid").write_text(str(os.getpid()))
        return n

    seen: list[set[str]] = []

    def started() -> None:  # waits for a helper's first item: it never comes from this process
        deadline = time.monotonic() + 20
        while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.001)
        seen.append({p.read_text() for p in tmp_path.iterdir()})

    assert sorted(unordered_map(leave_pid, list(range(40)), 2, started)) == list(range(40))
    assert len(seen) == 1 and seen[0] and str(MAIN) not in seen[0]


def test_started_runs_first_without_helpers():
    calls: list[object] = []
    done = list(unordered_map(calls.append, [1, 2], 1, lambda: calls.append("started")))
    assert calls == ["started", 1, 2] and done == [None, None]
    calls.clear()
    assert list(unordered_map(square, [], 2, lambda: calls.append("started"))) == []
    assert calls == ["started"]


def test_a_failure_in_started_stops_the_helpers():
    def started() -> None:
        raise RuntimeError("the rate table is damaged")

    with pytest.raises(RuntimeError, match="rate table"):
        list(unordered_map(slow_square, list(range(200)), 3, started))
