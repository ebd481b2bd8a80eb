"""Neural nets drive the sandbox: a world built for bytecode needs nothing more from a brain
than the interfaces (docs/architecture.md, "The interfaces")."""

from __future__ import annotations

import pytest

from primordia.brains.registry import SUBSTRATES
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SANDBOX_IO

from ...worlds.sandbox.test_world import check_invariants


def config(npcs: int = 60) -> SandboxConfig:
    return SandboxConfig(npcs=npcs, ticks=1000, seed=11, evolve_every=50)


CONFIG = config()


def neural():
    return SUBSTRATES.get("neural", io=SANDBOX_IO)


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    """State hashes at tick 1000 of one run checked tick by tick."""
    w = SandboxRun.build(CONFIG, neural())
    for _ in range(CONFIG.ticks):
        w.tick()
        check_invariants(w)
    s = w.state.stats
    assert s[c.C_MOVES] > 0 and s[c.C_EATS] > 0 and s[c.C_BIRTHS] > 0
    assert w.brain.synapse_ops_last_step > 0
    return {"first": w.state_hash()}


def test_a_neural_population_lives_1000_ticks_with_invariants_intact(hashes):
    assert hashes["first"]


@pytest.mark.parametrize("threads", [1, 2])
def test_the_same_seed_gives_the_same_state_hash(hashes, threads):
    w = SandboxRun.build(CONFIG, neural(), threads=threads)
    w.run(CONFIG.ticks)
    assert w.state_hash() == hashes["first"]


def test_a_restored_snapshot_continues_bit_for_bit():
    cfg = config(30)
    straight = SandboxRun.build(cfg, neural())
    straight.run(150)
    first = SandboxRun.build(cfg, neural())
    first.run(70)
    again = SandboxRun.rebuild(cfg, neural(), first.snapshot())
    assert again.state_hash() == first.state_hash()
    again.run(80)
    assert again.state_hash() == straight.state_hash()


def test_the_state_hash_covers_the_inter_activations():
    w = SandboxRun.build(config(20), neural())
    w.run(5)
    before = w.state_hash()
    live = int(w.state.alive.nonzero()[0][0])
    w.brain.inter_act[live, 0] = 0.125 if w.brain.inter_act[live, 0] != 0.125 else 0.25
    assert w.state_hash() != before
