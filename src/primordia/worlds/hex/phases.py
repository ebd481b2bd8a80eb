"""The hex turn's phases as numba kernels, in the order ``HexWorld.tick`` runs them.

Each kernel takes the whole ``HexState`` and the organisms to work on in slot order
(``slots``: memory order, cheapest to walk). Where the rules need id order -- ties go to the
lower id, reproductions are queued and removals listed by id -- the kernels compare or sort
ids, so no result depends on where organisms sit in memory (only the order of the delta's
move list, which is a set).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import key_prefix, normal_from_u64, random_int, random_u64_at

from .grid import neighbour, turned
from .state import T_MEALS, T_MOVES, T_SKIPPED, T_STARVATIONS

MOVE, EAT = 0, 1


@njit(cache=True, nogil=True)
def sense(s, slots, width, look, sensors):
    """Phases 1-2, snapshot and sense: ``look`` is 1 where the faced cell holds another
    organism (out of bounds: 0). Nothing has moved yet, so the occupancy table is the
    snapshot every organism sees."""
    for j in range(slots.shape[0]):
        i = slots[j]
        c = neighbour(s.q[i], s.r[i], s.facing[i], width)
        sensors[i, look] = 1 if c >= 0 and s.occupancy[c] >= 0 else 0


@njit(cache=True, nogil=True)
def intents(s, slots, actions, width, a_move, a_left, a_right, a_conf, new_facing, target,
            confidence):
    """Phase 3's result read back: the facing after turning, the target cell of a move
    forward (-1: no move, or off the grid) and the confidence (the ``confidence`` action,
    16.16 fixed point; 0 when the world's layout has none). An action is on when > 0."""
    for j in range(slots.shape[0]):
        i = slots[j]
        f = turned(s.facing[i], actions[i, a_left] > 0, actions[i, a_right] > 0)
        new_facing[i] = f
        target[i] = neighbour(s.q[i], s.r[i], f, width) if actions[i, a_move] > 0 else -1
        confidence[i] = actions[i, a_conf] if a_conf >= 0 else 0


@njit(cache=True, nogil=True)
def resolve(s, slots, target, confidence, best, moving, winner, kind, victim):
    """Phase 4, all moves at once: per target cell the highest confidence wins, ties to the
    lower id. A winner moves in if the cell is empty or its occupant also moves this turn (it
    won a cell of its own, so it leaves: swaps and longer cycles just work); otherwise it eats
    the occupant and takes the cell. Writes the winners to ``winner[:k]`` (in the order of
    ``slots``) with ``kind`` (MOVE/EAT) and ``victim`` (the eaten slot or -1). ``best`` (per
    cell, -1) and ``moving`` (per slot, False) are scratch, left as they were found."""
    for j in range(slots.shape[0]):
        i = slots[j]
        t = target[i]
        if t >= 0:
            b = best[t]
            if b < 0 or confidence[i] > confidence[b] or \
                    (confidence[i] == confidence[b] and s.oid[i] < s.oid[b]):
                best[t] = i
    k = 0
    for j in range(slots.shape[0]):        # each target has one winner: it resets the cell
        i = slots[j]
        t = target[i]
        if t >= 0 and best[t] == i:
            best[t] = -1
            moving[i] = True
            winner[k] = i
            k += 1
    for j in range(k):
        i = winner[j]
        o = s.occupancy[target[i]]
        if o < 0 or moving[o]:
            kind[j] = MOVE
            victim[j] = -1
        else:
            kind[j] = EAT
            victim[j] = o
    for j in range(k):
        moving[winner[j]] = False
    return k


@njit(cache=True, nogil=True)
def commit(s, slots, new_facing, target, winner, kind, victim, k, width, moves, removed,
           parents, ate):
    """Phase 5, atomically: every organism takes its new facing; the eaten die; winners
    leave their cells, then enter their targets; eaters' hunger resets, their meals count
    and each queues one reproduction (``parents``, in id order: ids are given in queue
    order; ``ate`` marks them). ``moves[j]`` gets (id, from q, from r, to q, to r) of winner
    j; ``removed`` the eaten slots, in their eaters' order. Returns how many were eaten."""
    for j in range(slots.shape[0]):
        i = slots[j]
        s.facing[i] = new_facing[i]
    eats = 0
    for j in range(k):
        i = winner[j]
        t = target[i]
        moves[j, 0] = s.oid[i]
        moves[j, 1] = s.q[i]
        moves[j, 2] = s.r[i]
        moves[j, 3] = t % width
        moves[j, 4] = t // width
        s.occupancy[s.r[i] * width + s.q[i]] = -1
        if kind[j] == EAT:
            parents[eats] = i
            removed[eats] = victim[j]
            eats += 1
    for j in range(k):
        i = winner[j]
        s.occupancy[target[i]] = i
        s.q[i] = moves[j, 3]
        s.r[i] = moves[j, 4]
    if eats > 1:                           # winners came in slot order; eaters go by id
        ids = np.empty(eats, dtype=np.int64)
        for j in range(eats):
            ids[j] = s.oid[parents[j]]
        perm = np.argsort(ids)             # ids are distinct: any sort gives one order
        parents[:eats] = parents[:eats][perm]
        removed[:eats] = removed[:eats][perm]
    for j in range(eats):
        i = parents[j]
        s.alive[removed[j]] = 0
        s.hunger[i] = 0
        s.meals[i] += 1
        ate[i] = True
    s.totals[T_MOVES] += k
    s.totals[T_MEALS] += eats
    return eats


@njit(cache=True, nogil=True)
def lifecycle(s, slots, ate, turns_to_starve, width, removed, n_removed):
    """Phase 6: every living organism that did not eat this turn grows hungrier; at
    ``turns_to_starve`` it starves (its slot is appended to ``removed``, in id order, and a
    replacement will be queued). Returns the new length of ``removed``."""
    first = n_removed
    for j in range(slots.shape[0]):
        i = slots[j]
        if s.alive[i] == 0 or ate[i]:
            continue
        s.hunger[i] += 1
        if s.hunger[i] >= turns_to_starve:
            s.alive[i] = 0
            s.occupancy[s.r[i] * width + s.q[i]] = -1
            removed[n_removed] = i
            n_removed += 1
            s.totals[T_STARVATIONS] += 1
    if n_removed - first > 1:
        ids = np.empty(n_removed - first, dtype=np.int64)
        for j in range(first, n_removed):
            ids[j - first] = s.oid[removed[j]]
        removed[first:n_removed] = removed[first:n_removed][np.argsort(ids)]
    return n_removed


@njit(cache=True, nogil=True)
def spawn(s, parents, n_requests, free_slots, first_id, turn, seed, stream, facing_stream,
          width, sigma, attempts, placed_slots):
    """Phase 7, the spawn queue in order: ``parents[r]`` is the parent's slot of request r
    (an offspring: it copies the parent's facing) or -1 (a replacement: a random facing).
    Each lands on an empty cell drawn from a Gaussian around the centre, (W - 1) / 2 on both
    axes with deviation ``sigma``, rounded; after ``attempts`` misses, the empty cell nearest
    the centre (squared axial distance; ties by (r, q)). Request r gets id ``first_id + r``
    and slot ``free_slots[r]``; when the grid is full the rest are skipped. Draws are keyed
    by the new id. Returns how many were placed (their slots in ``placed_slots``)."""
    centre = (width - 1) / 2.0
    cells = width * width
    empty = cells
    for i in range(s.alive.shape[0]):
        if s.alive[i] != 0:
            empty -= 1
    placed = 0
    for req in range(n_requests):
        if empty == 0:
            s.totals[T_SKIPPED] += n_requests - req
            break
        new_id = first_id + req
        cell = -1
        key = key_prefix(seed, stream, turn, new_id)       # draws 2a, 2a + 1 of this key
        for a in range(attempts):
            q = np.int64(np.floor(centre + sigma * normal_from_u64(random_u64_at(key, 2 * a))
                                  + 0.5))
            r = np.int64(np.floor(centre + sigma * normal_from_u64(random_u64_at(key, 2 * a + 1))
                                  + 0.5))
            if 0 <= q < width and 0 <= r < width and s.occupancy[r * width + q] < 0:
                cell = r * width + q
                break
        if cell < 0:
            best = np.inf
            for c in range(cells):
                if s.occupancy[c] < 0:
                    dq = c % width - centre
                    dr = c // width - centre
                    d = dq * dq + dr * dr
                    if d < best:
                        best = d
                        cell = c
        i = free_slots[req]
        p = parents[req]
        s.alive[i] = 1
        s.oid[i] = new_id
        s.q[i] = cell % width
        s.r[i] = cell // width
        s.hunger[i] = 0
        s.meals[i] = 0
        s.born[i] = turn
        if p >= 0:
            s.facing[i] = s.facing[p]
            s.parent[i] = s.oid[p]
            s.generation[i] = s.generation[p] + 1
        else:
            s.facing[i] = random_int(seed, facing_stream, turn, new_id, 0, 0, 6)
            s.parent[i] = -1
            s.generation[i] = 0
        s.occupancy[cell] = i
        placed_slots[placed] = i
        placed += 1
        empty -= 1
    return placed


@njit(cache=True, nogil=True)
def organism_table(s, slots):
    """Rows of (id, q, r, facing, hunger, meals, generation, parent, born) for ``slots``."""
    out = np.empty((slots.shape[0], 9), dtype=np.int64)
    for j in range(slots.shape[0]):
        i = slots[j]
        out[j, 0], out[j, 1], out[j, 2] = s.oid[i], s.q[i], s.r[i]
        out[j, 3], out[j, 4], out[j, 5] = s.facing[i], s.hunger[i], s.meals[i]
        out[j, 6], out[j, 7], out[j, 8] = s.generation[i], s.parent[i], s.born[i]
    return out
