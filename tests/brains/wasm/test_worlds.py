"""wasm brains in the worlds: a world restored from its own arrays mid-run ends exactly as an
unbroken run does (organism memories are state), in the sandbox and the hex world."""

from __future__ import annotations

from primordia.runs.hex_run import HexRun
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HexWorld
from primordia.worlds.sandbox.config import SandboxConfig

WASM = {"kind": "wasm", "memory": 1024}


def test_a_hex_world_of_wasm_brains_resumes_from_its_arrays_bit_for_bit():
    cfg = HexConfig(seed=8, world_width=10, num_organisms=30, brain=WASM)
    whole = HexWorld(cfg, HexRun.substrate(cfg))
    whole.run(60)
    part = HexWorld(cfg, HexRun.substrate(cfg))
    part.run(25)
    again = HexWorld.restore(cfg, HexRun.substrate(cfg), part.arrays())
    assert again.state_hash() == part.state_hash()
    again.run(35)
    assert again.state_hash() == whole.state_hash()


def test_a_sandbox_of_wasm_brains_resumes_from_its_snapshot_bit_for_bit():
    cfg = SandboxConfig(npcs=30, seed=5, ticks=250, evolve_every=50, brain=WASM)
    whole = SandboxRun.build(cfg, SandboxRun.substrate(cfg))
    whole.run(250)
    part = SandboxRun.build(cfg, SandboxRun.substrate(cfg))
    part.run(120)
    again = SandboxRun.rebuild(cfg, SandboxRun.substrate(cfg), part.snapshot(),
                               evolver_state=part.evolver.state())
    assert again.state_hash() == part.state_hash()
    again.run(130)
    assert again.state_hash() == whole.state_hash()
