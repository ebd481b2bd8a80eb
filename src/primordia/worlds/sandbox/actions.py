"""Acting: one action round's moves and actions, applied in NPC id order (the stable rule that
settles conflicts: two NPCs stepping onto one cell, two eating one food), then the tick's
trades. Every NPC decided against the same snapshot; only the outcomes are ordered."""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import float_from_u64, random_u64, stream_id

from . import constants as c

STREAM_ACT = stream_id("sandbox.act")


# ---- modifiers ---------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def mod_sum(s, i, kind):
    """Total magnitude of NPC i's live modifiers of one kind."""
    t = 0
    for m in range(c.MOD_SLOTS):
        if s.mod_kind[i, m] == kind and s.mod_left[i, m] != 0:
            t += s.mod_mag[i, m]
    return t


@njit(cache=True, nogil=True)
def add_mod(s, i, kind, mag, left, source):
    """Put a modifier in an empty slot, else evict the shortest-lived timed one, else slot 0."""
    slot = -1
    for m in range(c.MOD_SLOTS):
        if s.mod_left[i, m] == 0:
            slot = m
            break
    if slot < 0:
        shortest = 1 << 30
        for m in range(c.MOD_SLOTS):
            d = s.mod_left[i, m]
            if d != c.PERMANENT and d < shortest:
                shortest = d
                slot = m
    if slot < 0:
        slot = 0
    s.mod_kind[i, slot] = kind
    s.mod_mag[i, slot] = mag
    s.mod_left[i, slot] = left
    s.mod_source[i, slot] = source


@njit(cache=True, nogil=True)
def clear_mod_slot(s, i, m):
    s.mod_kind[i, m] = c.MOD_NONE
    s.mod_mag[i, m] = 0
    s.mod_left[i, m] = 0
    s.mod_source[i, m] = 0


@njit(cache=True, nogil=True)
def set_item(s, i, item):
    """NPC i now holds ``item``: the old item's modifier goes, the new one's comes."""
    old = s.item[i]
    if old != c.NO_ITEM and c.ITEM_MOD_KIND[old] != c.MOD_NONE:
        for m in range(c.MOD_SLOTS):
            if s.mod_source[i, m] == old and s.mod_left[i, m] != 0:
                clear_mod_slot(s, i, m)
    s.item[i] = item
    if item != c.NO_ITEM and c.ITEM_MOD_KIND[item] != c.MOD_NONE:
        add_mod(s, i, c.ITEM_MOD_KIND[item], c.ITEM_MOD_MAG[item], c.PERMANENT, item)


# ---- small rules -------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def try_eat(s, i, x, y):
    """Eat the food at (x, y) if there is some: +30 energy, +5 health, hunger 0, stress -2."""
    h, w = s.tile.shape
    if x < 0 or y < 0 or x >= w or y >= h or s.tile[y, x] != c.FOOD:
        return False
    s.tile[y, x] = c.EMPTY
    s.energy[i] = min(c.MAX_ENERGY, s.energy[i] + 30)
    s.health[i] = min(c.MAX_HEALTH, s.health[i] + 5)
    s.food_eaten[i] += 1
    s.hunger[i] = 0
    s.stress[i] = max(0, s.stress[i] - 2)
    s.stats[c.C_EATS] += 1
    return True


@njit(cache=True, nogil=True)
def neighbour_with_id(s, i, target_id):
    """Slot of the living NPC with id ``target_id`` on one of i's four neighbour cells, or -1
    (every targeted action needs its target adjacent, so this is the whole lookup)."""
    h, w = s.tile.shape
    for d in range(1, 5):
        x = s.x[i] + c.DX[d]
        y = s.y[i] + c.DY[d]
        if 0 <= x < w and 0 <= y < h:
            o = s.occupant[y, x]
            if o >= 0 and o != i and s.npc_id[o] == target_id and s.health[o] > 0:
                return o
    return -1


@njit(cache=True, nogil=True)
def stress_add(s, i, amount):
    s.stress[i] = min(c.MAX_STRESS, max(0, s.stress[i] + amount))


@njit(cache=True, nogil=True)
def craft(s, i, free):
    """Tool -> compass, weapon -> shield; free on a forge, else 20 energy."""
    it = s.item[i]
    if it != c.TOOL and it != c.WEAPON:
        return
    if not free:
        if s.energy[i] < 20:
            return
        s.energy[i] -= 20
    set_item(s, i, c.COMPASS if it == c.TOOL else c.SHIELD)
    s.crafts[i] += 1
    s.stats[c.C_CRAFTS] += 1


