"""One hex turn in plain Python: the readable oracle for the kernels in ``phases.py``.

The rules are docs/worlds/hex.md's ("The turn"), written one organism at a time in id order,
the order the rules speak in (the kernels walk memory order and compare ids instead). It keeps
the world's own state, a ``HexState``, slot for slot -- which free slot a newborn takes and
what a dead organism leaves behind in its slot included -- so tests can ask for equal arrays
after every turn. The brain is not here: a turn takes the actions the brain wrote, and
``birth_genome`` states the brain rule of births through the substrate.

Geometry and the spawn spread are written out from the docs rather than imported from
``grid.py`` and ``config.py``, so a change there shows up as a disagreement too. Draws come
from ``core.rng``'s plain-Python twins of the functions the kernels call: the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from primordia.core.rng import DrawStream, Rng, random_int_py, random_normal_py

from .config import HexConfig
from .state import (T_BIRTHS, T_MEALS, T_MOVES, T_REPLACEMENTS, T_SKIPPED, T_STARVATIONS,
                    T_SYNAPSE_OPS, HexState, empty_state)
from .world import (A_CONFIDENCE, A_LEFT, A_MOVE, A_RIGHT, STREAM_BRAIN, STREAM_FACING,
                    STREAM_MUTATE, STREAM_PLACE)

OFFSETS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))
"""(dq, dr) to the neighbour per facing: East, NorthEast, NorthWest, West, SouthWest,
SouthEast. Turning left is the next facing in this list, turning right the previous."""

Cell = tuple[int, int]


def turn_to(facing: int, left: bool, right: bool) -> int:
    """The facing after a turn: exactly one of left and right turns; both or neither do not."""
    if left and not right:
        return (facing + 1) % 6
    if right and not left:
        return (facing - 1) % 6
    return facing


def ahead(cell: Cell, facing: int, width: int) -> Cell | None:
    """The cell faced from ``cell``, or None off the grid."""
    q, r = cell[0] + OFFSETS[facing][0], cell[1] + OFFSETS[facing][1]
    return (q, r) if 0 <= q < width and 0 <= r < width else None


def spawn_spread(config: HexConfig) -> tuple[float, int]:
    """(deviation, attempts) of spawn placement: max(0.5, W x max(0.05, |max - min|) / 2)
    and max(64, 4 W^2) tries of the Gaussian before the nearest-to-centre fallback."""
    w = config.world_width
    spread = abs(config.center_spawn_max_fraction - config.center_spawn_min_fraction)
    return max(0.5, w * max(0.05, spread) / 2), max(64, 4 * w * w)


@dataclass
class TurnRecord:
    """What one turn did, in the world's terms (its ``TickDelta`` and metrics)."""

    turn: int
    looks: dict[int, int] = field(default_factory=dict)
    """slot -> the ``look`` sensor, for every organism alive at the start of the turn."""
    moves: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    """(id, from q, from r, to q, to r) of every winner, in id order (the world's is a set)."""
    removed: list[int] = field(default_factory=list)
    """Slots: the eaten in their eaters' id order, then the starved in id order."""
    removed_ids: list[int] = field(default_factory=list)
    placed: list[int] = field(default_factory=list)
    """Slots of the newborn, in queue order."""
    parents: list[int] = field(default_factory=list)
    """Per newborn: the parent's slot, or -1 for a replacement."""
    next_id: int = 0
    metrics: dict[str, int] = field(default_factory=dict)
    contested: int = 0
    """Target cells wanted by more than one organism (tests count them to show that a rule
    came up)."""
    tied: int = 0
    """Contested cells whose top confidence was shared (the lower id won)."""
    followed: int = 0
    """Winners that moved into a cell its occupant was leaving (chains, swaps, cycles)."""
    fallbacks: int = 0
    """Newborns placed by the nearest-to-centre fallback after the Gaussian missed."""


def living_by_id(s: HexState) -> list[int]:
    """Slots of the living, in id order."""
    return sorted((i for i in range(len(s.alive)) if s.alive[i]), key=lambda i: int(s.oid[i]))


