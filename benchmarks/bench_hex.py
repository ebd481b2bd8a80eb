"""Benchmark the hex world: organism-turns per second at NeuroGenesis's defaults (width 20, 200
organisms) and at width 256 with 20,000 organisms, on one and two threads.

    python benchmarks/bench_hex.py                         # neural brains, both sizes, 1 thread
    python benchmarks/bench_hex.py --brain psil --threads 1 2 --repeats 3 --json
    python benchmarks/bench_hex.py --brain mycos --sizes default
    python benchmarks/bench_hex.py --sizes large --phases   # where a turn's time goes

Each measurement builds a fresh world, runs a few turns untimed (numba compiles or loads its
cache), then times ``--turns`` turns; organism-turns count the living organisms of every
timed turn. The fastest of ``--repeats`` is reported, with every repeat listed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from primordia.runs.hex_run import HexRun  # noqa: E402
from primordia.worlds.hex.config import HexConfig  # noqa: E402
from primordia.worlds.hex.world import HexWorld  # noqa: E402

SIZES = {"default": {"world_width": 20, "num_organisms": 200, "turns": 2000},
         "large": {"world_width": 256, "num_organisms": 20_000, "turns": 300}}


def _time_calls(world: HexWorld) -> dict[str, float]:
    """Wrap the turn's kernels and the brain's calls with timers; seconds per name."""
    from primordia.worlds.hex import world as module

    spent: dict[str, float] = {}

    def wrap(owner, name: str, label: str) -> None:
        f = getattr(owner, name)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            out = f(*args, **kwargs)
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
            return out
        setattr(owner, name, timed)

    for name in ("sense", "intents", "resolve", "commit", "lifecycle", "spawn"):
        wrap(module, name, name)
    for name in ("step", "spawn", "remove", "add"):
        if hasattr(world.brain, name):
            wrap(world.brain, name, f"brain.{name}")
    return spent


def measure(size: str, brain: str, threads: int, turns: int | None,
            phases: bool = False) -> dict:
    spec = SIZES[size]
    cfg = HexConfig(world_width=spec["world_width"], num_organisms=spec["num_organisms"],
                    seed=1, brain={"kind": brain})
    world = HexWorld(cfg, HexRun.substrate(cfg), threads=threads)
    world.run(3)
    spent = _time_calls(world) if phases else {}
    n = turns or spec["turns"]
    organism_turns = 0
    spawned = 0
    t0 = time.perf_counter()
    for _ in range(n):
        organism_turns += world.population
        spawned += world.tick().spawned_rows.shape[0]
    seconds = time.perf_counter() - t0
    out = {"size": size, "world_width": cfg.world_width, "organisms": cfg.num_organisms,
           "brain": brain, "threads": threads, "turns": n, "seconds": round(seconds, 3),
           "organism_turns_per_second": round(organism_turns / seconds),
           "spawned_per_turn": round(spawned / n, 1)}
    if phases:
        ms = {k: round(v / n * 1e3, 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}
        ms["other"] = round((seconds - sum(spent.values())) / n * 1e3, 3)
        out["ms_per_turn"] = ms
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brain", default="neural", choices=("neural", "psil", "mycos"))
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--turns", type=int, default=None, help="Timed turns (per size default).")
    ap.add_argument("--repeats", type=int, default=1, help="Fresh processes per row.")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--phases", action="store_true",
                    help="Also time each kernel and brain call (milliseconds per turn).")
    ap.add_argument("--one", nargs=3, metavar=("SIZE", "THREADS", "TURNS"),
                    help=argparse.SUPPRESS)                # a child process's single row
    args = ap.parse_args()
    if args.one:
        size, threads, turns = args.one
        print(json.dumps(measure(size, args.brain, int(threads), int(turns) or None,
                                 args.phases)))
        return
    rows = []
    for size in args.sizes:
        for threads in args.threads:
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run([sys.executable, __file__, "--brain", args.brain, "--one",
                                      size, str(threads), str(args.turns or 0)]
                                     + (["--phases"] if args.phases else []),
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            best = max(runs, key=lambda r: r["organism_turns_per_second"])
            best["repeats"] = [r["organism_turns_per_second"] for r in runs]
            rows.append(best)
            print(f"{size:>7} (width {best['world_width']}, {best['organisms']:,} organisms, "
                  f"{args.brain}), {threads} thread(s): {best['organism_turns_per_second']:,} "
                  f"organism-turns/s (repeats: {best['repeats']}), "
                  f"{best['spawned_per_turn']} spawned per turn", file=sys.stderr, flush=True)
            if "ms_per_turn" in best:
                print("    ms per turn: " + ", ".join(f"{k} {v}" for k, v in
                                                     best["ms_per_turn"].items()),
                      file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"machine": {"python": platform.python_version(),
                                      "cores": os.cpu_count(),
                                      "date": date.today().isoformat()},
                          "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
