"""The ecology world as a whole: any brain lives in it, runs are reproducible from config and
seed, founders are placed first, the top-up keeps the population up, and the slot cap holds."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import ConfigError
from primordia.worlds.ecology.state import (OBSTACLE, T_BIRTHS, T_DEATHS, T_FAILED_BIRTHS,
                                            T_PLACED)
from primordia.worlds.ecology.world import EcologyWorld


def fits(brain: str) -> dict:
    """Config keys a brain with fixed slot counts needs (micro-PSIL reads 31 sensors)."""
    return {"radius": 1, "neighbor_records": 3} if brain == "psil" else {}


@pytest.mark.parametrize("brain", SUBSTRATES.names())
def test_every_registered_brain_lives_and_acts_in_it(world, brain):
    w = world(brain, **fits(brain))
    acted = 0
    for _ in range(15):
        w.tick()
        acted += np.count_nonzero(w.actions)
    assert w.tick_count == 15 and acted > 0
    live = np.flatnonzero(w.state.alive)
    assert all(w.genome(i) is not None for i in live.tolist())
    assert all(w.genome(i) is None for i in np.flatnonzero(w.state.alive == 0).tolist())
    assert [w.substrate.size(w.genome(i)) for i in live.tolist()] == \
        w.state.genome_bytes[live].tolist()


class _NoSpawning:
    """A brain as the world sees it without ``spawn``: every genome goes through Python."""

    def __init__(self, brain) -> None:
        self._brain = brain

    def __getattr__(self, name):
        if name in ("spawn", "genome_sizes"):
            raise AttributeError(name)
        return getattr(self._brain, name)


def test_a_brain_that_breeds_in_place_makes_the_genomes_python_would(world):
    """Neural brains make births and random organisms in numba (``Spawns``); the same world
    through the substrate's Python operators reaches the same state, tick for tick."""
    fast = world("neural", min_organisms=30, radiation_share=0.05, mutation_rounds=2)
    slow = world("neural", min_organisms=30, radiation_share=0.05, mutation_rounds=2)
    assert any(g is None for g in fast.genomes)          # spawned: no objects yet
    slow.brain = _NoSpawning(slow.brain)
    for _ in range(25):
        fast.tick()
        slow.tick()
        np.testing.assert_array_equal(fast.state.genome_bytes, slow.state.genome_bytes)
    assert fast.state.totals[T_DEATHS] > 0 and fast.state.totals[T_BIRTHS] > 0
    slow.brain = slow.brain._brain
    assert fast.state_hash() == slow.state_hash()


def test_micro_psil_needs_a_world_that_fits_its_slots(world):
    with pytest.raises(ConfigError, match="31 sensor"):
        world("psil")


def test_same_config_and_seed_same_hash_other_seed_other_hash(world):
    a, b, c = world(), world(), world(seed=4)
    for w in (a, b, c):
        w.run(20)
    assert a.state_hash() == b.state_hash() != c.state_hash()


@pytest.mark.parametrize("brain", ["neural", "wasm"])
def test_thread_count_does_not_change_the_run(world, brain):
    one, two = world(brain), world(brain, threads=2)
    one.run(12)
    two.run(12)
    assert one.state_hash() == two.state_hash()


def test_founders_take_the_first_placed_slots(world):
    base = world()
    genomes = [base.substrate.random(_draws(k), base.config.max_genome) for k in range(3)]
    w = world(founders=genomes)
    for slot, genome in enumerate(genomes):
        assert w.state.oid[slot] == slot and w.genomes[slot] == genome
    np.testing.assert_array_equal(w.state.x, base.state.x)  # placed exactly as without them
    with pytest.raises(ConfigError, match="founders"):
        world(founders=genomes * 30)


def _draws(k: int):
    from primordia.core.rng import DrawStream, Rng
    return DrawStream(Rng(99), 1, 0, k)


def test_the_map_is_made_from_the_seed_and_founders_avoid_obstacles(world):
    w = world(obstacle_share=0.2)
    s = w.state
    assert np.count_nonzero(s.kind == OBSTACLE) == round(0.2 * 24 * 24)
    live = np.flatnonzero(s.alive)
    tiles = s.y[live] * 24 + s.x[live]
    assert not np.any(s.kind[tiles] == OBSTACLE)
    assert len(set(tiles.tolist())) == live.size == 60
    np.testing.assert_array_equal(s.occupancy[tiles], live)
    assert s.totals[T_PLACED] == 60


def test_the_top_up_keeps_min_organisms_alive(world):
    w = world(min_organisms=50, basal_cost=40)   # everyone starves within a few dozen ticks
    for _ in range(40):
        w.tick()
        assert w.population >= 50
    assert w.state.totals[T_PLACED] > 60


