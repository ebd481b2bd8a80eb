#!/usr/bin/env python
"""Regenerate golden files under tests/golden/ -- only when a change to the rules is meant to
change results; say so in the commit message. Tests never write these files.

    .venv/bin/python scripts/regen_golden.py            # every world
    .venv/bin/python scripts/regen_golden.py ecology    # one world's files
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from primordia.brains.settings import make_substrate

from primordia.runs.hex_run import HexRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HexWorld
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.ecology.io import io_of
from primordia.worlds.ecology.world import EcologyWorld

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"

SANDBOX_CASES = [
    {"npcs": 20, "seed": 42, "checkpoints": [1, 100, 500]},
    {"npcs": 200, "seed": 7, "checkpoints": [1, 100, 300]},
    {"npcs": 1000, "seed": 2026, "checkpoints": [1, 100]},
    {"npcs": 60, "seed": 42, "brain": "wasm", "checkpoints": [1, 100, 400]},
]


def sandbox_hashes(case: dict, threads: int = 1) -> dict[str, str]:
    cfg = SandboxConfig(npcs=case["npcs"], seed=case["seed"], ticks=max(case["checkpoints"]),
                        brain={"kind": case.get("brain", "psil")})
    world = SandboxRun.build(cfg, SandboxRun.substrate(cfg), threads=threads)
    out = {}
    for t in case["checkpoints"]:
        world.run(t - world.tick_no)
        out[str(t)] = world.state_hash()
    return out


HEX_CASES = [
    {"brain": "neural", "seed": 42, "world_width": 20, "num_organisms": 200,
     "checkpoints": [1, 30, 200]},
    {"brain": "neural", "seed": 3, "world_width": 48, "num_organisms": 1500,
     "checkpoints": [1, 50]},
    {"brain": "psil", "seed": 42, "world_width": 20, "num_organisms": 200,
     "checkpoints": [1, 30, 200]},
    {"brain": "psil", "seed": 7, "world_width": 12, "num_organisms": 100,
     "checkpoints": [1, 100]},
    {"brain": "wasm", "seed": 42, "world_width": 20, "num_organisms": 200,
     "checkpoints": [1, 30, 200]},
]
HEX_SNAPSHOT = {"brain": "neural", "seed": 42, "turn": 30}
"""The hex world's golden snapshot: seed 42 at the defaults, after 30 turns."""


def hex_world(brain: str, threads: int = 1, **config) -> HexWorld:
    cfg = HexConfig(**config, brain={"kind": brain})
    return HexWorld(cfg, HexRun.substrate(cfg), threads=threads)


def hex_hashes(case: dict, threads: int = 1) -> dict[str, str]:
    world = hex_world(case["brain"], threads, seed=case["seed"],
                      world_width=case["world_width"], num_organisms=case["num_organisms"])
    out = {}
    for t in case["checkpoints"]:
        world.run(t - world.turn)
        out[str(t)] = world.state_hash()
    return out


def hex_snapshot(case: dict = HEX_SNAPSHOT) -> dict:
    world = hex_world(case["brain"], seed=case["seed"])
    world.run(case["turn"])
    return {**case, "state_hash": world.state_hash(), "snapshot": world.snapshot_view()}


ECOLOGY_CASES = [
    {"brain": "neural", "seed": 42, "config": {"width": 64, "height": 64, "num_organisms": 300,
                                               "min_organisms": 50, "max_organisms": 2048},
     "checkpoints": [1, 50, 200]},
    {"brain": "wasm", "seed": 42, "config": {"width": 64, "height": 64, "num_organisms": 300,
                                             "min_organisms": 50, "max_organisms": 2048},
     "checkpoints": [1, 50, 150]},
    {"brain": "psil", "seed": 7, "config": {"width": 32, "height": 32, "num_organisms": 100,
                                            "radius": 1, "neighbor_records": 3,
                                            "max_organisms": 1024},
     "checkpoints": [1, 60]},
]


def ecology_hashes(case: dict, threads: int = 1) -> dict[str, str]:
    cfg = EcologyConfig(**case["config"], seed=case["seed"], brain={"kind": case["brain"]})
    world = EcologyWorld(cfg, make_substrate(cfg.brain, io_of(cfg)), threads=threads)
    out = {}
    for t in case["checkpoints"]:
        world.run(t - world.tick_count)
        out[str(t)] = world.state_hash()
    return out


def _write(name: str, data) -> None:
    path = GOLDEN / name
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")


def main(worlds: list[str]) -> None:
    """Regenerate the golden files of ``worlds`` (all three when none are named)."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    worlds = worlds or ["sandbox", "hex", "ecology"]
    if "sandbox" in worlds:
        _write("sandbox_state_hashes.json",
               [{**case, "hashes": sandbox_hashes(case)} for case in SANDBOX_CASES])
    if "hex" in worlds:
        _write("hex_state_hashes.json", [{**case, "hashes": hex_hashes(case)}
                                         for case in HEX_CASES])
        _write("hex_snapshot_seed42_turn30.json", hex_snapshot())
    if "ecology" in worlds:
        _write("ecology_state_hashes.json", [{**case, "hashes": ecology_hashes(case)}
                                             for case in ECOLOGY_CASES])


if __name__ == "__main__":
    main(sys.argv[1:])