def play_turn(s: HexState, actions: np.ndarray, config: HexConfig, turn: int, next_id: int,
              synapse_ops: int = 0) -> TurnRecord:
    """Play turn number ``turn`` (the first is 1) on ``s`` in place, given the brain's
    ``actions`` (the world's ``BrainIO`` layout, one row per slot) and the work it counted.
    ``next_id`` is the id the first newborn gets."""
    width = config.world_width
    rec = TurnRecord(turn)
    living = living_by_id(s)
    where = {i: (int(s.q[i]), int(s.r[i])) for i in living}
    occupant = {cell: i for i, cell in where.items()}

    # 1-2. snapshot and sense: everyone sees the grid as it was before anything moves
    for i in living:
        faced = ahead(where[i], int(s.facing[i]), width)
        rec.looks[i] = 1 if faced is not None and faced in occupant else 0

    # 3. the brain's decisions, read back: turn first, then the cell a move forward targets
    facing, target, confidence = {}, {}, {}
    for i in living:
        move, left, right = (int(actions[i, a]) > 0 for a in (A_MOVE, A_LEFT, A_RIGHT))
        facing[i] = turn_to(int(s.facing[i]), left, right)
        confidence[i] = int(actions[i, A_CONFIDENCE])
        faced = ahead(where[i], facing[i], width)
        if move and faced is not None:
            target[i] = faced

    # 4. resolve: per target cell the highest confidence wins, ties to the lower id (the
    # first of the rivals, who are in id order); a winner moves in if the cell is empty or
    # its occupant is itself a winner (it leaves), otherwise it eats the occupant
    rivals: dict[Cell, list[int]] = {}
    for i in living:
        if i in target:
            rivals.setdefault(target[i], []).append(i)
    winner_of: dict[Cell, int] = {}
    for t, wanting in rivals.items():
        top = max(confidence[i] for i in wanting)
        best = [i for i in wanting if confidence[i] == top]
        winner_of[t] = best[0]
        rec.contested += len(wanting) > 1
        rec.tied += len(best) > 1
    winners = sorted(winner_of.values(), key=lambda i: int(s.oid[i]))
    movers = set(winners)
    meal = {i: occupant[target[i]] for i in winners          # eater -> the eaten
            if target[i] in occupant and occupant[target[i]] not in movers}
    rec.followed = sum(target[i] in occupant for i in winners) - len(meal)

    # 5. commit, all at once: facings (the eaten's too), deaths, moves, meals
    for i in living:
        s.facing[i] = facing[i]
    for i in winners:
        rec.moves.append((int(s.oid[i]), *where[i], *target[i]))
    for i in winners:                                  # the eaten die ...
        if i in meal:
            s.alive[meal[i]] = 0
            del occupant[where[meal[i]]]
            rec.removed.append(meal[i])
    for i in winners:                                  # ... winners leave their cells ...
        del occupant[where[i]]
    for i in winners:                                  # ... and enter their targets
        where[i] = target[i]
        s.q[i], s.r[i] = target[i]
        occupant[target[i]] = i
    eaters = [i for i in winners if i in meal]         # id order
    for i in eaters:
        s.hunger[i] = 0
        s.meals[i] += 1
    s.totals[T_MOVES] += len(winners)
    s.totals[T_MEALS] += len(eaters)

    # 6. lifecycle: everyone else alive grows hungrier; at turns_to_starve they starve
    starved = 0
    for i in living:
        if not s.alive[i] or i in meal:
            continue
        s.hunger[i] += 1
        if s.hunger[i] >= config.turns_to_starve:
            s.alive[i] = 0
            del occupant[where[i]]
            rec.removed.append(i)
            starved += 1
    s.totals[T_STARVATIONS] += starved
    rec.removed_ids = [int(s.oid[i]) for i in rec.removed]
    s.occupancy[:] = -1
    for (q, r), i in occupant.items():
        s.occupancy[r * width + q] = i

    # 7. spawn: a reproduction per meal (eaters in id order), then a replacement per starved
    place(s, eaters + [-1] * starved, config, turn, next_id, rec, occupant)
    s.totals[T_SYNAPSE_OPS] += synapse_ops

    # 8. metrics
    rec.metrics = {"turns": turn, "organisms": len(occupant),
                   "synapse_ops_last_turn": synapse_ops,
                   "actions_applied_last_turn": len(winners), "meals_last_turn": len(eaters),
                   "starvations_last_turn": starved, "births_last_turn": len(rec.placed)}
    return rec


