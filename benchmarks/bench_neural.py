"""Benchmark the neural brain's batched step: organism-steps per second for a population of
hex-world nets (2 inter neurons, 4 synapses by default), next to the pure-Python reference
turn on the same nets, in the same process.

    python benchmarks/bench_neural.py
    python benchmarks/bench_neural.py --organisms 20000 --threads 1 2 --json

Sensors are random 0/1 (as the hex world's look); each timing is the best of ``--repeats``
runs of ``--steps`` steps after one untimed step (numba compiles or loads its cache).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from primordia.brains.base import BrainIO  # noqa: E402
from primordia.brains.neural import reference  # noqa: E402
from primordia.brains.registry import SUBSTRATES  # noqa: E402
from primordia.core.rng import DrawStream, Rng, stream_id  # noqa: E402

IO = BrainIO(("look",), ("move_forward", "turn_left", "turn_right", "confidence"), (2, 2, 2, 2))
STREAM = stream_id("bench.neural")


def population(n: int, neurons: int, synapses: int):
    sub = SUBSTRATES.get("neural", io=IO, num_neurons=neurons, num_synapses=synapses)
    return sub, [sub.random(DrawStream(Rng(1), STREAM, 0, i), 0) for i in range(n)]


def kernel_rate(sub, genomes, threads: int, steps: int, repeats: int) -> float:
    n = len(genomes)
    brain = sub.compile(genomes, IO, threads=threads)
    sensors = np.random.default_rng(0).integers(0, 2, size=(n, 1)).astype(np.int32)
    actions, active = np.zeros((n, IO.n_actions), dtype=np.int32), np.ones(n, dtype=bool)
    brain.step(sensors, actions, active)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            brain.step(sensors, actions, active)
        best = min(best, time.perf_counter() - t)
    return n * steps / best


def reference_rate(genomes, seconds: float = 1.0) -> float:
    """Turns per second of ``reference.turn`` cycling over the nets for about ``seconds``
    (each net keeps its inter activations from its previous turn)."""
    inter = [(0.0,) * len(g.inter) for g in genomes]
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        k = done % len(genomes)
        inter[k] = reference.turn(genomes[k], IO, [done & 1], inter[k]).inter
        done += 1
    return done / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--organisms", type=int, default=20_000)
    ap.add_argument("--neurons", type=int, default=2)
    ap.add_argument("--synapses", type=int, default=4)
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sub, genomes = population(args.organisms, args.neurons, args.synapses)
    ref = reference_rate(genomes)
    rows = []
    for threads in args.threads:
        rate = kernel_rate(sub, genomes, threads, args.steps, args.repeats)
        rows.append({"organisms": args.organisms, "neurons": args.neurons,
                     "synapses": args.synapses, "threads": threads,
                     "organism_steps_per_second": round(rate),
                     "reference_turns_per_second": round(ref),
                     "speedup": round(rate / ref, 1)})
        print(f"{args.organisms:,} nets ({args.neurons} inter neurons, {args.synapses} "
              f"synapses), {threads} thread(s): {rate:,.0f} organism-steps/s; reference "
              f"{ref:,.0f} turns/s ({rate / ref:,.0f}x)", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"machine": {"python": platform.python_version(),
                                      "cores": os.cpu_count(),
                                      "date": date.today().isoformat()}, "rows": rows},
                         indent=1))


if __name__ == "__main__":
    main()
