"""What a sandbox snapshot (a checkpoint's arrays) holds, and the rules it must keep before a
world is built from it.

``layout`` lists every array with its dtype and its shape (exact, or at most what the config
allows); ``check`` refuses a snapshot that breaks any rule of the world: values in range
(positions on the grid, tile codes and items in their tables, energies and counters where the
rules keep them), and the cross-references (occupancy against positions and the living, ids
against the next id and the lineage, the genome table against the living). Every problem is
one ConfigError naming the file, the array and the place.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from primordia.core.checks import ArrayChecks, ArraySpec

from . import constants as c
from .config import SandboxConfig
from .state import empty_state

SCALARS = ("tick_no", "next_id", "max_genome", "base_gas", "refill_turn", "live_npc_ticks")
"""The world's counters that a checkpoint keeps besides the arrays."""
LINEAGE = ("id", "origin", "destruction", "parent_count")
MOD_ARRAYS = ("mod_kind", "mod_mag", "mod_left", "mod_source")
MAX_MOD_MAG = int(max(c.ITEM_MOD_MAG.max(), c.CRYSTAL_GAS))
"""The largest modifier the rules grant (held items and crystals)."""
SLOT, CELL, MOD = "slot {0}", "cell ({1}, {0})", "slot {0}, modifier {1}"


def most_ids(config: SandboxConfig) -> int:
    """How many ids a run of this config can give out: its founders, then at most one per
    slot and tick (the GA replaces and refills at most the whole population)."""
    return config.npcs * (config.ticks + 1)


def layout(config: SandboxConfig, brain: Mapping[str, ArraySpec], genome_limit: int
           ) -> dict[str, ArraySpec]:
    """Every array of a snapshot for ``config``, with the brain's state arrays (``brain``)
    and genomes of at most ``genome_limit`` bytes."""
    n, ids = config.npcs, most_ids(config)
    out = {f"state.{name}": ArraySpec.exact(a.dtype, *a.shape)
           for name, a in empty_state(n, config.size)._asdict().items()}
    out["scalars"] = ArraySpec.exact(np.int64, len(SCALARS))
    out["food_rate"] = ArraySpec.exact(np.float64, 1)
    out["genome_bytes"] = ArraySpec.upto(np.uint8, n * genome_limit)
    out["genome_lengths"] = ArraySpec.exact(np.int64, n)
    out["genome_present"] = ArraySpec.exact(np.bool_, n)
    out.update({f"lineage.{k}": ArraySpec.upto(np.int64, ids) for k in LINEAGE})
    out["lineage.parents"] = ArraySpec.upto(np.int64, 2 * ids)
    out.update({f"brain.{k}": spec for k, spec in brain.items()})
    return out