@njit(cache=True, nogil=True)
def _draw(seed, tick, npc_id, round_no, k):
    return random_u64(seed, STREAM_ACT, tick, npc_id, round_no * 8 + k)


# ---- the round ---------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def act(s, order, actions, tick, round_no, seed, teach_from, teach_to):
    """Apply the actions of the NPCs in ``order`` (slots sorted by id). Teachings that
    succeed are listed in teach_from/teach_to (genomes change after the tick's rounds);
    returns how many."""
    h, w = s.tile.shape
    n_teach = 0
    for j in range(order.shape[0]):
        i = order[j]
        if s.alive[i] == 0 or s.health[i] <= 0:
            continue                       # killed earlier this tick: it no longer acts
        me = s.npc_id[i]
        move = np.int64(actions[i, c.A_MOVE])
        action = np.int64(actions[i, c.A_ACTION])
        target = np.int64(actions[i, c.A_TARGET])
        # stress override: a stressed NPC sometimes does something random
        if s.stress[i] > 30:
            roll = np.int64(_draw(seed, tick, me, round_no, 0) & np.uint64(31))
            if roll < (s.stress[i] - 30) * 31 // 100:
                move = np.int64(_draw(seed, tick, me, round_no, 1) % np.uint64(4)) + 1
                action = np.int64(_draw(seed, tick, me, round_no, 2) % np.uint64(3))
        # ---- move ----
        if 1 <= move <= 4:
            s.heading[i] = move
            nx = s.x[i] + c.DX[move]
            ny = s.y[i] + c.DY[move]
            if 0 <= nx < w and 0 <= ny < h and s.tile[ny, nx] != c.WALL \
                    and s.tile[ny, nx] != c.WATER and s.occupant[ny, nx] < 0:
                s.occupant[s.y[i], s.x[i]] = -1
                s.x[i] = nx
                s.y[i] = ny
                s.occupant[ny, nx] = i
                s.stats[c.C_MOVES] += 1
        # ---- what lies underfoot ----
        x = s.x[i]
        y = s.y[i]
        t = s.tile[y, x]
        if t == c.POISON:
            s.health[i] -= 15
            stress_add(s, i, 10)
            s.tile[y, x] = c.EMPTY
        elif t == c.CRYSTAL_TILE:
            add_mod(s, i, c.MOD_GAS, c.CRYSTAL_GAS, c.PERMANENT, c.CRYSTAL)
            s.tile[y, x] = c.EMPTY
        elif t >= c.TOOL_TILE and t <= c.TREASURE_TILE and s.item[i] == c.NO_ITEM:
            set_item(s, i, t - c.TOOL_TILE + c.TOOL)
            s.tile[y, x] = c.EMPTY
        if s.health[i] <= 0:
            continue
        # ---- the action ----
        if action == c.EAT:
            if not try_eat(s, i, x, y):
                for d in range(1, 5):
                    if try_eat(s, i, x + c.DX[d], y + c.DY[d]):
                        break
        elif action == c.ATTACK:
            o = neighbour_with_id(s, i, target)
            if o >= 0 and s.energy[i] >= 10:
                dmg = max(1, 5 + mod_sum(s, i, c.MOD_ATTACK) - mod_sum(s, o, c.MOD_DEFENSE))
                s.health[o] -= dmg
                s.energy[i] -= 10
                stress_add(s, o, 15)
                s.stats[c.C_ATTACKS] += 1
                if s.health[o] <= 0:
                    s.stats[c.C_KILLS] += 1
                    if s.item[i] == c.NO_ITEM and s.item[o] != c.NO_ITEM:
                        loot = s.item[o]
                        set_item(s, o, c.NO_ITEM)
                        set_item(s, i, loot)
        elif action == c.SHARE:
            o = neighbour_with_id(s, i, target)
            if o >= 0 and s.energy[i] > 20:
                s.energy[i] -= 10
                s.energy[o] = min(c.MAX_ENERGY, s.energy[o] + 10)
                s.stats[c.C_SHARES] += 1
        elif action == c.TRADE:
            if s.item[i] != c.NO_ITEM:
                s.trade_with[i] = target
        elif action == c.CRAFT:
            craft(s, i, s.tile[y, x] == c.FORGE)
        elif action == c.TEACH:
            o = neighbour_with_id(s, i, target)
            if o >= 0 and s.energy[i] >= 10:
                s.energy[i] -= 10
                ft = max(np.int64(0), s.fitness[i])
                fs = max(np.int64(0), s.fitness[o])
                roll = float_from_u64(_draw(seed, tick, me, round_no, 3))
                if roll < (ft + 1) / (ft + fs + 2):
                    teach_from[n_teach] = i
                    teach_to[n_teach] = o
                    n_teach += 1
                    s.teaches[i] += 1
                    s.taught[o] += 1
                    stress_add(s, i, -3)
                    s.stats[c.C_TEACHES] += 1
        elif action == c.HEAL:
            o = neighbour_with_id(s, i, target)
            if o >= 0 and s.energy[i] >= 8:
                s.health[o] = min(c.MAX_HEALTH, s.health[o] + 5 + mod_sum(s, i, c.MOD_FORAGE))
                s.energy[i] -= 8
                stress_add(s, i, -3)
                stress_add(s, o, -5)
                s.stats[c.C_HEALS] += 1
        elif action == c.HARVEST:
            if s.energy[i] >= 5 and s.cooldown[y, x] == 0:
                s.energy[i] = min(c.MAX_ENERGY, s.energy[i] - 5 + 30)   # clearing: +30
                cd = 5
                if mod_sum(s, i, c.MOD_FORAGE) > 0 and cd > 1:
                    cd //= 2
                s.cooldown[y, x] = cd
                s.stats[c.C_HARVESTS] += 1
        elif action == c.TERRAFORM:
            cost = max(10, 30 - 5 * mod_sum(s, i, c.MOD_FORAGE))
            if s.energy[i] >= cost and t != c.FOOD and t != c.FORGE:
                s.energy[i] -= cost
                s.tile[y, x] = c.FOOD if s.tile[y, x] == c.EMPTY else c.EMPTY
                s.stats[c.C_TERRAFORMS] += 1
    return n_teach


