"""After the action rounds: auto-actions, modifiers, metabolism, ageing and death, then the
world's own turn (spawning, decay, blights, cooldowns) and fitness."""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import float_from_u64, random_u64, stream_id

from . import constants as c
from .actions import craft, mod_sum, clear_mod_slot, resolve_trades, try_eat
from .tile_index import FOOD_KIND, ITEM_KIND, POISON_KIND, index_tiles

STREAM_SPAWN = stream_id("sandbox.spawn")
STREAM_BLIGHT = stream_id("sandbox.blight")


@njit(cache=True, nogil=True)
def metabolism(s, order):
    """For each NPC in id order: auto-eat within 1 + forage (at most 5), auto-craft on a forge,
    per-tick modifier effects and their countdown, hunger, ageing, energy and stress."""
    for j in range(order.shape[0]):
        i = order[j]
        if s.alive[i] == 0 or s.health[i] <= 0:
            continue
        if s.energy[i] < c.MAX_ENERGY:
            r = min(5, 1 + mod_sum(s, i, c.MOD_FORAGE))
            ate = False
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    if abs(dx) + abs(dy) <= r and try_eat(s, i, s.x[i] + dx, s.y[i] + dy):
                        ate = True
                        break
                if ate:
                    break
        if s.tile[s.y[i], s.x[i]] == c.FORGE:
            craft(s, i, True)
        for m in range(c.MOD_SLOTS):
            left = s.mod_left[i, m]
            if left == 0:
                continue
            k = s.mod_kind[i, m]
            if k == c.MOD_ENERGY:
                s.energy[i] = min(c.MAX_ENERGY, max(0, s.energy[i] + s.mod_mag[i, m]))
            elif k == c.MOD_HEALTH:
                s.health[i] = min(c.MAX_HEALTH, s.health[i] + s.mod_mag[i, m])
            elif k == c.MOD_STRESS:
                s.stress[i] = min(c.MAX_STRESS, max(0, s.stress[i] + s.mod_mag[i, m]))
            if left > 0:
                if left == 1:
                    clear_mod_slot(s, i, m)
                else:
                    s.mod_left[i, m] = left - 1
        s.energy[i] -= 1
        if s.energy[i] <= 0:
            s.health[i] -= 5
            s.energy[i] = 0
        s.age[i] += 1
        s.hunger[i] += 1
        if s.age[i] >= c.MAX_AGE:
            s.health[i] = 0
        if s.energy[i] < 50:
            s.stress[i] += 5
        if s.energy[i] > 150:
            s.stress[i] -= 1
        s.stress[i] = min(c.MAX_STRESS, max(0, s.stress[i]))


@njit(cache=True, nogil=True)
def bury(s, order, dead):
    """Remove NPCs whose health is gone: a tool, weapon or treasure they held is dropped on
    their cell (unless it is a forge). Writes the dead slots to ``dead``; returns how many."""
    n = 0
    for j in range(order.shape[0]):
        i = order[j]
        if s.alive[i] == 0 or s.health[i] > 0:
            continue
        x = s.x[i]
        y = s.y[i]
        it = s.item[i]
        if it >= c.TOOL and it <= c.TREASURE and s.tile[y, x] != c.FORGE:
            s.tile[y, x] = it - c.TOOL + c.TOOL_TILE
        s.occupant[y, x] = -1
        s.alive[i] = 0
        s.stats[c.C_DEATHS] += 1
        dead[n] = i
        n += 1
    return n


@njit(cache=True, nogil=True)
def _free_cell(s, seed, stream, tick, entity, k):
    """Up to SPAWN_TRIES random cells; the first empty, unoccupied one, or (-1, -1). Uses
    draws k, k+1, ...; returns the cell and the next unused draw."""
    h, w = s.tile.shape
    for _ in range(c.SPAWN_TRIES):
        x = np.int64(random_u64(seed, stream, tick, entity, k) % np.uint64(w))
        y = np.int64(random_u64(seed, stream, tick, entity, k + 1) % np.uint64(h))
        k += 2
        if s.tile[y, x] == c.EMPTY and s.occupant[y, x] < 0:
            return x, y, k
    return -1, -1, k


