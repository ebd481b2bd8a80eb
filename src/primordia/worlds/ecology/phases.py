"""The ecology tick as numba kernels (docs/worlds/ecology.md, "The tick"); ``reference.py``
is the plain-Python oracle they are held equal to, call for call.

Three entry points, the same as the reference's: ``sense`` (phase 1), ``advance`` (phases
3-12) and ``place_random``. The config's numbers travel to the kernels as one int64 array
(``params``); every loop is over slots or tiles inside a kernel, none in Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import random_int, random_u64, stream_id

from .config import EcologyConfig, q16
from .io import Intents, io_of
from .state import (CHANNELS, DIR_DX, DIR_DY, FERTILE, FOOD_CAP, HAZARD, MAX_NEIGHBORS,
                    OBSTACLE, RADIATION, T_ASSISTS, T_ATTACKS, T_BIRTHS, T_DEATHS,
                    T_FAILED_BIRTHS, T_KILLS,
                    T_MEALS, T_MOVES, T_PLACED, T_SIGNALS, Advance, EcologyState)

STREAM_PLACE = stream_id("ecology.place")
STREAM_TAG = stream_id("ecology.tag")
STREAM_BIRTH = stream_id("ecology.birth")
PLACE_TRIES = 64

(P_W, P_H, P_R, P_BAND, P_BASAL, P_INSTR, P_UPKEEP, P_MOVE, P_ATTACK_COST, P_DAMAGE, P_BITE,
 P_MAX_ENERGY, P_CORPSE, P_DECAY, P_HAZARD, P_RADIATION, P_REPRO_COST, P_REPRO_MIN, P_SHARE,
 P_MAX_MUT, P_RAD_EXTRA, P_RMAX, P_REGROWTH, P_START, P_MIN_ORG, P_RECORDS) = range(26)


def params(cfg: EcologyConfig) -> np.ndarray:
    """The config's numbers in the kernels' order (rates as 16.16 fixed point)."""
    return np.array([
        cfg.width, cfg.height, cfg.radius, cfg.energy_band, cfg.basal_cost,
        cfg.instruction_cost, cfg.brain_upkeep, cfg.move_cost, cfg.attack_cost,
        cfg.attack_damage, cfg.bite, cfg.max_energy, cfg.corpse_energy, q16(cfg.corpse_decay),
        cfg.hazard_damage, cfg.radiation_damage, cfg.reproduce_cost, cfg.reproduce_min,
        q16(cfg.offspring_share), cfg.max_mutations, cfg.radiation_extra, cfg.r_max * 256,
        q16(cfg.regrowth), cfg.start_energy, cfg.min_organisms, cfg.neighbor_records],
        dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def _wrap(v: int, n: int) -> int:
    v = v % n
    return v + n if v < 0 else v


@njit(cache=True, nogil=True, inline="always")
def _wrap_near(v: int, n: int) -> int:
    """``_wrap`` for ``v`` within one map's width of the map (-n <= v < 2n), without a
    division: a sensing window's coordinates always are."""
    if v < 0:
        return v + n
    return v - n if v >= n else v


@njit(cache=True, nogil=True, inline="always")
def _i32(v: int) -> int:
    """``v`` wrapped to its low 32 bits, signed."""
    return ((v + 2147483648) % 4294967296) - 2147483648


@njit(cache=True, nogil=True, inline="always")
def _clip32(v: int) -> int:
    return min(max(v, -2147483648), 2147483647)


@njit(cache=True, nogil=True, inline="always")
def _tile_code(s, t: int) -> int:
    food = s.corpse[t] + (s.resource[t] >> 8)
    occupied = 1 if s.occupancy[t] >= 0 else 0
    return s.kind[t] | (occupied << 3) | (min(food, FOOD_CAP) << 4)


@njit(cache=True, nogil=True, inline="always")
def _popcount32(v: int) -> int:
    v = v & 0xFFFFFFFF
    n = 0
    while v:
        v &= v - 1
        n += 1
    return n


