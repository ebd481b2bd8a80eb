"""The ecology world's rules (docs/worlds/ecology.md), scenario by scenario: tiny hand-built
worlds, one ``sense`` or ``advance`` call, exact assertions. Every test runs on the plain-Python
oracle (``reference.py``) and on the kernels (``phases.py``), which share its entry points.
Property tests at the end check the invariants of a few random ticks on small random worlds,
and that the implementation agrees with the reference array for array."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.core.rng import random_int_py, random_u64_py, stream_id
from primordia.worlds.ecology import reference
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.ecology.io import (S_AGE, S_ENERGY, S_NEIGHBORS, S_SIGNAL, S_TILE,
                                         S_VIEW, Intents, ecology_io, io_of, neighbor_at)
from primordia.worlds.ecology.state import (FERTILE, HAZARD, OBSTACLE, OPEN, RADIATION,
                                            T_ASSISTS, T_ATTACKS, T_BIRTHS, T_DEATHS,
                                            T_FAILED_BIRTHS,
                                            T_KILLS, T_MEALS, T_MOVES, T_PLACED, T_SIGNALS,
                                            EcologyState, copy_state, empty_state)
from primordia.worlds.ecology.terrain import generate

SEED = 0x5EED_C0FFEE
TICK = 7
STREAM_PLACE = stream_id("ecology.place")
STREAM_TAG = stream_id("ecology.tag")
STREAM_BIRTH = stream_id("ecology.birth")
INT32_MAX = 2**31 - 1

# The directions of the ``move`` action as the doc lists them (codes 1..8).
DIRS = ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))
E, NE, N, NW, W, SW, S, SE = range(1, 9)

BASE = dict(width=8, height=8, num_organisms=0, resource_density=0.0, obstacle_share=0.0,
            hazard_share=0.0, radiation_share=0.0, max_organisms=16, radius=1,
            basal_cost=0, instruction_cost=0, brain_upkeep=0, move_cost=0, attack_cost=0,
            hazard_damage=0, radiation_damage=0, regrowth=0.0, corpse_decay=0.0)
"""A quiet world: no terrain, nothing costs anything; each test turns on what it checks."""


@pytest.fixture(scope="module", params=["reference", "phases"])
def rules(request):
    if request.param == "phases":
        # phases.py lands with the kernels
        return pytest.importorskip("primordia.worlds.ecology.phases")
    return importlib.import_module(f"primordia.worlds.ecology.{request.param}")


# ---- building worlds -------------------------------------------------------------------------


def config(**changes) -> EcologyConfig:
    return EcologyConfig(**{**BASE, **changes})


def world(cfg: EcologyConfig, *organisms, capacity: int = 8, ids=None) -> EcologyState:
    """An all-open map with ``organisms`` ((x, y, energy) each) in slots 0, 1, ...; ids are
    ``ids`` or the slots; born at tick 0, tag 0, their own lineage."""
    s = empty_state(capacity, cfg.width, cfg.height)
    for slot, (x, y, energy) in enumerate(organisms):
        put(s, cfg, slot, x, y, energy, oid=slot if ids is None else ids[slot])
    return s


def put(s: EcologyState, cfg: EcologyConfig, slot: int, x: int, y: int, energy: int,
        oid: int | None = None, tag: int = 0, born: int = 0) -> None:
    oid = slot if oid is None else oid
    s.alive[slot], s.oid[slot], s.x[slot], s.y[slot] = 1, oid, x, y
    s.energy[slot], s.born[slot], s.tag[slot], s.lineage[slot] = energy, born, tag, oid
    s.occupancy[at(cfg, x, y)] = slot


def at(cfg: EcologyConfig, x: int, y: int) -> int:
    return (y % cfg.height) * cfg.width + (x % cfg.width)


def intents(cfg: EcologyConfig, n: int, **fields) -> Intents:
    """Everyone does nothing but what ``fields`` ({slot: value} per intent) says."""
    base = dict(move=0, eat=0, attack=0, amount=cfg.attack_amount, reproduce=0,
                rounds=cfg.mutation_rounds, channel=-1, value=1)
    arrays = {name: np.full(n, v, dtype=np.int64) for name, v in base.items()}
    for name, by_slot in fields.items():
        for slot, v in by_slot.items():
            arrays[name][slot] = v
    return Intents(**arrays)


def step(rules, s: EcologyState, cfg: EcologyConfig, tick: int = TICK, gas=None,
         next_id: int | None = None, **fields):
    """Sense, then advance tick ``tick`` with the intents ``fields``."""
    n = s.alive.shape[0]
    _, nb = rules.sense(s, cfg, tick=tick)
    gas_used = np.zeros(n, dtype=np.int64) if gas is None else np.asarray(gas, dtype=np.int64)
    if next_id is None:
        next_id = int(s.oid.max()) + 1
    return rules.advance(s, cfg, SEED, tick, intents(cfg, n, **fields), gas_used, nb, next_id)


def pos(s: EcologyState, slot: int) -> tuple[int, int]:
    return int(s.x[slot]), int(s.y[slot])


def record(sensors: np.ndarray, cfg: EcologyConfig, slot: int, k: int) -> list[int]:
    at_ = neighbor_at(cfg.radius) + 4 * k
    return sensors[slot, at_:at_ + 4].tolist()


def birth_dir(parent_id: int, tick: int = TICK) -> int:
    """The first direction (index into DIRS) a parent looks at."""
    return random_int_py(SEED, STREAM_BIRTH, tick, parent_id, 0, 0, 8)


# ---- sensors ----------------------------------------------------------------------------------


def test_energy_age_and_own_tile(rules):
    cfg = config()
    s = world(cfg, (2, 3, 2**40), (5, 5, -5), capacity=4)
    s.born[0], s.born[1] = 3, -2**40
    s.kind[at(cfg, 2, 3)] = HAZARD
    s.corpse[at(cfg, 2, 3)] = 7
    s.resource[at(cfg, 2, 3)] = 3 * 256 + 255        # 3 whole units
    sensors, nb = rules.sense(s, cfg, tick=10)
    assert sensors.dtype == np.int32 and sensors.shape == (4, ecology_io(1, 8).n_sensors)
    assert nb.dtype == np.int64 and nb.shape == (4, 8)
    assert sensors[0, S_ENERGY] == INT32_MAX                 # clipped to int32
    assert sensors[0, S_AGE] == 10 - 3
    assert sensors[0, S_TILE] == HAZARD | 1 << 3 | 10 << 4
    assert sensors[1, S_ENERGY] == -5
    assert sensors[1, S_AGE] == INT32_MAX
    assert sensors[1, S_TILE] == OPEN | 1 << 3
    assert (sensors[2:] == 0).all() and (nb[2:] == -1).all()   # free slots


def test_tile_codes_and_view_order_wrap_round_the_torus(rules):
    cfg = config()
    s = world(cfg, (0, 0, 100), (1, 1, 100))
    s.kind[at(cfg, 7, 7)] = OBSTACLE
    s.kind[at(cfg, 0, 7)], s.resource[at(cfg, 0, 7)] = FERTILE, 5 * 256
    s.kind[at(cfg, 1, 7)], s.corpse[at(cfg, 1, 7)] = RADIATION, 2**21   # food capped
    s.kind[at(cfg, 7, 0)], s.corpse[at(cfg, 7, 0)] = HAZARD, 3
    s.kind[at(cfg, 7, 1)], s.resource[at(cfg, 7, 1)] = FERTILE, 255     # no whole unit
    s.corpse[at(cfg, 0, 1)] = 1
    s.kind[at(cfg, 1, 1)] = HAZARD                                      # organism 1 there
    sensors, _ = rules.sense(s, cfg, tick=0)
    view = sensors[0, S_VIEW:S_VIEW + 9].tolist()
    # row by row from (-1, -1) to (1, 1): (7,7) (0,7) (1,7) / (7,0) (0,0) (1,0) / (7,1) (0,1) (1,1)
    assert view == [OBSTACLE, FERTILE | 5 << 4, RADIATION | ((1 << 20) - 1) << 4,
                    HAZARD | 3 << 4, OPEN | 1 << 3, OPEN,
                    FERTILE, OPEN | 1 << 4, HAZARD | 1 << 3]
    assert sensors[0, S_TILE] == OPEN | 1 << 3
    assert sensors[0, S_NEIGHBORS] == 1
    assert record(sensors, cfg, 0, 0)[:2] == [1, 1]
    assert record(sensors, cfg, 1, 0)[:2] == [-1, -1]      # organism 0, seen across the edge


def test_neighbours_ring_by_ring_then_row_by_row_first_eight(rules):
    cfg = config(radius=2, energy_band=100)
    offsets = [(2, -2), (0, 1), (-1, -1), (1, 0), (-2, 0), (-1, 1), (0, -2), (2, 2),
               (1, -1), (-2, 2)]
    s = world(cfg, (4, 4, 100), *[(4 + dx, 4 + dy, 100 * k * k)
                                  for k, (dx, dy) in enumerate(offsets, start=1)],
              capacity=12)
    for k in range(1, 11):
        s.tag[k] = (1 << k) - 1                      # k bits away from organism 0's tag 0
    sensors, nb = rules.sense(s, cfg, tick=0)
    order = [(-1, -1), (1, -1), (1, 0), (-1, 1), (0, 1),        # ring 1
             (0, -2), (2, -2), (-2, 0)]                          # ring 2, first three
    slots = [offsets.index(o) + 1 for o in order]
    assert sensors[0, S_NEIGHBORS] == 8
    assert nb[0].tolist() == slots
    for k, (o, slot) in enumerate(zip(order, slots)):
        assert record(sensors, cfg, 0, k) == [o[0], o[1], min(15, slot * slot),
                                              ((32 - slot) * 255) // 32]


def test_only_the_first_neighbor_records_are_sensed_or_attacked(rules):
    cfg = config(radius=2, neighbor_records=3, attack_cost=5)
    s = world(cfg, (4, 4, 100), (6, 6, 100), (3, 4, 100), (4, 2, 100), (5, 5, 100),
              (2, 4, 100))
    sensors, nb = rules.sense(s, cfg, tick=0)
    assert sensors.shape == (8, ecology_io(2, 3).n_sensors) == (8, 4 + 4 + 25 + 12)
    assert sensors[0, S_NEIGHBORS] == 3
    assert nb[0].tolist() == [2, 4, 3, -1, -1, -1, -1, -1]
    assert [record(sensors, cfg, 0, k)[:2] for k in range(3)] == [[-1, 0], [1, 1], [0, -2]]
    step(rules, s, cfg, attack={0: 4})                       # a fourth record is not there
    assert s.energy[:6].tolist() == [100] * 6 and s.totals[T_ATTACKS] == 0


def test_kinship_energy_band_and_zeros_past_the_count(rules):
    cfg = config(energy_band=100)
    tag = 0xF0F0_1234
    s = world(cfg, (3, 3, 100), (4, 3, 99), (3, 4, 1550), (4, 4, 10**9))
    s.tag[0], s.tag[1], s.tag[2], s.tag[3] = tag, tag, tag ^ 1 << 31, tag ^ 0xFFFF_FFFF
    sensors, nb = rules.sense(s, cfg, tick=0)
    assert sensors[0, S_NEIGHBORS] == 3
    assert record(sensors, cfg, 0, 0) == [1, 0, 0, 255]          # same tag
    assert record(sensors, cfg, 0, 1) == [0, 1, 15, 247]         # one bit apart
    assert record(sensors, cfg, 0, 2) == [1, 1, 15, 0]           # all 32 bits apart
    assert nb[0].tolist() == [1, 2, 3, -1, -1, -1, -1, -1]
    assert (sensors[0, neighbor_at(1) + 12:] == 0).all()
    assert reference.kinship(0b1011, 0) == ((32 - 3) * 255) // 32


def test_signals_summed_from_the_windows_other_tiles(rules):
    cfg = config()
    s = world(cfg, (0, 0, 100))
    marks = {(0, 0): (1, 100),            # its own tile: not heard
             (7, 7): (1, 5), (1, 0): (1, 7), (0, 1): (3, -4),
             (1, 1): (4, INT32_MAX), (7, 1): (4, INT32_MAX),   # wraps to -2
             (2, 0): (1, 1000)}           # outside the window
    for (x, y), (channel, value) in marks.items():
        s.signal[at(cfg, x, y)], s.signal_value[at(cfg, x, y)] = channel, value
    sensors, _ = rules.sense(s, cfg, tick=0)
    assert sensors[0, S_SIGNAL:S_SIGNAL + 4].tolist() == [12, 0, -4, -2]


# ---- 3. metabolism ----------------------------------------------------------------------------


def test_metabolism_and_dying_organisms_do_nothing(rules):
    cfg = config(basal_cost=1, instruction_cost=2, brain_upkeep=1, corpse_energy=100,
                 attack_cost=5)
    s = world(cfg, (2, 2, 100), (3, 2, 5))
    s.genome_bytes[0], s.genome_bytes[1] = 3000, 3000
    s.resource[at(cfg, 3, 2)] = 10 * 256
    gas = [1499, 1499] + [0] * 6
    # cost: 1 + 1499 * 2 // 1000 + 3000 * 1 // 1024 = 1 + 2 + 2 = 5
    adv = step(rules, s, cfg, gas=gas, attack={1: 1}, move={1: S}, eat={1: 1},
               reproduce={1: 1}, channel={1: 0})
    assert s.energy[0] == 95
    assert adv.died.tolist() == [1]
    assert s.energy[1] == 0 and pos(s, 1) == (3, 2)               # did not move
    assert s.totals[T_ATTACKS] == 0 and s.resource[at(cfg, 3, 2)] == 10 * 256
    assert s.corpse[at(cfg, 3, 2)] == 100 - 1                     # decays by at least 1
    assert s.totals[T_SIGNALS] == 0 and s.totals[T_BIRTHS] == 0
    assert s.totals[T_FAILED_BIRTHS] == 0


# ---- 4. attacks -------------------------------------------------------------------------------


def test_attack_amounts(rules):
    cfg = config(attack_cost=5, attack_damage=150)
    s = world(cfg, (2, 2, 100), (3, 2, 200))
    adv = step(rules, s, cfg, attack={0: 1}, amount={0: 30})
    assert s.energy[0] == 100 - 30 - 5
    assert s.energy[1] == 200 - 30 * 150 // 100
    assert s.totals[T_ATTACKS] == 1 and s.totals[T_KILLS] == 0 and s.kills[0] == 0
    assert adv.died.size == 0


def test_attack_amount_capped_by_the_attackers_energy(rules):
    cfg = config(attack_cost=5, attack_damage=150, corpse_energy=100)
    s = world(cfg, (2, 2, 40), (3, 2, 200))
    adv = step(rules, s, cfg, attack={0: 1}, amount={0: 1000})
    assert s.energy[1] == 200 - 40 * 150 // 100
    assert s.energy[0] == 40 - 40 - 5
    assert adv.died.tolist() == [0] and s.totals[T_ATTACKS] == 1
    assert s.corpse[at(cfg, 2, 2)] == 99


def test_attack_kill(rules):
    cfg = config(attack_cost=5, attack_damage=150, corpse_energy=100)
    s = world(cfg, (2, 2, 100), (3, 2, 75))
    adv = step(rules, s, cfg, attack={0: 1}, amount={0: 50})
    assert s.energy[1] == 0 and s.alive[1] == 0 and adv.died.tolist() == [1]
    assert s.kills[0] == 1 and s.totals[T_KILLS] == 1 and s.totals[T_DEATHS] == 1
    assert s.energy[0] == 100 - 55
    assert s.corpse[at(cfg, 3, 2)] == 99 and s.occupancy[at(cfg, 3, 2)] == -1


def test_attacks_in_oid_order_and_the_dying_neither_attack_nor_are_hit(rules):
    cfg = config(radius=2, attack_damage=150)
    # slot 0: C (id 4) at (3,1); slot 1: B (id 3) at (2,1); slot 2: A (id 5) at (1,1)
    s = world(cfg, (3, 1, 60), (2, 1, 100), (1, 1, 100), ids=[4, 3, 5])
    # B's records: A (dx -1), C (dx +1); C's: B, A; A's: B, C
    adv = step(rules, s, cfg, attack={1: 2, 0: 1, 2: 2}, amount={0: 50, 1: 50, 2: 50})
    assert s.energy[0] == 60 - 75 and adv.died.tolist() == [0]   # B, first by id, kills C
    assert s.energy[1] == 50                                      # C never hits back
    assert s.energy[2] == 100                                     # A's target was dying
    assert s.totals[T_ATTACKS] == 1 and s.kills[1] == 1


def test_a_hit_on_a_victim_that_dies_this_tick_is_an_assist(rules):
    cfg = config(radius=2, attack_damage=100, hazard_damage=30)
    # A (id 0) and B (id 1) both hit V (id 2): A's hit wounds, B's kills. C (id 3) wounds W
    # (id 4), whom a hazard finishes; D (id 5) wounds X (id 6), who survives.
    s = world(cfg, (1, 1, 100), (3, 1, 100), (2, 1, 50), (5, 5, 100), (6, 5, 40),
              (1, 6, 100), (2, 6, 100))
    s.kind[at(cfg, 6, 5)] = HAZARD
    step(rules, s, cfg, attack={0: 1, 1: 1, 3: 1, 5: 1}, amount={0: 30, 1: 30, 3: 20, 5: 10})
    assert s.alive[2] == 0 and s.alive[4] == 0 and s.alive[6] == 1
    assert s.kills.tolist()[:6] == [0, 1, 0, 0, 0, 0]
    assert s.assists.tolist()[:6] == [1, 0, 0, 1, 0, 0]
    assert s.totals[T_ASSISTS] == 2 and s.totals[T_KILLS] == 1


def test_attacks_need_a_record_and_a_positive_amount(rules):
    cfg = config(attack_cost=5)
    s = world(cfg, (1, 1, 100), (2, 1, 100), (5, 5, 100), (6, 5, 100))
    step(rules, s, cfg, attack={0: 2, 1: 9, 2: 1, 3: 1}, amount={2: 0, 3: -5})
    assert s.energy[:4].tolist() == [100] * 4
    assert s.totals[T_ATTACKS] == 0


# ---- 5. moves ---------------------------------------------------------------------------------


def test_move_directions(rules):
    cfg = config(width=16, height=16, move_cost=2)
    starts = [(2 + 4 * (k % 4), 2 + 6 * (k // 4)) for k in range(10)]
    s = world(cfg, *[(x, y, 100) for x, y in starts], capacity=10)
    adv = step(rules, s, cfg, move={k: k + 1 for k in range(8)} | {8: 0, 9: 9})
    for k, (dx, dy) in enumerate(DIRS):
        x, y = starts[k][0] + dx, starts[k][1] + dy
        assert pos(s, k) == (x, y)
        assert s.occupancy[at(cfg, x, y)] == k and s.occupancy[at(cfg, *starts[k])] == -1
        assert s.energy[k] == 98 and s.moved[k] == 1
    assert pos(s, 8) == starts[8] and pos(s, 9) == starts[9]       # stay; out of levels
    assert s.energy[8] == s.energy[9] == 100
    assert s.totals[T_MOVES] == 8 and adv.died.size == 0


def test_moves_wrap_round_the_torus(rules):
    cfg = config()
    s = world(cfg, (0, 0, 100), (7, 3, 100), (3, 7, 100), (0, 5, 100))
    step(rules, s, cfg, move={0: NW, 1: E, 2: S, 3: SW})
    assert [pos(s, k) for k in range(4)] == [(7, 7), (0, 3), (3, 0), (7, 6)]
    assert s.occupancy[at(cfg, 7, 7)] == 0 and s.occupancy[at(cfg, 0, 0)] == -1


def test_moves_blocked_by_obstacles_and_by_tiles_occupied_at_the_start(rules):
    cfg = config(move_cost=1)
    s = world(cfg, (1, 1, 100), (2, 1, 100), (1, 4, 100), (5, 5, 100), (6, 5, 100))
    s.kind[at(cfg, 2, 4)] = OBSTACLE
    step(rules, s, cfg, move={0: E, 1: E, 2: E, 3: E, 4: W})
    assert pos(s, 0) == (1, 1) and s.energy[0] == 100      # B stood there at the start
    assert pos(s, 1) == (3, 1) and s.energy[1] == 99
    assert pos(s, 2) == (1, 4) and s.energy[2] == 100      # obstacle
    assert pos(s, 3) == (5, 5) and pos(s, 4) == (6, 5)     # no swapping
    assert s.totals[T_MOVES] == 1


def test_contested_tile_goes_to_the_most_energy_then_the_lower_id(rules):
    cfg = config(move_cost=1)
    s = world(cfg, (1, 1, 50), (3, 1, 60), (2, 0, 60), (5, 5, 10), (7, 5, 30),
              ids=[0, 9, 4, 1, 2])
    step(rules, s, cfg, move={0: E, 1: W, 2: S, 3: E, 4: W})
    assert pos(s, 2) == (2, 1) and s.energy[2] == 59       # 60 ties 60; id 4 beats id 9
    assert pos(s, 0) == (1, 1) and pos(s, 1) == (3, 1)
    assert s.energy[0] == 50 and s.energy[1] == 60
    assert pos(s, 4) == (6, 5) and pos(s, 3) == (5, 5)     # 30 beats 10
    assert s.totals[T_MOVES] == 2


def test_contests_weigh_energy_after_the_attacks(rules):
    cfg = config(attack_damage=150)
    s = world(cfg, (2, 2, 100), (4, 2, 80), (1, 2, 500))
    # organism 2 hits 0 for 30: 70 < 80
    step(rules, s, cfg, move={0: E, 1: W}, attack={2: 1}, amount={2: 20})
    assert s.energy[0] == 70
    assert pos(s, 1) == (3, 2) and pos(s, 0) == (2, 2)


# ---- 6. eat -----------------------------------------------------------------------------------


def test_eat_corpse_first_then_whole_units_of_resource(rules):
    cfg = config(bite=20)
    s = world(cfg, (1, 1, 100), (3, 3, 100), (5, 5, 100), (6, 6, 100))
    for x, y in ((1, 1), (3, 3), (5, 5), (6, 6)):
        s.kind[at(cfg, x, y)] = FERTILE
    s.corpse[at(cfg, 1, 1)], s.resource[at(cfg, 1, 1)] = 5, 30 * 256 + 100
    s.corpse[at(cfg, 3, 3)], s.resource[at(cfg, 3, 3)] = 50, 30 * 256
    s.resource[at(cfg, 5, 5)] = 255
    s.corpse[at(cfg, 6, 6)] = 50
    step(rules, s, cfg, eat={0: 1, 1: 1, 2: 1})            # organism 3 does not eat
    assert s.energy[0] == 120 and s.eaten[0] == 20
    assert s.corpse[at(cfg, 1, 1)] == 0 and s.resource[at(cfg, 1, 1)] == 15 * 256 + 100
    assert s.energy[1] == 120
    assert s.corpse[at(cfg, 3, 3)] == 30 - 1 and s.resource[at(cfg, 3, 3)] == 30 * 256
    assert s.energy[2] == 100 and s.resource[at(cfg, 5, 5)] == 255
    assert s.energy[3] == 100 and s.corpse[at(cfg, 6, 6)] == 49
    assert s.totals[T_MEALS] == 40


def test_eating_stops_at_max_energy(rules):
    cfg = config(bite=20, max_energy=5000)
    s = world(cfg, (1, 1, 4990))
    s.corpse[at(cfg, 1, 1)] = 20
    step(rules, s, cfg, eat={0: 1})
    assert s.energy[0] == 5000
    assert s.corpse[at(cfg, 1, 1)] == 0
    assert s.eaten[0] == 20 and s.totals[T_MEALS] == 20      # taken, even what is lost


def test_eat_from_the_tile_moved_to(rules):
    cfg = config(bite=20)
    s = world(cfg, (1, 1, 100))
    s.corpse[at(cfg, 1, 1)], s.corpse[at(cfg, 2, 1)] = 10, 10
    step(rules, s, cfg, move={0: E}, eat={0: 1})
    assert s.energy[0] == 110
    assert s.corpse[at(cfg, 2, 1)] == 0 and s.corpse[at(cfg, 1, 1)] == 9


# ---- 7. hazards, 8. deaths ---------------------------------------------------------------------


def test_hazards_and_radiation_hurt_after_eating(rules):
    cfg = config(hazard_damage=10, radiation_damage=3, corpse_energy=100, bite=20)
    s = world(cfg, (1, 1, 100), (3, 3, 100), (5, 5, 10), (6, 6, 100), (1, 5, 5))
    for x, y, kind in ((1, 1, HAZARD), (3, 3, RADIATION), (5, 5, HAZARD), (1, 5, HAZARD)):
        s.kind[at(cfg, x, y)] = kind
    s.corpse[at(cfg, 1, 5)] = 10
    adv = step(rules, s, cfg, eat={4: 1})
    assert s.energy[:5].tolist() == [90, 97, 0, 100, 5]
    assert adv.died.tolist() == [2] and s.corpse[at(cfg, 5, 5)] == 99


def test_deaths_in_oid_order_leave_corpses_and_free_slots(rules):
    cfg = config(basal_cost=1, corpse_energy=100)
    s = world(cfg, (1, 1, 1), (2, 2, 0), (3, 3, -7), (4, 4, 2), ids=[7, 2, 5, 1])
    s.corpse[at(cfg, 2, 2)] = 40
    adv = step(rules, s, cfg)
    assert adv.died.tolist() == [1, 2, 0]                   # ids 2, 5, 7
    assert s.alive[:4].tolist() == [0, 0, 0, 1]
    assert s.oid[:4].tolist() == [7, 2, 5, 1]               # a dead organism's record stays
    for x, y in ((1, 1), (2, 2), (3, 3)):
        assert s.occupancy[at(cfg, x, y)] == -1
    assert s.corpse[at(cfg, 1, 1)] == 99 and s.corpse[at(cfg, 2, 2)] == 139
    assert s.totals[T_DEATHS] == 3 and s.energy[3] == 1


# ---- 9. births --------------------------------------------------------------------------------


def test_birth_takes_the_tile_in_the_drawn_direction(rules):
    cfg = config(reproduce_min=300, reproduce_cost=50, offspring_share=0.5,
                 mutation_rounds=1)
    s = world(cfg, (4, 4, 1000), capacity=4, ids=[3])
    s.tag[0], s.generation[0], s.lineage[0] = 0x1234_5678, 2, 1
    # leftovers of a dead organism in slot 1
    s.oid[1], s.kills[1], s.eaten[1], s.moved[1], s.offspring[1] = 99, 5, 7, 3, 2
    s.assists[1], s.signals[1], s.birth_energy[1] = 4, 6, 8
    s.genome_bytes[1], s.parent[1], s.generation[1] = 123, 42, 9
    adv = step(rules, s, cfg, next_id=10, reproduce={0: 1})
    dx, dy = DIRS[birth_dir(3)]
    bit = random_int_py(SEED, STREAM_TAG, TICK, 10, 0, 0, 32)
    assert adv.births.tolist() == [[0, 1, 1]] and adv.next_id == 10 + 1
    assert s.alive[1] == 1 and s.oid[1] == 10
    assert pos(s, 1) == (4 + dx, 4 + dy) and s.occupancy[at(cfg, 4 + dx, 4 + dy)] == 1
    assert s.energy[1] == ((1000 - 50) * 32768) >> 16 == 475
    assert s.energy[0] == 1000 - 50 - 475
    assert s.born[1] == TICK + 1 and s.parent[1] == 3
    assert s.generation[1] == 3 and s.lineage[1] == 1
    assert s.tag[1] == 0x1234_5678 ^ 1 << bit
    assert [s.kills[1], s.eaten[1], s.moved[1], s.offspring[1], s.genome_bytes[1]] == [0] * 5
    assert s.assists[1] == s.signals[1] == 0 and s.birth_energy[1] == 475
    assert s.offspring[0] == 1 and s.totals[T_BIRTHS] == 1


def test_birth_goes_round_past_obstacles_and_occupied_tiles(rules):
    cfg = config(reproduce_min=300)
    s = world(cfg, (0, 0, 1000), capacity=4)
    first = birth_dir(0)
    ox, oy = DIRS[first]
    bx, by = DIRS[(first + 1) % 8]
    s.kind[at(cfg, ox, oy)] = OBSTACLE
    put(s, cfg, 1, bx % 8, by % 8, 100)
    adv = step(rules, s, cfg, next_id=5, reproduce={0: 1})
    cx, cy = DIRS[(first + 2) % 8]
    assert adv.births.tolist() == [[0, 2, 1]]
    assert pos(s, 2) == (cx % 8, cy % 8)                     # wrapping round the torus


def test_failed_births_are_counted(rules):
    cfg = config(reproduce_min=300)
    # id 0 walled in; id 1 too poor (not counted); id 2 has a tile but no slot is free
    s = world(cfg, (1, 1, 1000), (5, 1, 299), (5, 5, 1000), capacity=3)
    for dx, dy in DIRS:
        s.kind[at(cfg, 1 + dx, 1 + dy)] = OBSTACLE
    adv = step(rules, s, cfg, next_id=3, reproduce={0: 1, 1: 1, 2: 1})
    assert adv.births.shape == (0, 3) and adv.next_id == 3
    assert s.totals[T_FAILED_BIRTHS] == 2 and s.totals[T_BIRTHS] == 0
    assert s.energy[:3].tolist() == [1000, 299, 1000]


@pytest.mark.parametrize("energy, share, cost, least, child, parent", [
    (301, 0.3, 50, 300, 75, 176),
    (1000, 0.5, 50, 300, 475, 475),
    (400, 1.0, 50, 300, 350, 0),
    (400, 0.0, 50, 300, 0, 350),
    (301, 0.3, 0, 0, 90, 211),
])
def test_share_arithmetic(rules, energy, share, cost, least, child, parent):
    cfg = config(reproduce_min=least, reproduce_cost=cost, offspring_share=share)
    s = world(cfg, (4, 4, energy), capacity=2)
    adv = step(rules, s, cfg, reproduce={0: 1})
    assert adv.births[:, :2].tolist() == [[0, 1]]
    assert s.energy[1] == child and s.energy[0] == parent


def test_a_parent_can_never_be_asked_for_more_than_it_has():
    with pytest.raises(ValueError, match="reproduce_min must be at least reproduce_cost"):
        config(reproduce_min=0, reproduce_cost=50)


def test_a_child_with_no_energy_is_born_and_dies_the_next_tick(rules):
    cfg = config(reproduce_min=300, offspring_share=0.0, corpse_energy=100)
    s = world(cfg, (4, 4, 1000), capacity=2)
    adv = step(rules, s, cfg, reproduce={0: 1})
    assert adv.births[:, :2].tolist() == [[0, 1]] and s.alive[1] == 1 and s.energy[1] == 0
    adv = step(rules, s, cfg, tick=TICK + 1)
    assert adv.died.tolist() == [1] and s.alive[0] == 1


def test_births_take_the_lowest_free_slot_and_see_earlier_births(rules):
    cfg = config(width=16, height=16, reproduce_min=300, basal_cost=0)
    p, p_first = (6, 6), birth_dir(1)
    q_id = next(k for k in range(2, 99) if birth_dir(k) != p_first)
    q_first = birth_dir(q_id)
    tile = (p[0] + DIRS[p_first][0], p[1] + DIRS[p_first][1])       # P's child's tile
    q = (tile[0] - DIRS[q_first][0], tile[1] - DIRS[q_first][1])    # Q aims there first
    # slot 0: D dies this tick (energy 0), asking to emit and to reproduce
    s = world(cfg, (12, 12, 0), (*p, 1000), (*q, 1000), capacity=5, ids=[0, 1, q_id])
    # slots 0 and 3 will hold children rich enough to reproduce: they must not, this tick
    adv = step(rules, s, cfg, next_id=100, reproduce={0: 1, 1: 1, 2: 1, 3: 1},
               channel={0: 2}, value={0: 9})
    assert adv.died.tolist() == [0]
    # Q's child: the next direction round from Q's first that is free
    q_child = next((q[0] + dx, q[1] + dy)
                   for dx, dy in (DIRS[(q_first + j) % 8] for j in range(8))
                   if (q[0] + dx, q[1] + dy) not in (tile, p))
    assert adv.births.tolist() == [[1, 0, 1], [2, 3, 1]]
    assert pos(s, 0) == tile and s.oid[0] == 100 and s.parent[0] == 1
    assert pos(s, 3) == q_child and s.oid[3] == 101
    assert s.totals[T_BIRTHS] == 2 and adv.next_id == 102    # children do not reproduce
    assert s.totals[T_SIGNALS] == 0 and not s.signal.any()   # nor emit for the dead


def test_radiation_adds_mutation_rounds_and_rounds_are_clipped(rules):
    cfg = config(width=16, height=16, reproduce_min=300, max_mutations=8, radiation_extra=2)
    parents = [(2, 2), (9, 2), (2, 9), (9, 9)]
    s = world(cfg, *[(x, y, 1000) for x, y in parents], capacity=8)
    d = [DIRS[birth_dir(k)] for k in range(4)]
    # 0: radiation next to its child's tile (two steps away from the parent)
    s.kind[at(cfg, 2 + 2 * d[0][0], 2 + 2 * d[0][1])] = RADIATION
    # 2: its child's tile is radiation itself
    s.kind[at(cfg, 2 + d[2][0], 9 + d[2][1])] = RADIATION
    adv = step(rules, s, cfg, next_id=4, reproduce={k: 1 for k in range(4)},
               rounds={0: 20, 1: -3, 2: 5, 3: 6})
    assert adv.births.tolist() == [[0, 4, 8 + 2], [1, 5, 0], [2, 6, 5 + 2], [3, 7, 6]]


# ---- 10. signals ------------------------------------------------------------------------------


def test_signals_mark_the_current_tile_and_clear_older_marks(rules):
    cfg = config(basal_cost=1)
    s = world(cfg, (1, 1, 100), (4, 1, 100), (4, 4, 100), (6, 1, 100), (6, 6, 1))
    s.signal[at(cfg, 0, 7)], s.signal_value[at(cfg, 0, 7)] = 2, 77
    step(rules, s, cfg, move={0: E}, channel={0: 0, 1: 3, 2: 4, 3: 1, 4: 1},
         value={0: 5, 1: 2**32 + 7, 3: 2**31})
    marks = {int(t): (int(s.signal[t]), int(s.signal_value[t]))
             for t in np.flatnonzero(s.signal)}
    assert marks == {at(cfg, 2, 1): (1, 5), at(cfg, 4, 1): (4, 7),
                     at(cfg, 6, 1): (2, -2**31)}
    assert s.signal_value[at(cfg, 0, 7)] == 0
    assert s.totals[T_SIGNALS] == 3 and s.signals[:5].tolist() == [1, 1, 0, 1, 0]


def test_signals_are_heard_the_next_tick_from_other_tiles_only(rules):
    cfg = config()
    s = world(cfg, (1, 1, 100), (2, 1, 100), (5, 5, 100))
    sensors, _ = rules.sense(s, cfg, tick=TICK)
    assert (sensors[:, S_SIGNAL:S_SIGNAL + 4] == 0).all()
    step(rules, s, cfg, channel={0: 2, 1: 2, 2: 2}, value={0: 9, 1: 4, 2: 1000})
    sensors, _ = rules.sense(s, cfg, tick=TICK + 1)
    assert sensors[0, S_SIGNAL:S_SIGNAL + 4].tolist() == [0, 0, 4, 0]
    assert sensors[1, S_SIGNAL:S_SIGNAL + 4].tolist() == [0, 0, 9, 0]
    assert sensors[2, S_SIGNAL:S_SIGNAL + 4].tolist() == [0, 0, 0, 0]


# ---- 11. regrowth and decay -------------------------------------------------------------------


def test_regrowth_formula(rules):
    cfg = config(r_max=50, regrowth=0.01)
    big_r = 50 * 256
    s = world(cfg)
    start = [0, 1, 6400, big_r - 1, big_r]
    for t, r in enumerate(start):
        s.kind[t], s.resource[t] = FERTILE, r
    s.resource[10] = 100                                    # not fertile: never grows
    step(rules, s, cfg, next_id=0)
    # (655 * (r + 200) * (12800 - r)) // (12800 * 65536)
    assert s.resource[:5].tolist() == [1, 3, 6432, big_r - 1, big_r]
    assert s.resource[10] == 100


def test_regrowth_is_capped_at_r_max(rules):
    cfg = config(r_max=10_000, regrowth=1.0)
    big_r = 10_000 * 256
    s = world(cfg)
    s.kind[0], s.resource[0] = FERTILE, big_r - 20_000        # would grow 20,156
    s.kind[1], s.resource[1] = FERTILE, big_r // 2
    step(rules, s, cfg, next_id=0)
    assert s.resource[0] == big_r
    assert s.resource[1] == big_r // 2 + (big_r // 2 + big_r // 64) * (big_r // 2) // big_r


def test_corpse_decay_at_least_one(rules):
    for decay, corpses, after in ((0.02, [1000, 10, 1, 0], [980, 9, 0, 0]),
                                  (0.5, [7, 60], [4, 30]), (0.0, [60], [59])):
        cfg = config(corpse_decay=decay)
        s = world(cfg)
        s.corpse[:len(corpses)] = corpses
        step(rules, s, cfg, next_id=0)
        assert s.corpse[:len(after)].tolist() == after, decay
        assert not s.corpse[len(after):].any()


# ---- 12. top-up and placing random organisms ---------------------------------------------------


def place_tile(s: EcologyState, cfg: EcologyConfig, k: int, tick: int) -> int:
    """The first of id k's 64 drawn tiles that is not an obstacle and is free (-1: none)."""
    for a in range(64):
        t = random_int_py(SEED, STREAM_PLACE, tick, k, a, 0, cfg.width * cfg.height)
        if s.kind[t] != OBSTACLE and s.occupancy[t] < 0:
            return t
    return -1