@njit(cache=True, nogil=True)
def world_turn(s, ix, tick, seed, food_rate, item_rate, max_food, max_items):
    """Spawn food (not in winter) and items, let old poison rot, blight every 1024 ticks, and
    count cooldowns down. ``tick`` is the tick being finished; ``ix`` is the world's tile
    index, brought up to date here (counts, poison and food come from its lists)."""
    h, w = s.tile.shape
    index_tiles(s.tile, ix)
    k = 0
    # food: with chance food_rate, 1-3 new food tiles while under the cap
    if tick % c.DAY < c.WINTER_FROM:
        food = ix.count[FOOD_KIND]
        if food < max_food and float_from_u64(random_u64(seed, STREAM_SPAWN, tick, 0, k)) <= \
                food_rate:
            n = 1 + np.int64(random_u64(seed, STREAM_SPAWN, tick, 0, k + 1) % np.uint64(3))
            k += 2
            for _ in range(n):
                if food >= max_food:
                    break
                x, y, k = _free_cell(s, seed, STREAM_SPAWN, tick, 1, k)
                if x >= 0:
                    s.tile[y, x] = c.FOOD
                    food += 1
                    s.stats[c.C_FOOD_SPAWNED] += 1
    # items: with chance item_rate one placement: 1/10 poison, else 1/20 crystal, else a
    # tool, weapon or treasure
    k = 0
    if ix.count[ITEM_KIND] < max_items and \
            float_from_u64(random_u64(seed, STREAM_SPAWN, tick, 2, k)) <= item_rate:
        x, y, k = _free_cell(s, seed, STREAM_SPAWN, tick, 2, k + 1)
        if x >= 0:
            if random_u64(seed, STREAM_SPAWN, tick, 3, 0) % np.uint64(10) == 0:
                s.tile[y, x] = c.POISON
                s.poison_since[y, x] = tick
            elif random_u64(seed, STREAM_SPAWN, tick, 3, 1) % np.uint64(20) == 0:
                s.tile[y, x] = c.CRYSTAL_TILE
            else:
                s.tile[y, x] = c.TOOL_TILE + np.int64(
                    random_u64(seed, STREAM_SPAWN, tick, 3, 2) % np.uint64(3))
    # poison rots (poison placed just above is fresh and not listed yet), and a blight takes
    # each food tile, new ones included, with chance 1/2 (a draw per cell: list order does not
    # matter)
    for j in range(ix.count[POISON_KIND]):
        y, x = ix.cells[POISON_KIND, j] >> 16, ix.cells[POISON_KIND, j] & 0xFFFF
        if s.tile[y, x] == c.POISON and tick - s.poison_since[y, x] >= c.POISON_LIFETIME:
            s.tile[y, x] = c.EMPTY
    if tick > 0 and tick % c.BLIGHT_EVERY == 0:
        index_tiles(s.tile, ix)
        for j in range(ix.count[FOOD_KIND]):
            y, x = ix.cells[FOOD_KIND, j] >> 16, ix.cells[FOOD_KIND, j] & 0xFFFF
            if random_u64(seed, STREAM_BLIGHT, tick, y * w + x, 0) & np.uint64(1) == 0:
                s.tile[y, x] = c.EMPTY
    cooldown = s.cooldown.reshape(h * w)
    for q in range(h * w):                       # without a branch, so that it vectorises
        cooldown[q] -= cooldown[q] > 0


@njit(cache=True, nogil=True)
def score(s):
    """fitness = age + 10 food + health + 20 gold + 30 crafts + 15 teaches - stress / 5."""
    for i in range(s.alive.shape[0]):
        if s.alive[i] != 0:
            s.fitness[i] = (s.age[i] + 10 * s.food_eaten[i] + s.health[i] + 20 * s.gold[i]
                            + 30 * s.crafts[i] + 15 * s.teaches[i] - s.stress[i] // 5)


@njit(cache=True, nogil=True)
def end_of_tick(s, order, dead, ix, tick, seed, food_rate, item_rate, max_food, max_items):
    """The rest of a tick that is the world's alone, in one call: metabolism and death for the
    NPCs in ``order`` (the tick's living, in id order), trades among the survivors, the
    world's turn and fitness. The dead slots go to ``dead``; returns how many."""
    metabolism(s, order)
    n_dead = bury(s, order, dead)
    resolve_trades(s, order[s.alive[order] != 0])
    world_turn(s, ix, tick, seed, food_rate, item_rate, max_food, max_items)
    score(s)
    return n_dead


@njit(cache=True, nogil=True)
def living_in_id_order(alive, npc_id):
    """Slots of the living NPCs, sorted by id (the order every rule that needs one uses)."""
    live = np.flatnonzero(alive)
    return live[np.argsort(npc_id[live])]
