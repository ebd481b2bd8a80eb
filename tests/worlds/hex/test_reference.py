"""The hex kernels equal the plain-Python turn of ``worlds/hex/reference.py``: the world runs
with a brain (neural, micro-PSIL, or one that rolls dice), the reference plays the same turns
from its own copy of the state with the actions the brain wrote, and every state array,
sensor, delta, metric and newborn genome must be equal after every turn."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.runs.hex_run import HexRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.reference import (TurnRecord, birth_genome, found, living_by_id,
                                            place, play_turn)
from primordia.worlds.hex.state import T_SKIPPED, HexState
from primordia.worlds.hex.world import (A_CONFIDENCE, A_LEFT, A_MOVE, A_RIGHT, LOOK,
                                        HexWorld)

from .conftest import ONE, PuppetBrain, PuppetSubstrate


class DiceBrain(PuppetBrain):
    """Rolls every action (moves three times in four, turns, confidences from a few values
    with ties), so contests, swaps, cycles and meals happen every turn."""

    CONFIDENCES = np.array([-ONE, -1, 0, 0, 1, ONE // 2, ONE], dtype=np.int32)

    def __init__(self, capacity: int, seed: int) -> None:
        super().__init__(capacity)
        self.dice = np.random.default_rng(seed)        # test data; the world uses core.rng

    def step(self, sensors, actions, active):
        n = actions.shape[0]
        actions[:, A_MOVE] = self.dice.integers(0, 4, n) > 0
        actions[:, A_LEFT] = self.dice.integers(0, 2, n)
        actions[:, A_RIGHT] = self.dice.integers(0, 2, n)
        actions[:, A_CONFIDENCE] = self.dice.choice(self.CONFIDENCES, n)
        actions[~active] = 0
        return np.zeros_like(active)


class DiceSubstrate(PuppetSubstrate):
    name = "dice"

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def compile(self, genomes, io, threads: int = 1, capacity=None):
        return DiceBrain(capacity, self.seed)


def substrate_for(brain: str, cfg: HexConfig):
    if brain == "dice":
        return DiceSubstrate(cfg.seed)
    return HexRun.substrate(cfg.replace(brain={"kind": brain}))


def copy_state(s: HexState) -> HexState:
    return HexState(*(a.copy() for a in s))


def assert_same_state(kernels: HexState, reference: HexState, turn: int) -> None:
    for name in HexState._fields:
        a, b = getattr(kernels, name), getattr(reference, name)
        assert a.dtype == b.dtype and a.shape == b.shape, f"turn {turn}: state.{name}"
        if not np.array_equal(a, b):
            at = np.flatnonzero(a != b)[:6]
            raise AssertionError(f"turn {turn}: state.{name} differs at {at.tolist()}: "
                                 f"kernels {a[at].tolist()}, reference {b[at].tolist()}")


def rows(s: HexState, slots) -> list[list[int]]:
    """The delta's organism rows (id, q, r, facing, hunger, meals, generation, parent, born)."""
    return [[int(v[i]) for v in (s.oid, s.q, s.r, s.facing, s.hunger, s.meals, s.generation,
                                 s.parent, s.born)] for i in slots]


def encoded(world: HexWorld, genome) -> bytes:
    return world.substrate.encode(genome)


def lockstep(world: HexWorld, turns: int) -> Counter:
    """Play ``turns`` turns of ``world`` and of the reference side by side; the reference
    keeps its own state and ids and takes only the brain's actions (and its work count) from
    the world. Returns how often each rule came up, so a test can show it was exercised."""
    cfg = world.config
    ref, next_id = copy_state(world.state), world.next_id
    ref_genomes = {int(world.state.oid[i]): world.genome(i) for i in living_by_id(ref)}
    seen: Counter = Counter()
    for _ in range(turns):
        delta = world.tick()
        rec = play_turn(ref, world.actions, cfg, world.turn, next_id,
                        delta.metrics["synapse_ops_last_turn"])
        next_id = rec.next_id
        t = world.turn
        assert_same_state(world.state, ref, t)
        assert world.next_id == next_id, f"turn {t}: next id"
        assert {i: int(world.sensors[i, LOOK]) for i in rec.looks} == rec.looks, \
            f"turn {t}: look"
        assert sorted(map(tuple, delta.move_rows.tolist())) == sorted(rec.moves), \
            f"turn {t}: moves"
        assert delta.removed == rec.removed_ids, f"turn {t}: removed"
        assert delta.spawned_rows.tolist() == rows(ref, rec.placed), f"turn {t}: spawned"
        assert delta.metrics == rec.metrics, f"turn {t}: metrics"
        for slot, parent in zip(rec.placed, rec.parents):
            new_id = int(ref.oid[slot])
            inherited = ref_genomes[int(ref.oid[parent])] if parent >= 0 else None
            g = ref_genomes[new_id] = birth_genome(world.substrate, cfg, t, new_id, inherited)
            assert encoded(world, world.genome(slot)) == encoded(world, g), \
                f"turn {t}: the genome of newborn {new_id}"
        for oid in rec.removed_ids:
            del ref_genomes[oid]
        seen.update(contested=rec.contested, tied=rec.tied, followed=rec.followed,
                    fallbacks=rec.fallbacks, **{k: v for k, v in rec.metrics.items()
                                                if k.endswith("_last_turn")})
    return seen


