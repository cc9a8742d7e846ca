"""Install time and size of the light collector and of the full install, and report cold start.

Builds a wheel of this checkout, then for each variant creates a fresh virtual environment and
times ``pip install <wheel>[extras]``: once to warm pip's cache, then ``--runs`` more times (the
median is shown). The installed size is the environment's site-packages less that of an empty
environment (pip and setuptools), so it is what the install added; the largest distributions of
the light install are listed with their size, so what to trim shows, and any of the store layer
(SQLAlchemy, SQLModel, pydantic: the ``store`` extra) found there is named. Cold start is the time
from launching ``codextime report daily`` on a demo home to its first printed row (a line starting
with a date), in the light environment. ``--starts-only`` times only that (one light install);
``--baseline REF`` also installs a wheel of the git commit REF beside it and times both in
turns, so a change's before and after meet the same load. The load average is printed before
and after: the machine may be shared.

Goals: light install under 40 MB and 20 s from a warm cache; report cold start at most 0.3 s.

Usage: ``python bench/install.py [--runs 2] [--starts 5] [--largest 8] [--starts-only]
[--baseline REF]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The variants measured: a name and the extras installed with the wheel.
VARIANTS = (("light (codextime)", ""), ("full (codextime[all])", "[all]"))
#: The store layer's distributions: never part of the light install (the ``store`` extra).
STORE_LAYER = {"sqlalchemy", "sqlmodel", "pydantic", "pydantic-core"}
#: A report's first table row starts with its date (the daily report's first column).
FIRST_ROW = re.compile(rb"^\S*\s*\d{4}-\d{2}-\d{2}")


def build_wheel(out: Path, source: Path = ROOT) -> Path:
    """A wheel of the checkout at ``source`` in ``out``."""
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


def exported(ref: str, out: Path) -> Path:
    """The files of git commit ``ref`` of this repository, in ``out``."""
    out.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def light_codextime(work: Path, wheel: Path) -> Path:
    """The ``codextime`` of a fresh light install of ``wheel`` under ``work``."""
    venv = new_venv(work / "light")
    timed_install(venv, str(wheel))
    return venv / "bin" / "codextime"


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def distribution_sizes(site: Path) -> list[tuple[str, int]]:
    """Bytes of each distribution installed in ``site`` (its files there, by its RECORD), largest
    first."""
    sizes = []
    for dist in distributions(path=[str(site)]):
        paths = (Path(dist.locate_file(f)).resolve() for f in dist.files or ())
        size = sum(p.stat().st_size for p in paths if p.is_file() and site in p.parents)
        sizes.append((dist.metadata["Name"], size))
    return sorted(sizes, key=lambda item: -item[1])


def new_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path


def timed_install(venv: Path, requirement: str) -> float:
    """Seconds ``pip install requirement`` takes in ``venv``."""
    start = time.perf_counter()
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", requirement],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def measure_install(work: Path, wheel: Path, extras: str, runs: int) -> tuple[float, int]:
    """Median seconds of ``runs`` warm-cache installs, and the bytes the install added."""
    requirement = f"{wheel}{extras}"
    timed_install(new_venv(work / "warm"), requirement)  # fills pip's cache
    empty = tree_bytes(site_packages(new_venv(work / "empty")))
    seconds = []
    for run in range(runs):
        venv = new_venv(work / f"run{run}")
        seconds.append(timed_install(venv, requirement))
    return statistics.median(seconds), tree_bytes(site_packages(venv)) - empty


def first_row_seconds(codextime: Path, home: Path) -> float:
    """Seconds from launching ``codextime report daily`` to its first printed row."""
    env = {**os.environ, "CODEX_HOME": str(home), "COLUMNS": "100"}
    start = time.perf_counter()
    with subprocess.Popen(
        [str(codextime), "report", "daily"], stdout=subprocess.PIPE, env=env
    ) as process:
        for line in process.stdout:
            if FIRST_ROW.match(line.strip(b" \xe2\x94\x82|")):
                elapsed = time.perf_counter() - start
                process.stdout.read()
                return elapsed
    raise SystemExit("codextime report daily printed no row")


def paired_starts(commands: dict[str, Path], home: Path, count: int) -> dict[str, list[float]]:
    """``count`` cold starts of each command, taken in turns (the order swapped every round),
    after one each to warm the page cache and the bytecode, as after an install."""
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for codextime in commands.values():
        first_row_seconds(codextime, home)
    for round_ in range(count):
        names = list(commands) if round_ % 2 == 0 else list(reversed(commands))
        for name in names:
            seconds[name].append(first_row_seconds(commands[name], home))
    return seconds


def print_starts(seconds: dict[str, list[float]]) -> None:
    for name, taken in seconds.items():
        print(
            f"report daily, first row ({name}): {statistics.median(taken):.2f} s median "
            f"({min(taken):.2f} best) of {len(taken)}"
        )
    if len(seconds) == 2:
        new, old = seconds.values()
        saved = statistics.median(b - a for a, b in zip(new, old, strict=True))
        print(f"paired difference (baseline - this checkout): {saved:.3f} s median")


def measure_starts(work: Path, codextime: Path, baseline: str | None, count: int) -> None:
    """The report's cold start on a demo home, with a baseline commit's beside it if named."""
    home = work / "demo-home"
    subprocess.run([str(codextime), "demo", "--out", str(home)], check=True, capture_output=True)
    commands = {"this checkout": codextime}
    if baseline:
        source = exported(baseline, work / "baseline-source")
        wheel = build_wheel(work / "baseline-dist", source)
        commands[f"baseline {baseline}"] = light_codextime(work / "baseline", wheel)
    print_starts(paired_starts(commands, home, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="timed installs per variant")
    parser.add_argument("--starts", type=int, default=5, help="timed report cold starts")
    parser.add_argument("--largest", type=int, default=8, help="distributions listed by size")
    parser.add_argument(
        "--starts-only", action="store_true", help="time only the report's cold start"
    )
    parser.add_argument(
        "--baseline", metavar="REF", help="also time the cold start of git commit REF, in turns"
    )
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="codextime-install-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        if args.starts_only:
            codextime = light_codextime(work / "0", wheel)
        else:
            measure_installs(work, wheel, args.runs, args.largest)
            codextime = work / "0" / "run0" / "bin" / "codextime"
        measure_starts(work, codextime, args.baseline, args.starts)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def measure_installs(work: Path, wheel: Path, runs: int, largest_shown: int) -> None:
    """Each variant's install time and size, and the light install's largest distributions."""
    print(f"{'install':<24} {'time (median)':>14} {'size':>10}")
    for index, (name, extras) in enumerate(VARIANTS):
        (work / str(index)).mkdir()
        seconds, size = measure_install(work / str(index), wheel, extras, runs)
        print(f"{name:<24} {seconds:>12.1f} s {size / 1e6:>7.0f} MB")
    light = site_packages(work / "0" / "run0")
    base = {name for name, _ in distribution_sizes(site_packages(work / "0" / "empty"))}
    largest = [(n, b) for n, b in distribution_sizes(light.resolve()) if n not in base]
    print(
        "largest in the light install: "
        + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in largest[:largest_shown])
    )
    store_layer = sorted(n for n, _ in largest if n.lower().replace("_", "-") in STORE_LAYER)
    print(f"store layer in the light install: {', '.join(store_layer) or 'none'}")


if __name__ == "__main__":
    main()
