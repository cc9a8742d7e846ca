"""Time codextime against ccusage on the benchmark corpus, and check codextime's numbers.

Every command runs N times in a fresh, empty user environment (HOME and XDG folders in a temporary
directory), so no cache or sync state of an earlier run, or of the person running the bench, is
reused; the OS page cache is warm after the first run. codextime's report and ccusage take turns,
so on a shared machine both see the same load, and the median of N is compared (the best is shown
too). Peak memory is that of the whole process tree.

Usage: ``python bench/run.py [--home DIR] [--runs 3]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from append import Grown, grow, new_session

try:
    import psutil
except ImportError:  # the rusage figure alone is still a fair peak for single-process tools
    psutil = None

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_HOME = BENCH / "out" / "codex-home"
NATIVE_CCUSAGE = BENCH / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
NPM_CCUSAGE = BENCH / "node_modules" / ".bin" / "ccusage"
FIELDS = ("input", "cached", "output", "reasoning")
#: Compared too when both the report and the truth have it (newer reports and corpora).
CACHE_WRITE = "cache_write"


# --------------------------------------------------------------------------------------------
# Measuring one process tree


@dataclass
class Sample:
    wall: float
    peak_rss: int
    rc: int
    stdout: bytes
    stderr: bytes


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, summed."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in members:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def measure(cmd: list[str], env: dict[str, str]) -> Sample:
    """Wall time and peak RSS of ``cmd``.

    The peak is the larger of the kernel's max-RSS for the tree (largest single process, as
    ``/usr/bin/time -v`` reports it) and the polled sum over all processes alive at once.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        result: dict[str, object] = {}

        def reap() -> None:
            _, status, usage = os.wait4(proc.pid, 0)
            result["end"] = time.perf_counter()
            result["status"] = status
            result["maxrss"] = usage.ru_maxrss * 1024

        waiter = threading.Thread(target=reap)
        waiter.start()
        polled = 0
        handle = psutil.Process(proc.pid) if psutil is not None else None
        while waiter.is_alive():
            if handle is not None:
                polled = max(polled, tree_rss(handle))
            waiter.join(0.02)
        proc.returncode = os.waitstatus_to_exitcode(result["status"])  # type: ignore[arg-type]
        out.seek(0)
        err.seek(0)
        return Sample(
            wall=result["end"] - began,  # type: ignore[operator]
            peak_rss=max(polled, result["maxrss"]),  # type: ignore[call-overload]
            rc=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
        )


