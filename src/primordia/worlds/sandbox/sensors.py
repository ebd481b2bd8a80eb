"""Sensing: fill Ring0 (31 sensor slots) for a round's NPCs from the world as it stands.

The seed's sensors search Manhattan rings d = 0..31 around the NPC in a fixed order and take
the first hit. Done naively that is up to 1,985 cells per search, and poison is usually not
found at all. The kernel instead computes, once per round, the exact Manhattan distance to the
nearest food, poison and item tile for every cell (two raster passes), and only walks the one
ring at that distance to find which tile the ring order meets first (for its direction). Other
NPCs are dense, so they are found by the plain ring walk. ``reference.py`` has the naive
version; tests hold the two equal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import random_u64, stream_id

from . import constants as c

STREAM_SENSE = stream_id("sandbox.sense")

FAR = np.int32(10_000)
"""Distance-field value for 'no such tile anywhere' (anything > SEARCH_RADIUS reads as 31)."""


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
def _first_on_ring(tile, cx, cy, d, want):
    """Direction to the first tile of category ``want`` (0 food, 1 item) met on ring d."""
    h, w = tile.shape
    if d == 0:
        return 0
    for k in range(4 * d):
        x, y = ring_cell(cx, cy, d, k)
        if x < 0 or y < 0 or x >= w or y >= h:
            continue
        t = tile[y, x]
        if (want == 0 and t == c.FOOD) or (want == 1 and is_item_tile(t)):
            return direction_toward(cx, cy, x, y)
    return 0


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
def sense(s, slots, tick, round_no, seed, base_gas, pool, off, length, food_d, poison_d,
          item_d, out):
    """Fill ``out[slot, 0:31]`` for each slot in ``slots``. ``food_d``, ``poison_d`` and
    ``item_d`` are this round's distance fields."""
    h, w = s.tile.shape
    r = c.SEARCH_RADIUS
    for j in range(slots.shape[0]):
        i = slots[j]
        x = np.int64(s.x[i])
        y = np.int64(s.y[i])
        nd, ns = nearest_npc(s.occupant, s.alive, s.health, x, y, i)
        fd = min(np.int64(food_d[y, x]), r)
        idist = min(np.int64(item_d[y, x]), r)
        o = out[i]
        o[c.S_SELF] = s.npc_id[i]
        o[c.S_HEALTH] = s.health[i]
        o[c.S_ENERGY] = s.energy[i]
        o[c.S_HUNGER] = s.hunger[i]
        o[c.S_FEAR] = nd
        o[c.S_FOOD_DIST] = fd
        o[c.S_DANGER] = min(np.int64(poison_d[y, x]), r)
        o[c.S_NEAR_DIST] = nd
        o[c.S_X] = x
        o[c.S_Y] = y
        o[c.S_DAY] = tick % c.DAY
        o[c.S_UNUSED] = 0
        o[c.S_NEAR_ID] = s.npc_id[ns] if ns >= 0 else 0
        o[c.S_FOOD_DIR] = _first_on_ring(s.tile, x, y, fd, 0) if food_d[y, x] <= r else 0
        o[c.S_GOLD] = s.gold[i]
        o[c.S_ITEM] = s.item[i]
        o[c.S_ITEM_DIST] = idist
        o[c.S_TRUST] = 0
        o[c.S_NEAR_DIR] = direction_toward(x, y, s.x[ns], s.y[ns]) if ns >= 0 else 0
        o[c.S_ITEM_DIR] = _first_on_ring(s.tile, x, y, idist, 1) if item_d[y, x] <= r else 0
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
def distance_fields(tile, food_d, poison_d, item_d):
    """This round's three distance fields (food, poison, items), in one pair of passes."""
    h, w = tile.shape
    for y in range(h):
        for x in range(w):
            t = tile[y, x]
            f = FAR
            p = FAR
            it = FAR
            if y > 0:
                f = food_d[y - 1, x] + 1
                p = poison_d[y - 1, x] + 1
                it = item_d[y - 1, x] + 1
            if x > 0:
                f = min(f, food_d[y, x - 1] + 1)
                p = min(p, poison_d[y, x - 1] + 1)
                it = min(it, item_d[y, x - 1] + 1)
            food_d[y, x] = 0 if t == c.FOOD else min(f, FAR)
            poison_d[y, x] = 0 if t == c.POISON else min(p, FAR)
            item_d[y, x] = 0 if is_item_tile(t) else min(it, FAR)
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            f = food_d[y, x]
            p = poison_d[y, x]
            it = item_d[y, x]
            if y + 1 < h:
                f = min(f, food_d[y + 1, x] + 1)
                p = min(p, poison_d[y + 1, x] + 1)
                it = min(it, item_d[y + 1, x] + 1)
            if x + 1 < w:
                f = min(f, food_d[y, x + 1] + 1)
                p = min(p, poison_d[y, x + 1] + 1)
                it = min(it, item_d[y, x + 1] + 1)
            food_d[y, x] = f
            poison_d[y, x] = p
            item_d[y, x] = it


@njit(cache=True, nogil=True)
def effective_gas_all(s, slots, base_gas, out):
    """Each listed NPC's gas for this tick's think."""
    for j in range(slots.shape[0]):
        i = slots[j]
        out[i] = effective_gas(s.mod_kind, s.mod_mag, s.mod_left, i, base_gas)
