"""Benchmark the Mycos world brain's decision kernel alone: organism-decisions per second of
random hex-world networks (look, the clock; four actions) on one thread.

    python benchmarks/bench_mycos_brain.py                  # 200 and 20,000 organisms
    python benchmarks/bench_mycos_brain.py --sizes 1000 --steps 500

Sensors are random 0/1 `look` values (16 patterns in turn); the first step (compilation or
the cache) is untimed; the best of ``--repeats`` is reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from primordia.brains.registry import SUBSTRATES  # noqa: E402
from primordia.core.rng import DrawStream, Rng  # noqa: E402
from primordia.worlds.hex.world import HEX_IO  # noqa: E402


def measure(n: int, steps: int, repeats: int) -> float:
    sub = SUBSTRATES.get("mycos")
    brain = sub.compile([sub.random(DrawStream(Rng(1), 1, 0, k)) for k in range(n)], HEX_IO,
                        capacity=n)
    rng = np.random.default_rng(0)
    sensors = [rng.integers(0, 2, (n, 1)).astype(np.int32) for _ in range(16)]
    actions = np.zeros((n, HEX_IO.n_actions), np.int32)
    brain.step(sensors[0], actions, None)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        for s in range(steps):
            brain.step(sensors[s % 16], actions, None)
        best = max(best, n * steps / (time.perf_counter() - t))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 20_000])
    ap.add_argument("--steps", type=int, default=0, help="default: 400,000 decisions a repeat")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    for n in args.sizes:
        steps = args.steps or max(1, 400_000 // n)
        rate = measure(n, steps, args.repeats)
        print(f"{n} organisms, {steps} steps: {rate:,.0f} organism-decisions/s "
              f"(best of {args.repeats})")


if __name__ == "__main__":
    main()
