"""Scenario tests for the action rules: one small world per rule, built by hand."""

from __future__ import annotations

import numpy as np

from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.actions import act, market_counts, resolve_trades, set_item
from primordia.worlds.sandbox.lifecycle import bury, metabolism

from .conftest import blank_state, put_npc

SEED = 99


def run_round(s, acts: dict[int, tuple[int, int, int]], tick: int = 1):
    """Apply one round: ``acts`` maps slot -> (move, action, target id)."""
    actions = np.zeros((s.alive.shape[0], 4), dtype=np.int32)
    for slot, (move, action, target) in acts.items():
        actions[slot, :3] = (move, action, target)
    slots = np.array(sorted(acts), dtype=np.int64)
    order = slots[np.argsort(s.npc_id[slots], kind="stable")]
    tf = np.zeros(len(acts), dtype=np.int64)
    tt = np.zeros(len(acts), dtype=np.int64)
    n = act(s, order, actions, tick, 0, SEED, tf, tt)
    return list(zip(tf[:n].tolist(), tt[:n].tolist()))


def test_eat_prefers_own_tile_then_n_e_s_w():
    s = blank_state(1, 5)
    put_npc(s, 0, 2, 2, energy=50)
    s.tile[2, 3] = c.FOOD                  # east
    s.tile[3, 2] = c.FOOD                  # south
    run_round(s, {0: (0, c.EAT, 0)})
    assert s.tile[2, 3] == c.EMPTY and s.tile[3, 2] == c.FOOD     # east comes before south
    assert (s.energy[0], s.health[0], s.hunger[0], s.food_eaten[0]) == (80, 100, 0, 1)
    s.tile[2, 2] = c.FOOD
    run_round(s, {0: (0, c.EAT, 0)})
    assert s.tile[2, 2] == c.EMPTY and s.tile[3, 2] == c.FOOD


def test_two_npcs_moving_into_one_cell_the_lower_id_wins():
    s = blank_state(2, 5)
    put_npc(s, 0, 1, 2, npc_id=9)
    put_npc(s, 1, 3, 2, npc_id=4)
    run_round(s, {0: (2, 0, 0), 1: (4, 0, 0)})      # both step onto (2, 2)
    assert (s.x[1], s.y[1]) == (2, 2) and (s.x[0], s.y[0]) == (1, 2)
    assert s.occupant[2, 2] == 1 and s.occupant[2, 1] == 0 and s.occupant[2, 3] == -1


def test_moves_are_blocked_by_walls_water_edges_and_occupants():
    s = blank_state(3, 4)
    put_npc(s, 0, 0, 0)
    put_npc(s, 1, 1, 1)
    put_npc(s, 2, 3, 3)
    s.tile[2, 1] = c.WALL
    s.tile[3, 2] = c.WATER
    run_round(s, {0: (1, 0, 0), 1: (3, 0, 0), 2: (4, 0, 0)})
    assert [(int(s.x[i]), int(s.y[i])) for i in range(3)] == [(0, 0), (1, 1), (3, 3)]
    assert s.heading.tolist() == [1, 3, 4]          # the heading turns even when blocked


def test_attack_damage_uses_weapon_and_shield_and_a_kill_loots_the_item():
    s = blank_state(2, 4)
    put_npc(s, 0, 1, 1, npc_id=1, energy=50)
    put_npc(s, 1, 2, 1, npc_id=2, health=20)
    set_item(s, 0, c.WEAPON)
    set_item(s, 1, c.SHIELD)
    run_round(s, {0: (0, c.ATTACK, 2)})
    assert s.health[1] == 20 - (5 + 10 - 5) and s.energy[0] == 40 and s.stress[1] == 15
    set_item(s, 0, c.NO_ITEM)                        # bare hands: max(1, 5 - 5) = 1 ... then
    s.health[1] = 1
    run_round(s, {0: (0, c.ATTACK, 2)})
    assert s.health[1] == 0 and s.stats[c.C_KILLS] == 1
    assert s.item[0] == c.SHIELD and s.item[1] == c.NO_ITEM       # the killer takes it
    assert c.MOD_DEFENSE in s.mod_kind[0].tolist() and c.MOD_DEFENSE not in s.mod_kind[1]
    dead = np.zeros(2, dtype=np.int64)
    assert bury(s, np.array([0, 1]), dead) == 1 and dead[0] == 1 and s.occupant[1, 2] == -1