class Sandbox:
    """A throwaway user environment: own HOME and XDG folders, nothing inherited from the user."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="run-", dir=root))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.dir / "home"),
            "XDG_DATA_HOME": str(self.dir / "data"),
            "XDG_STATE_HOME": str(self.dir / "state"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_CACHE_HOME": str(self.dir / "cache"),
            "NO_COLOR": "1",
        }
        for key in ("HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            Path(self.env[key]).mkdir(parents=True)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Timing:
    label: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.samples) and all(s.rc == 0 for s in self.samples)

    @property
    def best(self) -> Sample:
        return min(self.samples, key=lambda s: s.wall)

    @property
    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def peak(self) -> int:
        return max(s.peak_rss for s in self.samples)


def paired(
    runs: int,
    scratch: Path,
    commands: list[tuple[str, Callable[[Sandbox], tuple]]],
    warmup: int = 1,
) -> list[Timing]:
    """Run each command ``runs`` times, each run in a fresh sandbox, taking turns (a, b, a,
    b, ...): on a shared machine, both see the same load and their medians compare fairly.
    Each first runs ``warmup`` times untimed, so the first timed run of neither is the one that
    brings the corpus (or the tool itself) into the page cache."""
    for _ in range(warmup):
        for _label, make in commands:
            box = Sandbox(scratch)
            try:
                measure(*make(box))
            finally:
                box.close()
    timings = [Timing(label) for label, _ in commands]
    for _ in range(runs):
        for timing, (label, make) in zip(timings, commands, strict=True):
            if timing.samples and not timing.ok:
                continue  # (failed once: its output was shown)
            box = Sandbox(scratch)
            try:
                cmd, env = make(box)
                sample = measure(cmd, env)
            finally:
                box.close()
            timing.samples.append(sample)
            print(
                f"  {label}: {sample.wall:.2f} s, {sample.peak_rss / 2**20:.0f} MiB, rc={sample.rc}"
            )
            if sample.rc != 0:
                print(sample.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
    return timings


# --------------------------------------------------------------------------------------------
# Sync in three steps: full, nothing new, after growth


def sync_runs(
    codextime: str, home: Path, runs: int, scratch: Path, grow_files: int, grow_bytes: int
) -> tuple[list[Timing], list[dict], Grown | None]:
    full, again, fresh, grown_t = (
        Timing("codextime sync (full)"),
        Timing("codextime sync (re-sync, nothing new)"),
        Timing("codextime sync (after one new session)"),
        Timing("codextime sync (after ~1 % appended)"),
    )
    timings = [full, again, fresh, grown_t]
    stores: list[dict] = []
    grown = None
    for i in range(runs):
        box = Sandbox(scratch)
        db = box.dir / "store.db"
        cmd = [codextime, "sync", "--codex-home", str(home), "--db", f"sqlite:///{db}"]
        try:
            for timing, step in ((full, "full"), (again, "re-sync")):
                sample = measure(cmd, box.env)
                timing.samples.append(sample)
                print(
                    f"  sync {step}: {sample.wall:.2f} s, {sample.peak_rss / 2**20:.0f} MiB, "
                    f"rc={sample.rc}"
                )
                if sample.rc != 0:
                    print(sample.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
                    return timings, stores, grown
            stores.append({"step": "full", **store_sums(db)})
            # Before the growth: a grown file cut back after its sync would be read again whole.
            stores.append(new_session_run(cmd, box, home, db, fresh, seed=i + 1))
            grown = grow(home, grow_bytes, files=grow_files, seed=i + 1)
            try:
                sample = measure(cmd, box.env)
                grown_t.samples.append(sample)
                print(
                    f"  sync after +{grown.bytes_added / 1e6:.1f} MB in {len(grown.files)} files:"
                    f" {sample.wall:.2f} s, {sample.peak_rss / 2**20:.0f} MiB, rc={sample.rc}"
                )
                stores.append(
                    {
                        "step": "grown",
                        **store_sums(db),
                        "grown": grown.totals(),
                        "grown_responses": len(grown.responses),
                    }
                )
            finally:
                grown.restore()
        finally:
            box.close()
    if grown is not None:
        grown_t.note = (
            f"+{grown.bytes_added / 1e6:.1f} MB, {len(grown.responses)} responses, "
            f"{len(grown.files)} files"
        )
    return timings, stores, grown


def new_session_run(
    cmd: list[str], box: Sandbox, home: Path, db: Path, timing: Timing, seed: int
) -> dict:
    """One sync after one new session file was written (removed again afterwards); the store's
    sums after it, with what the session added."""
    session = new_session(home, seed=seed)
    try:
        sample = measure(cmd, box.env)
        timing.samples.append(sample)
        print(
            f"  sync after a new session of {session.bytes_added / 1e3:.1f} KB: "
            f"{sample.wall:.2f} s, {sample.peak_rss / 2**20:.0f} MiB, rc={sample.rc}"
        )
        timing.note = f"{session.bytes_added / 1e3:.1f} KB, {len(session.responses)} responses"
        return {
            "step": "new session",
            **store_sums(db),
            "grown": session.totals(),
            "grown_responses": len(session.responses),
        }
    finally:
        session.restore()


def store_sums(db: Path) -> dict:
    """Row count and token sums of the usage table, found by its columns (best effort)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            cols = {r[1] for r in con.execute(f'pragma table_info("{table}")')}
            if set(FIELDS) <= cols:
                row = con.execute(
                    f"select count(*), {', '.join(f'coalesce(sum({c}), 0)' for c in FIELDS)} "
                    f'from "{table}"'
                ).fetchone()
                return {"table": table, "rows": row[0], **dict(zip(FIELDS, row[1:], strict=True))}
        return {"error": f"no table with columns {FIELDS} in {tables}"}
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Exactness


