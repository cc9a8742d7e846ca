"""Write the benchmark corpus: a large synthetic CODEX_HOME plus its ground truth.

The truth goes next to the home (``<out>/../truth.json``), never inside it, so no reader under test
can see it. Usage: ``python bench/make_corpus.py [--out DIR] [--bytes 900M]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from collector.demo import generate, is_demo_home

BENCH = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH / "out" / "codex-home"


def parse_size(text: str) -> int:
    """``900M``, ``1.5G``, ``20000000`` -> bytes (decimal units, as ``du --si`` shows them)."""
    units = {"K": 10**3, "M": 10**6, "G": 10**9}
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CODEX_HOME to write")
    ap.add_argument("--bytes", default="900M", help="JSONL bytes to write (before zstd)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument(
        "--compress-older-than-days",
        type=int,
        default=7,
        help="store sessions older than this as .jsonl.zst (a large value keeps all plain)",
    )
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        if not is_demo_home(out):
            print(
                f"{out} exists and is not a generated home; refusing to replace it", file=sys.stderr
            )
            return 2
        shutil.rmtree(out)
    target = parse_size(args.bytes)
    began = time.perf_counter()
    truth = generate(
        out,
        seed=args.seed,
        days=args.days,
        target_bytes=target,
        compress_older_than_days=args.compress_older_than_days,
    )
    took = time.perf_counter() - began
    truth_path = out.parent / "truth.json"
    truth_path.write_bytes(truth.to_json())
    s = truth.stats
    print(f"wrote {out} in {took:.1f} s")
    print(
        f"  {s['jsonl_bytes'] / 1e6:,.1f} MB of JSONL ({s['disk_bytes'] / 1e6:,.1f} MB on disk), "
        f"{s['files']} files ({s['zst']} .zst), {s['threads']} threads"
    )
    print(
        f"  token_count lines: {100 * s['token_count_bytes'] / s['jsonl_bytes']:.1f} % of bytes; "
        f"{len(truth.responses):,} genuine responses over {len(truth.by_day_utc())} UTC days"
    )
    print(
        f"  2026: {s['revisions']} revisions, {s['paginated_forks']} paginated forks, "
        f"{s['v2_subagents']} V2 subagents ({s['nested_subagents']} nested), "
        f"{s['zst_multi_frame']} multi-frame .zst, {s['timer_sidecars']} timer sidecars; "
        f"tiers {sorted(truth.tiers())}, {truth.totals()['cache_write']:,} cache-write tokens"
    )
    print(f"  truth: {truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