def check(config: SandboxConfig, arrays: Mapping[str, np.ndarray],
          brain: Mapping[str, ArraySpec], genome_limit: int, source: str
          ) -> dict[str, np.ndarray]:
    """The snapshot's arrays, cast to their dtypes, once every rule holds (ConfigError
    naming the first that does not)."""
    specs = layout(config, brain, genome_limit)
    ck = ArrayChecks(arrays, source)
    a = ck.read(specs)
    n, size = config.npcs, config.size

    # ---- counters ----
    sc = dict(zip(SCALARS, a["scalars"].tolist()))
    tick, next_id = sc["tick_no"], sc["next_id"]
    ck.scalar("scalars.tick_no", tick, 0, config.ticks, "ticks of this config")
    ck.scalar("scalars.next_id", next_id, 1, most_ids(config) + 1, "next ids")
    grown = config.genome_grow * (tick // config.genome_grow_every)
    ck.scalar("scalars.max_genome", sc["max_genome"], config.max_genome,
              config.max_genome + grown, "genome caps at this tick")
    ck.scalar("scalars.base_gas", sc["base_gas"], 1, c.GAS_LIMIT, "gas budgets")
    ck.scalar("scalars.refill_turn", sc["refill_turn"], 0, next_id, "refill turns")
    ck.scalar("scalars.live_npc_ticks", sc["live_npc_ticks"], 0, n * tick,
              "NPC-ticks so far")
    ck.within("food_rate", a["food_rate"], 0.0, 1.0, "food rates")
    stats = a["state.stats"]
    for k, name in enumerate(c.STAT_NAMES):
        ck.scalar(f"state.stats ({name})", int(stats[k]), 0, None, "counters")

    # ---- NPCs: the index-like fields hold in every slot, the rest in living slots ----
    alive = a["state.alive"]
    ck.within("state.alive", alive, 0, 1, "living flags", SLOT)
    live = alive == 1
    ids = a["state.npc_id"]
    ck.within("state.npc_id", ids, -1, next_id - 1, "ids (-1: never used)", SLOT)
    ck.within("state.npc_id", ids, 1, None, "ids of the living", SLOT, rows=live)
    ck.within("state.birth", a["state.birth"], 0, tick, "birth ticks", SLOT)
    for axis in ("x", "y"):
        ck.within(f"state.{axis}", a[f"state.{axis}"], 0, size - 1, "positions", SLOT)
    ck.within("state.heading", a["state.heading"], 1, 4, "headings", SLOT)
    ck.within("state.item", a["state.item"], 0, len(c.ITEM_NAMES) - 1, "items", SLOT)
    ck.within("state.mod_kind", a["state.mod_kind"], 0, c.MOD_STRESS, "modifier kinds", MOD)
    ck.within("state.mod_mag", a["state.mod_mag"], 0, MAX_MOD_MAG, "modifier magnitudes",
              MOD)
    ck.within("state.mod_left", a["state.mod_left"], c.PERMANENT, None,
              "modifier durations (-1: permanent, 0: empty)", MOD)
    ck.within("state.mod_source", a["state.mod_source"], 0, len(c.ITEM_NAMES) - 1,
              "modifier sources (items)", MOD)
    ck.within("state.health", a["state.health"], 1, c.MAX_HEALTH, "health of the living",
              SLOT, rows=live)
    ck.within("state.energy", a["state.energy"], 0, c.MAX_ENERGY, "energies", SLOT,
              rows=live)
    ck.within("state.stress", a["state.stress"], 0, c.MAX_STRESS, "stress levels", SLOT,
              rows=live)
    for name in ("food_eaten", "gold", "crafts", "taught", "teaches"):
        ck.within(f"state.{name}", a[f"state.{name}"], 0, None, "counts", SLOT, rows=live)
    age = a["state.age"]
    ck.within("state.age", age, 0, c.MAX_AGE - 1, "ages", SLOT, rows=live)
    ck.each("state.age", age, live & (age > tick - a["state.birth"]),
            "an NPC is no older than the ticks since its birth", SLOT)
    ck.each("state.hunger", a["state.hunger"],
            live & ((a["state.hunger"] < 0) | (a["state.hunger"] > age)),
            "hunger counts the ticks since a meal: 0..the NPC's age", SLOT)
    ck.within("state.fitness", a["state.fitness"], -(c.MAX_STRESS // 5), None, "fitness",
              SLOT, rows=live)
    ck.each("state.trade_with", a["state.trade_with"], live & (a["state.trade_with"] != -1),
            "a living NPC's trade intent is -1 between ticks", SLOT)
    living_ids = ids[live]
    ck.require(np.unique(living_ids).size == living_ids.size,
               "state.npc_id: two living NPCs share an id")

    # ---- the grid ----
    ck.within("state.tile", a["state.tile"], 0, len(c.TILE_NAMES) - 1, "tile codes", CELL)
    ck.within("state.biome", a["state.biome"], 0, c.BRIDGE, "biomes", CELL)
    ck.within("state.cooldown", a["state.cooldown"], 0, None, "cooldowns", CELL)
    ck.within("state.poison_since", a["state.poison_since"], 0, tick, "poison ticks", CELL)
    occupant = a["state.occupant"]
    ck.within("state.occupant", occupant, -1, n - 1, "NPC slots (-1: nobody)", CELL)
    ck.occupancy("state.occupant", occupant, live, (a["state.y"], a["state.x"]), "NPC", CELL)

    # ---- genomes: one per living NPC ----
    present, lengths = a["genome_present"], a["genome_lengths"]
    ck.each("genome_present", present, present != live,
            "living NPCs and genomes go together (state.alive)", SLOT)
    ck.within("genome_lengths", lengths, 0, genome_limit, "genome lengths", SLOT)
    ck.each("genome_lengths", lengths, ~present & (lengths != 0),
            "an empty slot has no genome bytes", SLOT)
    ck.require(int(lengths.sum()) == a["genome_bytes"].size,
               f"genome_bytes holds {a['genome_bytes'].size} bytes; genome_lengths add up "
               f"to {int(lengths.sum())}")

    # ---- lineage: every NPC ever born, parents before their children ----
    lin = {k: a[f"lineage.{k}"] for k in LINEAGE}
    count = lin["id"].size
    for k in LINEAGE[1:]:
        ck.require(lin[k].size == count, f"lineage.{k} has {lin[k].size} entries; "
                                         f"lineage.id has {count}")
    ck.within("lineage.id", lin["id"], 1, next_id - 1, "ids given out")
    ck.each("lineage.id", lin["id"], np.diff(lin["id"], prepend=0) <= 0,
            "lineage ids go up")
    ck.within("lineage.origin", lin["origin"], 0, tick, "birth ticks")
    died = lin["destruction"]
    ck.each("lineage.destruction", died,
            (died != -1) & ((died < lin["origin"]) | (died > tick)),
            "a death tick is -1 (alive) or from the birth to now")
    ck.within("lineage.parent_count", lin["parent_count"], 0, 2, "parent counts")
    parents = a["lineage.parents"]
    ck.require(int(lin["parent_count"].sum()) == parents.size,
               f"lineage.parents holds {parents.size} ids; lineage.parent_count adds up to "
               f"{int(lin['parent_count'].sum())}")
    child = np.repeat(lin["id"], lin["parent_count"])
    ck.each("lineage.parents", parents, ~np.isin(parents, lin["id"]) | (parents >= child),
            "a parent is an id in the lineage, older than its child")
    ck.living_in_lineage(ids, live, a["state.birth"], lin["id"], lin["origin"], died, "NPC")
    return a