def compared_fields(doc: dict, truth_doc: dict) -> tuple[str, ...]:
    """FIELDS, plus cache_write where the report and the truth both count it."""
    in_report = any(CACHE_WRITE in d for d in doc.get("days", []))
    in_truth = CACHE_WRITE in truth_doc.get("totals", {})
    return (*FIELDS, CACHE_WRITE) if in_report and in_truth else FIELDS


def our_days(doc: dict, fields: tuple[str, ...] = FIELDS) -> dict[str, dict[str, dict[str, int]]]:
    return {
        d["date"]: {m: {f: int(v.get(f, 0)) for f in fields} for m, v in d["models"].items()}
        for d in doc.get("days", [])
    }


def truth_days(truth: dict, fields: tuple[str, ...]) -> dict[str, dict[str, dict[str, int]]]:
    """The truth's days cut to the fields compared."""
    return {
        d: {m: {f: int(v.get(f, 0)) for f in fields} for m, v in ms.items()}
        for d, ms in truth.items()
    }


def tier_differences(doc: dict, truth_doc: dict) -> list[str]:
    """Days whose tokens (input + output) per service tier differ; none if either side has no
    tiers (older reports and corpora)."""
    want_days = truth_doc.get("tier_days")
    if want_days is None:
        return []
    out = []
    for row in doc.get("days", []):
        if "tiers" not in row:
            return []
        want = {t: s["input"] + s["output"] for t, s in want_days.get(row["date"], {}).items()}
        if row["tiers"] != want:
            out.append(f"{row['date']} tiers: {row['tiers']} (truth {want})")
    return out


def ccusage_days(doc: dict) -> dict[str, dict[str, dict[str, int]]]:
    """ccusage's daily JSON in truth's terms: its inputTokens excludes cache reads."""

    def norm(v: dict) -> dict[str, int]:
        cached = int(v.get("cacheReadTokens", 0))
        return {
            "input": int(v.get("inputTokens", 0)) + cached,
            "cached": cached,
            "output": int(v.get("outputTokens", 0)),
            "reasoning": int(v.get("reasoningOutputTokens", 0)),
        }

    return {
        d["date"]: {m: norm(v) for m, v in d.get("models", {}).items()}
        for d in doc.get("daily", [])
    }


def differences(ours: dict, truth: dict, fields: tuple[str, ...] = FIELDS) -> list[str]:
    out = []
    for day in sorted(set(ours) | set(truth)):
        a, b = ours.get(day, {}), truth.get(day, {})
        for model in sorted(set(a) | set(b)):
            x = a.get(model, dict.fromkeys(fields, 0))
            y = b.get(model, dict.fromkeys(fields, 0))
            if x != y:
                delta = ", ".join(f"{f} {x[f] - y[f]:+,}" for f in fields if x[f] != y[f])
                out.append(f"{day} {model}: {delta}")
    return out


def report_differences(doc: dict, truth_doc: dict) -> list[str]:
    """Every day and model (and tier) where codextime's daily report differs from the truth."""
    fields = compared_fields(doc, truth_doc)
    ours, want = our_days(doc, fields), truth_days(truth_doc["days"], fields)
    return differences(ours, want, fields) + tier_differences(doc, truth_doc)


def sum_days(days: dict) -> dict[str, int]:
    sums = dict.fromkeys(FIELDS, 0)
    for models in days.values():
        for v in models.values():
            for f in FIELDS:
                sums[f] += v[f]
    sums["total"] = sums["input"] + sums["output"]
    return sums


def day_totals(days: dict) -> dict[str, tuple[int, ...]]:
    return {d: tuple(sum(v[f] for v in ms.values()) for f in FIELDS) for d, ms in days.items()}


# --------------------------------------------------------------------------------------------
# Report


