"""Sensing: fill Ring0 (31 sensor slots) for a round's NPCs from the world as it stands.

The seed's sensors search Manhattan rings d = 0..31 around the NPC in a fixed order and take
the first hit: up to 1,985 cells per search when nothing is near. The kernel gives the same
answers at a bounded cost: each round lists the cells holding food, items and poison (one
pass over the grid); a scarce kind is found by scanning its list for the nearest cell, ties
broken by place in the seed's ring order (``ring_index``); a plentiful kind is met within a
few rings by the plain walk. Poison's distance always comes from its list. Other NPCs are
found by the ring walk. ``reference.py`` has the naive version; tests hold the two equal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import random_u64, stream_id

from . import constants as c

STREAM_SENSE = stream_id("sandbox.sense")

LIST_MIN = 48
"""Lists at least this long are always scanned rather than walked (see ``list_limit``)."""


@njit(cache=True, nogil=True, inline="always")
def ring_cell(cx, cy, d, k):
    """The k-th cell (0 <= k < 4d) of the Manhattan ring of radius d >= 1, in the seed's
    order: for i = 0..d-1 the four edges in turn (top-right, right-bottom, bottom-left,
    left-top)."""
    i = k >> 2
    e = k & 3
    if e == 0:
        return cx + i, cy - d + i
    elif e == 1:
        return cx + d - i, cy + i
    elif e == 2:
        return cx - i, cy + d - i
    return cx - d + i, cy - i


@njit(cache=True, nogil=True, inline="always")
def direction_toward(fx, fy, tx, ty):
    """1 N, 2 E, 3 S, 4 W toward (tx, ty); the larger axis wins, a tie goes vertical; 0 if
    the same cell."""
    dx = tx - fx
    dy = ty - fy
    if dx == 0 and dy == 0:
        return 0
    if abs(dy) >= abs(dx):
        return 1 if dy < 0 else 3
    return 2 if dx > 0 else 4


@njit(cache=True, nogil=True, inline="always")
def is_item_tile(t):
    return (t >= c.TOOL_TILE and t <= c.TREASURE_TILE) or t == c.CRYSTAL_TILE


@njit(cache=True, nogil=True)
def nearest_npc(occupant, alive, health, cx, cy, me):
    """(distance, slot) of the first living NPC other than ``me`` on rings 1..31, or (31, -1)."""
    h, w = occupant.shape
    for d in range(1, c.SEARCH_RADIUS + 1):
        for k in range(4 * d):
            x, y = ring_cell(cx, cy, d, k)
            if x < 0 or y < 0 or x >= w or y >= h:
                continue
            s = occupant[y, x]
            if s >= 0 and s != me and alive[s] != 0 and health[s] > 0:
                return d, s
    return c.SEARCH_RADIUS, -1


@njit(cache=True, nogil=True)
def effective_gas(mod_kind, mod_mag, mod_left, i, base):
    """Base gas plus the gas modifiers with diminishing returns (each further 50 counts half),
    at most GAS_LIMIT."""
    add = 0
    for m in range(c.MOD_SLOTS):
        if mod_kind[i, m] == c.MOD_GAS and mod_left[i, m] != 0:
            add += mod_mag[i, m]
    bonus = 0
    while add > 0:
        if add >= 50:
            bonus += 50
            add = (add - 50) // 2
        else:
            bonus += add
            add = 0
    return min(c.GAS_LIMIT, base + bonus)


@njit(cache=True, nogil=True)
def similarity(pool, off, length, a, b):
    """Sensor 28: bytes equal at the same position x 100 // the longer genome's length."""
    la = length[a]
    lb = length[b]
    longer = max(la, lb)
    if longer == 0:
        return 0
    same = 0
    for k in range(min(la, lb)):
        if pool[off[a] + k] == pool[off[b] + k]:
            same += 1
    return same * 100 // longer


@njit(cache=True, nogil=True)
def tile_lists(tile, food, items, poison):
    """The cells holding food, items and poison, in one pass, each as (y << 16) | x (cheaper
    to take apart than y * width + x); their counts."""
    nf = ni = npo = 0
    h, w = tile.shape
    for y in range(h):
        for x in range(w):
            t = tile[y, x]
            if t == c.FOOD:
                food[nf] = (y << 16) | x
                nf += 1
            elif is_item_tile(t):
                items[ni] = (y << 16) | x
                ni += 1
            elif t == c.POISON:
                poison[npo] = (y << 16) | x
                npo += 1
    return nf, ni, npo


@njit(cache=True, nogil=True)
def nearest_in_list(cells, cx, cy):
    """Manhattan distance to the nearest listed cell, capped at SEARCH_RADIUS."""
    best = c.SEARCH_RADIUS
    for k in range(cells.shape[0]):
        d = abs((cells[k] & 0xFFFF) - cx) + abs((cells[k] >> 16) - cy)
        if d < best:
            best = d
    return best


@njit(cache=True, nogil=True)
def nearest_on_rings(tile, cx, cy, want):
    """(distance, direction) of the first tile of category ``want`` (0 food, 1 item) on rings
    0..31 in the seed's order, or (31, 0)."""
    h, w = tile.shape
    t = tile[cy, cx]
    if (want == 0 and t == c.FOOD) or (want == 1 and is_item_tile(t)):
        return 0, 0
    for d in range(1, c.SEARCH_RADIUS + 1):
        for k in range(4 * d):
            x, y = ring_cell(cx, cy, d, k)
            if x < 0 or y < 0 or x >= w or y >= h:
                continue
            t = tile[y, x]
            if (want == 0 and t == c.FOOD) or (want == 1 and is_item_tile(t)):
                return d, direction_toward(cx, cy, x, y)
    return c.SEARCH_RADIUS, 0


