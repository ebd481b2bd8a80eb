"""Benchmark the ecology world: organism-ticks per second at 256 x 256 with 10,000 organisms,
per brain, on one core, with where a tick's time goes.

    python benchmarks/bench_ecology.py                     # neural and wasm brains
    python benchmarks/bench_ecology.py --brains wasm --ticks 200 --json
    python benchmarks/bench_ecology.py --set start_energy=500 --set reproduce_min=300

Each brain gets a fresh world (``min_organisms`` equal to the population, so the top-up holds
it near 10,000 whatever the economy does), ``--warmup`` untimed ticks (numba compiles or
loads its cache; wasm compiles the founders; by tick 500 the founders' starting energy is
spent, and births and the top-up replace the dead every tick: the steady state, where new
organisms' genomes cost the most), then ``--ticks`` timed ticks. Organism-ticks count the
living organisms at the start of every timed tick. Peak memory is the process's maximum
resident set after the brain's run (brains run one after another, so it is cumulative).
``--set`` changes a world setting: how long random organisms live, and so how many new
genomes a tick costs, is the economy's (the default economy's founders have 100 energy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from primordia.brains.settings import make_substrate  # noqa: E402
from primordia.core.config import key_value  # noqa: E402
from primordia.core.errors import ConfigError  # noqa: E402
from primordia.worlds.ecology.config import EcologyConfig  # noqa: E402
from primordia.worlds.ecology.io import io_of  # noqa: E402
from primordia.worlds.ecology.state import T_BIRTHS, T_PLACED  # noqa: E402
from primordia.worlds.ecology.world import PHASES, EcologyWorld  # noqa: E402

TARGETS = {"neural": 1_000_000, "wasm": 300_000}
"""Organism-ticks per second the world should reach on one core (issue 22)."""


def measure(brain: str, opts) -> dict:
    cfg = EcologyConfig.build({"width": opts.size, "height": opts.size,
                               "num_organisms": opts.organisms,
                               "min_organisms": opts.organisms,
                               "max_organisms": 2 * opts.organisms, "gas": opts.gas,
                               "seed": opts.seed, **settings(opts.sets),
                               "brain": {"kind": brain}}, source="settings")
    t0 = time.perf_counter()
    world = EcologyWorld(cfg, make_substrate(cfg.brain, io_of(cfg)))
    build = time.perf_counter() - t0
    for _ in range(opts.warmup):
        world.tick()
    world.phase_seconds = dict.fromkeys(PHASES, 0.0)
    new_before = int(world.state.totals[T_BIRTHS] + world.state.totals[T_PLACED])
    organism_ticks = 0
    t0 = time.perf_counter()
    for _ in range(opts.ticks):
        organism_ticks += world.population
        world.tick()
    seconds = time.perf_counter() - t0
    rate = organism_ticks / seconds
    return {"brain": brain, "ticks": opts.ticks, "organism_ticks": organism_ticks,
            "seconds": round(seconds, 3), "organism_ticks_per_s": round(rate),
            "target": TARGETS.get(brain), "met": rate >= TARGETS[brain] if brain in TARGETS
            else None, "build_seconds": round(build, 2),
            "phases_ms_per_tick": {k: round(1e3 * v / opts.ticks, 3)
                                   for k, v in world.phase_seconds.items()},
            "population_end": world.population, "births": int(world.state.totals[T_BIRTHS]),
            "new_per_tick": round((int(world.state.totals[T_BIRTHS])
                                   + int(world.state.totals[T_PLACED]) - new_before)
                                  / opts.ticks, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def settings(items: list[str]) -> dict:
    """``--set KEY=VALUE`` world settings (``key_value``: values read as TOML values)."""
    return dict(key_value(item, "--set") for item in items)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brains", nargs="+", default=["neural", "wasm"])
    ap.add_argument("--size", type=int, default=256, help="tiles per side")
    ap.add_argument("--organisms", type=int, default=10_000)
    ap.add_argument("--ticks", type=int, default=100, help="timed ticks per brain")
    ap.add_argument("--warmup", type=int, default=500,
                    help="untimed ticks first (by 500 the founders' energy is spent and "
                    "births and the top-up replace the dead: the steady state)")
    ap.add_argument("--gas", type=int, default=1000, help="budget per organism per tick")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="a world setting (the economy, say) instead of its default")
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args(argv)
    if min(opts.size, opts.organisms, opts.ticks) < 1 or opts.warmup < 0:
        ap.error("sizes must be positive")
    try:
        rows = [measure(brain, opts) for brain in opts.brains]
    except ConfigError as exc:                  # a --set the world refuses
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = {"machine": {"cpu": platform.processor() or platform.machine(),
                          "cores": os.cpu_count(), "python": platform.python_version(),
                          "date": date.today().isoformat()},
              "size": opts.size, "organisms": opts.organisms, "gas": opts.gas, "rows": rows}
    if opts.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"# {opts.size} x {opts.size}, {opts.organisms:,} organisms, gas {opts.gas}, "
          f"{opts.ticks} ticks after {opts.warmup}, one core"
          + (f"; {', '.join(opts.sets)}" if opts.sets else ""))
    print("| brain | organism-ticks/s | target | new organisms/tick | "
          + " | ".join(f"{p} ms/tick" for p in PHASES) + " | peak RSS MiB |")
    print("|---|---:|---:|---:|" + "---:|" * len(PHASES) + "---:|")
    for r in rows:
        phases = " | ".join(f"{r['phases_ms_per_tick'][p]:.2f}" for p in PHASES)
        target = f"{r['target']:,}" if r["target"] else "-"
        print(f"| {r['brain']} | {r['organism_ticks_per_s']:,} | {target} | "
              f"{r['new_per_tick']:,} | {phases} | {r['peak_rss_mib']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
