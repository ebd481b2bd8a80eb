#!/usr/bin/env python
"""Regenerate golden files under tests/golden/ -- only when a change to the rules is meant to
change results; say so in the commit message. Tests never write these files.

    .venv/bin/python scripts/regen_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

from primordia.runs.hex_run import HexRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HexWorld
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.runs.sandbox_run import SandboxRun

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


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    data = [{**case, "hashes": sandbox_hashes(case)} for case in SANDBOX_CASES]
    path = GOLDEN / "sandbox_state_hashes.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")
    data = [{**case, "hashes": hex_hashes(case)} for case in HEX_CASES]
    path = GOLDEN / "hex_state_hashes.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")
    path = GOLDEN / "hex_snapshot_seed42_turn30.json"
    path.write_text(json.dumps(hex_snapshot(), indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
