"""The ecology tick as numba kernels (docs/worlds/ecology.md, "The tick"); ``reference.py``
is the plain-Python oracle they are held equal to, call for call.

Three entry points, the same as the reference's: ``sense`` (phase 1), ``advance`` (phases
3-12) and ``place_random``. The config's numbers travel to the kernels as one int64 array
(``params``); every loop is over slots or tiles inside a kernel, none in Python.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from primordia.core.rng import random_int, random_u64, stream_id

from .config import EcologyConfig, q16
from .io import Intents, io_of, no_intents
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
    """Set bits among the low 32 of ``v``, in constant time (no loop to mispredict)."""
    v = v & 0xFFFFFFFF
    v = v - ((v >> 1) & 0x55555555)
    v = (v & 0x33333333) + ((v >> 2) & 0x33333333)
    v = (v + (v >> 4)) & 0x0F0F0F0F
    return ((v * 0x01010101) & 0xFFFFFFFF) >> 24


@njit(cache=True, nogil=True, inline="always")
def _popcount64(v: int) -> int:
    v = v - ((v >> 1) & 0x5555555555555555)
    v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333)
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (v * 0x0101010101010101) >> 56


class Buffers(NamedTuple):
    """The arrays a world keeps from tick to tick so that its kernels allocate nothing
    (fresh multi-megabyte arrays cost page faults every tick). What they carry between
    ticks is never trusted blindly: ``order`` is checked against the state, ``written``
    only says which rows to put back to rest, ``best`` is left all -1 by phase 5, and
    ``growth`` is used only for the (Rmax, rate) it was made for."""

    sensors: np.ndarray      # int32[N, S]  phase 1's output
    nb_slots: np.ndarray     # int64[N, 8]  phase 1's output
    written: np.ndarray      # int8[N]      rows of sensors/nb_slots not at rest (0 and -1)
    order: np.ndarray        # int64[N]     the living in oid order, as the last advance left them
    order_n: np.ndarray      # int64[1]     how many (-1: not known)
    died: np.ndarray         # int64[N]
    births: np.ndarray       # int64[N, 3]
    placed: np.ndarray       # int64[N]
    target: np.ndarray       # int64[N]
    best: np.ndarray         # int64[T]     all -1 between ticks (phase 5 puts them back)
    hits: np.ndarray         # int64[3, N]
    intents: Intents         # int64[N] each: phase 2's decoded actions
    growth: np.ndarray       # int64[Rmax + 1]  regrowth by resource level (empty: too many)
    growth_for: np.ndarray   # int64[2]  the (Rmax, rate) it was made for


@njit(cache=True, nogil=True, inline="always")
def _regrowth(r: int, big_r: int, rate: int) -> int:
    """Phase 11's logistic regrowth of a tile holding ``r`` (Q8) towards ``big_r``."""
    return (rate * (r + big_r // 64) * (big_r - r)) // (big_r * 65536)


@njit(cache=True, nogil=True)
def _growth_table(big_r, rate, size):
    out = np.empty(size, dtype=np.int64)
    for r in range(size):
        out[r] = _regrowth(r, big_r, rate)
    return out


GROWTH_TABLE_MAX = 1 << 16
"""Largest Rmax (Q8) whose regrowth is tabulated (r_max 256: a 512 KiB table)."""


def buffers(s: EcologyState, cfg: EcologyConfig) -> Buffers:
    """Empty buffers for the world of state ``s`` and config ``cfg``."""
    n, t = s.alive.shape[0], s.kind.shape[0]
    p = params(cfg)
    big_r, rate = int(p[P_RMAX]), int(p[P_REGROWTH])
    return Buffers(
        sensors=np.zeros((n, io_of(cfg).n_sensors), dtype=np.int32),
        nb_slots=np.full((n, MAX_NEIGHBORS), -1, dtype=np.int64),
        written=np.zeros(n, dtype=np.int8), order=np.zeros(n, dtype=np.int64),
        order_n=np.full(1, -1, dtype=np.int64), died=np.zeros(n, dtype=np.int64),
        births=np.zeros((n, 3), dtype=np.int64), placed=np.zeros(n, dtype=np.int64),
        target=np.zeros(n, dtype=np.int64), best=np.full(t, -1, dtype=np.int64),
        hits=np.zeros((3, n), dtype=np.int64), intents=no_intents(n),
        growth=_growth_table(big_r, rate, big_r + 1 if big_r <= GROWTH_TABLE_MAX else 0),
        growth_for=np.array([big_r, rate], dtype=np.int64))


def _fits(b: Buffers, s: EcologyState, cfg: EcologyConfig) -> bool:
    return (b.sensors.shape == (s.alive.shape[0], io_of(cfg).n_sensors)
            and b.best.shape == s.kind.shape)


# ---- phase 1: sense ----------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _ring(r):
    """The window positions (index, dx, dy) of the rings d = 1..r around the centre, nearest
    ring first and row by row within a ring: the order neighbour records are found in."""
    side = 2 * r + 1
    at = np.empty(side * side, dtype=np.int64)
    ring_dx = np.empty(side * side, dtype=np.int64)
    ring_dy = np.empty(side * side, dtype=np.int64)
    m = 0
    for d in range(1, r + 1):
        for dy in range(-d, d + 1):
            for dx in range(-d, d + 1):
                if dy == -d or dy == d or dx == -d or dx == d:
                    at[m] = (dy + r) * side + dx + r
                    ring_dx[m] = dx
                    ring_dy[m] = dy
                    m += 1
    return at[:m], ring_dx[:m], ring_dy[:m]


MASKED = 48
"""Ring positions whose occupants are found through a bit mask: rings 1 to 3 (radius 3's
whole window; wider rings are walked tile by tile)."""


@njit(cache=True, nogil=True, inline="always")
def _record(row, nb_slots, i, n, nb_at, tag, info, other, dx, dy):
    """Neighbour record ``n`` of slot ``i`` (lineage tag ``tag``): the slot ``other`` at
    (dx, dy); ``info``: every slot's tag and energy band, as ``_sense`` packs them."""
    nb_slots[i, n] = other
    at = nb_at + 4 * n
    v = info[other]
    row[at] = dx
    row[at + 1] = dy
    row[at + 2] = v >> 32
    row[at + 3] = ((32 - _popcount32(tag ^ v)) * 255) // 32


@njit(cache=True, nogil=True)
def _sense(s, p, tick, sensors, nb_slots, written):
    """Every living slot's row, all of it; a free slot's row is put back to rest (0 and -1)
    when it was written before (``written``), so buffers can be reused tick after tick."""
    w, h, r, band, records = p[P_W], p[P_H], p[P_R], p[P_BAND], p[P_RECORDS]
    side = 2 * r + 1
    view_at = 4 + CHANNELS
    nb_at = view_at + side * side
    ring, ring_dx, ring_dy = _ring(r)
    masked = min(ring.shape[0], MASKED)
    rank = np.full(side * side, 63, dtype=np.int64)   # window position -> bit (ring order)
    for j in range(masked):
        rank[ring[j]] = j
    ring_bits = (np.int64(1) << masked) - 1
    window = np.empty(side * side, dtype=np.int64)   # tile index per window position
    cols = np.empty(side, dtype=np.int64)
    heard = np.zeros(CHANNELS + 1, dtype=np.int64)   # by channel + 1 (0: no signal there)
    # every tile's code (24 bits), signal channel + 1 (3 bits, from bit 24) and signal value
    # (the high 32) in one word, once: the windows then make one read per tile
    words = np.empty(s.kind.shape[0], dtype=np.int64)
    for t in range(words.shape[0]):
        words[t] = (_tile_code(s, t) | (np.int64(s.signal[t]) << 24)
                    | (np.int64(s.signal_value[t]) << 32))
    # every slot's tag (low 32 bits) and energy band (from bit 32), once: a neighbour
    # record then reads one word, and the division by the band is done once per slot
    info = np.empty(s.alive.shape[0], dtype=np.int64)
    for i in range(s.alive.shape[0]):
        info[i] = (s.tag[i] & 0xFFFFFFFF) | (min(15, max(s.energy[i], 0) // band) << 32)
    for i in range(s.alive.shape[0]):
        row = sensors[i]
        if not s.alive[i]:
            if written[i]:
                row[:] = 0
                nb_slots[i, :] = -1
                written[i] = 0
            continue
        written[i] = 1
        x, y = s.x[i], s.y[i]
        for k in range(side):
            cols[k] = _wrap_near(x + k - r, w)
        for c in range(CHANNELS + 1):
            heard[c] = 0
        occupied = np.int64(0)
        k = 0
        for dy in range(side):
            base = _wrap_near(y + dy - r, h) * w
            for dx in range(side):
                t = base + cols[dx]
                word = words[t]
                window[k] = t
                row[view_at + k] = word & 0xFFFFFF
                heard[(word >> 24) & 7] += word >> 32   # a tile without a signal adds 0
                occupied |= ((word >> 3) & 1) << rank[k]
                k += 1
        word = words[window[r * side + r]]
        heard[(word >> 24) & 7] -= word >> 32        # its own tile is not heard
        row[0] = _clip32(s.energy[i])
        row[1] = _clip32(tick - s.born[i])
        row[2] = row[view_at + r * side + r]
        for c in range(CHANNELS):
            row[4 + c] = _i32(heard[c + 1])
        # the first MASKED ring positions come from the bits of ``occupied``, in ring order
        # and without a branch per empty tile; a radius over 3 walks the rest tile by tile
        n = 0
        tag = s.tag[i]
        occupied &= ring_bits                    # not the centre
        while occupied != 0 and n < records:
            low = occupied & -occupied
            occupied ^= low
            j = _popcount64(low - 1)
            _record(row, nb_slots, i, n, nb_at, tag, info, s.occupancy[window[ring[j]]],
                    ring_dx[j], ring_dy[j])
            n += 1
        for j in range(masked, ring.shape[0]):
            if n == records:
                break
            if row[view_at + ring[j]] & 8:           # the tile code's "occupied" bit
                _record(row, nb_slots, i, n, nb_at, tag, info, s.occupancy[window[ring[j]]],
                        ring_dx[j], ring_dy[j])
                n += 1
        row[3] = n
        for k in range(n, MAX_NEIGHBORS):
            nb_slots[i, k] = -1
        for c in range(nb_at + 4 * n, nb_at + 4 * records):
            row[c] = 0


def sense(s: EcologyState, cfg: EcologyConfig, tick: int, into: Buffers | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: every living organism's sensors (int32[N, S]) and the slots behind its
    neighbour records (int64[N, 8], -1 past the count); free slots' rows are 0 and -1.
    With ``into`` (a world's ``Buffers``) the two arrays are its own, overwritten by the
    next call; without, fresh ones."""
    b = into if into is not None and _fits(into, s, cfg) else buffers(s, cfg)
    _sense(s, params(cfg), tick, b.sensors, b.nb_slots, b.written)
    return b.sensors, b.nb_slots


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
def _living_in_oid_order(s, order, order_n):
    """The living slots in oid order, as ``order[:n]``. The last advance left them there
    (ids only grow, so survivors then births then the top-up are in order); that is
    checked -- every living slot once, ids strictly rising -- and sorted afresh if not
    (a new or restored world, or a state changed between ticks)."""
    living = 0
    for i in range(s.alive.shape[0]):
        living += s.alive[i] != 0
    n = order_n[0]
    ok = n == living
    last = -1
    for j in range(n if ok else 0):
        i = order[j]
        if i < 0 or i >= s.alive.shape[0] or not s.alive[i] or s.oid[i] <= last:
            ok = False
            break
        last = s.oid[i]
    if not ok:
        fresh = _by_oid(s)
        order[:living] = fresh
        order_n[0] = living
    return order[:living]


@njit(cache=True, nogil=True)
def _advance(s, p, seed, tick, move, eat, attack, amount, reproduce, rounds, channel, value,
             gas_used, nb_slots, next_id, died, births, placed, target, best, hit_by, hit_on,
             hit_killed, oid_order, order_n, growth, growth_for):
    """Phases 3-12 in place. Fills ``died``, ``births`` and ``placed``; returns their
    counts and the next id. Leaves the living in oid order in ``oid_order[:order_n[0]]``.
    ``growth[r]``: regrowth of a tile holding ``r``, used when made for (Rmax, rate) =
    ``growth_for`` (phase 11's division, once per resource level instead of per tile)."""
    w, h = p[P_W], p[P_H]
    n = s.alive.shape[0]
    order = _living_in_oid_order(s, oid_order, order_n)
    # 3. metabolism (each organism on its own: in slot order, which reads memory in order)
    for i in range(n):
        if s.alive[i]:
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
    # 6-7. eat, then hazards: each organism alone on its tile, so in slot order (eating
    # leaves a living organism's energy above 0: max_energy >= 1)
    meals = 0
    for i in range(n):
        if not s.alive[i] or s.energy[i] <= 0:
            continue
        t = s.y[i] * w + s.x[i]
        if eat[i] == 1:
            c = min(p[P_BITE], s.corpse[t])
            q = min(p[P_BITE] - c, s.resource[t] >> 8)
            s.corpse[t] -= c
            s.resource[t] -= q << 8
            s.energy[i] = min(s.energy[i] + c + q, p[P_MAX_ENERGY])
            s.eaten[i] += c + q
            meals += c + q
        k = s.kind[t]
        if k == HAZARD:
            s.energy[i] -= p[P_HAZARD]
        elif k == RADIATION:
            s.energy[i] -= p[P_RADIATION]
    s.totals[T_MEALS] += meals
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
    kept = 0
    for i in order:                 # the survivors, still in oid order, at the front
        if s.alive[i]:
            oid_order[kept] = i
            kept += 1
    survivors = oid_order[:kept]
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
        oid_order[kept + n_births] = slot        # ids only grow: the child goes last
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
    table = growth.shape[0] if growth_for[0] == big_r and growth_for[1] == rate else 0
    for t in range(s.kind.shape[0]):
        if s.kind[t] == FERTILE:
            r = s.resource[t]
            if 0 <= r < table:
                r += growth[r]
            else:
                r += _regrowth(r, big_r, rate)
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
    oid_order[kept + n_births:kept + n_births + n_placed] = placed[:n_placed]
    order_n[0] = kept + n_births + n_placed
    return n_died, n_births, n_placed, next_id


def advance(s: EcologyState, cfg: EcologyConfig, seed_word: int, tick: int, intents: Intents,
            gas_used: np.ndarray, nb_slots: np.ndarray, next_id: int,
            into: Buffers | None = None) -> Advance:
    """Phases 3-12 of tick ``tick`` in place on ``s``; ``into``: a world's ``Buffers`` for
    the kernel's scratch arrays (fresh ones without)."""
    b = into if into is not None and _fits(into, s, cfg) else buffers(s, cfg)
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731 - local shorthand
    nd, nb, npl, next_id = _advance(
        s, params(cfg), seed_word, tick, i64(intents.move), i64(intents.eat),
        i64(intents.attack), i64(intents.amount), i64(intents.reproduce), i64(intents.rounds),
        i64(intents.channel), i64(intents.value), i64(gas_used), i64(nb_slots), next_id,
        b.died, b.births, b.placed, b.target, b.best, b.hits[0], b.hits[1], b.hits[2],
        b.order, b.order_n, b.growth, b.growth_for)
    return Advance(b.died[:nd].copy(), b.births[:nb].copy(), b.placed[:npl].copy(),
                   int(next_id))
