"""Benchmark the sandbox: live NPC-ticks per second on the reference sandbox's workloads, JIT
time apart, peak memory. Each workload runs in a fresh process (so its peak memory is its own).

    python benchmarks/bench_sandbox.py                    # 100x10,000, 1,000x10,000, 10,000x1,000
    python benchmarks/bench_sandbox.py --workloads 1000x2000 --threads 1 2
    python benchmarks/bench_sandbox.py --repeats 3       # best of 3 fresh processes each

The hosts these run on are shared and their speed drifts by a third within minutes: with
``--repeats`` each row is the fastest run, and every run's rate is listed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date

SEED_FIGURES = {"100x10000": 3.5, "1000x10000": 41.0, "10000x1000": 69.0}
"""Seconds the reference sandbox (oisee/psil) reports for its Go version on these workloads."""


def one(npcs: int, ticks: int, threads: int) -> dict:
    """Run one workload here and now (called in a child process)."""
    from primordia.runs.sandbox_run import warm_up
    from primordia.brains.registry import SUBSTRATES
    from primordia.worlds.sandbox.config import SandboxConfig
    from primordia.runs.sandbox_run import SandboxRun

    jit = warm_up()
    cfg = SandboxConfig(npcs=npcs, ticks=ticks, seed=42)
    t0 = time.perf_counter()
    w = SandboxRun.build(cfg, SUBSTRATES.get("psil"), threads=threads)
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    w.run(ticks)
    wall = time.perf_counter() - t1
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"npcs": npcs, "ticks": ticks, "threads": threads, "jit_seconds": round(jit, 2),
            "setup_seconds": round(setup, 3), "wall_seconds": round(wall, 3),
            "live_npc_ticks": w.live_npc_ticks,
            "npc_ticks_per_second": round(w.live_npc_ticks / wall),
            "alive_at_end": int(w.state.alive.sum()), "peak_mib": round(peak_kib / 1024, 1),
            "state_hash": w.state_hash()[:16]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="+", default=list(SEED_FIGURES),
                    help="NPCSxTICKS items, e.g. 1000x10000.")
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=1,
                    help="Fresh processes per workload; the fastest is reported.")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(*args.child)))
        return
    rows = []
    for wl in args.workloads:
        npcs, ticks = (int(v) for v in wl.split("x"))
        for threads in args.threads:
            env = dict(os.environ, NUMBA_NUM_THREADS=str(max(threads, 1)))
            runs = []
            for _ in range(max(1, args.repeats)):
                r = subprocess.run([sys.executable, __file__, "--child", str(npcs), str(ticks),
                                    str(threads)], capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    sys.exit(f"workload {wl} failed:\n{r.stderr}")
                runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
            row = min(runs, key=lambda run: run["wall_seconds"])
            row["runs_per_second"] = [run["npc_ticks_per_second"] for run in runs]
            row["seed_seconds"] = SEED_FIGURES.get(wl)
            rows.append(row)
            if not args.json:
                print(f"{npcs:>6} NPCs x {ticks:>6} ticks, {threads} thread(s): "
                      f"{row['npc_ticks_per_second']:>10,} live NPC-ticks/s, "
                      f"{row['wall_seconds']:.2f} s (seed's Go: {row['seed_seconds']} s), "
                      f"JIT {row['jit_seconds']} s, peak {row['peak_mib']} MiB, "
                      f"{row['alive_at_end']} alive at the end"
                      + (f"; all runs: {row['runs_per_second']}" if len(runs) > 1 else ""),
                      flush=True)
    if args.json:
        print(json.dumps({"machine": {"python": platform.python_version(),
                                      "cores": os.cpu_count(),
                                      "date": date.today().isoformat()},
                          "results": rows}, indent=1))


if __name__ == "__main__":
    main()
