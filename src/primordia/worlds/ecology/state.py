"""The ecology world's state: numpy arrays for the map (by tile) and the organisms (by slot).

Kernels take the whole ``EcologyState`` (a NamedTuple: numba sees named fields) and change it
in place. With the genomes and the brain's own state it is everything that decides the
future, so its digest fingerprints a run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# tile kinds (docs/worlds/ecology.md, "The map")
OPEN, FERTILE, OBSTACLE, HAZARD, RADIATION = range(5)
KIND_NAMES = ("open", "fertile", "obstacle", "hazard", "radiation")

# direction codes 1..8 of the ``move`` action; index 0 is "stay"
DIR_DX = np.array([0, 1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
DIR_DY = np.array([0, 0, -1, -1, -1, 0, 1, 1, 1], dtype=np.int64)

CHANNELS = 4
MAX_NEIGHBORS = 8
NEIGHBOR_WORDS = 4
FOOD_CAP = (1 << 20) - 1


class EcologyState(NamedTuple):
    # ---- the map, by tile (y * width + x) ----
    kind: np.ndarray         # int8[T]   fixed for the run
    resource: np.ndarray     # int64[T]  Q8 (1/256 energy); fertile tiles only
    corpse: np.ndarray       # int64[T]  whole energy units
    occupancy: np.ndarray    # int32[T]  slot of the organism standing there, or -1
    signal: np.ndarray       # int8[T]   channel + 1 emitted there last tick, 0 none
    signal_value: np.ndarray  # int32[T]
    # ---- organisms, by slot (a free slot has alive == 0) ----
    alive: np.ndarray        # int8[N]
    oid: np.ndarray          # int64[N]  stable id, never reused (-1: free slot)
    x: np.ndarray            # int64[N]
    y: np.ndarray            # int64[N]
    energy: np.ndarray       # int64[N]
    born: np.ndarray         # int64[N]  tick of birth
    parent: np.ndarray       # int64[N]  parent's id, -1 for founders and random organisms
    generation: np.ndarray   # int64[N]
    lineage: np.ndarray      # int64[N]  id of the founder or random organism it descends from
    tag: np.ndarray          # int64[N]  32-bit lineage tag (kinship)
    genome_bytes: np.ndarray  # int64[N] length of the genome's canonical encoding
    offspring: np.ndarray    # int64[N]  children born
    kills: np.ndarray        # int64[N]
    eaten: np.ndarray        # int64[N]  energy eaten in its life
    moved: np.ndarray        # int64[N]  steps taken
    assists: np.ndarray      # int64[N]  victims it hurt that died in the same tick, not by its hit
    signals: np.ndarray      # int64[N]  signals emitted
    birth_energy: np.ndarray  # int64[N] energy it started with (start_energy or its share)
    # ---- counters since tick 0 ----
    totals: np.ndarray       # int64[len(TOTALS)]


TOTALS = ("births", "deaths", "kills", "moves", "meals", "attacks", "signals", "placed",
          "failed_births", "assists")
T_BIRTHS, T_DEATHS, T_KILLS, T_MOVES, T_MEALS, T_ATTACKS, T_SIGNALS, T_PLACED, \
    T_FAILED_BIRTHS, T_ASSISTS = range(len(TOTALS))


def empty_state(capacity: int, width: int, height: int) -> EcologyState:
    """No organisms, an all-open map of ``width`` x ``height``, room for ``capacity``."""
    t, n = width * height, capacity
    i64 = lambda fill=0: np.full(n, fill, dtype=np.int64)  # noqa: E731 - local shorthand
    return EcologyState(
        kind=np.zeros(t, dtype=np.int8), resource=np.zeros(t, dtype=np.int64),
        corpse=np.zeros(t, dtype=np.int64), occupancy=np.full(t, -1, dtype=np.int32),
        signal=np.zeros(t, dtype=np.int8), signal_value=np.zeros(t, dtype=np.int32),
        alive=np.zeros(n, dtype=np.int8), oid=i64(-1), x=i64(), y=i64(), energy=i64(),
        born=i64(), parent=i64(-1), generation=i64(), lineage=i64(-1), tag=i64(),
        genome_bytes=i64(), offspring=i64(), kills=i64(), eaten=i64(), moved=i64(),
        assists=i64(), signals=i64(), birth_energy=i64(),
        totals=np.zeros(len(TOTALS), dtype=np.int64))


def copy_state(s: EcologyState) -> EcologyState:
    return EcologyState(*(a.copy() for a in s))


class Advance(NamedTuple):
    """What phases 3-12 of a tick did that the world must tell the brain: the slots that
    died (oid order), the births as rows (parent slot, child slot, mutation rounds) in birth
    order, the random organisms placed by the top-up (slots, in order), and the next id."""

    died: np.ndarray     # int64[D]
    births: np.ndarray   # int64[B, 3]
    placed: np.ndarray   # int64[P]
    next_id: int
