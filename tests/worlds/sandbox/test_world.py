"""Whole-world behaviour: invariants every tick, determinism, and any brain driving it."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.core.errors import ConfigError
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.world import SANDBOX_IO, SandboxWorld

from .conftest import ForagerSubstrate, small_config


def check_invariants(w: SandboxWorld) -> None:
    """At most one NPC per cell, occupancy matches positions, ids unique, values in range."""
    s = w.state
    live = np.flatnonzero(s.alive)
    cells = s.y[live].astype(np.int64) * s.tile.shape[1] + s.x[live]
    assert len(np.unique(cells)) == live.size
    assert (s.occupant[s.y[live], s.x[live]] == live).all()
    assert int((s.occupant >= 0).sum()) == live.size
    assert len(np.unique(s.npc_id[live])) == live.size
    assert (s.health[live] > 0).all() and (s.health[live] <= c.MAX_HEALTH).all()
    assert (s.energy[live] >= 0).all() and (s.energy[live] <= c.MAX_ENERGY).all()
    assert (s.stress[live] >= 0).all() and (s.stress[live] <= c.MAX_STRESS).all()
    assert (s.age[live] < c.MAX_AGE).all() and (s.gold[live] >= 0).all()
    assert (s.tile[s.y[live], s.x[live]] != c.WALL).all()
    assert (s.trade_with[live] == -1).all()               # intents never outlive a tick
    assert all(w.genomes[i] is not None for i in live)
    assert int(live.size) >= 1


def test_a_trivial_numpy_brain_drives_the_world():
    w = SandboxRun.build(small_config(npcs=30, evolve_every=50), ForagerSubstrate())
    assert w.io is SANDBOX_IO and w.io.n_sensors == 31 and w.io.n_actions == 4
    for _ in range(300):
        w.tick()
        check_invariants(w)
    assert w.brain.steps == 300                           # one round per tick
    assert w.state.stats[c.C_EATS] > 0 and w.state.stats[c.C_MOVES] > 0
    assert w.state.stats[c.C_BIRTHS] > 0                  # the GA replaced some
    assert w.live_npc_ticks > 0


def test_same_config_and_seed_give_the_same_state_hash():
    a = SandboxRun.build(small_config(), ForagerSubstrate())
    b = SandboxRun.build(small_config(), ForagerSubstrate())
    other = SandboxRun.build(small_config(seed=8), ForagerSubstrate())
    for w in (a, b, other):
        w.run(120)
    assert a.state_hash() == b.state_hash() != other.state_hash()


def test_lineage_records_births_parents_and_deaths():
    w = SandboxRun.build(small_config(npcs=12, evolve_every=10), ForagerSubstrate())
    w.run(60)
    lin = w.lineage
    assert set(lin.origin) == set(range(1, w.next_id))
    children = [i for i, parents in lin.ancestors.items() if parents]
    assert children and all(len(lin.ancestors[k]) == 2 for k in children)
    assert all(p < k for k in children for p in lin.ancestors[k])
    live_ids = set(w.state.npc_id[w.state.alive == 1].tolist())
    assert live_ids.isdisjoint(lin.destruction) and len(lin.destruction) > 0


def test_a_restored_snapshot_continues_bit_for_bit():
    cfg = small_config(npcs=24, evolve_every=20)
    straight = SandboxRun.build(cfg, ForagerSubstrate())
    straight.run(90)
    first = SandboxRun.build(cfg, ForagerSubstrate())
    first.run(40)
    again = SandboxRun.rebuild(cfg, ForagerSubstrate(), first.snapshot())
    assert again.state_hash() == first.state_hash()
    again.run(50)
    assert again.state_hash() == straight.state_hash()
    assert again.lineage == straight.lineage


def test_a_snapshot_that_does_not_fit_the_config_is_refused():
    w = SandboxRun.build(small_config(npcs=10), ForagerSubstrate())
    snap = w.snapshot()
    with pytest.raises(ConfigError, match="shape"):
        SandboxRun.rebuild(small_config(npcs=11), ForagerSubstrate(), snap)
    del snap["scalars"]
    with pytest.raises(ConfigError, match="missing"):
        SandboxRun.rebuild(small_config(npcs=10), ForagerSubstrate(), snap)


def test_micro_psil_npcs_keep_every_invariant_for_a_thousand_ticks():
    from primordia.brains.registry import SUBSTRATES
    from primordia.brains.psil.variation import is_well_formed
    w = SandboxRun.build(small_config(npcs=60, seed=3, evolve_every=50, max_genome=64,
                                  genome_grow=16, genome_grow_every=400),
                     SUBSTRATES.get("psil"))
    rounds = 0
    for _ in range(1000):
        w.tick()
        rounds = max(rounds, w.rounds_last_tick)
        check_invariants(w)
    live = np.flatnonzero(w.state.alive)
    assert all(is_well_formed(w.genomes[i]) for i in live)
    children = [i for i in live if w.lineage.ancestors[int(w.state.npc_id[i])]]
    assert children and all(16 <= len(w.genomes[i]) <= w.max_genome for i in children)
    assert w.max_genome == 64 + 2 * 16                    # grown at ticks 400 and 800
    assert rounds >= 2                                    # multi-yield brains act again
    assert w.state.stats[c.C_BIRTHS] > 0 and w.state.stats[c.C_TEACHES] > 0
    # the brain's memory is the world's: Ring1 of a living NPC holds what it last wrote
    assert w.brain.alive[live].all() and not w.brain.alive[w.state.alive == 0].any()


class _StepOnly:
    """A micro-PSIL brain seen through ``Brain.step`` alone (no kernel round state)."""

    def __init__(self, brain):
        self._brain = brain

    def __getattr__(self, name):
        if name == "round_state":
            raise AttributeError(name)
        return getattr(self._brain, name)


def test_rounds_in_one_kernel_equal_rounds_stepped_one_by_one():
    from primordia.brains.registry import SUBSTRATES
    psil = SUBSTRATES.get("psil")

    class StepOnlySubstrate(type(psil)):
        def compile(self, *args, **kw):
            return _StepOnly(psil.compile(*args, **kw))

    cfg = small_config(npcs=60, seed=3, evolve_every=50)
    in_kernel = SandboxRun.build(cfg, psil)
    stepped = SandboxRun.build(cfg, StepOnlySubstrate())
    cramped = SandboxRun.build(cfg, psil)
    # teach lists with room for one round only: the kernel hands back after each teaching
    cramped._teach_from = np.zeros(60, dtype=np.int64)
    cramped._teach_to = np.zeros(60, dtype=np.int64)
    rounds = 0
    for _ in range(300):
        for w in (in_kernel, stepped, cramped):
            w.tick()
        rounds = max(rounds, in_kernel.rounds_last_tick)
        assert in_kernel.rounds_last_tick == stepped.rounds_last_tick
    assert rounds >= 2 and in_kernel.state.stats[c.C_TEACHES] > 0
    assert in_kernel.state_hash() == stepped.state_hash() == cramped.state_hash()


def test_every_reading_in_a_live_world_equals_the_plain_ring_search(monkeypatch):
    """Round after round of a real run (cached answers, index updates from actions and the
    world's turn, NPCs dying and being born), every sensor a brain can read equals the reference
    sandbox's plain search."""
    import primordia.worlds.sandbox.world as world_module
    from primordia.brains.registry import SUBSTRATES
    from primordia.worlds.sandbox.reference import sense_one

    checked = []
    fast = world_module.sense

    def sense_and_check(s, slots, tick, round_no, seed, base_gas, pool, off, length, *rest):
        fast(s, slots, tick, round_no, seed, base_gas, pool, off, length, *rest)
        reach, out = rest[-2], rest[-1]
        genomes = [bytes(pool[off[i]:off[i] + length[i]]) for i in range(len(off))]
        for i in slots.tolist():
            want = sense_one(s, i, tick, round_no, seed, base_gas, genomes)
            readable = [k for k in range(c.N_SENSORS) if reach[i] >> k & 1]
            assert [out[i][k] for k in readable] == [want[k] for k in readable], \
                f"tick {tick} round {round_no} slot {i}"
        checked.append(len(slots))

    monkeypatch.setattr(world_module, "sense", sense_and_check)
    monkeypatch.setattr(world_module, "round_state_of", lambda brain: None)
    w = SandboxRun.build(small_config(npcs=60, seed=3, evolve_every=20), SUBSTRATES.get("psil"))
    w.run(80)
    assert sum(checked) > 60 * 80 and max(checked) > min(checked)   # several rounds a tick


def test_skipping_sensors_a_brain_cannot_read_changes_nothing(monkeypatch):
    """The same run with every sensor computed for every NPC ends in the same state."""
    import primordia.brains.psil.brain as psil_brain
    from primordia.brains.psil.reach import ALL
    from primordia.brains.registry import SUBSTRATES

    cfg = small_config(npcs=60, seed=5, evolve_every=25)
    skipping = SandboxRun.build(cfg, SUBSTRATES.get("psil"))
    skipping.run(300)
    assert (skipping.brain.sensor_reach[skipping.brain.alive] != ALL).any()
    monkeypatch.setattr(psil_brain, "ring0_reach", lambda genome: ALL)
    full = SandboxRun.build(cfg, SUBSTRATES.get("psil"))
    full.run(300)
    assert (full.brain.sensor_reach[full.brain.alive] == ALL).all()
    assert skipping.state_hash() == full.state_hash()


def test_a_world_too_small_for_its_npcs_is_refused_with_the_field_named():
    from primordia.worlds.sandbox.config import SandboxConfig

    with pytest.raises(ConfigError, match=r"npcs: 20 do not fit in a 3 x 3 world"):
        SandboxConfig.build({"world": 3, "npcs": 20})
    assert SandboxConfig.build({"world": 5, "npcs": 25}).size == 5     # exactly full is fine


@pytest.mark.parametrize("brain", ["psil", "neural"])
def test_a_tick_returns_who_died_and_who_was_born(brain):
    """The delta is exactly the change in the living: ids gone since the last tick, and the
    slots of the ids that are new (deaths of every cause, GA children and the refill)."""
    cfg = small_config(npcs=40, seed=5, evolve_every=7, brain={"kind": brain})
    w = SandboxRun.build(cfg, SandboxRun.substrate(cfg))
    before = set(w.state.npc_id[w.alive_slots()].tolist())
    seen_deaths = seen_births = 0
    for _ in range(60):
        delta = w.tick()
        slots = w.alive_slots()
        now = set(w.state.npc_id[slots].tolist())
        assert delta.tick == w.tick_no
        assert set(delta.removed_ids) == before - now
        assert len(delta.removed_ids) == len(set(delta.removed_ids))
        assert sorted(delta.spawned_slots) == sorted(
            s for s in slots.tolist() if int(w.state.npc_id[s]) not in before)
        seen_deaths += len(delta.removed_ids)
        seen_births += len(delta.spawned_slots)
        before = now
    assert seen_deaths and seen_births          # both happened (the GA ran eight times)
