"""Readable twins of the sandbox kernels, for tests: sensing by the reference sandbox's plain
ring search."""

from __future__ import annotations

from . import constants as c
from .sensors import STREAM_SENSE
from primordia.core.rng import random_u64_py


def ring(cx: int, cy: int, d: int):
    """Cells at Manhattan distance d in the reference sandbox's scan order."""
    if d == 0:
        yield cx, cy
        return
    for i in range(d):
        yield cx + i, cy - d + i
        yield cx + d - i, cy + i
        yield cx - i, cy + d - i
        yield cx - d + i, cy - i


def nearest(size_w: int, size_h: int, cx: int, cy: int, hit, first: int = 0):
    """(distance, cell) of the first cell on rings first..31 where ``hit(x, y)``, or
    (31, None)."""
    for d in range(first, c.SEARCH_RADIUS + 1):
        for x, y in ring(cx, cy, d):
            if 0 <= x < size_w and 0 <= y < size_h and hit(x, y):
                return d, (x, y)
    return c.SEARCH_RADIUS, None


def direction(fx: int, fy: int, cell) -> int:
    if cell is None:
        return 0
    dx, dy = cell[0] - fx, cell[1] - fy
    if dx == 0 and dy == 0:
        return 0
    if abs(dy) >= abs(dx):
        return 1 if dy < 0 else 3
    return 2 if dx > 0 else 4


def gas_of(s, i: int, base: int) -> int:
    add = sum(int(s.mod_mag[i, m]) for m in range(c.MOD_SLOTS)
              if s.mod_kind[i, m] == c.MOD_GAS and s.mod_left[i, m] != 0)
    bonus = 0
    while add > 0:
        step = min(add, 50)
        bonus += step
        add = (add - 50) // 2 if add >= 50 else 0
    return min(c.GAS_LIMIT, base + bonus)


def sense_one(s, i: int, tick: int, round_no: int, seed: int, base_gas: int,
              genomes: list[bytes]) -> list[int]:
    """The 31 sensor values of NPC slot i, computed the slow, obvious way."""
    h, w = s.tile.shape
    x, y = int(s.x[i]), int(s.y[i])
    tile = lambda a, b: int(s.tile[b, a])  # noqa: E731
    is_item = lambda t: c.TOOL_TILE <= t <= c.TREASURE_TILE or t == c.CRYSTAL_TILE  # noqa: E731

    def other_npc(a, b):
        o = int(s.occupant[b, a])
        return o >= 0 and o != i and s.alive[o] and s.health[o] > 0

    fd, fcell = nearest(w, h, x, y, lambda a, b: tile(a, b) == c.FOOD)
    pd, _ = nearest(w, h, x, y, lambda a, b: tile(a, b) == c.POISON)
    idist, icell = nearest(w, h, x, y, lambda a, b: is_item(tile(a, b)))
    nd, ncell = nearest(w, h, x, y, other_npc, first=1)
    ns = int(s.occupant[ncell[1], ncell[0]]) if ncell else -1
    if ns >= 0:
        a, b = genomes[i], genomes[ns]
        longer = max(len(a), len(b))
        sim = sum(p == q for p, q in zip(a, b)) * 100 // longer if longer else 0
    else:
        sim = 0
    hx, hy = x + int(c.DX[s.heading[i]]), y + int(c.DY[s.heading[i]])
    ahead = tile(hx, hy) if 0 <= hx < w and 0 <= hy < h else c.WALL
    rnd = random_u64_py(seed, STREAM_SENSE, tick, int(s.npc_id[i]), round_no) & 31
    return [int(s.npc_id[i]), int(s.health[i]), int(s.energy[i]), int(s.hunger[i]), nd, fd, pd,
            nd, x, y, tick % c.DAY, 0, int(s.npc_id[ns]) if ns >= 0 else 0,
            direction(x, y, fcell), int(s.gold[i]), int(s.item[i]), idist, 0,
            direction(x, y, ncell), direction(x, y, icell), rnd, int(s.stress[i]),
            gas_of(s, i, base_gas), 1 if tile(x, y) == c.FORGE else 0,
            c.MAX_AGE - int(s.age[i]), int(s.taught[i]), int(s.biome[y, x]), tile(x, y), sim,
            ahead, int(s.cooldown[y, x])]