def found(config: HexConfig) -> tuple[HexState, TurnRecord]:
    """A new world's state: ``num_organisms`` founders placed at turn 0 by the replacement
    rule (random facings), ids 0, 1, ..."""
    s = empty_state(config.cells, config.world_width)
    rec = TurnRecord(0)
    place(s, [-1] * config.num_organisms, config, 0, 0, rec)
    return s, rec


def place(s: HexState, queue: list[int], config: HexConfig, turn: int, next_id: int,
          rec: TurnRecord, occupant: dict[Cell, int] | None = None) -> None:
    """Phase 7: each request of ``queue`` (a parent's slot, or -1 for a replacement) in order
    gets the next id and the lowest free slot, and lands near the centre; once the grid is
    full the rest are skipped. ``occupant`` (cell -> slot, read from the living if not
    given) is kept up to date with the state; ``rec`` gets the newborn."""
    width = config.world_width
    sigma, attempts = spawn_spread(config)
    if occupant is None:
        occupant = {(int(s.q[i]), int(s.r[i])): i for i in living_by_id(s)}
    free = [i for i in range(len(s.alive)) if not s.alive[i]]
    for n, parent in enumerate(queue):
        if len(occupant) == width * width:
            s.totals[T_SKIPPED] += len(queue) - n
            break
        new_id = next_id + n
        cell, missed = spawn_cell(occupant, width, sigma, attempts, config.seed, turn, new_id)
        rec.fallbacks += missed
        i = free[n]
        s.alive[i], s.oid[i], s.born[i] = 1, new_id, turn
        s.q[i], s.r[i] = cell
        s.hunger[i], s.meals[i] = 0, 0
        if parent >= 0:                    # an offspring: its parent's facing, one generation on
            s.facing[i] = s.facing[parent]
            s.parent[i] = s.oid[parent]
            s.generation[i] = s.generation[parent] + 1
            s.totals[T_BIRTHS] += 1
        else:                              # a replacement: a random facing, generation 0
            s.facing[i] = random_int_py(config.seed, STREAM_FACING, turn, new_id, 0, 0, 6)
            s.parent[i] = -1
            s.generation[i] = 0
            s.totals[T_REPLACEMENTS] += 1
        occupant[cell] = i
        s.occupancy[cell[1] * width + cell[0]] = i
        rec.placed.append(i)
        rec.parents.append(parent)
    rec.next_id = next_id + len(rec.placed)


def spawn_cell(occupant: dict[Cell, int], width: int, sigma: float, attempts: int, seed: int,
               turn: int, new_id: int) -> tuple[Cell, bool]:
    """An empty cell for newborn ``new_id`` and whether the Gaussian missed: attempt ``a``
    rounds (half up) the centre plus ``sigma`` times normal draws 2a (q) and 2a + 1 (r) of
    the key (seed, "hex.place", turn, new_id); after ``attempts`` misses, the empty cell
    nearest the centre (squared axial distance, ties by (r, q)). There is one: the caller
    checks."""
    centre = (width - 1) / 2
    for a in range(attempts):
        q = math.floor(centre + sigma * random_normal_py(seed, STREAM_PLACE, turn, new_id, 2 * a)
                       + 0.5)
        r = math.floor(centre + sigma * random_normal_py(seed, STREAM_PLACE, turn, new_id,
                                                         2 * a + 1) + 0.5)
        if 0 <= q < width and 0 <= r < width and (q, r) not in occupant:
            return (q, r), False
    empty = [(q, r) for r in range(width) for q in range(width) if (q, r) not in occupant]
    return min(empty, key=lambda c: ((c[0] - centre) * (c[0] - centre)
                                     + (c[1] - centre) * (c[1] - centre), c[1], c[0])), True


def birth_genome(substrate: Any, config: HexConfig, turn: int, new_id: int,
                 parent_genome: Any | None) -> Any:
    """The genome of newborn ``new_id``: a replacement's is the substrate's random genome from
    the draws of (seed, "hex.brain", turn, id); an offspring's is its parent's, mutated when
    the first draw of (seed, "hex.mutate", turn, id) is at most ``mutation_chance`` (the
    mutation goes on with the same draws)."""
    rng = Rng(config.seed)
    if parent_genome is None:
        return substrate.random(DrawStream(rng, STREAM_BRAIN, turn, new_id), config.max_genome)
    draws = DrawStream(rng, STREAM_MUTATE, turn, new_id)
    if draws.random() <= config.mutation_chance:
        return substrate.mutate(parent_genome, draws, config.max_genome)
    return parent_genome
