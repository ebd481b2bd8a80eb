"""The sandbox's vocabulary and constants (docs/worlds/sandbox.md): tiles, items, actions,
modifiers, sensor slots. One source of truth for the kernels, the reference and the docs."""

from __future__ import annotations

import numpy as np

# ---- tiles (the terrain byte of a cell; who stands there is the separate occupancy grid) ----
EMPTY, WALL, FOOD, WATER, TOOL_TILE, WEAPON_TILE, TREASURE_TILE, CRYSTAL_TILE, FORGE, POISON = \
    range(10)
TILE_NAMES = ("empty", "wall", "food", "water", "tool", "weapon", "treasure", "crystal", "forge",
              "poison")
TILE_CHARS = ".#%~tw$*Fx"
"""One character per tile for the ASCII map."""

# ---- items an NPC can hold ---------------------------------------------------------------------
NO_ITEM, FOOD_PACK, TOOL, WEAPON, TREASURE, CRYSTAL, SHIELD, COMPASS = range(8)
ITEM_NAMES = ("none", "food-pack", "tool", "weapon", "treasure", "crystal", "shield", "compass")
CRAFTED_FROM = {TOOL: COMPASS, WEAPON: SHIELD}
"""Crafting recipes: the item held -> the item made."""

# ---- actions (Ring1 slot 1) --------------------------------------------------------------------
IDLE, EAT, ATTACK, SHARE, TRADE, CRAFT, TEACH, HEAL, HARVEST, TERRAFORM = range(10)
ACTION_NAMES = ("idle", "eat", "attack", "share", "trade", "craft", "teach", "heal", "harvest",
                "terraform")
N_ACTIONS = 10

# ---- moves (Ring1 slot 0): 1 N, 2 E, 3 S, 4 W ---------------------------------------------------
DX = np.array([0, 0, 1, 0, -1], dtype=np.int64)
DY = np.array([0, -1, 0, 1, 0], dtype=np.int64)

# ---- modifiers: four slots per NPC of (kind, magnitude, ticks left, source item) --------------
MOD_NONE, MOD_GAS, MOD_FORAGE, MOD_ATTACK, MOD_DEFENSE, MOD_ENERGY, MOD_HEALTH, MOD_STEALTH, \
    MOD_TRADE, MOD_STRESS = range(10)
MOD_SLOTS = 4
PERMANENT = -1
"""Duration of a modifier that never runs out; 0 marks an empty slot."""
ITEM_MOD_KIND = np.array([MOD_NONE, MOD_NONE, MOD_FORAGE, MOD_ATTACK, MOD_TRADE, MOD_NONE,
                          MOD_DEFENSE, MOD_FORAGE], dtype=np.int64)
ITEM_MOD_MAG = np.array([0, 0, 1, 10, 3, 0, 5, 2], dtype=np.int64)
"""The modifier an item grants while it is held (tool forage +1, weapon attack +10, treasure
trade +3, shield defense +5, compass forage +2)."""
CRYSTAL_GAS = 50

# ---- biomes (a flat world is all clearing) ------------------------------------------------------
CLEARING, FOREST, MOUNTAIN, SWAMP, VILLAGE, RIVER, BRIDGE = range(7)

# ---- NPC constants ------------------------------------------------------------------------------
MAX_HEALTH = 100
MAX_ENERGY = 200
START_HEALTH = 100
START_ENERGY = 100
MAX_STRESS = 100
MAX_AGE = 5000
GAS_LIMIT = 500
"""No think gets more gas than this, whatever its modifiers."""
SEARCH_RADIUS = 31
"""Sensors look this many Manhattan rings out; farther (or nothing) reads as 31."""
DAY = 256
WINTER_FROM = 192
"""No food spawns in ticks DAY*k + 192 .. DAY*k + 255."""
FOOD_RATE = 0.5
FOOD_RATE_DECAY = 0.999
FOOD_RATE_FLOOR = 0.02
FOOD_DECAY_EVERY = 100
ITEM_RATE = 0.05
POISON_LIFETIME = 200
BLIGHT_EVERY = 1024
SPAWN_TRIES = 50

# ---- sensor slots (Ring0) ------------------------------------------------------------------------
(S_SELF, S_HEALTH, S_ENERGY, S_HUNGER, S_FEAR, S_FOOD_DIST, S_DANGER, S_NEAR_DIST, S_X, S_Y,
 S_DAY, S_UNUSED, S_NEAR_ID, S_FOOD_DIR, S_GOLD, S_ITEM, S_ITEM_DIST, S_TRUST, S_NEAR_DIR,
 S_ITEM_DIR, S_RANDOM, S_STRESS, S_GAS, S_ON_FORGE, S_LIFE_LEFT, S_TAUGHT, S_BIOME, S_TILE,
 S_SIMILARITY, S_TILE_AHEAD, S_COOLDOWN) = range(31)
N_SENSORS = 31
N_ACTION_SLOTS = 4
A_MOVE, A_ACTION, A_TARGET, A_EMOTION = range(4)

# ---- cumulative counters (state.stats) -----------------------------------------------------------
(C_ATTACKS, C_KILLS, C_HEALS, C_HARVESTS, C_TERRAFORMS, C_TRADES, C_TEACHES, C_CRAFTS, C_EATS,
 C_SHARES, C_BIRTHS, C_DEATHS, C_FOOD_SPAWNED, C_MOVES) = range(14)
STAT_NAMES = ("attacks", "kills", "heals", "harvests", "terraforms", "trades", "teaches",
              "crafts", "eats", "shares", "births", "deaths", "food_spawned", "moves")
