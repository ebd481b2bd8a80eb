"""The ecology world's rules in plain Python: the readable oracle for the kernels in
``phases.py``.

The rules are docs/worlds/ecology.md's ("Sensors and actions", "Placing random organisms",
"The tick"), written one organism at a time in the order the doc speaks in (ascending id
where it says "oid order"), with Python integers and the doc's own integer formulas. It works
on the world's own ``EcologyState`` slot for slot -- which free slot a child or a random
organism takes, what a dead organism leaves in its slot -- so tests can ask the kernels for
equal arrays. The brain and the substrate are not here: ``advance`` takes the intents the
brain's actions decoded to and the gas it used, and reports births and placements so the
world can make their genomes (and fill in ``genome_bytes``).

Draws come from ``core.rng``'s plain-Python twins of the functions the kernels call, keyed by
the run's seed word: the same numbers. The kernels have the same three entry points with the
same signatures, so one test suite runs on both.
"""

from __future__ import annotations

import numpy as np

from primordia.core.rng import random_int_py, random_u64_py, stream_id

from .config import EcologyConfig, q16
from .io import (S_AGE, S_ENERGY, S_NEIGHBORS, S_SIGNAL, S_TILE, S_VIEW, Intents, io_of,
                 neighbor_at)
from .state import (CHANNELS, DIR_DX, DIR_DY, FERTILE, FOOD_CAP, HAZARD, MAX_NEIGHBORS,
                    NEIGHBOR_WORDS, OBSTACLE, RADIATION, T_ATTACKS, T_BIRTHS, T_DEATHS,
                    T_FAILED_BIRTHS, T_KILLS, T_MEALS, T_MOVES, T_PLACED, T_SIGNALS,
                    T_ASSISTS,
                    Advance, EcologyState)

STREAM_PLACE = stream_id("ecology.place")
STREAM_TAG = stream_id("ecology.tag")
STREAM_BIRTH = stream_id("ecology.birth")

PLACE_TRIES = 64
"""Tiles a random organism tries before it (and the rest of its batch) is given up."""

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
MASK32 = (1 << 32) - 1


# ---- small pieces ---------------------------------------------------------------------------


def clip32(v: int) -> int:
    """``v`` clipped to the int32 range."""
    return max(INT32_MIN, min(INT32_MAX, v))


def wrap32(v: int) -> int:
    """``v`` wrapped to int32 (two's complement), as a sum of int32 values overflows."""
    v &= MASK32
    return v - (1 << 32) if v > INT32_MAX else v


def kinship(a: int, b: int) -> int:
    """``((32 - popcount(a ^ b)) * 255) // 32`` of two 32-bit lineage tags."""
    return ((32 - bin((a ^ b) & MASK32).count("1")) * 255) // 32


def tile_of(cfg: EcologyConfig, x: int, y: int) -> int:
    """The index of tile (x, y), wrapping at every edge."""
    return (y % cfg.height) * cfg.width + (x % cfg.width)


def tile_code(s: EcologyState, tile: int) -> int:
    """``kind | occupied << 3 | min(food, 2^20 - 1) << 4``; food is the corpse plus the
    resource's whole units."""
    occupied = 1 if s.occupancy[tile] >= 0 else 0
    food = int(s.corpse[tile]) + (int(s.resource[tile]) >> 8)
    return int(s.kind[tile]) | occupied << 3 | min(food, FOOD_CAP) << 4


def by_id(s: EcologyState, slots) -> list[int]:
    """``slots`` in oid order."""
    return sorted((int(i) for i in slots), key=lambda i: int(s.oid[i]))


def living(s: EcologyState) -> list[int]:
    """The slots of the living, in oid order."""
    return by_id(s, np.flatnonzero(s.alive))


def lowest_free_slot(s: EcologyState) -> int:
    """The lowest slot with no organism, or -1 when all are taken."""
    free = np.flatnonzero(s.alive == 0)
    return int(free[0]) if free.size else -1


