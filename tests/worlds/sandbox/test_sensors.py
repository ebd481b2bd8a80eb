"""The sensing kernel (tile index, list scans, ring walks, cache) equals the reference sandbox's
plain ring search."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.core.rng import Rng
from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.reference import sense_one
from primordia.worlds.sandbox.sensors import (ALL_SENSORS, effective_gas, list_limit,
                                              new_sense_cache, ring_cell, ring_index, ring_key,
                                              sense)
from primordia.worlds.sandbox.tile_index import index_tiles, new_tile_index

from .conftest import blank_state, put_npc


def _random_world(seed: int, size: int, npcs: int, density: float):
    """A grid strewn with every tile kind, NPCs on free cells, random stats and modifiers."""
    rng = np.random.default_rng(seed)       # test data only; the world itself uses core.rng
    s = blank_state(npcs, size)
    kinds = np.array([c.EMPTY, c.WALL, c.FOOD, c.WATER, c.TOOL_TILE, c.WEAPON_TILE,
                      c.TREASURE_TILE, c.CRYSTAL_TILE, c.FORGE, c.POISON])
    mask = rng.random((size, size)) < density
    s.tile[mask] = rng.choice(kinds, size=int(mask.sum()))
    s.cooldown[:] = rng.integers(0, 20, (size, size))
    cells = rng.permutation(size * size)[:npcs]
    for slot, cell in enumerate(cells.tolist()):
        put_npc(s, slot, cell % size, cell // size, npc_id=1000 + 7 * slot,
                energy=int(rng.integers(0, 201)), health=int(rng.integers(-5, 101)))
        s.heading[slot] = int(rng.integers(1, 5))
        s.stress[slot], s.age[slot] = int(rng.integers(0, 101)), int(rng.integers(0, 5000))
        s.item[slot] = int(rng.integers(0, 8))
        for m in range(c.MOD_SLOTS):
            if rng.random() < 0.3:
                s.mod_kind[slot, m] = c.MOD_GAS
                s.mod_mag[slot, m] = int(rng.integers(1, 120))
                s.mod_left[slot, m] = int(rng.integers(-1, 3))
    genomes = [bytes(rng.integers(0, 256, int(rng.integers(0, 40))).astype(np.uint8))
               for _ in range(npcs)]
    return s, genomes


def _pool_of(genomes):
    lengths = np.array([len(g) for g in genomes], dtype=np.int64)
    off = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return np.frombuffer(b"".join(genomes) + b"\0", dtype=np.uint8), off, lengths


def _assert_senses_like_the_seed(s, genomes, seed, list_max, ix, cache, pool_version=1,
                                 round_no=3, reach=None):
    """Every sensor an NPC can read (``reach``; default all) equals the plain search."""
    pool, off, lengths = _pool_of(genomes)
    npcs = len(genomes)
    if reach is None:
        reach = np.full(npcs, ALL_SENSORS, dtype=np.int64)
    seed_word = Rng(seed).seed_word
    out = np.zeros((npcs, c.N_SENSORS), dtype=np.int32)
    index_tiles(s.tile, ix)
    sense(s, np.arange(npcs, dtype=np.int64), 1234, round_no, seed_word, 200, pool, off,
          lengths, pool_version, ix, list_max, cache, reach, out)
    for i in range(npcs):
        want = sense_one(s, i, 1234, round_no, seed_word, 200, genomes)
        got = out[i].tolist()
        for k in range(c.N_SENSORS):
            if reach[i] >> k & 1:
                assert got[k] == want[k], f"NPC slot {i}, sensor {k}, list_max {list_max}"


@pytest.mark.parametrize("seed,size,npcs,density", [
    (1, 8, 6, 0.3), (2, 32, 40, 0.05), (3, 40, 200, 0.01), (4, 64, 30, 0.002), (5, 12, 100, 0.5),
    (6, 70, 10, 0.0)])
def test_kernel_sensors_equal_plain_ring_search(seed, size, npcs, density):
    s, genomes = _random_world(seed, size, npcs, density)
    # 0: always walk the rings; list_limit: as the world does; huge: always scan the lists
    for list_max in (0, list_limit(size * size), size * size):
        _assert_senses_like_the_seed(s, genomes, seed, list_max, new_tile_index(size, size),
                                     new_sense_cache(npcs))


@pytest.mark.parametrize("seed,list_max", [(11, 0), (12, 10_000), (13, 0), (14, 10_000)])
def test_cached_answers_hold_as_the_world_changes_round_after_round(seed, list_max):
    """Sense, change a few tiles and move a few NPCs, sense again: answers reused from the
    cache (NPC still, one index update since) must equal a fresh search every round."""
    size, npcs = 24, 60
    s, genomes = _random_world(seed, size, npcs, 0.02)
    rng = np.random.default_rng(seed)
    ix, cache = new_tile_index(size, size), new_sense_cache(npcs)
    kinds = np.array([c.EMPTY, c.FOOD, c.TOOL_TILE, c.CRYSTAL_TILE, c.POISON, c.WALL])
    for round_no in range(40):
        # what each NPC can read changes now and then, as genomes do
        reach = np.where(rng.random(npcs) < 0.5, ALL_SENSORS,
                         rng.integers(0, ALL_SENSORS + 1, npcs)).astype(np.int64)
        _assert_senses_like_the_seed(s, genomes, seed, list_max, ix, cache,
                                     pool_version=1 + round_no // 10, round_no=round_no,
                                     reach=reach if round_no % 4 == 1 else None)
        burst = round_no % 5 == 4                         # sometimes many at once
        for _ in range(40 if burst else int(rng.integers(0, 4))):   # tiles come and go
            x, y = rng.integers(0, size, 2)
            s.tile[y, x] = rng.choice(kinds)
        for _ in range(int(rng.integers(0, 3))):          # a few NPCs step to a free cell
            i = int(rng.integers(0, npcs))
            x, y = (int(v) for v in rng.integers(0, size, 2))
            if s.occupant[y, x] < 0:
                s.occupant[s.y[i], s.x[i]] = -1
                s.x[i], s.y[i] = x, y
                s.occupant[y, x] = i
        if round_no % 3 == 2:           # an update between sensings (as the world's turn does)
            index_tiles(s.tile, ix)
            x, y = rng.integers(0, size, 2)
            s.tile[y, x] = rng.choice(kinds)
        if round_no % 10 == 9:                            # genomes change between ticks
            genomes = [bytes(rng.integers(0, 256, int(rng.integers(0, 40))).astype(np.uint8))
                       for _ in range(npcs)]


def test_ring_order_matches_the_seed():
    # radius 1: N, E, S, W; radius 2 starts at the top and walks each edge in turn
    assert [ring_cell(5, 5, 1, k) for k in range(4)] == [(5, 4), (6, 5), (5, 6), (4, 5)]
    assert [ring_cell(0, 0, 2, k) for k in range(8)] == [
        (0, -2), (2, 0), (0, 2), (-2, 0), (1, -1), (1, 1), (-1, 1), (-1, -1)]


def test_ring_index_inverts_ring_cell():
    for d in range(1, 7):
        for k in range(4 * d):
            x, y = ring_cell(10, 20, d, k)
            assert ring_index(x - 10, y - 20, d) == k
            assert ring_key(x - 10, y - 20) == (d << 32) | k     # the branch-free form
    assert ring_key(0, 0) == 0


def test_gas_bonus_has_diminishing_returns():
    s = blank_state(1, 4)
    for m, mag in enumerate((50, 50, 50)):
        s.mod_kind[0, m], s.mod_mag[0, m], s.mod_left[0, m] = c.MOD_GAS, mag, -1
    # 150 of modifiers: +50, then (150 - 50) / 2 = 50 -> +50, then nothing: 200 + 100
    assert effective_gas(s.mod_kind, s.mod_mag, s.mod_left, 0, 200) == 300
    s.mod_left[0, 2] = 0                                  # an empty slot does not count
    # 100: +50, then (100 - 50) / 2 = 25 -> +25
    assert effective_gas(s.mod_kind, s.mod_mag, s.mod_left, 0, 200) == 275
    assert effective_gas(s.mod_kind, s.mod_mag, s.mod_left, 0, 480) == 500   # capped