# ---- phase 1: sense ----------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _sense(s, p, tick, sensors, nb_slots):
    w, h, r, band, records = p[P_W], p[P_H], p[P_R], p[P_BAND], p[P_RECORDS]
    side = 2 * r + 1
    view_at = 4 + CHANNELS
    nb_at = view_at + side * side
    window = np.empty(side * side, dtype=np.int64)   # tile index per window position
    cols = np.empty(side, dtype=np.int64)
    heard = np.zeros(CHANNELS, dtype=np.int64)
    codes = np.empty(s.kind.shape[0], dtype=np.int32)   # every tile's code, once: the
    for t in range(codes.shape[0]):                      # windows then read one small array
        codes[t] = _tile_code(s, t)
    for i in range(s.alive.shape[0]):
        if not s.alive[i]:
            continue
        row = sensors[i]
        x, y = s.x[i], s.y[i]
        for k in range(side):
            cols[k] = _wrap_near(x + k - r, w)
        for c in range(CHANNELS):
            heard[c] = 0
        k = 0
        for dy in range(side):
            base = _wrap_near(y + dy - r, h) * w
            for dx in range(side):
                t = base + cols[dx]
                window[k] = t
                row[view_at + k] = codes[t]
                if s.signal[t] > 0:
                    heard[s.signal[t] - 1] += s.signal_value[t]
                k += 1
        centre = window[r * side + r]
        if s.signal[centre] > 0:                 # its own tile is not heard
            heard[s.signal[centre] - 1] -= s.signal_value[centre]
        row[0] = _clip32(s.energy[i])
        row[1] = _clip32(tick - s.born[i])
        row[2] = row[view_at + r * side + r]
        for c in range(CHANNELS):
            row[4 + c] = _i32(heard[c])
        n = 0
        for d in range(1, r + 1):
            if n == records:
                break
            for dy in range(-d, d + 1):
                step = 1 if dy == -d or dy == d else 2 * d   # inner rows: the two ends only
                for dx in range(-d, d + 1, step):
                    if n == records:
                        break
                    other = s.occupancy[window[(dy + r) * side + dx + r]]
                    if other < 0:
                        continue
                    nb_slots[i, n] = other
                    at = nb_at + 4 * n
                    row[at] = dx
                    row[at + 1] = dy
                    row[at + 2] = min(15, max(s.energy[other], 0) // band)
                    row[at + 3] = ((32 - _popcount32(s.tag[i] ^ s.tag[other])) * 255) // 32
                    n += 1
        row[3] = n


def sense(s: EcologyState, cfg: EcologyConfig, tick: int) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: every living organism's sensors (int32[N, S]) and the slots behind its
    neighbour records (int64[N, 8], -1 past the count); free slots' rows are 0 and -1."""
    n = s.alive.shape[0]
    sensors = np.zeros((n, io_of(cfg).n_sensors), dtype=np.int32)
    nb_slots = np.full((n, MAX_NEIGHBORS), -1, dtype=np.int64)
    _sense(s, params(cfg), tick, sensors, nb_slots)
    return sensors, nb_slots


# ---- placing organisms -------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _lowest_free(alive, start):
    for i in range(start, alive.shape[0]):
        if not alive[i]:
            return i
    return -1


@njit(cache=True, nogil=True)
def _place_random(s, p, seed, tick, count, next_id, born, out):
    """Random organisms (founders, the top-up): each tries PLACE_TRIES tiles; the first
    that fails ends the batch. Returns how many were placed (their slots in ``out``)."""
    w, h = p[P_W], p[P_H]
    tiles = w * h
    placed = 0
    slot = -1
    for _ in range(count):
        k = next_id + placed
        slot = _lowest_free(s.alive, slot + 1)
        if slot < 0:
            break
        tile = -1
        for a in range(PLACE_TRIES):
            t = random_int(seed, STREAM_PLACE, tick, k, a, 0, tiles)
            if s.kind[t] != OBSTACLE and s.occupancy[t] < 0:
                tile = t
                break
        if tile < 0:
            break
        s.alive[slot] = 1
        s.oid[slot] = k
        s.x[slot] = tile % w
        s.y[slot] = tile // w
        s.energy[slot] = p[P_START]
        s.birth_energy[slot] = p[P_START]
        s.born[slot] = born
        s.parent[slot] = -1
        s.generation[slot] = 0
        s.lineage[slot] = k
        s.tag[slot] = np.int64(random_u64(seed, STREAM_TAG, tick, k, 1) & np.uint64(0xFFFFFFFF))
        s.genome_bytes[slot] = 0
        s.offspring[slot] = 0
        s.kills[slot] = 0
        s.eaten[slot] = 0
        s.moved[slot] = 0
        s.assists[slot] = 0
        s.signals[slot] = 0
        s.occupancy[tile] = slot
        out[placed] = slot
        placed += 1
    s.totals[T_PLACED] += placed
    return placed


def place_random(s: EcologyState, cfg: EcologyConfig, seed_word: int, tick: int, count: int,
                 next_id: int, born: int) -> tuple[np.ndarray, int]:
    """Place up to ``count`` random organisms born at ``born``; (their slots, the next id)."""
    out = np.zeros(max(count, 0), dtype=np.int64)
    placed = _place_random(s, params(cfg), seed_word, tick, max(count, 0), next_id, born, out)
    return out[:placed].copy(), next_id + placed


# ---- phases 3-12 -------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _by_oid(s):
    live = np.flatnonzero(s.alive)
    return live[np.argsort(s.oid[live], kind="mergesort")]


@njit(cache=True, nogil=True)
def _advance(s, p, seed, tick, move, eat, attack, amount, reproduce, rounds, channel, value,
             gas_used, nb_slots, next_id, died, births, placed, target, best, hit_by, hit_on,
             hit_killed):
    """Phases 3-12 in place. Fills ``died``, ``births`` and ``placed``; returns their
    counts and the next id."""
    w, h = p[P_W], p[P_H]
    n = s.alive.shape[0]
    order = _by_oid(s)
    # 3. metabolism
    for i in order:
        s.energy[i] -= p[P_BASAL] + (gas_used[i] * p[P_INSTR]) // 1000 \
            + (s.genome_bytes[i] * p[P_UPKEEP]) // 1024
    # 4. attacks, in oid order (each remembered for phase 8's assists)
    n_hits = 0
    for i in order:
        k = attack[i]
        if k < 1 or k > MAX_NEIGHBORS or amount[i] <= 0 or s.energy[i] <= 0:
            continue
        v = nb_slots[i, k - 1]
        if v < 0 or not s.alive[v] or s.energy[v] <= 0:
            continue
        put = min(amount[i], s.energy[i])
        s.energy[i] -= put + p[P_ATTACK_COST]
        s.energy[v] -= put * p[P_DAMAGE] // 100
        s.totals[T_ATTACKS] += 1
        hit_by[n_hits] = i
        hit_on[n_hits] = v
        hit_killed[n_hits] = 0
        if s.energy[v] <= 0:
            s.kills[i] += 1
            s.totals[T_KILLS] += 1
            hit_killed[n_hits] = 1
        n_hits += 1
    # 5. moves, all at once: the strongest mover per free target tile wins (then lower id)
    for i in order:
        target[i] = -1
        d = move[i]
        if d < 1 or d > 8 or s.energy[i] <= 0:
            continue
        t = _wrap(s.y[i] + DIR_DY[d], h) * w + _wrap(s.x[i] + DIR_DX[d], w)
        if s.kind[t] == OBSTACLE or s.occupancy[t] >= 0:
            continue
        target[i] = t
        b = best[t]
        if b < 0 or s.energy[i] > s.energy[b] or (s.energy[i] == s.energy[b]
                                                   and s.oid[i] < s.oid[b]):
            best[t] = i
    for i in order:
        t = target[i]
        if t < 0 or best[t] != i:
            continue
        s.occupancy[s.y[i] * w + s.x[i]] = -1
        s.occupancy[t] = i
        s.x[i] = t % w
        s.y[i] = t // w
        s.energy[i] -= p[P_MOVE]
        s.moved[i] += 1
        s.totals[T_MOVES] += 1
    for i in order:
        if target[i] >= 0:
            best[target[i]] = -1
    # 6. eat
    for i in order:
        if eat[i] != 1 or s.energy[i] <= 0:
            continue
        t = s.y[i] * w + s.x[i]
        c = min(p[P_BITE], s.corpse[t])
        q = min(p[P_BITE] - c, s.resource[t] >> 8)
        s.corpse[t] -= c
        s.resource[t] -= q << 8
        s.energy[i] = min(s.energy[i] + c + q, p[P_MAX_ENERGY])
        s.eaten[i] += c + q
        s.totals[T_MEALS] += c + q
    # 7. hazards
    for i in order:
        if s.energy[i] <= 0:
            continue
        k = s.kind[s.y[i] * w + s.x[i]]
        if k == HAZARD:
            s.energy[i] -= p[P_HAZARD]
        elif k == RADIATION:
            s.energy[i] -= p[P_RADIATION]
    # 8. deaths, in oid order
    n_died = 0
    for i in order:
        if s.energy[i] > 0:
            continue
        t = s.y[i] * w + s.x[i]
        s.corpse[t] += p[P_CORPSE]
        s.occupancy[t] = -1
        s.alive[i] = 0
        died[n_died] = i
        n_died += 1
    s.totals[T_DEATHS] += n_died
    for k in range(n_hits):       # assists: a hit on a victim that died, by another's hit or not
        if hit_killed[k] == 0 and s.alive[hit_on[k]] == 0:
            s.assists[hit_by[k]] += 1
            s.totals[T_ASSISTS] += 1
    # 9. births, in oid order of the survivors (a slot freed in 8 may hold a child by now)
    survivors = _by_oid(s)
    n_births = 0
    free = -1
    for i in survivors:
        if reproduce[i] != 1 or s.energy[i] < p[P_REPRO_MIN]:
            continue
        start = random_int(seed, STREAM_BIRTH, tick, s.oid[i], 0, 0, 8)
        tile = -1
        for j in range(8):
            d = 1 + (start + j) % 8
            t = _wrap(s.y[i] + DIR_DY[d], h) * w + _wrap(s.x[i] + DIR_DX[d], w)
            if s.kind[t] != OBSTACLE and s.occupancy[t] < 0:
                tile = t
                break
        slot = _lowest_free(s.alive, free + 1) if tile >= 0 else -1
        if slot < 0:
            s.totals[T_FAILED_BIRTHS] += 1
            continue
        free = slot
        share = max(0, ((s.energy[i] - p[P_REPRO_COST]) * p[P_SHARE]) >> 16)
        s.energy[i] -= p[P_REPRO_COST] + share
        child_id = next_id
        next_id += 1
        cx, cy = tile % w, tile // w
        extra = 0
        for ddy in range(-1, 2):
            for ddx in range(-1, 2):
                if s.kind[_wrap(cy + ddy, h) * w + _wrap(cx + ddx, w)] == RADIATION:
                    extra = p[P_RAD_EXTRA]
        bit = random_int(seed, STREAM_TAG, tick, child_id, 0, 0, 32)
        s.alive[slot] = 1
        s.oid[slot] = child_id
        s.x[slot] = cx
        s.y[slot] = cy
        s.energy[slot] = share
        s.birth_energy[slot] = share
        s.born[slot] = tick + 1
        s.parent[slot] = s.oid[i]
        s.generation[slot] = s.generation[i] + 1
        s.lineage[slot] = s.lineage[i]
        s.tag[slot] = s.tag[i] ^ (np.int64(1) << bit)
        s.genome_bytes[slot] = 0
        s.offspring[slot] = 0
        s.kills[slot] = 0
        s.eaten[slot] = 0
        s.moved[slot] = 0
        s.assists[slot] = 0
        s.signals[slot] = 0
        s.occupancy[tile] = slot
        s.offspring[i] += 1
        births[n_births, 0] = i
        births[n_births, 1] = slot
        births[n_births, 2] = min(max(rounds[i], 0), p[P_MAX_MUT]) + extra
        n_births += 1
        s.totals[T_BIRTHS] += 1
    # 10. signals: this tick's marks replace last tick's
    s.signal[:] = 0
    s.signal_value[:] = 0
    for i in survivors:
        if 0 <= channel[i] < CHANNELS:
            t = s.y[i] * w + s.x[i]
            s.signal[t] = channel[i] + 1
            s.signal_value[t] = _i32(value[i])
            s.signals[i] += 1
            s.totals[T_SIGNALS] += 1
    # 11. regrowth and decay
    big_r, rate, decay = p[P_RMAX], p[P_REGROWTH], p[P_DECAY]
    for t in range(s.kind.shape[0]):
        if s.kind[t] == FERTILE:
            r = s.resource[t]
            r += (rate * (r + big_r // 64) * (big_r - r)) // (big_r * 65536)
            s.resource[t] = min(r, big_r)
        c = s.corpse[t]
        if c > 0:
            s.corpse[t] = max(0, c - max(1, (c * decay) >> 16))
    # 12. top-up
    living = 0
    for i in range(n):
        living += s.alive[i]
    n_placed = 0
    if living < p[P_MIN_ORG]:
        n_placed = _place_random(s, p, seed, tick, p[P_MIN_ORG] - living, next_id, tick + 1,
                                 placed)
        next_id += n_placed
    return n_died, n_births, n_placed, next_id


def advance(s: EcologyState, cfg: EcologyConfig, seed_word: int, tick: int, intents: Intents,
            gas_used: np.ndarray, nb_slots: np.ndarray, next_id: int) -> Advance:
    """Phases 3-12 of tick ``tick`` in place on ``s``."""
    n = s.alive.shape[0]
    t = s.kind.shape[0]
    died = np.zeros(n, dtype=np.int64)
    births = np.zeros((n, 3), dtype=np.int64)
    placed = np.zeros(n, dtype=np.int64)
    target = np.full(n, -1, dtype=np.int64)
    best = np.full(t, -1, dtype=np.int64)
    hits = np.zeros((3, n), dtype=np.int64)
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731 - local shorthand
    nd, nb, npl, next_id = _advance(
        s, params(cfg), seed_word, tick, i64(intents.move), i64(intents.eat),
        i64(intents.attack), i64(intents.amount), i64(intents.reproduce), i64(intents.rounds),
        i64(intents.channel), i64(intents.value), i64(gas_used), i64(nb_slots), next_id,
        died, births, placed, target, best, hits[0], hits[1], hits[2])
    return Advance(died[:nd].copy(), births[:nb].copy(), placed[:npl].copy(), int(next_id))