def test_top_up_places_random_organisms_born_next_tick(rules):
    cfg = config(min_organisms=3, start_energy=400)
    s = empty_state(5, cfg.width, cfg.height)
    first = random_int_py(SEED, STREAM_PLACE, TICK, 10, 0, 0, 64)
    s.kind[first] = OBSTACLE                                # id 10's first try fails
    x, y = next((t % 8, t // 8) for a in range(64)
                if (t := random_int_py(SEED, STREAM_PLACE, TICK, 11, a, 0, 64)) != first)
    put(s, cfg, 1, x, y, 100, oid=0)                        # id 11's first free try taken
    expected = []
    probe = copy_state(s)
    for slot, k in ((0, 10), (2, 11)):
        t = place_tile(probe, cfg, k, TICK)
        probe.occupancy[t] = slot
        expected.append(t)
    adv = step(rules, s, cfg, next_id=10)
    assert adv.placed.tolist() == [0, 2] and adv.next_id == 12
    assert s.totals[T_PLACED] == 2 and int(s.alive.sum()) == 3
    for slot, k, t in zip((0, 2), (10, 11), expected):
        assert s.oid[slot] == k and s.occupancy[t] == slot and pos(s, slot) == (t % 8, t // 8)
        assert s.energy[slot] == 400 and s.born[slot] == TICK + 1
        assert s.parent[slot] == -1 and s.generation[slot] == 0 and s.lineage[slot] == k
        assert s.tag[slot] == random_u64_py(SEED, STREAM_TAG, TICK, k, 1) & 0xFFFF_FFFF
        assert s.genome_bytes[slot] == 0
    assert s.kind[first] == OBSTACLE and s.occupancy[first] == -1


def test_founders_and_a_batch_cut_short(rules):
    cfg = config(start_energy=300)
    s = empty_state(3, cfg.width, cfg.height)
    slots, next_id = rules.place_random(s, cfg, SEED, 0, 5, 0, 0)
    assert slots.tolist() == [0, 1, 2] and next_id == 3      # no slot for ids 3 and 4
    assert s.oid.tolist() == [0, 1, 2] and s.born.tolist() == [0, 0, 0]
    assert (s.energy == 300).all() and s.totals[T_PLACED] == 3
    probe = empty_state(3, cfg.width, cfg.height)
    for k in range(3):
        t = place_tile(probe, cfg, k, 0)
        probe.occupancy[t] = k
        assert s.occupancy[t] == k

    walled = empty_state(3, cfg.width, cfg.height)
    walled.kind[:] = OBSTACLE               # all 64 tries fail
    slots, next_id = rules.place_random(walled, cfg, SEED, TICK, 2, 7, TICK + 1)
    assert slots.tolist() == [] and next_id == 7 and not walled.alive.any()
    assert walled.totals[T_PLACED] == 0


# ---- the map ---------------------------------------------------------------------------------


def field_value(seed: int, f: int, x: int, y: int, w: int, h: int, patch: int) -> int:
    """The doc's integer bilinear value noise, written out."""
    lx, ly = max(1, w // patch), max(1, h // patch)
    stream = stream_id("ecology.terrain")

    def v(i: int, j: int) -> int:
        return random_u64_py(seed, stream, f, j * lx + i, 0) >> 48

    gx, fx = divmod(x * lx, w)
    gy, fy = divmod(y * ly, h)
    top = v(gx, gy) * (w - fx) + v((gx + 1) % lx, gy) * fx
    bottom = v(gx, (gy + 1) % ly) * (w - fx) + v((gx + 1) % lx, (gy + 1) % ly) * fx
    return top * (h - fy) + bottom * fy


def test_terrain_takes_its_shares_by_the_highest_field_values():
    cfg = config(width=24, height=16, patch_size=6, obstacle_share=0.1, hazard_share=0.05,
                 radiation_share=0.03, resource_density=0.3, r_max=40)
    kind, resource = generate(cfg, SEED)
    w, h, tiles = 24, 16, 24 * 16
    still_open = set(range(tiles))
    for f, (k, share) in enumerate(((OBSTACLE, 0.1), (HAZARD, 0.05), (RADIATION, 0.03),
                                    (FERTILE, 0.3))):
        want = round(share * tiles)
        ranked = sorted(still_open, key=lambda t: (-field_value(SEED, f, t % w, t // w, w, h, 6),
                                                   t))
        assert set(np.flatnonzero(kind == k).tolist()) == set(ranked[:want])
        still_open -= set(ranked[:want])
    assert set(np.flatnonzero(kind == OPEN).tolist()) == still_open
    assert (resource == np.where(kind == FERTILE, 40 * 256, 0)).all()
    again = generate(cfg, SEED)
    assert (again[0] == kind).all() and (again[1] == resource).all()
    assert (generate(cfg, SEED + 1)[0] != kind).any()


def test_terrain_ties_go_to_the_lower_index():
    cfg = config(width=4, height=4, patch_size=16, obstacle_share=0.25, resource_density=0.5)
    kind, _ = generate(cfg, SEED)            # one lattice point: every tile the same value
    assert kind.tolist() == [OBSTACLE] * 4 + [FERTILE] * 8 + [OPEN] * 4


# ---- properties over random ticks --------------------------------------------------------------


@st.composite
def scenarios(draw, wide=False):
    """A config and a seed; ``wide``: maps of 9 to 15 tiles a side, so radii up to 7 (past
    the rings the sense kernel finds neighbours in by bit mask)."""
    lo, hi = (9, 15) if wide else (4, 7)
    w, h = draw(st.integers(lo, hi)), draw(st.integers(lo, hi))
    capacity = draw(st.integers(1, 40 if wide else 14))
    cost = draw(st.integers(0, 60))
    cfg = config(width=w, height=h, radius=draw(st.integers(0, (min(w, h) - 1) // 2)),
                 neighbor_records=draw(st.integers(0, 8)),
                 max_organisms=capacity, min_organisms=draw(st.integers(0, min(capacity, 4))),
                 start_energy=100, max_energy=draw(st.sampled_from([100, 300, 1000])),
                 basal_cost=draw(st.integers(0, 3)), instruction_cost=draw(st.integers(0, 5)),
                 brain_upkeep=draw(st.integers(0, 2)), move_cost=draw(st.integers(0, 3)),
                 attack_cost=draw(st.integers(0, 10)), attack_damage=draw(st.integers(0, 300)),
                 bite=draw(st.integers(1, 60)), corpse_energy=draw(st.integers(0, 200)),
                 corpse_decay=draw(st.sampled_from([0.0, 0.02, 0.5, 1.0])),
                 hazard_damage=draw(st.integers(0, 30)),
                 radiation_damage=draw(st.integers(0, 10)),
                 reproduce_cost=cost,
                 reproduce_min=draw(st.integers(cost, 200)),
                 offspring_share=draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
                 max_mutations=draw(st.integers(0, 8)), radiation_extra=draw(st.integers(0, 3)),
                 r_max=draw(st.integers(1, 80)), regrowth=draw(st.sampled_from([0.0, 0.05, 1.0])),
                 energy_band=draw(st.integers(1, 50)))
    return cfg, draw(st.integers(0, 2**32 - 1))


def random_world(cfg: EcologyConfig, dice: np.random.Generator) -> EcologyState:
    tiles, n = cfg.tiles, cfg.max_organisms
    s = empty_state(n, cfg.width, cfg.height)
    s.kind[:] = dice.choice([OPEN, OPEN, FERTILE, FERTILE, OBSTACLE, HAZARD, RADIATION], tiles)
    big_r = cfg.r_max * 256
    s.resource[:] = np.where(s.kind == FERTILE, dice.integers(0, big_r + 1, tiles), 0)
    s.corpse[:] = dice.integers(0, 3, tiles) * dice.integers(0, 300, tiles)
    s.signal[:] = dice.integers(0, 5, tiles) * (dice.integers(0, 3, tiles) == 0)
    s.signal_value[:] = dice.integers(-5, 6, tiles)
    ground = np.flatnonzero(s.kind != OBSTACLE)
    count = min(int(dice.integers(0, n + 1)), ground.size)
    tiles_taken = dice.choice(ground, count, replace=False)
    slots = dice.choice(n, count, replace=False)
    ids = dice.choice(4 * n, count, replace=False)
    for slot, t, oid in zip(slots, tiles_taken, ids):
        put(s, cfg, int(slot), int(t) % cfg.width, int(t) // cfg.width,
            int(dice.integers(-20, cfg.max_energy + 1)), oid=int(oid),
            tag=int(dice.integers(0, 2**32)), born=int(dice.integers(0, 3)))
        s.genome_bytes[slot] = dice.integers(0, 5000)
    return s


def random_intents(cfg: EcologyConfig, n: int, dice: np.random.Generator) -> Intents:
    """Any moves, attacks, amounts, rounds, channels and values (out of range ones mean
    none or are clipped); ``eat`` and ``reproduce`` 0/1 as ``Intents`` holds them."""
    return Intents(move=dice.integers(-1, 10, n), eat=dice.integers(0, 2, n),
                   attack=dice.integers(-1, 10, n), amount=dice.integers(-5, 200, n),
                   reproduce=dice.integers(0, 2, n), rounds=dice.integers(-2, 70, n),
                   channel=dice.integers(-2, 5, n), value=dice.integers(-2**40, 2**40, n))


def check_invariants(s: EcologyState, cfg: EcologyConfig, before: EcologyState, adv,
                     tick: int, next_id: int) -> None:
    live = np.flatnonzero(s.alive)
    w, h = cfg.width, cfg.height
    assert ((s.x[live] >= 0) & (s.x[live] < w) & (s.y[live] >= 0) & (s.y[live] < h)).all()
    tiles = s.y[live] * w + s.x[live]
    assert np.unique(tiles).size == live.size, "two organisms share a tile"
    assert (s.occupancy[tiles] == live).all(), "occupancy disagrees with positions"
    assert (s.occupancy >= 0).sum() == live.size, "occupancy names a dead slot"
    assert (s.kind[tiles] != OBSTACLE).all()
    assert np.unique(s.oid[live]).size == live.size and (s.oid[live] < adv.next_id).all()
    assert (s.energy[live] <= cfg.max_energy).all()
    assert (s.corpse >= 0).all()
    assert ((s.resource >= 0) & (s.resource <= cfg.r_max * 256)).all()
    assert (s.resource[s.kind != FERTILE] == before.resource[s.kind != FERTILE]).all()
    # the report matches the counters and the population
    delta = s.totals - before.totals
    assert delta[T_DEATHS] == adv.died.size and delta[T_BIRTHS] == adv.births.shape[0]
    assert delta[T_PLACED] == adv.placed.size
    assert adv.next_id == next_id + adv.births.shape[0] + adv.placed.size
    assert live.size == np.count_nonzero(before.alive) - adv.died.size \
        + adv.births.shape[0] + adv.placed.size
    assert (before.alive[adv.died] == 1).all()
    assert (np.diff(before.oid[adv.died]) > 0).all(), "deaths not in oid order"
    assert delta[T_MOVES] <= np.count_nonzero(before.alive)
    for parent, child, rounds in adv.births.tolist():
        assert s.alive[child] and s.born[child] == tick + 1
        assert s.parent[child] == before.oid[parent] == s.oid[parent]
        assert s.generation[child] == before.generation[parent] + 1
        assert bin(int(s.tag[child]) ^ int(before.tag[parent])).count("1") == 1
        dx = (int(s.x[child]) - int(s.x[parent])) % w
        dy = (int(s.y[child]) - int(s.y[parent])) % h
        assert dx in (0, 1, w - 1) and dy in (0, 1, h - 1) and (dx, dy) != (0, 0)
        assert 0 <= rounds <= cfg.max_mutations + cfg.radiation_extra
    for slot in adv.placed.tolist():
        assert s.alive[slot] and s.born[slot] == tick + 1 and s.parent[slot] == -1
    if adv.placed.size:
        assert live.size <= cfg.min_organisms
    # marks stand under the organisms that made them, old enough to have thought
    marked = np.flatnonzero(s.signal)
    assert delta[T_SIGNALS] == marked.size
    assert (s.signal[marked] >= 1).all() and (s.signal[marked] <= 4).all()
    assert (s.occupancy[marked] >= 0).all()
    assert (s.born[s.occupancy[marked]] <= tick).all()


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_invariants_over_random_ticks(rules, scenario):
    cfg, seed = scenario
    dice = np.random.default_rng(seed)
    s = random_world(cfg, dice)
    next_id = 4 * cfg.max_organisms
    n = cfg.max_organisms
    io = io_of(cfg)
    for tick in range(3, 7):
        sensors, nb = rules.sense(s, cfg, tick=tick)
        live = s.alive != 0
        assert sensors.shape == (n, io.n_sensors) and (sensors[~live] == 0).all()
        assert (nb[~live] == -1).all()
        assert (sensors[live, S_NEIGHBORS] == (nb[live] >= 0).sum(axis=1)).all()
        assert (s.alive[nb[nb >= 0]] == 1).all()
        before = copy_state(s)
        gas = dice.integers(0, 3000, n)
        adv = rules.advance(s, cfg, seed, tick, random_intents(cfg, n, dice), gas, nb, next_id)
        check_invariants(s, cfg, before, adv, tick, next_id)
        next_id = adv.next_id


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_agrees_with_the_reference(rules, scenario):
    """Array for array with the oracle (for the reference itself: the same run twice)."""
    agrees_with_the_reference(rules, scenario)


@settings(max_examples=12, deadline=None)
@given(scenarios(wide=True))
def test_agrees_with_the_reference_at_wide_radii(rules, scenario):
    agrees_with_the_reference(rules, scenario)


def agrees_with_the_reference(rules, scenario):
    cfg, seed = scenario
    dice = np.random.default_rng(seed)
    s = random_world(cfg, dice)
    r = copy_state(s)
    next_id = 4 * cfg.max_organisms
    n = cfg.max_organisms
    for tick in range(3, 6):
        sensors, nb = rules.sense(s, cfg, tick=tick)
        ref_sensors, ref_nb = reference.sense(r, cfg, tick=tick)
        assert (sensors == ref_sensors).all() and (nb == ref_nb).all()
        wants, gas = random_intents(cfg, n, dice), dice.integers(0, 3000, n)
        adv = rules.advance(s, cfg, seed, tick, wants, gas, nb, next_id)
        ref = reference.advance(r, cfg, seed, tick, wants, gas, ref_nb, next_id)
        for name in EcologyState._fields:
            a, b = getattr(s, name), getattr(r, name)
            assert a.dtype == b.dtype and (a == b).all(), f"tick {tick}: state.{name}"
        assert adv.died.tolist() == ref.died.tolist()
        assert adv.births.tolist() == ref.births.tolist()
        assert adv.placed.tolist() == ref.placed.tolist() and adv.next_id == ref.next_id
        next_id = adv.next_id


@settings(max_examples=40, deadline=None)
@given(scenarios(), st.booleans())
def test_kernels_reusing_their_buffers_agree_with_fresh_ones(scenario, edit):
    """A world hands the kernels the same ``Buffers`` every tick: rows of the dead go back
    to rest, and the oid order the last advance left is checked before it is used -- here
    the state is also changed between ticks (``edit``: a death, two ids swapped), as a
    restore or an edit would, and the kernels must still match fresh buffers."""
    from primordia.worlds.ecology import phases
    cfg, seed = scenario
    dice = np.random.default_rng(seed)
    s = random_world(cfg, dice)
    f = copy_state(s)
    # an odd seed's buffers were made for another regrowth: their growth table must go unused
    other = cfg.model_copy(update={"regrowth": 0.5 if cfg.regrowth != 0.5 else 0.25})
    into = phases.buffers(s, other if seed % 2 else cfg)
    next_id = 4 * cfg.max_organisms
    n = cfg.max_organisms
    for tick in range(3, 9):
        sensors, nb = phases.sense(s, cfg, tick, into)
        fresh_sensors, fresh_nb = phases.sense(f, cfg, tick)
        assert (sensors == fresh_sensors).all() and (nb == fresh_nb).all()
        wants, gas = random_intents(cfg, n, dice), dice.integers(0, 3000, n)
        adv = phases.advance(s, cfg, seed, tick, wants, gas, nb, next_id, into)
        ref = phases.advance(f, cfg, seed, tick, wants, gas, fresh_nb, next_id)
        for name in EcologyState._fields:
            assert (getattr(s, name) == getattr(f, name)).all(), f"tick {tick}: state.{name}"
        assert adv.died.tolist() == ref.died.tolist()
        assert adv.births.tolist() == ref.births.tolist()
        assert adv.placed.tolist() == ref.placed.tolist() and adv.next_id == ref.next_id
        live = np.flatnonzero(s.alive)
        kept = into.order[:into.order_n[0]]        # what the next tick will check and use
        assert kept.tolist() == live[np.argsort(s.oid[live], kind="stable")].tolist()
        next_id = adv.next_id
        change = dice.integers(0, 3) if edit else 0
        if change == 1 and live.size:          # a death: fewer living than the order holds
            k = int(dice.choice(live))
            for state in (s, f):
                state.occupancy[state.y[k] * cfg.width + state.x[k]] = -1
                state.alive[k] = 0
        if change == 2 and live.size > 1:      # the same living, no longer in oid order
            a, b = (int(v) for v in dice.choice(live, 2, replace=False))
            for state in (s, f):
                state.oid[[a, b]] = state.oid[[b, a]]