def test_attack_needs_an_adjacent_target_and_ten_energy():
    s = blank_state(3, 5)
    put_npc(s, 0, 0, 0, npc_id=1, energy=9)
    put_npc(s, 1, 1, 0, npc_id=2)
    put_npc(s, 2, 3, 3, npc_id=3, energy=100)
    run_round(s, {0: (0, c.ATTACK, 2), 2: (0, c.ATTACK, 2)})
    assert s.health[1] == 100 and s.stats[c.C_ATTACKS] == 0


def test_share_and_heal_move_energy_and_health_between_neighbours():
    s = blank_state(2, 4)
    put_npc(s, 0, 1, 1, npc_id=1, energy=30)
    put_npc(s, 1, 1, 2, npc_id=2, energy=5, health=50)
    set_item(s, 0, c.COMPASS)                        # forage +2 heals 2 more
    s.stress[1] = 10
    run_round(s, {0: (0, c.SHARE, 2)})
    assert (s.energy[0], s.energy[1]) == (20, 15)
    run_round(s, {0: (0, c.HEAL, 2)})
    assert s.health[1] == 57 and s.energy[0] == 12 and s.stress[1] == 5
    run_round(s, {0: (0, c.SHARE, 2)})               # energy 12 is not > 20: nothing
    assert s.energy[1] == 15


def test_trade_swaps_items_when_both_name_each_other_and_scarcity_sets_gold():
    s = blank_state(3, 6)
    put_npc(s, 0, 1, 1, npc_id=1)
    put_npc(s, 1, 2, 1, npc_id=2)
    put_npc(s, 2, 5, 5, npc_id=3)
    set_item(s, 0, c.TOOL)
    set_item(s, 1, c.TREASURE)
    set_item(s, 2, c.TOOL)
    total, per = market_counts(s)
    assert total == 3 and per[c.TOOL] == 2 and per[c.TREASURE] == 1
    run_round(s, {0: (0, c.TRADE, 2), 1: (0, c.TRADE, 1), 2: (0, c.TRADE, 1)})
    resolve_trades(s, np.array([0, 1, 2]))
    assert (s.item[0], s.item[1], s.item[2]) == (c.TREASURE, c.TOOL, c.TOOL)
    # values: treasure 10*3/1 = 30, tool 10*3/2 = 15; d = (30 - 15) / 2 = 7
    assert (s.gold[0], s.gold[1]) == (0, 10)
    assert s.trade_with.tolist() == [-1, -1, -1] and s.stats[c.C_TRADES] == 1
    assert c.MOD_TRADE in s.mod_kind[0].tolist() and c.MOD_FORAGE in s.mod_kind[1].tolist()


def test_one_sided_trade_intent_does_nothing():
    s = blank_state(2, 4)
    put_npc(s, 0, 1, 1, npc_id=1)
    put_npc(s, 1, 2, 1, npc_id=2)
    set_item(s, 0, c.TOOL)
    set_item(s, 1, c.WEAPON)
    run_round(s, {0: (0, c.TRADE, 2), 1: (0, c.IDLE, 0)})
    resolve_trades(s, np.array([0, 1]))
    assert (s.item[0], s.item[1]) == (c.TOOL, c.WEAPON)


def test_craft_is_free_on_a_forge_and_costs_20_elsewhere():
    s = blank_state(2, 4)
    put_npc(s, 0, 0, 0, energy=50)
    put_npc(s, 1, 3, 3, energy=50)
    s.tile[3, 3] = c.FORGE
    set_item(s, 0, c.TOOL)
    set_item(s, 1, c.WEAPON)
    run_round(s, {0: (0, c.CRAFT, 0), 1: (0, c.CRAFT, 0)})
    assert (s.item[0], s.energy[0]) == (c.COMPASS, 30)
    assert (s.item[1], s.energy[1]) == (c.SHIELD, 50)
    assert s.crafts.tolist() == [1, 1]


def test_harvest_gives_energy_and_sets_a_cooldown_halved_by_forage():
    s = blank_state(2, 4)
    put_npc(s, 0, 0, 0, energy=100)
    put_npc(s, 1, 3, 3, energy=100)
    set_item(s, 1, c.TOOL)
    run_round(s, {0: (0, c.HARVEST, 0), 1: (0, c.HARVEST, 0)})
    assert s.energy.tolist() == [125, 125] and (s.cooldown[0, 0], s.cooldown[3, 3]) == (5, 2)
    run_round(s, {0: (0, c.HARVEST, 0)})             # still cooling down
    assert s.energy[0] == 125


