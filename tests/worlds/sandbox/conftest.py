"""Helpers for sandbox tests: a second, trivial substrate (proof that any brain can drive the
world) and small worlds built by hand."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pytest

from primordia.brains.base import BrainIO
from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.state import empty_state


class ForagerBrain:
    """Not a program at all: every NPC steps toward the food it senses and eats, in one
    round per tick. Numpy over the population, like a real brain."""

    def __init__(self, genomes: Sequence[bytes], io: BrainIO, capacity: int) -> None:
        self.io = io
        self.alive = np.zeros(capacity, dtype=bool)
        self.alive[:len(genomes)] = True
        self.steps = 0

    @property
    def capacity(self) -> int:
        return self.alive.shape[0]

    def begin_tick(self, budget, active) -> None:
        assert (budget[active] >= 1).all()

    def step(self, sensors, actions, active):
        self.steps += 1
        actions[active, c.A_MOVE] = sensors[active, c.S_FOOD_DIR]
        actions[active, c.A_ACTION] = c.EAT
        return np.zeros_like(active)

    def add(self, genomes, slots=None):
        slots = np.flatnonzero(~self.alive)[:len(genomes)] if slots is None else slots
        self.alive[slots] = True
        return np.asarray(slots)

    def remove(self, slots) -> None:
        self.alive[np.asarray(slots, dtype=np.int64)] = False


class ForagerSubstrate:
    """Genomes are opaque 16-byte strings; variation only flips bytes."""

    name = "forager"
    archetypes: dict[str, bytes] = {}

    def __init__(self, io=None, settings=None):
        """A substrate's factory is given the world's layout and its settings (none here)."""

    def random(self, draws, max_len):
        return bytes(draws.integer(0, 256) for _ in range(16))

    def mutate(self, genome, draws, max_len):
        g = bytearray(genome)
        g[draws.integer(0, len(g))] ^= 1
        return bytes(g)

    def crossover(self, a, b, draws, max_len):
        return a[:8] + b[8:]

    def encode(self, genome):
        return bytes(genome)

    def decode(self, data):
        return bytes(data)

    def compile(self, genomes, io, threads=1, capacity=None):
        return ForagerBrain(genomes, io, capacity or len(genomes))


@pytest.fixture
def forager_substrate():
    return ForagerSubstrate()


def blank_state(capacity: int = 4, size: int = 8):
    """An empty world with no NPCs: tests place what they need."""
    return empty_state(capacity, size)


def put_npc(s, slot: int, x: int, y: int, npc_id: int | None = None, energy: int = 100,
            health: int = 100) -> None:
    """Place a living NPC by hand."""
    s.alive[slot] = 1
    s.npc_id[slot] = slot + 1 if npc_id is None else npc_id
    s.x[slot], s.y[slot] = x, y
    s.health[slot], s.energy[slot] = health, energy
    s.trade_with[slot] = -1
    s.occupant[y, x] = slot


def small_config(**kw) -> SandboxConfig:
    return SandboxConfig(**{"npcs": 20, "seed": 7, **kw})