def fmt_mib(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def table(timings: list[Timing], reference: Timing | None) -> list[str]:
    """One row per command: median and best wall time, every run, peak memory, and the median's
    ratio to ccusage's median (the runs were paired, so both saw the same load)."""
    lines = [
        "| run | median wall (s) | best (s) | all runs (s) | peak RSS (MiB) | median vs ccusage "
        "| note |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    ref = reference.median if reference is not None and reference.ok else None
    for t in timings:
        if not t.samples:
            lines.append(f"| {t.label} | – | – | – | – | – | not run |")
            continue
        runs = " / ".join(f"{s.wall:.2f}" for s in t.samples)
        ratio = f"{t.median / ref:.2f}×" if ref else "–"
        status = "" if t.ok else f"FAILED rc={t.samples[-1].rc}"
        note = "; ".join(x for x in (t.note, status) if x)
        lines.append(
            f"| {t.label} | {t.median:.2f} | {t.best.wall:.2f} | {runs} | {fmt_mib(t.peak)} "
            f"| {ratio} | {note} |"
        )
    return lines


def totals_table(rows: list[tuple[str, dict[str, int] | None]]) -> list[str]:
    lines = [
        "| source | input | cached | output | reasoning | total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, t in rows:
        if t is None:
            lines.append(f"| {name} | – | – | – | – | – |")
            continue
        cells = " | ".join(f"{t[f]:,}" for f in (*FIELDS, "total"))
        lines.append(f"| {name} | {cells} |")
    return lines


def ccusage_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run([*cmd, "--version"], capture_output=True, timeout=30, check=False)
    except OSError:
        return "?"
    return out.stdout.decode().strip() or "?"


def find_ccusage(explicit: str | None) -> list[str] | None:
    """The native ccusage binary the npm package would spawn (or an explicit command)."""
    if explicit:
        return explicit.split()
    if not NATIVE_CCUSAGE.exists() and shutil.which("npm"):
        print("installing ccusage: npm install --prefix bench", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--prefix", str(BENCH), "--no-audit", "--no-fund"], check=False
        )
    if NATIVE_CCUSAGE.exists():
        NATIVE_CCUSAGE.chmod(0o755)  # npm unpacks it without the x bit; its JS shim sets it too
        return [str(NATIVE_CCUSAGE)]
    if NPM_CCUSAGE.exists():
        return [str(NPM_CCUSAGE)]
    return None


WHEEL, CHECKOUT = "wheel", "checkout"


def codextime_command(choice: str, scratch: Path) -> str:
    """The ``codextime`` executable to time. By default a wheel of this checkout, installed
    (light, no extras) in a fresh virtual environment under ``scratch``, as people install it:
    the checkout's editable install adds an import hook to every start."""
    if choice == CHECKOUT:
        return str(REPO / ".venv" / "bin" / "codextime")
    if choice != WHEEL:
        return choice
    from install import build_wheel, light_codextime

    print("building and installing a wheel of the checkout", file=sys.stderr)
    return str(light_codextime(scratch / "venv", build_wheel(scratch / "wheel")))


REPORT = "codextime report daily"


def report_commands(tools: dict[str, str], home: Path) -> list[tuple[str, Callable]]:
    """``report daily --json`` of each codextime named (label -> executable), for ``paired``."""
    commands = []
    for label, exe in tools.items():
        cmd = [exe, "report", "daily", "--json", "--timezone", "UTC", "--codex-home", str(home)]
        commands.append((label, lambda b, cmd=cmd: (cmd, b.env)))
    return commands


def baseline_codextime(ref: str, scratch: Path) -> str:
    """A light install of a wheel of git commit ``ref``: timed in the same turns as this
    checkout, a before/after on one machine's load."""
    from install import build_wheel, exported, light_codextime

    print(f"building and installing a wheel of {ref}", file=sys.stderr)
    source = exported(ref, scratch / "baseline-source")
    return str(
        light_codextime(scratch / "baseline", build_wheel(scratch / "baseline-dist", source))
    )


def codextime_kind(choice: str) -> str:
    """How the bench's results name the codextime it timed."""
    if choice == WHEEL:
        return "a wheel of this checkout in a fresh virtual environment (light install)"
    if choice == CHECKOUT:
        return "the checkout's editable install (.venv)"
    return f"`{choice}`"


def corpus_line(home: Path) -> str:
    files = [p for p in home.rglob("rollout-*") if p.is_file()]
    disk = sum(p.stat().st_size for p in files)
    zst = [p for p in files if p.name.endswith(".zst")]
    plain = disk - sum(p.stat().st_size for p in zst)
    return (
        f"{len(files):,} rollout files ({len(zst):,} .zst), {disk / 1e6:,.1f} MB on disk of which "
        f"{plain / 1e6:,.1f} MB plain .jsonl"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=DEFAULT_HOME, help="the corpus (a CODEX_HOME)")
    ap.add_argument("--truth", type=Path, help="truth.json [default: <home>/../truth.json]")
    ap.add_argument("--runs", type=int, default=3, help="runs per command; the median is compared")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs of each command first")
    ap.add_argument(
        "--codextime",
        default=WHEEL,
        help=f"the codextime to time: {WHEEL!r} (a wheel of this checkout, installed as users "
        f"install it), {CHECKOUT!r} (.venv's, editable) or a path",
    )
    ap.add_argument(
        "--baseline",
        metavar="REF",
        help="also time the report of a wheel of git commit REF, in the same turns",
    )
    ap.add_argument("--ccusage", help="ccusage command [default: native binary in bench/]")
    ap.add_argument("--skip", action="append", default=[], choices=("report", "ccusage", "sync"))
    ap.add_argument("--grow-files", type=int, default=4, help="files the growth is spread over")
    ap.add_argument("--grow-percent", type=float, default=1.0, help="growth, %% of JSONL bytes")
    ap.add_argument("--results", type=Path, default=BENCH / "out" / "results.md")
    args = ap.parse_args(argv)
    args.codextime_kind = codextime_kind(args.codextime)

    home = args.home.resolve()
    truth_path = (args.truth or home.parent / "truth.json").resolve()
    if not (home / "sessions").is_dir() or not truth_path.exists():
        print(
            f"no corpus at {home} (or no {truth_path}); run bench/make_corpus.py", file=sys.stderr
        )
        return 2
    truth_doc = json.loads(truth_path.read_bytes())
    truth = truth_days(truth_doc["days"], FIELDS)
    scratch = Path(tempfile.mkdtemp(prefix="codextime-bench-"))
    load_before = os.getloadavg()
    timings: list[Timing] = []
    report_doc = cc_doc = None
    stores: list[dict] = []
    cc_cmd = None
    cc_timing = None
    try:
        args.codextime = codextime_command(args.codextime, scratch)
        commands: list[tuple[str, Callable[[Sandbox], tuple]]] = []
        if "report" not in args.skip:
            tools = {REPORT: args.codextime}
            if args.baseline:
                tools[f"{REPORT} at {args.baseline}"] = baseline_codextime(args.baseline, scratch)
            commands += report_commands(tools, home)
        if "ccusage" not in args.skip:
            cc_cmd = find_ccusage(args.ccusage)
            if cc_cmd is None:
                print("ccusage not found; skipped (see bench/README.md)", file=sys.stderr)
            else:
                cc = [*cc_cmd, "codex", "daily", "--json", "--offline"]
                cc_env = {"CODEX_HOME": str(home), "TZ": "UTC"}
                commands.append(("ccusage codex daily", lambda b: (cc, {**b.env, **cc_env})))
        timings += paired(args.runs, scratch, commands, args.warmup)
        for t in timings:
            if t.label.startswith("ccusage"):
                cc_timing = t
                cc_doc = json.loads(t.best.stdout) if t.ok else None
            elif t.label == REPORT and t.ok:
                report_doc = json.loads(t.best.stdout)
        if "sync" not in args.skip:
            grow_bytes = int(truth_doc["stats"]["jsonl_bytes"] * args.grow_percent / 100)
            sync_t, stores, _ = sync_runs(
                args.codextime, home, args.runs, scratch, args.grow_files, grow_bytes
            )
            timings.extend(sync_t)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    args.load = (load_before, os.getloadavg())

    out = render(
        args, home, truth_doc, truth, timings, cc_timing, report_doc, cc_doc, stores, cc_cmd
    )
    print("\n".join(out))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(out) + "\n")
    exact = report_doc is not None and not report_differences(report_doc, truth_doc)
    return 0 if exact or "report" in args.skip else 1


def render(
    args: argparse.Namespace,
    home: Path,
    truth_doc: dict,
    truth: dict,
    timings: list[Timing],
    cc_timing: Timing | None,
    report_doc: dict | None,
    cc_doc: dict | None,
    stores: list[dict],
    cc_cmd: list[str] | None,
) -> list[str]:
    stats = truth_doc.get("stats", {})
    out = [
        f"# codextime bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Corpus `{home}`: {stats.get('jsonl_bytes', 0) / 1e6:,.1f} MB of JSONL, "
        f"{corpus_line(home)}; {truth_doc['totals']['responses']:,} genuine responses "
        f"(seed {truth_doc.get('seed')}).",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; ccusage {ccusage_version(cc_cmd) if cc_cmd else '–'}; "
        f"medians of {args.runs} paired runs (codextime and ccusage taking turns), each in a fresh "
        f"HOME/XDG sandbox, after {args.warmup} untimed run(s) of each; load average "
        f"{args.load[0][0]:.2f} before, {args.load[1][0]:.2f} after. codextime: "
        f"{args.codextime_kind}."
        + (f" Baseline: a wheel of {args.baseline}, in the same turns." if args.baseline else ""),
        "",
        *table(timings, cc_timing),
        "",
        "## Exactness (per UTC day and model, against truth.json)",
        "",
    ]
    if report_doc is None:
        out.append("codextime report daily: no output to check.")
    else:
        diffs = report_differences(report_doc, truth_doc)
        compared = ", ".join(compared_fields(report_doc, truth_doc))
        tiers = " and service tier" if "tier_days" in truth_doc else ""
        out.append(
            f"codextime report daily: **OK**, equal to truth ({compared}) on every day, model"
            f"{tiers} ({len(truth)} days)."
            if not diffs
            else f"codextime report daily: **{len(diffs)} differences** (ours − truth):"
        )
        out += [f"- {d}" for d in diffs[:40]]
    rows: list[tuple[str, dict[str, int] | None]] = [("truth", sum_days(truth))]
    rows.append(("codextime", sum_days(our_days(report_doc)) if report_doc else None))
    if cc_doc is not None:
        cc = ccusage_days(cc_doc)
        rows.append(("ccusage", sum_days(cc)))
    out += ["", *totals_table(rows), ""]
    if cc_doc is not None:
        out += ccusage_notes(cc, truth)
    out += store_notes(stores, truth)
    return out


def ccusage_notes(cc: dict, truth: dict) -> list[str]:
    """How ccusage's figures differ from the truth (information, not a failure)."""
    ours, theirs = day_totals(truth), day_totals(cc)
    same = sum(1 for d in ours if theirs.get(d) == ours[d])
    missing = sorted(d for d in ours if d not in theirs)
    extra_models = sorted(
        {m for ms in cc.values() for m in ms} - {m for ms in truth.values() for m in ms}
    )
    lost = sorted({m for ms in truth.values() for m in ms} - {m for ms in cc.values() for m in ms})
    lines = [
        f"ccusage (information): token sums equal truth on {same} of {len(ours)} days; "
        f"{len(missing)} day(s) absent from its output"
        + (f" ({missing[0]} … {missing[-1]})" if len(missing) > 1 else "")
        + (f" ({missing[0]})" if len(missing) == 1 else "")
        + ".",
    ]
    if extra_models:
        lines.append(f"Models only in ccusage's output: {', '.join(extra_models)}.")
    if lost:
        lines.append(f"Models of the truth absent from ccusage's output: {', '.join(lost)}.")
    lines.append("")
    return lines


def store_notes(stores: list[dict], truth: dict) -> list[str]:
    if not stores:
        return []
    expect = sum_days(truth)
    lines = ["## Store after sync", ""]
    for s in stores[:3]:  # the first sandbox's: full, new session, grown
        if "error" in s:
            lines.append(f"- {s['step']}: could not read the store ({s['error']})")
            continue
        for f in FIELDS:  # each step adds to what the steps before stored
            expect[f] += s.get("grown", {}).get(f, 0)
        got = {f: s[f] for f in FIELDS}
        verdict = "OK" if all(got[f] == expect[f] for f in FIELDS) else "DIFFERS"
        lines.append(
            f"- after {s['step']} sync: {s['rows']:,} rows in `{s['table']}`, sums {verdict}"
            + (f" (+ {s['grown_responses']} responses written)" if "grown" in s else "")
            + (
                ""
                if verdict == "OK"
                else f" (got {got}, expected { {f: expect[f] for f in FIELDS} })"
            )
        )
    lines.append("")
    return lines


if __name__ == "__main__":
    sys.exit(main())
