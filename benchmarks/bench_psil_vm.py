"""Benchmark the micro-PSIL VMs: instructions/s and organism-steps/s, fast VM beside reference.

One organism-step is one whole think of one organism (every action round of a tick, resumed
after each yield with the same sensors). The workload is a realistic mix: a third archetypes,
a third mutated archetypes, a third random genomes, gas 200. A second workload, ``busy``, runs
looping programs until their gas is spent, to show the interpreter's own speed.

    python benchmarks/bench_psil_vm.py                 # 1k, 10k, 100k organisms; 1 and 2 threads
    python benchmarks/bench_psil_vm.py --sizes 1000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date

import numpy as np

from primordia.brains.psil import generate
from primordia.brains.psil import kernels as k
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.brain import PsilBrain
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import think

GAS = 200
SEED = 2026


def mix_workload(n: int) -> list[PsilGenome]:
    """Archetypes, mutated archetypes and random genomes in equal thirds."""
    names = sorted(ARCHETYPES)
    out = []
    for i in range(n):
        r = i % 3
        if r == 0:
            out.append(PsilGenome(ARCHETYPES[names[(i // 3) % len(names)]]))
        elif r == 1:
            out.append(PsilGenome(generate.mutated_archetype(SEED, i)))
        else:
            out.append(PsilGenome(generate.random_program(SEED, i, max_len=40)))
    return out


# Looping brains: sense, compute, write Ring1, jump back -- they spend all their gas.
BUSY = [
    "8a0d 21 06 8c00 8a05 24 0a 8c01 860e",            # sense, compute, write Ring1, loop
    "8300 1b 8400 8300 24 0a 21 06 8c00 8a0c 8c02 8613",   # a counter in a local
    "8a05 22 0c 8803 22 8501 21 8c01 8a0d 8c00 8612",      # a branch on a sensor
]


def busy_workload(n: int) -> list[PsilGenome]:
    return [PsilGenome(bytes.fromhex(BUSY[i % len(BUSY)].replace(" ", ""))) for i in range(n)]


def run_fast(brain: PsilBrain, n: int) -> tuple[float, int]:
    """One whole think for every organism; returns (seconds, instructions)."""
    brain.steps[:] = 0
    brain.begin_think(GAS)
    t0 = time.perf_counter()
    brain.run_thinks(np.arange(n, dtype=np.int64))
    elapsed = time.perf_counter() - t0
    return elapsed, int(brain.steps[:n].sum())


def run_reference(genomes, sensors) -> tuple[float, int]:
    t0 = time.perf_counter()
    steps = 0
    for g, s in zip(genomes, sensors):
        steps += think(g, s, GAS).steps
    return time.perf_counter() - t0, steps


def compile_times() -> dict:
    """Numba compile time of the VM kernels, cold (empty cache) and cached, in fresh processes."""
    code = ("import time; t=time.perf_counter();"
            "from primordia.brains.psil.brain import think_batch;"
            "think_batch([bytes.fromhex('8a0d8c0021f1')], [0]*31, 50);"
            "think_batch([bytes.fromhex('8a0d8c0021f1')]*2, [0]*31, 50, threads=2);"
            "print(time.perf_counter()-t)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "cached"):
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True)
            out[label] = float(r.stdout.strip().splitlines()[-1])
    return out


def bench(sizes: list[int], workload: str, repeats: int, ref_limit: int) -> list[dict]:
    rows = []
    for n in sizes:
        genomes = mix_workload(n) if workload == "mix" else busy_workload(n)
        sensors = np.array([generate.random_sensors(SEED, i) for i in range(n)])
        row = {"workload": workload, "organisms": n, "gas": GAS}
        for threads in (1, 2):
            brain = PsilBrain(genomes, threads=threads)
            brain.mem[:n, :31] = sensors
            run_fast(brain, n)                                   # warm-up (compiles)
            times = []
            for _ in range(repeats):
                brain.mem[:n, :31] = sensors
                t, steps = run_fast(brain, n)
                times.append(t)
            best = min(times)
            row[f"fast_{threads}t_s"] = best
            row[f"fast_{threads}t_instr_per_s"] = steps / best
            row[f"fast_{threads}t_steps_per_s"] = n / best
            row["instructions"] = steps
        m = min(n, ref_limit)
        t_ref, ref_steps = run_reference(genomes[:m], sensors[:m].tolist())
        row["reference_organisms"] = m
        row["reference_instr_per_s"] = ref_steps / t_ref
        row["reference_steps_per_s"] = m / t_ref
        row["speedup_1t"] = row["fast_1t_steps_per_s"] / row["reference_steps_per_s"]
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--workloads", nargs="+", default=["mix", "busy"], choices=["mix", "busy"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reference-limit", type=int, default=100_000,
                    help="Run the reference VM on at most this many organisms per size.")
    ap.add_argument("--no-compile", action="store_true", help="Skip the compile-time probe.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    machine = {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version(),
               "date": date.today().isoformat()}
    rows = []
    for w in args.workloads:
        rows += bench(args.sizes, w, args.repeats, args.reference_limit)
    compile_s = None if args.no_compile else compile_times()
    if args.json:
        print(json.dumps({"machine": machine, "results": rows, "compile_s": compile_s}, indent=1))
        return
    print(f"# {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
          f"{machine['date']}")
    print("| workload | organisms | instr/think | fast 1 thread | fast 2 threads | "
          "reference | fast vs reference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workload']} | {r['organisms']:,} | {r['instructions'] / r['organisms']:.1f} | "
              f"{r['fast_1t_instr_per_s'] / 1e6:.0f} M instr/s, "
              f"{r['fast_1t_steps_per_s'] / 1e6:.2f} M steps/s | "
              f"{r['fast_2t_instr_per_s'] / 1e6:.0f} M instr/s, "
              f"{r['fast_2t_steps_per_s'] / 1e6:.2f} M steps/s | "
              f"{r['reference_instr_per_s'] / 1e6:.2f} M instr/s, "
              f"{r['reference_steps_per_s'] / 1e3:.1f} k steps/s | {r['speedup_1t']:.0f}x |")
    if compile_s:
        print(f"\nnumba compile: cold {compile_s['cold']:.1f} s, cached {compile_s['cached']:.1f} s")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
