"""wasm brains in the worlds: a world restored from its own arrays mid-run ends exactly as an
unbroken run does (organism memories are state), in the sandbox and the hex world."""

from __future__ import annotations

from primordia.brains.wasm.modules import ModuleGenome, parse
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


HOSTILE_STEPS = {
    "loops in step": "(loop (br 0)) (i32.const 1)",
    "recurses": "(call $deep (i32.const 0))",
    "stores out of bounds": "(i32.store (i32.const 70000) (i32.const 1)) (i32.const 1)",
    "divides by zero": "(i32.div_s (i32.const 1) (i32.const 0))",
    "grows memory": "(drop (memory.grow (i32.const 10))) (memory.size)",
    "is unreachable": "unreachable",
}


def hostile_module(step_body: str, init_body: str = "") -> ModuleGenome:
    return parse(f"""(module
      (memory (export "memory") 1)
      (func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))
      (func (export "init") (param i64) {init_body})
      (func (export "step") (param i32) (result i32) {step_body}))""")


def test_hostile_founders_cost_only_themselves_and_the_run_completes():
    """Modules that spin, recurse, trap or grab memory (in step, or in init) live beside
    evolved organisms: each loses its own steps, and the world runs on, deterministic."""
    founders = [hostile_module(body) for body in HOSTILE_STEPS.values()]
    founders.append(hostile_module("(i32.const 1)", init_body="(loop (br 0))"))
    cfg = SandboxConfig(npcs=20, seed=3, ticks=120, evolve_every=40, brain=WASM)
    runs = []
    for _ in range(2):
        world = SandboxRun.build(cfg, SandboxRun.substrate(cfg), founders=founders)
        world.run(120)
        runs.append(world.state_hash())
    assert runs[0] == runs[1] and world.tick_no == 120
    brain = world.brain
    assert any(brain.alive[s] for s in brain.modules)   # they live on (clones too)
    assert brain.alive.sum() > len(brain.modules)        # beside evolved organisms
