"""The hex turn, scenario by scenario: contested cells, swaps, cycles, eating, eat chains,
starvation and the spawn queue, each staged with puppets that do exactly what they are told."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.worlds.hex.grid import DQ, DR, EAST, NORTH_WEST, SOUTH_WEST, WEST, turned

from .conftest import ONE, check_invariants, staged

MOVE = (1, 0, 0, 0)


def where(w, oid):
    i = int(np.flatnonzero(w.state.oid == oid)[0])
    return int(w.state.q[i]), int(w.state.r[i])


def test_facings_turn_one_step_and_neighbours_follow_the_axial_offsets():
    assert [turned(f, True, False) for f in range(6)] == [1, 2, 3, 4, 5, 0]   # left
    assert [turned(f, False, True) for f in range(6)] == [5, 0, 1, 2, 3, 4]   # right
    assert [turned(f, True, True) for f in range(6)] == list(range(6))
    assert list(zip(DQ.tolist(), DR.tolist())) == [(1, 0), (1, -1), (0, -1), (-1, 0),
                                                   (-1, 1), (0, 1)]


def test_a_contested_cell_goes_to_the_most_confident_then_the_lower_id():
    # 0 at (1, 2) facing East and 1 at (3, 2) facing West both want (2, 2)
    w = staged([(1, 2, EAST), (3, 2, WEST)])
    w.brain.script = {0: (1, 0, 0, ONE // 4), 1: (1, 0, 0, ONE // 2)}
    d = w.tick()
    assert where(w, 1) == (2, 2) and where(w, 0) == (1, 2)
    assert [m[0] for m in d.moves] == [1] and d.metrics["actions_applied_last_turn"] == 1
    w = staged([(1, 2, EAST), (3, 2, WEST)])
    w.brain.script = {0: (1, 0, 0, ONE), 1: (1, 0, 0, ONE)}
    w.tick()
    assert where(w, 0) == (2, 2) and where(w, 1) == (3, 2)           # a tie: the lower id
    check_invariants(w)


def test_two_organisms_facing_each_other_swap():
    w = staged([(1, 1, EAST), (2, 1, WEST)])
    w.brain.script = {0: MOVE, 1: MOVE}
    d = w.tick()
    assert where(w, 0) == (2, 1) and where(w, 1) == (1, 1)
    assert d.removed == [] and d.metrics["meals_last_turn"] == 0
    assert sorted(d.moves) == [(0, (1, 1), (2, 1)), (1, (2, 1), (1, 1))]
    check_invariants(w)


def test_a_three_cycle_commits_at_once():
    # a triangle of neighbours: (1,1) -E-> (2,1) -SW-> (1,2) -NW-> (1,1)
    w = staged([(1, 1, EAST), (2, 1, SOUTH_WEST), (1, 2, NORTH_WEST)])
    w.brain.script = {0: MOVE, 1: MOVE, 2: MOVE}
    w.tick()
    assert [where(w, i) for i in range(3)] == [(2, 1), (1, 2), (1, 1)]
    check_invariants(w)


def test_moving_onto_an_organism_that_stays_eats_it_and_takes_its_cell():
    w = staged([(1, 1, EAST), (2, 1, EAST)], hunger=[7, 7])
    w.brain.script = {0: MOVE}
    d = w.tick()
    assert d.removed == [1] and where(w, 0) == (2, 1)
    eater = int(np.flatnonzero(w.state.oid == 0)[0])
    assert w.state.hunger[eater] == 0 and w.state.meals[eater] == 1
    # the eater reproduces: one offspring with its facing and its (possibly mutated) genome
    assert len(d.spawned) == 1 and d.spawned[0]["parent"] == 0
    assert d.spawned[0]["facing"] == "East" and d.spawned[0]["id"] == 2
    assert d.spawned[0]["generation"] == 1
    child = int(np.flatnonzero(w.state.oid == 2)[0])
    assert w.genomes[child] in ("g0", "g0'")
    assert d.metrics == {"turns": 1, "organisms": 2, "synapse_ops_last_turn": 0,
                         "actions_applied_last_turn": 1, "meals_last_turn": 1,
                         "starvations_last_turn": 0, "births_last_turn": 1}
    check_invariants(w)


def test_an_eat_chain_and_a_loser_that_is_eaten_where_it_stands():
    # 0 -> 1's cell, 1 -> 2's cell, 2 stays: 1 eats 2, 0 moves into 1's vacated cell
    w = staged([(0, 1, EAST), (1, 1, EAST), (2, 1, EAST)])
    w.brain.script = {0: MOVE, 1: MOVE}
    d = w.tick()
    assert d.removed == [2] and where(w, 1) == (2, 1) and where(w, 0) == (1, 1)
    check_invariants(w)
    # 1 wants 3's cell but loses it to 3's... no: 1 loses (2, 1) to the more confident 2,
    # so 1 stays where it is and 0, moving onto it, eats it
    w = staged([(0, 1, EAST), (1, 1, EAST), (3, 1, WEST)])
    w.brain.script = {0: (1, 0, 0, ONE), 1: (1, 0, 0, 0), 2: (1, 0, 0, ONE)}
    d = w.tick()
    assert where(w, 2) == (2, 1) and where(w, 0) == (1, 1) and d.removed == [1]
    check_invariants(w)


def test_moves_off_the_grid_do_nothing_and_turns_apply_before_the_move():
    w = staged([(4, 2, EAST), (0, 0, EAST)])
    w.brain.script = {0: MOVE, 1: (1, 0, 1, 0)}       # 1 turns right (to SouthEast), then moves
    d = w.tick()
    assert where(w, 0) == (4, 2) and where(w, 1) == (0, 1)
    assert [m[0] for m in d.moves] == [1]
    assert w.state.facing[int(np.flatnonzero(w.state.oid == 1)[0])] == 5


def test_the_look_sensor_sees_the_faced_cell_at_the_start_of_the_turn():
    w = staged([(1, 1, EAST), (2, 1, EAST), (4, 4, EAST)])
    w.brain.script = {1: MOVE}
    w.tick()
    assert w.sensors[:3, 0].tolist() == [1, 0, 0]      # out of bounds reads 0


def test_the_hungry_starve_and_are_replaced_by_new_random_organisms():
    w = staged([(0, 0, EAST), (4, 4, WEST)], hunger=[18, 0], turns_to_starve=20)
    d = w.tick()
    assert d.removed == [] and w.state.hunger[:2].tolist() == [19, 1]
    d = w.tick()
    assert d.removed == [0] and d.metrics["starvations_last_turn"] == 1
    assert len(d.spawned) == 1 and d.spawned[0]["parent"] == -1
    assert d.spawned[0]["generation"] == 0
    new = int(np.flatnonzero(w.state.oid == 2)[0])
    assert w.genomes[new] == "random"
    check_invariants(w)


def test_a_full_grid_skips_spawns_and_the_fallback_takes_the_cell_nearest_the_centre():
    cells = [(q, r, EAST) for r in range(3) for q in range(3)]
    w = staged(cells, width=3, hunger=[0] * 4 + [19] + [0] * 4, turns_to_starve=20)
    w.brain.script = {3: MOVE}                 # 3 at (0, 1) eats 4 at (1, 1), the centre
    d = w.tick()
    # 4 was eaten (it would have starved): the eater's offspring is the only free cell's
    # taker -- the one 3 left, found by the fallback if the draws miss it
    assert d.removed == [4] and len(d.spawned) == 1
    assert (d.spawned[0]["q"], d.spawned[0]["r"]) == (0, 1)
    assert w.state.totals[5] == 0                       # skipped_spawns
    check_invariants(w)
    w = staged(cells, width=3, hunger=[19] * 9, turns_to_starve=20)
    w.brain.script = {0: MOVE}                          # 0 eats 1; the other 7 starve
    d = w.tick()
    assert len(d.removed) == 8 and len(d.spawned) == 8
    check_invariants(w)


@pytest.mark.parametrize("width", [1, 2, 7])
def test_spawn_positions_lean_to_the_centre(width):
    from primordia.worlds.hex.config import HexConfig
    from primordia.worlds.hex.world import HexWorld

    from .conftest import PuppetSubstrate

    n = max(1, width * width // 3)
    w = HexWorld(HexConfig(world_width=width, num_organisms=n), PuppetSubstrate())
    check_invariants(w)
    live = np.flatnonzero(w.state.alive)
    c = (width - 1) / 2
    d = np.hypot(w.state.q[live] - c, w.state.r[live] - c)
    assert d.mean() <= np.hypot(*np.meshgrid(np.arange(width) - c, np.arange(width) - c)
                                ).mean() + 1e-9


def reference_moves(organisms, script, width):
    """The resolution rules in plain Python: returns {id: new (q, r)} of the survivors and
    the eaten ids. ``organisms`` are (q, r, facing) by id; ``script`` id -> actions."""
    pos = {i: (q, r) for i, (q, r, _) in enumerate(organisms)}
    at = {p: i for i, p in pos.items()}
    target, conf = {}, {}
    for i, (q, r, f) in enumerate(organisms):
        move, left, right, c = script.get(i, (0, 0, 0, 0))
        f = turned(f, left > 0, right > 0)
        t = (q + int(DQ[f]), r + int(DR[f]))
        if move > 0 and 0 <= t[0] < width and 0 <= t[1] < width:
            target[i], conf[i] = t, c
    winners = {}
    for i in sorted(target):                      # id order: the first of equals keeps it
        t = target[i]
        if t not in winners or conf[i] > conf[winners[t]]:
            winners[t] = i
    moving = set(winners.values())
    eaten = [at[t] for t, i in sorted(winners.items(), key=lambda kv: kv[1])   # by eater id
             if t in at and at[t] not in moving]
    new = {i: p for i, p in pos.items() if i not in eaten}
    for t, i in winners.items():
        new[i] = t
    return new, eaten


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 6), st.data())
def test_any_turn_matches_the_rules_in_plain_python_and_keeps_the_invariants(width, data):
    cells = data.draw(st.lists(st.integers(0, width * width - 1), min_size=1,
                               max_size=width * width, unique=True))
    organisms = [(c % width, c // width, data.draw(st.integers(0, 5))) for c in cells]
    script = {i: (data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1)),
                  data.draw(st.integers(0, 1)), data.draw(st.sampled_from([0, 1, ONE, -ONE])))
              for i in range(len(organisms))}
    w = staged(organisms, width=width)
    w.brain.script = script
    d = w.tick()
    new, eaten = reference_moves(organisms, script, width)
    assert d.removed == eaten
    assert {i: where(w, i) for i in new} == new
    check_invariants(w)
