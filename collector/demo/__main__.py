"""``python -m collector.demo [folder]``: write a demo home by hand and print its totals."""

import sys
import time
from pathlib import Path

import orjson

from collector.demo.corpus import generate

if __name__ == "__main__":  # pragma: no cover - a convenience for trying the generator by hand
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-home")
    began = time.perf_counter()
    result = generate(target)
    print(orjson.dumps(result.totals()).decode(), f"{time.perf_counter() - began:.2f}s")
