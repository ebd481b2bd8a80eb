"""Where food, items and poison lie, kept up to date from the cells that change.

Sensing asks for the nearest food or item many times per round, and the world's turn counts
tiles and rots poison once per tick; both read this index instead of the whole grid. An
update compares the grid with the tiles as last indexed, 32 cells at a time, and handles only
the cells that changed, so a round that changed a handful of tiles costs little more than the
comparison. Besides the lists it records what the update changed (cells that appeared, the
version at which a cell was emptied), which lets sensing keep answers that still hold.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from . import constants as c

FOOD_KIND, ITEM_KIND, POISON_KIND = 0, 1, 2
"""The kinds the index lists (``kind_of``)."""


@njit(cache=True, nogil=True, inline="always")
def is_item_tile(t):
    """Tools, weapons, treasures and crystals lying on the ground."""
    return (t >= c.TOOL_TILE and t <= c.TREASURE_TILE) or t == c.CRYSTAL_TILE


class TileIndex(NamedTuple):
    """Where food, items and poison lie, kept up to date round by round, and what changed:
    ``cells[kind, :count[kind]]`` lists the cells holding each kind as (y << 16) | x, in no
    particular order (no answer depends on it); ``added[kind, :n_added[kind]]`` the food and
    item cells that appeared in the last update, ``gone[kind, y, x]`` the version at which a
    cell lost its food or item, and ``version[kind]`` counts the updates that changed that
    kind."""

    prev: np.ndarray        # uint8[h, w]: the tiles as last indexed (255: never)
    cells: np.ndarray       # int64[3, h * w]
    count: np.ndarray       # int64[3]
    where: np.ndarray       # int64[h * w]: a listed cell's place in its list
    added: np.ndarray       # int64[2, h * w]
    n_added: np.ndarray     # int64[2]
    gone: np.ndarray        # int64[2, h, w]
    version: np.ndarray     # int64[2]


def new_tile_index(h: int, w: int) -> TileIndex:
    """An empty index: the first update lists every cell. Arrays start as zeros, so pages the
    world never uses cost no memory (a stamp of 0 is never a current version, which starts at
    1)."""
    return TileIndex(np.full((h, w), 255, dtype=np.uint8), np.zeros((3, h * w), np.int64),
                     np.zeros(3, np.int64), np.zeros(h * w, np.int64),
                     np.zeros((2, h * w), np.int64), np.zeros(2, np.int64),
                     np.zeros((2, h, w), np.int64), np.zeros(2, np.int64))


@njit(cache=True, nogil=True, inline="always")
def kind_of(t):
    """0 food, 1 item, 2 poison, -1 anything else."""
    if t == c.FOOD:
        return FOOD_KIND
    if is_item_tile(t):
        return ITEM_KIND
    if t == c.POISON:
        return POISON_KIND
    return -1


@njit(cache=True, nogil=True, inline="always")
def _reindex(prev, cells, count, where, added, gone, version, q, t, w, v0, v1, a0, a1):
    """Cell q (y * w + x) now holds tile t: move it between lists, note what appeared and
    what was emptied. Returns the updated counts of appeared food and item cells. (The
    index's arrays come one by one: reading them from the tuple in a loop costs reference
    counting on every access.)"""
    p = prev[q]
    prev[q] = t
    was = kind_of(p)
    now = kind_of(t)
    if was == now:
        return a0, a1
    y = q // w
    cell = (y << 16) | (q - y * w)
    if was >= 0:                                 # out of its list: the last takes its place
        last = count[was] - 1
        moved = cells[was, last]
        cells[was, where[q]] = moved
        where[(moved >> 16) * w + (moved & 0xFFFF)] = where[q]
        count[was] = last
        if was < 2:
            gone[was, y, q - y * w] = v0 if was == 0 else v1
            version[was] = v0 if was == 0 else v1
    if now >= 0:
        where[q] = count[now]
        cells[now, count[now]] = cell
        count[now] += 1
        if now == 0:
            added[0, a0] = cell
            a0 += 1
            version[0] = v0
        elif now == 1:
            added[1, a1] = cell
            a1 += 1
            version[1] = v1
    return a0, a1


@njit(cache=True, nogil=True)
def index_tiles(tile, ix):
    """Bring the index up to the tiles as they are. Rounds change few tiles: the grid is
    compared with the last one 32 cells (four 8-byte words) at a time, and only changed
    cells are handled."""
    h, w = tile.shape
    n = h * w
    cells, count, where, added, gone, version = (ix.cells, ix.count, ix.where, ix.added,
                                                 ix.gone, ix.version)
    flat = tile.reshape(n)
    prev = ix.prev.reshape(n)
    v0 = version[0] + 1                          # the versions if this update changes a kind
    v1 = version[1] + 1
    a0 = a1 = 0                                  # cells that appeared, per kind
    blocks = n // 32
    now_w = flat[:blocks * 32].view(np.uint64)
    prev_w = prev[:blocks * 32].view(np.uint64)
    for b in range(blocks):
        k = 4 * b
        if ((now_w[k] ^ prev_w[k]) | (now_w[k + 1] ^ prev_w[k + 1])
                | (now_w[k + 2] ^ prev_w[k + 2]) | (now_w[k + 3] ^ prev_w[k + 3])) != 0:
            for k8 in range(k, k + 4):
                if now_w[k8] != prev_w[k8]:
                    for q in range(8 * k8, 8 * k8 + 8):
                        if flat[q] != prev[q]:
                            a0, a1 = _reindex(prev, cells, count, where, added, gone, version,
                                              q, flat[q], w, v0, v1, a0, a1)
    for q in range(blocks * 32, n):              # the last few cells
        if flat[q] != prev[q]:
            a0, a1 = _reindex(prev, cells, count, where, added, gone, version, q, flat[q], w,
                              v0, v1, a0, a1)
    # ``added`` describes the update that made the current version: a kind this update left
    # alone keeps the list of the update before
    if version[0] == v0:
        ix.n_added[0] = a0
    if version[1] == v1:
        ix.n_added[1] = a1
