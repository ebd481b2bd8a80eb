"""Sensing: fill Ring0 (31 sensor slots) for a round's NPCs from the world as it stands.

The reference sandbox's sensors search Manhattan rings d = 0..31 around the NPC in a fixed order
and take the first hit: up to 1,985 cells per search when nothing is near. The kernel gives the
same answers at a bounded cost: each round lists the cells holding food, items and poison (one
pass over the grid); a scarce kind is found by scanning its list for the nearest cell, ties
broken by place in the reference sandbox's ring order (``ring_index``); a plentiful kind is met
within a few rings by the plain walk. Poison's distance always comes from its list. Other NPCs
are found by the ring walk. ``reference.py`` has the naive version; tests hold the two equal.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from primordia.core.rng import random_u64, stream_id

from . import constants as c
from .tile_index import kind_of

STREAM_SENSE = stream_id("sandbox.sense")

LIST_MIN = 48
"""Lists at least this long are always scanned rather than walked (see ``list_limit``)."""


@njit(cache=True, nogil=True, inline="always")
def ring_cell(cx, cy, d, k):
    """The k-th cell (0 <= k < 4d) of the Manhattan ring of radius d >= 1, in the reference
    sandbox's order: for i = 0..d-1 the four edges in turn (top-right, right-bottom,
    bottom-left, left-top)."""
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


NONE = c.SEARCH_RADIUS + 1
"""The distance of "nothing within 31": a hit is (distance, ring index, cell); a miss
(NONE, 0, -1), which compares after every hit and reads as sensor (31, direction 0)."""


class SenseCache(NamedTuple):
    """Per NPC slot, the nearest food and item found at its last sensing and where it stood,
    and its last similarity partner: reused while they provably still hold."""

    x: np.ndarray           # int64[n]: where the slot was sensed
    y: np.ndarray
    version: np.ndarray     # int64[2, n]: TileIndex.version the hit was valid for; -1 none
    dist: np.ndarray        # int64[2, n]
    ring: np.ndarray        # int64[2, n]
    cell: np.ndarray        # int64[2, n]
    partner: np.ndarray     # int64[n]: slot of the similarity partner; -1 none
    pool: np.ndarray        # int64[n]: genome pool version of that similarity
    similar: np.ndarray     # int64[n]


def new_sense_cache(n: int) -> SenseCache:
    return SenseCache(np.zeros(n, np.int64), np.zeros(n, np.int64),
                      np.full((2, n), -1, np.int64), np.zeros((2, n), np.int64),
                      np.zeros((2, n), np.int64), np.zeros((2, n), np.int64),
                      np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                      np.zeros(n, np.int64))


@njit(cache=True, nogil=True)
def nearest_in_list(cells, n, cx, cy):
    """Manhattan distance to the nearest of ``cells[:n]``, capped at SEARCH_RADIUS."""
    best = c.SEARCH_RADIUS
    for k in range(n):
        d = abs((cells[k] & 0xFFFF) - cx) + abs((cells[k] >> 16) - cy)
        if d < best:
            best = d
    return best


@njit(cache=True, nogil=True)
def first_on_rings(tile, cx, cy, want, max_d):
    """The first tile of kind ``want`` (food or item) that the reference sandbox's walk of rings
    0..max_d meets: (distance, ring index, cell), or (NONE, 0, -1)."""
    h, w = tile.shape
    if kind_of(tile[cy, cx]) == want:
        return 0, 0, (cy << 16) | cx
    for d in range(1, max_d + 1):
        for k in range(4 * d):
            x, y = ring_cell(cx, cy, d, k)
            if x < 0 or y < 0 or x >= w or y >= h:
                continue
            if kind_of(tile[y, x]) == want:
                return d, k, (y << 16) | x
    return NONE, 0, -1


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


@njit(cache=True, nogil=True, inline="always")
def ring_key(dx, dy):
    """(d << 32) | ring index for the cell (cx + dx, cy + dy), d = |dx| + |dy|: the reference
    sandbox's walk meets cells in increasing key order. ``ring_index`` written with selects
    instead of branches, so that a scan over a list of cells vectorises."""
    d = abs(dx) + abs(dy)
    k = 3 - 4 * dy
    k = 2 - 4 * dx if (dx <= 0) & (dy > 0) else k
    k = 4 * dy + 1 if (dx > 0) & (dy >= 0) else k
    k = 4 * dx if (dx >= 0) & (dy < 0) else k
    k = 0 if d == 0 else k
    return (d << 32) | k


@njit(cache=True, nogil=True)
def first_listed(cells, n, cx, cy, best_d, best_k, best_cell):
    """The hit among ``cells[:n]`` that the ring walk would meet first, or the given best
    (distance, ring index, cell) if none comes before it. One pass takes the least
    ``ring_key``; the cell follows from its distance and ring index."""
    best = (np.int64(best_d) << 32) | best_k
    for j in range(n):
        best = min(best, ring_key((cells[j] & 0xFFFF) - cx, (cells[j] >> 16) - cy))
    d = best >> 32
    k = best & 0xFFFFFFFF
    if d == best_d and k == best_k:
        return best_d, best_k, best_cell
    if d == 0:
        return d, k, (np.int64(cy) << 16) | cx
    x, y = ring_cell(cx, cy, d, k)
    return d, k, (np.int64(y) << 16) | x


@njit(cache=True, nogil=True, inline="always")
def nearest_kind(tile, cells, count, added, n_added, gone, version, list_max, c_version,
                 c_dist, c_ring, c_cell, want, i, cx, cy, moved):
    """The nearest food (want 0) or item (1) for NPC slot i at (cx, cy), as the reference
    sandbox's walk finds it: (distance, ring index, cell) or (NONE, 0, -1). The arrays are a
    TileIndex's and a SenseCache's fields, passed one by one (cheaper than the tuples in a hot
    loop).

    If the NPC has not moved since its last sensing and only one index update has happened
    since, the last answer still holds unless its cell was emptied, and only the cells that
    appeared can beat it: scan them, or, when many appeared, walk out to the kept cell (which
    is still there, so the walk stops by then). Otherwise: scan the list when it is short, walk the rings when such
    tiles are plentiful (one is then met within a few rings)."""
    v = version[want]
    cv = c_version[want, i]
    if not moved and cv >= 0:
        if cv == v:
            return c_dist[want, i], c_ring[want, i], c_cell[want, i]
        cell = c_cell[want, i]
        if cv == v - 1 and (cell < 0 or gone[want, cell >> 16, cell & 0xFFFF] != v):
            d = c_dist[want, i]
            if cell >= 0 and 2 * d * d < n_added[want]:
                # many new cells: walking out to the kept one (still there) is cheaper
                return first_on_rings(tile, cx, cy, want, d)
            d, k, hit = first_listed(added[want], n_added[want], cx, cy, d,
                                     c_ring[want, i], cell)
            if d > c.SEARCH_RADIUS:
                return NONE, 0, -1
            return d, k, hit
    n = count[want]
    if n > list_max:
        return first_on_rings(tile, cx, cy, want, c.SEARCH_RADIUS)
    d, k, hit = first_listed(cells[want], n, cx, cy, NONE, 0, -1)
    if d > c.SEARCH_RADIUS:
        return NONE, 0, -1
    return d, k, hit


@njit(cache=True, nogil=True, inline="always")
def as_sensor(cx, cy, d, hit):
    """(distance, direction) sensor values of a hit."""
    if hit < 0:
        return c.SEARCH_RADIUS, 0
    return d, direction_toward(cx, cy, hit & 0xFFFF, hit >> 16)


def list_limit(cells: int) -> int:
    """The list length up to which scanning a list beats walking rings on a grid of ``cells``:
    a walk meets one of n tiles after about cells / n cells, a scan reads n."""
    return max(LIST_MIN, int((3 * cells) ** 0.5))


NEAR_BITS = ((1 << c.S_FEAR) | (1 << c.S_NEAR_DIST) | (1 << c.S_NEAR_ID)
             | (1 << c.S_NEAR_DIR) | (1 << c.S_SIMILARITY))
"""Sensors that need the nearest NPC."""
KIND_BITS = np.array([(1 << c.S_FOOD_DIST) | (1 << c.S_FOOD_DIR),
                      (1 << c.S_ITEM_DIST) | (1 << c.S_ITEM_DIR)], dtype=np.int64)
"""Sensors that need the nearest food (0) and the nearest item (1)."""
ALL_SENSORS = (1 << c.N_SENSORS) - 1


@njit(cache=True, nogil=True)
def sense(s, slots, tick, round_no, seed, base_gas, pool, off, length, pool_version, ix,
          list_max, cache, reach, out):
    """Fill ``out[slot, 0:31]`` for each slot in ``slots``. ``ix`` indexes the tiles as they
    are now (``index_tiles``); ``list_max`` is the list length up to which a list is scanned
    instead of the rings walked; ``cache`` keeps answers that still hold (``pool_version``
    names the genome pool, so that similarities are recomputed when genomes change).
    ``reach[slot]`` has bit k set if that NPC's brain can read sensor k: the searches for
    sensors no brain reads are skipped and those sensors read 0."""
    h, w = s.tile.shape
    cells, count, added, n_added, gone, version = (ix.cells, ix.count, ix.added, ix.n_added,
                                                   ix.gone, ix.version)
    c_x, c_y, c_version, c_dist, c_ring, c_cell = (cache.x, cache.y, cache.version,
                                                   cache.dist, cache.ring, cache.cell)
    partner, partner_pool, similar = cache.partner, cache.pool, cache.similar
    for j in range(slots.shape[0]):
        i = slots[j]
        r = reach[i]
        x = np.int64(s.x[i])
        y = np.int64(s.y[i])
        moved = x != c_x[i] or y != c_y[i]
        c_x[i] = x
        c_y[i] = y
        nd, ns = c.SEARCH_RADIUS, -1
        if r & NEAR_BITS:
            nd, ns = nearest_npc(s.occupant, s.alive, s.health, x, y, i)
        fd = fdir = idist = idir = 0
        for want in range(2):
            if r & KIND_BITS[want] == 0:
                c_version[want, i] = -1          # not kept: the NPC may move meanwhile
                continue
            d, k, hit = nearest_kind(s.tile, cells, count, added, n_added, gone, version,
                                     list_max, c_version, c_dist, c_ring, c_cell, want, i,
                                     x, y, moved)
            c_version[want, i] = version[want]
            c_dist[want, i] = d
            c_ring[want, i] = k
            c_cell[want, i] = hit
            if want == 0:
                fd, fdir = as_sensor(x, y, d, hit)
            else:
                idist, idir = as_sensor(x, y, d, hit)
        if ns >= 0 and r & (1 << c.S_SIMILARITY) and (partner[i] != ns
                                                     or partner_pool[i] != pool_version):
            partner[i] = ns
            partner_pool[i] = pool_version
            similar[i] = similarity(pool, off, length, i, ns)
        o = out[i]
        o[c.S_SELF] = s.npc_id[i]
        o[c.S_HEALTH] = s.health[i]
        o[c.S_ENERGY] = s.energy[i]
        o[c.S_HUNGER] = s.hunger[i]
        o[c.S_FEAR] = nd
        o[c.S_FOOD_DIST] = fd
        o[c.S_DANGER] = nearest_in_list(cells[2], count[2], x, y) \
            if r & (1 << c.S_DANGER) else 0
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
                                            round_no) & np.uint64(31)) \
            if r & (1 << c.S_RANDOM) else 0
        o[c.S_STRESS] = s.stress[i]
        o[c.S_GAS] = effective_gas(s.mod_kind, s.mod_mag, s.mod_left, i, base_gas) \
            if r & (1 << c.S_GAS) else 0
        o[c.S_ON_FORGE] = 1 if s.tile[y, x] == c.FORGE else 0
        o[c.S_LIFE_LEFT] = c.MAX_AGE - s.age[i]
        o[c.S_TAUGHT] = s.taught[i]
        o[c.S_BIOME] = s.biome[y, x]
        o[c.S_TILE] = s.tile[y, x]
        o[c.S_SIMILARITY] = similar[i] if ns >= 0 and r & (1 << c.S_SIMILARITY) else 0
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
