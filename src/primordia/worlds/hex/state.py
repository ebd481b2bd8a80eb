"""The hex world's state: a structure of numpy arrays, organisms by slot, occupancy by cell.

Kernels take the whole ``HexState`` (a NamedTuple: numba sees named fields) and change it in
place. Everything that decides the future is here or in the brains, so ``state_digest`` of it
(with the genomes and brain state, see ``HexWorld.state_hash``) fingerprints a run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class HexState(NamedTuple):
    # ---- organisms by slot (a free slot has alive == 0) ----
    alive: np.ndarray       # int8[N]
    oid: np.ndarray         # int64[N]  stable OrganismId, never reused (-1: free slot)
    q: np.ndarray           # int64[N]
    r: np.ndarray           # int64[N]
    facing: np.ndarray      # int64[N]  0..5, grid.FACING_NAMES
    hunger: np.ndarray      # int64[N]  turns since the last meal
    meals: np.ndarray       # int64[N]  meals eaten
    born: np.ndarray        # int64[N]  turn of birth
    parent: np.ndarray      # int64[N]  the eater that begot it, or -1
    generation: np.ndarray  # int64[N]  parent's + 1; 0 for random brains
    # ---- the grid ----
    occupancy: np.ndarray   # int64[W * W]  slot of the organism in the cell, or -1
    # ---- counters: cumulative since turn 0 (metrics.py names them) ----
    totals: np.ndarray      # int64[len(TOTALS)]


TOTALS = ("moves", "meals", "starvations", "births", "replacements", "skipped_spawns",
          "synapse_ops")
T_MOVES, T_MEALS, T_STARVATIONS, T_BIRTHS, T_REPLACEMENTS, T_SKIPPED, T_SYNAPSE_OPS = \
    range(len(TOTALS))


def empty_state(capacity: int, width: int) -> HexState:
    """No organisms on a ``width`` x ``width`` grid, room for ``capacity``."""
    n = capacity
    i64 = lambda fill=0: np.full(n, fill, dtype=np.int64)  # noqa: E731 - local shorthand
    return HexState(alive=np.zeros(n, dtype=np.int8), oid=i64(-1), q=i64(), r=i64(),
                    facing=i64(), hunger=i64(), meals=i64(), born=i64(), parent=i64(-1),
                    generation=i64(), occupancy=np.full(width * width, -1, dtype=np.int64),
                    totals=np.zeros(len(TOTALS), dtype=np.int64))