def near_radiation(s: EcologyState, cfg: EcologyConfig, x: int, y: int) -> bool:
    """Whether tile (x, y) or one of its 8 neighbours (wrapping) is radiation."""
    return any(s.kind[tile_of(cfg, x + dx, y + dy)] == RADIATION
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def new_organism(s: EcologyState, slot: int, oid: int, tile: int, cfg: EcologyConfig,
                 energy: int, born: int, parent: int, generation: int, lineage: int,
                 tag: int) -> None:
    """Fill ``slot`` with a new organism standing on ``tile``; its genome's size is the
    world's to fill in (0 until then) and its life's counters start at 0."""
    s.alive[slot], s.oid[slot] = 1, oid
    s.x[slot], s.y[slot] = tile % cfg.width, tile // cfg.width
    s.energy[slot], s.birth_energy[slot], s.born[slot] = energy, energy, born
    s.parent[slot], s.generation[slot], s.lineage[slot] = parent, generation, lineage
    s.tag[slot] = tag & MASK32
    s.genome_bytes[slot] = 0
    s.offspring[slot] = s.kills[slot] = s.eaten[slot] = s.moved[slot] = 0
    s.assists[slot] = s.signals[slot] = 0
    s.occupancy[tile] = slot


# ---- phase 1: sense --------------------------------------------------------------------------


def sense(s: EcologyState, cfg: EcologyConfig, tick: int) -> tuple[np.ndarray, np.ndarray]:
    """(sensors int32[N, S], nb_slots int64[N, 8]) at the start of tick ``tick``: every
    living slot's sensors ("Sensors and actions"; ``cfg.neighbor_records`` records) and the
    slots of its neighbour records (-1 past their count); free slots' rows are all 0 and
    all -1. (The config keeps the window inside the map, so no tile is seen twice.)"""
    n, r = s.alive.shape[0], cfg.radius
    sensors = np.zeros((n, io_of(cfg).n_sensors), dtype=np.int32)
    nb_slots = np.full((n, MAX_NEIGHBORS), -1, dtype=np.int64)
    nb0 = neighbor_at(r)
    for i in living(s):
        x, y = int(s.x[i]), int(s.y[i])
        own = tile_of(cfg, x, y)
        row = [0] * sensors.shape[1]
        row[S_ENERGY] = clip32(int(s.energy[i]))
        row[S_AGE] = clip32(tick - int(s.born[i]))
        row[S_TILE] = tile_code(s, own)

        # the view, row by row, and last tick's signals from the window's other tiles
        sums = [0] * CHANNELS
        k = S_VIEW
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                t = tile_of(cfg, x + dx, y + dy)
                row[k] = tile_code(s, t)
                k += 1
                channel = int(s.signal[t]) - 1
                if t != own and 0 <= channel < CHANNELS:
                    sums[channel] += int(s.signal_value[t])
        for c in range(CHANNELS):
            row[S_SIGNAL + c] = wrap32(sums[c])

        # neighbours: ring by ring, each ring row by row (dy, then dx, ascending); the first
        # neighbor_records of them
        records = []
        for d in range(1, r + 1):
            for dy in range(-d, d + 1):
                for dx in range(-d, d + 1):
                    if max(abs(dx), abs(dy)) != d:
                        continue
                    t = tile_of(cfg, x + dx, y + dy)
                    j = int(s.occupancy[t])
                    if t != own and j >= 0:
                        records.append((dx, dy, j))
        records = records[:cfg.neighbor_records]
        row[S_NEIGHBORS] = len(records)
        for k, (dx, dy, j) in enumerate(records):
            band = max(0, min(15, int(s.energy[j]) // cfg.energy_band))
            at = nb0 + k * NEIGHBOR_WORDS
            row[at:at + NEIGHBOR_WORDS] = [dx, dy, band, kinship(int(s.tag[i]), int(s.tag[j]))]
            nb_slots[i, k] = j
        sensors[i] = row
    return sensors, nb_slots


# ---- phases 3..12: advance -------------------------------------------------------------------


def advance(s: EcologyState, cfg: EcologyConfig, seed_word: int, tick: int, intents: Intents,
            gas_used: np.ndarray, nb_slots: np.ndarray, next_id: int) -> Advance:
    """Phases 3 to 12 of tick ``tick`` ("The tick") in place on ``s``: metabolism, attacks,
    moves, eat, hazards, deaths, births, signals, regrowth and decay, top-up.

    ``intents`` and ``gas_used`` are by slot, for the organisms living at the tick's start;
    ``nb_slots`` is what ``sense`` returned this tick. Returns the slots that died (oid
    order), the births as rows (parent slot, child slot, mutation rounds) in birth order, the
    top-up's slots and the next id."""
    totals = s.totals
    start = living(s)                 # the living, in oid order, at the tick's start

    def dying(i: int) -> bool:
        return int(s.energy[i]) <= 0

    # 3. metabolism
    for i in start:
        cost = (cfg.basal_cost + (int(gas_used[i]) * cfg.instruction_cost) // 1000
                + (int(s.genome_bytes[i]) * cfg.brain_upkeep) // 1024)
        s.energy[i] -= cost

    # 4. attacks, in oid order; (attacker, victim) of each hit that did not kill
    wounds = []
    for i in start:
        k, requested = int(intents.attack[i]), int(intents.amount[i])
        if dying(i) or not 1 <= k <= MAX_NEIGHBORS or requested <= 0:
            continue
        v = int(nb_slots[i, k - 1])
        if v < 0 or not s.alive[v] or dying(v):
            continue
        amount = min(requested, int(s.energy[i]))
        s.energy[i] -= amount + cfg.attack_cost
        s.energy[v] -= amount * cfg.attack_damage // 100
        totals[T_ATTACKS] += 1
        if dying(v):
            s.kills[i] += 1
            totals[T_KILLS] += 1
        else:
            wounds.append((i, v))

    # 5. moves, all at once: blocked by obstacles and by the tiles occupied at the start
    contenders: dict[int, list[int]] = {}
    for i in start:
        m = int(intents.move[i])
        if dying(i) or not 1 <= m <= 8:
            continue
        t = tile_of(cfg, int(s.x[i]) + int(DIR_DX[m]), int(s.y[i]) + int(DIR_DY[m]))
        if s.kind[t] == OBSTACLE or s.occupancy[t] >= 0:
            continue
        contenders.setdefault(t, []).append(i)
    for t, movers in contenders.items():
        winner = min(movers, key=lambda i: (-int(s.energy[i]), int(s.oid[i])))
        s.occupancy[tile_of(cfg, int(s.x[winner]), int(s.y[winner]))] = -1
        s.occupancy[t] = winner
        s.x[winner], s.y[winner] = t % cfg.width, t // cfg.width
        s.energy[winner] -= cfg.move_cost
        s.moved[winner] += 1
        totals[T_MOVES] += 1

    # 6. eat: the corpse first, then whole units of the resource
    for i in start:
        if dying(i) or int(intents.eat[i]) != 1:
            continue
        t = tile_of(cfg, int(s.x[i]), int(s.y[i]))
        c = min(cfg.bite, int(s.corpse[t]))
        p = min(cfg.bite - c, int(s.resource[t]) >> 8)
        s.corpse[t] -= c
        s.resource[t] -= p << 8
        s.energy[i] = min(int(s.energy[i]) + c + p, cfg.max_energy)
        s.eaten[i] += c + p
        totals[T_MEALS] += c + p

    # 7. hazards
    for i in start:
        if dying(i):
            continue
        kind = s.kind[tile_of(cfg, int(s.x[i]), int(s.y[i]))]
        if kind == HAZARD:
            s.energy[i] -= cfg.hazard_damage
        elif kind == RADIATION:
            s.energy[i] -= cfg.radiation_damage

    # 8. deaths, in oid order: a corpse on the tile, the slot freed (its record stays)
    died = []
    for i in start:
        if dying(i):
            t = tile_of(cfg, int(s.x[i]), int(s.y[i]))
            s.corpse[t] += cfg.corpse_energy
            s.occupancy[t] = -1
            s.alive[i] = 0
            totals[T_DEATHS] += 1
            died.append(i)
    # ... and an assist for each hit whose victim died this tick (by another's hit or not)
    for i, v in wounds:
        if not s.alive[v]:
            s.assists[i] += 1
            totals[T_ASSISTS] += 1

    # 9. births, in oid order, by the living at the phase's start (not this phase's children)
    births = []
    share_q = q16(cfg.offspring_share)
    for i in living(s):
        if int(intents.reproduce[i]) != 1 or int(s.energy[i]) < cfg.reproduce_min:
            continue
        pid, px, py = int(s.oid[i]), int(s.x[i]), int(s.y[i])
        first = random_int_py(seed_word, STREAM_BIRTH, tick, pid, 0, 0, 8)
        tile = -1
        for j in range(8):
            d = 1 + (first + j) % 8
            t = tile_of(cfg, px + int(DIR_DX[d]), py + int(DIR_DY[d]))
            if s.kind[t] != OBSTACLE and s.occupancy[t] < 0:
                tile = t
                break
        slot = lowest_free_slot(s)
        if tile < 0 or slot < 0:
            totals[T_FAILED_BIRTHS] += 1
            continue
        child, next_id = next_id, next_id + 1
        energy = int(s.energy[i])
        share = max(0, ((energy - cfg.reproduce_cost) * share_q) >> 16)
        s.energy[i] = energy - cfg.reproduce_cost - share
        s.offspring[i] += 1
        bit = random_int_py(seed_word, STREAM_TAG, tick, child, 0, 0, 32)
        new_organism(s, slot, child, tile, cfg, energy=share, born=tick + 1, parent=pid,
                     generation=int(s.generation[i]) + 1, lineage=int(s.lineage[i]),
                     tag=int(s.tag[i]) ^ (1 << bit))
        rounds = min(max(int(intents.rounds[i]), 0), cfg.max_mutations)
        if near_radiation(s, cfg, tile % cfg.width, tile // cfg.width):
            rounds += cfg.radiation_extra
        births.append((i, slot, rounds))
        totals[T_BIRTHS] += 1

    # 10. signals: older marks cleared, then every emitter still alive marks its tile
    s.signal[:] = 0
    s.signal_value[:] = 0
    dead = set(died)
    for i in start:
        c = int(intents.channel[i])
        if i in dead or not 0 <= c < CHANNELS:
            continue                  # (a child may have taken a dead emitter's slot)
        t = tile_of(cfg, int(s.x[i]), int(s.y[i]))
        s.signal[t] = c + 1
        s.signal_value[t] = wrap32(int(intents.value[i]))
        s.signals[i] += 1
        totals[T_SIGNALS] += 1

    # 11. regrowth of resources on fertile tiles, decay of corpses
    big_r, rate = cfg.r_max * 256, q16(cfg.regrowth)
    decay = q16(cfg.corpse_decay)
    for t in range(s.kind.shape[0]):
        if s.kind[t] == FERTILE:
            r = int(s.resource[t])
            r += (rate * (r + big_r // 64) * (big_r - r)) // (big_r * 65536)
            s.resource[t] = min(r, big_r)
        corpse = int(s.corpse[t])
        if corpse > 0:
            s.corpse[t] = max(0, corpse - max(1, (corpse * decay) >> 16))

    # 12. top-up to min_organisms, born next tick
    placed = np.zeros(0, dtype=np.int64)
    alive_now = int(np.count_nonzero(s.alive))
    if alive_now < cfg.min_organisms:
        placed, next_id = place_random(s, cfg, seed_word, tick, cfg.min_organisms - alive_now,
                                       next_id, born=tick + 1)

    return Advance(died=np.array(died, dtype=np.int64),
                   births=np.array(births, dtype=np.int64).reshape(-1, 3),
                   placed=placed, next_id=next_id)


# ---- placing random organisms ---------------------------------------------------------------


def place_random(s: EcologyState, cfg: EcologyConfig, seed_word: int, tick: int, count: int,
                 next_id: int, born: int) -> tuple[np.ndarray, int]:
    """Place up to ``count`` random organisms ("Placing random organisms") with ids from
    ``next_id``, their draws keyed by ``tick``, born at tick ``born``. The organism with id
    k tries tiles ``random_int(seed, STREAM_PLACE, tick, k, a, 0, tiles)`` for a = 0..63 and
    takes the first free, non-obstacle one and the lowest free slot; when it finds no tile
    or no slot, it and the rest of the batch are not placed. Returns (their slots in order,
    the next id)."""
    tiles = cfg.width * cfg.height
    slots = []
    for _ in range(count):
        k = next_id
        slot = lowest_free_slot(s)
        if slot < 0:
            break
        tile = -1
        for a in range(PLACE_TRIES):
            t = random_int_py(seed_word, STREAM_PLACE, tick, k, a, 0, tiles)
            if s.kind[t] != OBSTACLE and s.occupancy[t] < 0:
                tile = t
                break
        if tile < 0:
            break
        tag = random_u64_py(seed_word, STREAM_TAG, tick, k, 1) & MASK32
        new_organism(s, slot, k, tile, cfg, energy=cfg.start_energy, born=born, parent=-1,
                     generation=0, lineage=k, tag=tag)
        s.totals[T_PLACED] += 1
        slots.append(slot)
        next_id += 1
    return np.array(slots, dtype=np.int64), next_id