# ---- trades ------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def market_counts(s):
    """(NPCs holding an item + item tiles, and that count per item type)."""
    per = np.zeros(8, dtype=np.int64)
    total = 0
    for i in range(s.alive.shape[0]):
        if s.alive[i] != 0 and s.item[i] != c.NO_ITEM:
            per[s.item[i]] += 1
            total += 1
    h, w = s.tile.shape
    for y in range(h):
        for x in range(w):
            t = s.tile[y, x]
            if t >= c.TOOL_TILE and t <= c.TREASURE_TILE:
                per[t - c.TOOL_TILE + c.TOOL] += 1
                total += 1
            elif t == c.CRYSTAL_TILE:
                per[c.CRYSTAL] += 1
                total += 1
    return total, per


@njit(cache=True, nogil=True)
def market_value(total, per, item):
    if total == 0:
        return 10
    if per[item] == 0:
        return total * 10
    return 10 * total // per[item]


@njit(cache=True, nogil=True)
def resolve_trades(s, order):
    """Pairs that named each other and stand side by side swap items; the scarcer item's
    holder pays the difference in gold (3 each as a base, floored at 0); stress -5 each.
    Pairs are settled in order of the lower id. Intents are cleared."""
    total, per = -1, np.zeros(8, dtype=np.int64)  # counted at the first swap, which needs
    for j in range(order.shape[0]):                # them; swaps move items between hands only
        a = order[j]
        if s.alive[a] == 0 or s.trade_with[a] < 0:
            continue
        b = neighbour_with_id(s, a, s.trade_with[a])
        if b < 0 or s.trade_with[b] != s.npc_id[a] or s.npc_id[b] < s.npc_id[a]:
            continue
        if total < 0:
            total, per = market_counts(s)
        ia = s.item[a]
        ib = s.item[b]
        set_item(s, a, c.NO_ITEM)
        set_item(s, b, c.NO_ITEM)
        set_item(s, a, ib)
        set_item(s, b, ia)
        gap = market_value(total, per, ib) - market_value(total, per, ia)
        diff = gap // 2 if gap >= 0 else -((-gap) // 2)      # halved toward zero
        s.gold[a] = max(0, s.gold[a] + 3 - diff)
        s.gold[b] = max(0, s.gold[b] + 3 + diff)
        stress_add(s, a, -5)
        stress_add(s, b, -5)
        s.trade_with[a] = -1
        s.trade_with[b] = -1
        s.stats[c.C_TRADES] += 1
    for j in range(order.shape[0]):
        s.trade_with[order[j]] = -1
