"""Helpers for hex tests: a puppet brain whose organisms do what a script says (so a scenario
can stage contested cells, swaps and eat chains exactly), small staged worlds, and the
invariants every turn must keep."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from primordia.brains.base import BrainIO
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import A_CONFIDENCE, A_LEFT, A_MOVE, A_RIGHT, HexWorld

ONE = 65536
"""Confidence 1.0 in 16.16 fixed point."""


class PuppetBrain:
    """Writes ``script[organism id]`` = (move, left, right, confidence) for each active
    organism (missing: do nothing). It reads ids from the world it is attached to."""

    def __init__(self, capacity: int) -> None:
        self.world: HexWorld | None = None
        self.script: dict[int, tuple[int, int, int, int]] = {}
        self.slots = np.zeros(capacity, dtype=bool)

    @property
    def capacity(self) -> int:
        return self.slots.shape[0]

    def begin_tick(self, budget, active) -> None:
        pass

    def step(self, sensors, actions, active):
        for slot in np.flatnonzero(active).tolist():
            move, left, right, conf = self.script.get(int(self.world.state.oid[slot]),
                                                      (0, 0, 0, 0))
            actions[slot, A_MOVE], actions[slot, A_LEFT] = move, left
            actions[slot, A_RIGHT], actions[slot, A_CONFIDENCE] = right, conf
        return np.zeros_like(active)

    def add(self, genomes: Sequence, slots=None):
        slots = np.asarray(slots, dtype=np.int64)
        self.slots[slots] = True
        return slots

    def remove(self, slots) -> None:
        self.slots[np.asarray(slots, dtype=np.int64)] = False


class PuppetSubstrate:
    """Genomes are labels; every organism is a puppet of the brain's script."""

    name = "puppet"

    def random(self, draws, max_len):
        return "random"

    def mutate(self, genome, draws, max_len):
        return genome + "'"

    def crossover(self, a, b, draws, max_len, **options):
        return a

    def encode(self, genome) -> bytes:
        return genome.encode()

    def decode(self, data: bytes):
        return data.decode()

    def to_text(self, genome) -> str:
        return genome

    def compile(self, genomes, io: BrainIO, threads: int = 1, capacity=None):
        return PuppetBrain(capacity)


def staged(organisms: Sequence[tuple[int, int, int]], width: int = 5, hunger=None,
           **config) -> HexWorld:
    """A world of ``width`` x ``width`` holding exactly ``organisms`` ((q, r, facing), ids
    0, 1, ... in that order), driven by a puppet brain (``world.brain.script``)."""
    cfg = HexConfig(world_width=width, num_organisms=1, **config)
    w = HexWorld(cfg, PuppetSubstrate())
    w.brain.world = w
    s = w.state
    s.alive[:] = 0
    s.oid[:] = -1
    s.occupancy[:] = -1
    w.brain.slots[:] = False
    w.genomes = np.full(cfg.cells, None, dtype=object)
    for i, (q, r, facing) in enumerate(organisms):
        s.alive[i], s.oid[i], s.q[i], s.r[i], s.facing[i] = 1, i, q, r, facing
        s.hunger[i] = 0 if hunger is None else hunger[i]
        s.meals[i] = 0
        s.occupancy[r * width + q] = i
        w.genomes[i] = f"g{i}"
        w.brain.slots[i] = True
    w.next_id = len(organisms)
    w._order = None
    w._population = int(np.count_nonzero(w.state.alive))
    return w


def check_invariants(w: HexWorld) -> None:
    """At most one organism per cell, the occupancy table matches the positions, ids are
    unique, the brain's and the world's organisms are the same slots."""
    s, width = w.state, w.config.world_width
    live = np.flatnonzero(s.alive)
    cells = s.r[live] * width + s.q[live]
    assert ((s.q[live] >= 0) & (s.q[live] < width) & (s.r[live] >= 0)
            & (s.r[live] < width)).all()
    assert np.unique(cells).size == live.size, "two organisms share a cell"
    assert (s.occupancy[cells] == live).all(), "occupancy disagrees with positions"
    assert (s.occupancy >= 0).sum() == live.size, "occupancy names a dead organism"
    assert np.unique(s.oid[live]).size == live.size, "ids repeat"
    assert [w.genome(i) is not None for i in range(len(w.genomes))] == (s.alive != 0).tolist()
    assert (s.facing[live] >= 0).all() and (s.facing[live] < 6).all()
    order = w.alive_slots()
    assert sorted(order.tolist()) == live.tolist()
    assert (np.diff(s.oid[order]) > 0).all(), "alive_slots is not in id order"
    assert w.population == live.size