@njit(cache=True, nogil=True, inline="always")
def ring_index(dx, dy, d):
    """Where the cell (cx + dx, cy + dy) comes in the walk of its ring d = |dx| + |dy| >= 1:
    the inverse of ``ring_cell``."""
    if dx >= 0 and dy < 0:
        return 4 * dx
    if dx > 0 and dy >= 0:
        return 4 * dy + 1
    if dx <= 0 and dy > 0:
        return 4 * -dx + 2
    return 4 * -dy + 3


@njit(cache=True, nogil=True)
def nearest_listed(cells, cx, cy):
    """(distance, direction) of the listed cell the seed's ring walk would meet first: the
    nearest, ties broken by place in the ring; (31, 0) if none lies within 31."""
    best_d = c.SEARCH_RADIUS + 1
    best_k = 0
    bx = by = 0
    for j in range(cells.shape[0]):
        x = cells[j] & 0xFFFF
        y = cells[j] >> 16
        dx = x - cx
        dy = y - cy
        d = abs(dx) + abs(dy)
        if d > best_d:
            continue
        k = ring_index(dx, dy, d) if d > 0 else 0
        if d < best_d or k < best_k:
            best_d, best_k, bx, by = d, k, x, y
    if best_d > c.SEARCH_RADIUS:
        return c.SEARCH_RADIUS, 0
    return best_d, direction_toward(cx, cy, bx, by)


@njit(cache=True, nogil=True)
def nearest_tile(tile, cells, list_max, cx, cy, want):
    """(distance, direction) to the nearest food (want 0) or item (1), as the seed's walk
    finds it: from the list of such cells when it is short, by walking the rings when they
    are plentiful (one is then met within a few rings)."""
    if cells.shape[0] > list_max:
        return nearest_on_rings(tile, cx, cy, want)
    return nearest_listed(cells, cx, cy)


def list_limit(cells: int) -> int:
    """The list length up to which scanning a list beats walking rings on a grid of ``cells``:
    a walk meets one of n tiles after about cells / n cells, a scan reads n."""
    return max(LIST_MIN, int((3 * cells) ** 0.5))


@njit(cache=True, nogil=True)
def sense(s, slots, tick, round_no, seed, base_gas, pool, off, length, food, items, poison,
          list_max, out):
    """Fill ``out[slot, 0:31]`` for each slot in ``slots``. ``food``, ``items`` and
    ``poison`` list the cells holding them now (``tile_lists``); ``list_max`` is the count up
    to which a list is searched instead of the rings."""
    h, w = s.tile.shape
    for j in range(slots.shape[0]):
        i = slots[j]
        x = np.int64(s.x[i])
        y = np.int64(s.y[i])
        nd, ns = nearest_npc(s.occupant, s.alive, s.health, x, y, i)
        fd, fdir = nearest_tile(s.tile, food, list_max, x, y, 0)
        idist, idir = nearest_tile(s.tile, items, list_max, x, y, 1)
        o = out[i]
        o[c.S_SELF] = s.npc_id[i]
        o[c.S_HEALTH] = s.health[i]
        o[c.S_ENERGY] = s.energy[i]
        o[c.S_HUNGER] = s.hunger[i]
        o[c.S_FEAR] = nd
        o[c.S_FOOD_DIST] = fd
        o[c.S_DANGER] = nearest_in_list(poison, x, y)
        o[c.S_NEAR_DIST] = nd
        o[c.S_X] = x
        o[c.S_Y] = y
        o[c.S_DAY] = tick % c.DAY
        o[c.S_UNUSED] = 0
        o[c.S_NEAR_ID] = s.npc_id[ns] if ns >= 0 else 0
        o[c.S_FOOD_DIR] = fdir
        o[c.S_GOLD] = s.gold[i]
        o[c.S_ITEM] = s.item[i]
        o[c.S_ITEM_DIST] = idist
        o[c.S_TRUST] = 0
        o[c.S_NEAR_DIR] = direction_toward(x, y, s.x[ns], s.y[ns]) if ns >= 0 else 0
        o[c.S_ITEM_DIR] = idir
        o[c.S_RANDOM] = np.int64(random_u64(seed, STREAM_SENSE, tick, s.npc_id[i],
                                            round_no) & np.uint64(31))
        o[c.S_STRESS] = s.stress[i]
        o[c.S_GAS] = effective_gas(s.mod_kind, s.mod_mag, s.mod_left, i, base_gas)
        o[c.S_ON_FORGE] = 1 if s.tile[y, x] == c.FORGE else 0
        o[c.S_LIFE_LEFT] = c.MAX_AGE - s.age[i]
        o[c.S_TAUGHT] = s.taught[i]
        o[c.S_BIOME] = s.biome[y, x]
        o[c.S_TILE] = s.tile[y, x]
        o[c.S_SIMILARITY] = similarity(pool, off, length, i, ns) if ns >= 0 else 0
        ax = x + c.DX[s.heading[i]]
        ay = y + c.DY[s.heading[i]]
        o[c.S_TILE_AHEAD] = s.tile[ay, ax] if 0 <= ax < w and 0 <= ay < h else c.WALL
        o[c.S_COOLDOWN] = s.cooldown[y, x]


@njit(cache=True, nogil=True)
def effective_gas_all(s, slots, base_gas, out):
    """Each listed NPC's gas for this tick's think."""
    for j in range(slots.shape[0]):
        i = slots[j]
        out[i] = effective_gas(s.mod_kind, s.mod_mag, s.mod_left, i, base_gas)