def test_terraform_plants_food_on_empty_and_clears_other_tiles():
    s = blank_state(2, 4)
    put_npc(s, 0, 0, 0, energy=100)
    put_npc(s, 1, 3, 3, energy=100)
    s.tile[3, 3] = c.WATER
    set_item(s, 1, c.COMPASS)                        # forage 2: costs max(10, 30 - 10) = 20
    run_round(s, {0: (0, c.TERRAFORM, 0), 1: (0, c.TERRAFORM, 0)})
    assert (s.tile[0, 0], s.tile[3, 3]) == (c.FOOD, c.EMPTY)
    assert s.energy.tolist() == [70, 80]
    run_round(s, {0: (0, c.TERRAFORM, 0)})           # food stays food, costs nothing
    assert s.tile[0, 0] == c.FOOD and s.energy[0] == 70


def test_stepping_on_poison_hurts_crystal_gives_gas_items_are_picked_up():
    s = blank_state(3, 5)
    put_npc(s, 0, 0, 0)
    put_npc(s, 1, 2, 2)
    put_npc(s, 2, 4, 4)
    s.tile[0, 1] = c.POISON
    s.tile[2, 3] = c.CRYSTAL_TILE
    s.tile[3, 4] = c.WEAPON_TILE
    run_round(s, {0: (2, 0, 0), 1: (2, 0, 0), 2: (1, 0, 0)})
    assert s.health[0] == 85 and s.stress[0] == 10 and s.tile[0, 1] == c.EMPTY
    assert (s.mod_kind[1, 0], s.mod_mag[1, 0], s.mod_left[1, 0]) == (c.MOD_GAS, 50, -1)
    assert s.item[2] == c.WEAPON and s.tile[3, 4] == c.EMPTY


def test_teaching_is_listed_for_the_genome_step_and_counted():
    s = blank_state(2, 4)
    put_npc(s, 0, 1, 1, npc_id=1)
    put_npc(s, 1, 1, 2, npc_id=2)
    s.fitness[0], s.fitness[1] = 10_000, 0           # a fit teacher nearly always succeeds
    events = run_round(s, {0: (0, c.TEACH, 2)})
    assert events == [(0, 1)] and s.teaches[0] == 1 and s.taught[1] == 1
    assert s.energy[0] == 90


def test_stress_override_replaces_some_decisions_deterministically():
    def moved(seed_tick: int) -> list[int]:
        s = blank_state(40, 20)
        for k in range(40):
            put_npc(s, k, k % 20, 2 * (k // 20) + 5, npc_id=k + 1)
            s.stress[k] = 100
        run_round(s, {k: (0, c.IDLE, 0) for k in range(40)}, tick=seed_tick)
        return s.heading.tolist()
    a, b = moved(5), moved(5)
    assert a == b                                     # the same draws every time
    changed = sum(h != 1 for h in a)                  # heading 1 is the untouched default
    assert 10 <= changed <= 40                        # (100 - 30) * 31 / 100 = 21 of 32


def test_metabolism_costs_energy_ages_and_starves():
    s = blank_state(2, 4)
    put_npc(s, 0, 0, 0, energy=1)
    put_npc(s, 1, 3, 3, energy=160)
    s.age[1] = c.MAX_AGE - 1
    metabolism(s, np.array([0, 1]))
    assert (s.energy[0], s.health[0], s.stress[0]) == (0, 95, 5)
    assert (s.age[1], s.health[1], s.stress[1]) == (c.MAX_AGE, 0, 0)   # died of age


def test_auto_eat_reaches_farther_with_forage():
    s = blank_state(2, 9)
    put_npc(s, 0, 4, 4, energy=100)
    s.tile[4, 7] = c.FOOD                             # 3 cells east
    metabolism(s, np.array([0]))
    assert s.tile[4, 7] == c.FOOD
    set_item(s, 0, c.COMPASS)                         # radius 1 + 2 = 3
    metabolism(s, np.array([0]))
    assert s.tile[4, 7] == c.EMPTY and s.food_eaten[0] == 1
