#!/usr/bin/env python
"""Regenerate golden files under tests/golden/ -- only when a change to the rules is meant to
change results; say so in the commit message. Tests never write these files.

    .venv/bin/python scripts/regen_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

from primordia.brains.registry import SUBSTRATES
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SandboxWorld

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"

SANDBOX_CASES = [
    {"npcs": 20, "seed": 42, "checkpoints": [1, 100, 500]},
    {"npcs": 200, "seed": 7, "checkpoints": [1, 100, 300]},
    {"npcs": 1000, "seed": 2026, "checkpoints": [1, 100]},
]


def sandbox_hashes(case: dict, threads: int = 1) -> dict[str, str]:
    cfg = SandboxConfig(npcs=case["npcs"], seed=case["seed"], ticks=max(case["checkpoints"]))
    world = SandboxWorld(cfg, SUBSTRATES.get("psil"), threads=threads)
    out = {}
    for t in case["checkpoints"]:
        world.run(t - world.tick_no)
        out[str(t)] = world.state_hash()
    return out


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    data = [{**case, "hashes": sandbox_hashes(case)} for case in SANDBOX_CASES]
    path = GOLDEN / "sandbox_state_hashes.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
