"""The sandbox's state: a structure of numpy arrays, NPCs by slot, the grid by cell.

Kernels take the whole ``SandboxState`` (a NamedTuple, so numba sees named fields) and index
it in place. Everything that decides the future is here, so ``state_hash`` is the run's
fingerprint; genomes live with the world (they are the brain's source) and are hashed there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from primordia.core.hashing import state_digest

from . import constants as c


class SandboxState(NamedTuple):
    # ---- NPCs by slot (a free slot has alive == 0) ----
    alive: np.ndarray        # int8[N]
    npc_id: np.ndarray       # int64[N]  stable OrganismId, never reused
    birth: np.ndarray        # int64[N]  tick of birth
    x: np.ndarray            # int32[N]
    y: np.ndarray            # int32[N]
    heading: np.ndarray      # int32[N]  last move tried (1 N, 2 E, 3 S, 4 W): "ahead"
    health: np.ndarray       # int32[N]
    energy: np.ndarray       # int32[N]
    age: np.ndarray          # int32[N]
    hunger: np.ndarray       # int32[N]  ticks since eating
    food_eaten: np.ndarray   # int32[N]
    gold: np.ndarray         # int32[N]
    item: np.ndarray         # int32[N]
    stress: np.ndarray       # int32[N]
    crafts: np.ndarray       # int32[N]
    taught: np.ndarray       # int32[N]  times its genome was rewritten by a teacher
    teaches: np.ndarray      # int32[N]  successful teachings
    fitness: np.ndarray      # int64[N]
    trade_with: np.ndarray   # int64[N]  trade intent this tick: the partner's id, or -1
    mod_kind: np.ndarray     # int32[N, 4]
    mod_mag: np.ndarray      # int32[N, 4]
    mod_left: np.ndarray     # int32[N, 4]  ticks left; PERMANENT (-1); 0 = empty slot
    mod_source: np.ndarray   # int32[N, 4]  item that granted it (0 innate)
    # ---- the grid, indexed [y, x] ----
    tile: np.ndarray         # uint8[H, W]
    occupant: np.ndarray     # int32[H, W]  slot of the NPC standing there, or -1
    cooldown: np.ndarray     # int32[H, W]  ticks until the cell can be harvested again
    poison_since: np.ndarray  # int64[H, W]  tick a poison tile was placed
    biome: np.ndarray        # uint8[H, W]
    # ---- counters ----
    stats: np.ndarray        # int64[len(STAT_NAMES)] cumulative since tick 0


def empty_state(capacity: int, size: int) -> SandboxState:
    """A world of ``size`` x ``size`` empty cells with room for ``capacity`` NPCs."""
    n = capacity
    i32 = lambda: np.zeros(n, dtype=np.int32)  # noqa: E731 - a local shorthand
    return SandboxState(
        alive=np.zeros(n, dtype=np.int8), npc_id=np.full(n, -1, dtype=np.int64),
        birth=np.zeros(n, dtype=np.int64), x=i32(), y=i32(), heading=np.ones(n, dtype=np.int32),
        health=i32(), energy=i32(), age=i32(), hunger=i32(), food_eaten=i32(), gold=i32(),
        item=i32(), stress=i32(), crafts=i32(), taught=i32(), teaches=i32(),
        fitness=np.zeros(n, dtype=np.int64), trade_with=np.full(n, -1, dtype=np.int64),
        mod_kind=np.zeros((n, c.MOD_SLOTS), dtype=np.int32),
        mod_mag=np.zeros((n, c.MOD_SLOTS), dtype=np.int32),
        mod_left=np.zeros((n, c.MOD_SLOTS), dtype=np.int32),
        mod_source=np.zeros((n, c.MOD_SLOTS), dtype=np.int32),
        tile=np.zeros((size, size), dtype=np.uint8),
        occupant=np.full((size, size), -1, dtype=np.int32),
        cooldown=np.zeros((size, size), dtype=np.int32),
        poison_since=np.zeros((size, size), dtype=np.int64),
        biome=np.zeros((size, size), dtype=np.uint8),
        stats=np.zeros(len(c.STAT_NAMES), dtype=np.int64),
    )


def state_arrays(state: SandboxState) -> dict[str, np.ndarray]:
    """The state as named arrays, with free slots zeroed so that dead rows never matter."""
    live = state.alive.astype(bool)
    out = {}
    for name, a in state._asdict().items():
        if a.ndim >= 1 and a.shape[0] == live.shape[0] and name not in ("tile", "occupant",
                                                                        "cooldown",
                                                                        "poison_since",
                                                                        "biome", "stats"):
            a = np.where(live.reshape((-1,) + (1,) * (a.ndim - 1)), a, 0)
        out[name] = a
    return out


def state_hash(state: SandboxState, extra: dict[str, np.ndarray] | None = None) -> str:
    """Digest of the canonical state (plus ``extra`` arrays such as genomes and the tick)."""
    arrays = state_arrays(state)
    if extra:
        arrays.update(extra)
    return state_digest(arrays)