def make(brain: str, **values) -> HexWorld:
    cfg = HexConfig(**values)
    return HexWorld(cfg, substrate_for(brain, cfg))


CONFIGS = {
    "small": dict(world_width=5, num_organisms=8, turns_to_starve=6, seed=1),
    "crowded": dict(world_width=6, num_organisms=30, turns_to_starve=8, seed=2),
    "full": dict(world_width=4, num_organisms=16, turns_to_starve=3, seed=3),
    "starving": dict(world_width=8, num_organisms=20, turns_to_starve=1, seed=4),
    "spread": dict(world_width=10, num_organisms=40, turns_to_starve=5, seed=5,
                   center_spawn_min_fraction=0.0, center_spawn_max_fraction=1.0,
                   mutation_chance=0.5),
    "one cell": dict(world_width=1, num_organisms=1, turns_to_starve=2, seed=6),
    "defaults": dict(seed=42),
}


@pytest.mark.parametrize("brain", ["neural", "psil", "dice"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_founders_are_placed_as_the_reference_places_them(brain, name):
    world = make(brain, **CONFIGS[name])
    s, rec = found(world.config)
    assert_same_state(world.state, s, 0)
    assert world.next_id == rec.next_id == world.config.num_organisms
    assert world.last_delta.spawned_rows.tolist() == rows(s, rec.placed)
    for slot in rec.placed:
        g = birth_genome(world.substrate, world.config, 0, int(s.oid[slot]), None)
        assert encoded(world, world.genome(slot)) == encoded(world, g)


@pytest.mark.parametrize("brain", ["neural", "psil"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_turn_of_a_real_brain_equals_the_reference(brain, name):
    world = make(brain, **CONFIGS[name])
    seen = lockstep(world, 60 if name == "defaults" else 120)
    assert seen["births_last_turn"] > 0
    if name == "starving":
        assert seen["starvations_last_turn"] > 0


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("width,organisms,starve", [(3, 9, 4), (5, 20, 3), (7, 30, 12)])
def test_every_turn_of_rolled_actions_equals_the_reference(seed, width, organisms, starve):
    world = make("dice", world_width=width, num_organisms=organisms, turns_to_starve=starve,
                 seed=seed)
    seen = lockstep(world, 80)
    # every rule came up: contests, ties, moves (also into cells being left), meals,
    # starvation and births
    for what in ("contested", "tied", "followed", "actions_applied_last_turn",
                 "meals_last_turn", "starvations_last_turn", "births_last_turn"):
        assert seen[what] > 0, what


def test_newborns_that_miss_take_the_empty_cell_nearest_the_centre_as_in_the_reference():
    # a full grid: a newborn's only empty cell is often one the Gaussian rarely reaches
    world = make("dice", world_width=4, num_organisms=16, turns_to_starve=2, seed=7)
    assert lockstep(world, 60)["fallbacks"] > 0


def test_a_spawn_queue_longer_than_the_empty_cells_is_cut_short():
    # a running world never gets here (each death frees the cell its newborn needs), so the
    # spawn phase is called on its own: two offspring, then replacements until the grid is full
    world = make("dice", world_width=4, num_organisms=12, seed=8)
    ref, rec = copy_state(world.state), TurnRecord(1)
    live = living_by_id(ref)
    queue = [live[3], live[0], -1, -1, -1, -1]
    placed = world._spawn(np.array(queue, dtype=np.int64), 1)
    place(ref, queue, world.config, 1, world.config.num_organisms, rec)
    assert_same_state(world.state, ref, 1)
    assert placed.tolist() == rec.placed and rec.parents == queue[:4]
    assert ref.totals[T_SKIPPED] == 2 and ref.alive.all()


@settings(max_examples=30, deadline=None)
@given(width=st.integers(1, 9), fill=st.floats(0.05, 1.0), starve=st.integers(1, 10),
       seed=st.integers(0, 2**63 - 1), low=st.floats(0.0, 0.95), gap=st.floats(0.01, 1.0),
       chance=st.floats(0.0, 1.0), brain=st.sampled_from(["dice", "neural", "psil"]),
       neurons=st.integers(0, 4))
def test_any_small_config_and_seed_equals_the_reference(width, fill, starve, seed, low, gap,
                                                         chance, brain, neurons):
    world = make(brain, world_width=width, num_organisms=max(1, int(width * width * fill)),
                 turns_to_starve=starve, seed=seed, center_spawn_min_fraction=low,
                 center_spawn_max_fraction=min(1.0, low + gap), mutation_chance=chance,
                 num_neurons=neurons, max_num_neurons=neurons + 2)
    lockstep(world, 30)