def test_births_fail_once_every_slot_is_taken(world):
    w = world(max_organisms=60, reproduce_min=0, reproduce_cost=0, basal_cost=0,
              instruction_cost=0, brain_upkeep=0, hazard_damage=0, radiation_damage=0)
    wants = w.io.actions.index("reproduce")
    real = w.brain.step

    def step(sensors, actions, active):  # the real brain, then everyone asks for a child
        out = real(sensors, actions, active)
        actions[:, wants] = 1
        return out

    w.brain.step = step
    w.run(3)
    assert w.population == 60
    assert w.state.totals[T_FAILED_BIRTHS] > 0


# ---- snapshots: a restored world goes on exactly as the original ----------------------------

@pytest.mark.parametrize("brain", ["neural", "wasm"])
def test_a_restored_world_continues_with_the_same_hashes(world, brain):
    original = world(brain, ticks=40)
    original.run(10)
    copy = EcologyWorld.restore(original.config, original.substrate, original.arrays())
    assert copy.state_hash() == original.state_hash()
    original.run(15)
    copy.run(15)
    assert copy.state_hash() == original.state_hash()


def _tampered(world, change) -> tuple:
    w = world(ticks=40)
    w.run(5)
    arrays = {k: v.copy() for k, v in w.arrays().items()}
    change(arrays, w)
    return w, arrays


@pytest.mark.parametrize("change, message", [
    (lambda a, w: a["state.kind"].__setitem__(0, 2 if a["state.kind"][0] != 2 else 0),
     "state.kind .* the map is the one the config and seed make"),
    (lambda a, w: a["state.x"].__setitem__(int(np.flatnonzero(a["state.alive"])[0]), 99),
     "state.x holds 99"),
    (lambda a, w: a["state.occupancy"].__setitem__(
        int(np.flatnonzero(a["state.occupancy"] < 0)[0]), 0), "state.occupancy holds 0"),
    (lambda a, w: a["scalars"].__setitem__(0, 41), "scalars.tick is 41"),
    (lambda a, w: a["state.energy"].__setitem__(
        int(np.flatnonzero(a["state.alive"])[0]), 10**9), "state.energy holds"),
    (lambda a, w: a["genome_lengths"].__setitem__(
        int(np.flatnonzero(a["state.alive"] == 0)[0]), 3), "genome_lengths"),
    (lambda a, w: a.pop("state.tag"), "state.tag"),
])
def test_a_snapshot_that_breaks_a_rule_is_refused_in_one_line(world, change, message):
    w, arrays = _tampered(world, change)
    with pytest.raises(ConfigError, match=message) as err:
        EcologyWorld.restore(w.config, w.substrate, arrays, source="ck.npz")
    assert str(err.value).startswith("ck.npz") and "\n" not in str(err.value)


# ---- the kernels against the oracle, on a world whose brains decide ---------------------------

@pytest.mark.parametrize("brain", ["neural", "wasm"])
def test_every_tick_of_a_real_run_agrees_with_the_reference(world, brain, monkeypatch):
    """The world runs on the kernels; each tick, the reference senses and advances a copy of
    the state with the same intents and gas, and every array must come out equal."""
    from primordia.worlds.ecology import phases, reference
    from primordia.worlds.ecology.state import EcologyState, copy_state

    w = world(brain, min_organisms=40, seed=11)
    kernel_sense, kernel_advance = phases.sense, phases.advance
    checked = {"ticks": 0, "births": 0, "deaths": 0}

    def sense(s, cfg, tick, into=None):       # the world's buffers, reused every tick
        out = kernel_sense(s, cfg, tick, into)
        ref = reference.sense(copy_state(s), cfg, tick)
        np.testing.assert_array_equal(out[0], ref[0])
        np.testing.assert_array_equal(out[1], ref[1])
        return out

    def advance(s, cfg, seed, tick, intents, gas, nb, next_id, into=None):
        mirror = copy_state(s)
        out = kernel_advance(s, cfg, seed, tick, intents, gas, nb, next_id, into)
        ref = reference.advance(mirror, cfg, seed, tick, intents, gas, nb, next_id)
        for name in EcologyState._fields:
            np.testing.assert_array_equal(getattr(s, name), getattr(mirror, name),
                                          err_msg=f"tick {tick}: state.{name}")
        assert out.died.tolist() == ref.died.tolist() and out.next_id == ref.next_id
        assert out.births.tolist() == ref.births.tolist()
        assert out.placed.tolist() == ref.placed.tolist()
        checked["ticks"] += 1
        checked["births"] += len(out.births)
        checked["deaths"] += len(out.died)
        return out

    monkeypatch.setattr(phases, "sense", sense)
    monkeypatch.setattr(phases, "advance", advance)
    w.run(25)
    assert checked["ticks"] == 25
    if brain == "neural":  # random nets breed, fight and starve within these ticks
        assert checked["births"] > 0 and checked["deaths"] > 0
