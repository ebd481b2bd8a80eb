"""Time islands of the default sizes: 16 random founders, 1000 ticks (turns), the worlds'
default configs (sandbox 20 and 200 NPCs; hex 200 organisms on 20 x 20, neural and psil).

    python benchmarks/bench_island.py [--length 1000] [--threads 1]

Each island runs once for 5 ticks untimed (numba compiles or loads its cache), then once
timed, through ``run_island`` exactly as a worker calls it.
"""

from __future__ import annotations

import argparse
import time

from primordia.brains.registry import SUBSTRATES
from primordia.core.rng import DrawStream, Rng
from primordia.runs.hex_run import HexRun
from primordia.runs.island import IslandSpec, run_island
from primordia.worlds.hex.config import HexConfig


def spec(world: str, brain: str, substrate, length: int, config=None) -> IslandSpec:
    founders = [{"id": k + 1, "genome": substrate.encode(
        substrate.random(DrawStream(Rng(1), 1, 0, k), 128)).hex()} for k in range(16)]
    return IslandSpec(world=world, brain=brain, config=config or {}, seed=1, length=length,
                      founders=founders)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    psil, net = SUBSTRATES.get("psil"), HexRun.substrate(HexConfig())
    cases = [("sandbox psil, 20 NPCs", spec("sandbox", "psil", psil, args.length)),
             ("sandbox psil, 200 NPCs", spec("sandbox", "psil", psil, args.length,
                                             {"npcs": 200})),
             ("hex neural, 200 organisms", spec("hex", "neural", net, args.length)),
             ("hex psil, 200 organisms", spec("hex", "psil", psil, args.length))]
    for name, s in cases:
        run_island(s.model_copy(update={"length": 5}), threads=args.threads)
        t0 = time.perf_counter()
        out = run_island(s, threads=args.threads)
        print(f"{name}, 16 founders, {args.length} ticks: {time.perf_counter() - t0:.2f} s "
              f"(alive at the end: {out.population})")


if __name__ == "__main__":
    main()
