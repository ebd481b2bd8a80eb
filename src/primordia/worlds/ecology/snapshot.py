"""What an ecology snapshot (``EcologyWorld.arrays()``, a checkpoint's world arrays) holds, and
the rules it must keep before a world is built from it.

``layout`` lists every array with its dtype and shape; ``check`` refuses a snapshot that
breaks a rule of the world -- the map the seed makes, values in range, one organism per tile
where it stands, ids below the next id, parents older than their children, one genome per
living organism -- with one ConfigError naming the file, the array and the place.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from primordia.core.checks import ArrayChecks, ArraySpec

from .config import EcologyConfig
from .state import CHANNELS, FERTILE, OBSTACLE, TOTALS, empty_state
from .terrain import generate

SCALARS = ("tick", "next_id")
SLOT = "slot {0}"


def tile_at(width: int) -> Callable[[int], str]:
    return lambda t: f"tile (x {t % width}, y {t // width})"


def most_ids(config: EcologyConfig) -> int:
    """Ids a run of this config can give out: its founders, then at most one per slot per
    tick (births and the top-up both need a free slot)."""
    return config.num_organisms + config.max_organisms * (config.ticks + 1)


def layout(config: EcologyConfig, brain: Mapping[str, ArraySpec], genome_limit: int
           ) -> dict[str, ArraySpec]:
    """Every array of a snapshot for ``config``, with the brain's state arrays and genomes of
    at most ``genome_limit`` bytes."""
    n = config.max_organisms
    out = {f"state.{name}": ArraySpec.exact(a.dtype, *a.shape)
           for name, a in empty_state(n, config.width, config.height)._asdict().items()}
    out["scalars"] = ArraySpec.exact(np.int64, len(SCALARS))
    out["genome_bytes"] = ArraySpec.upto(np.uint8, n * genome_limit)
    out["genome_lengths"] = ArraySpec.exact(np.int64, n)
    out.update({f"brain.{k}": spec for k, spec in brain.items()})
    return out


def check(config: EcologyConfig, seed_word: int, arrays: Mapping[str, np.ndarray],
          brain: Mapping[str, ArraySpec], genome_limit: int, source: str
          ) -> dict[str, np.ndarray]:
    """The snapshot's arrays, cast to their dtypes, once every rule holds (ConfigError
    naming the first that does not)."""
    specs = layout(config, brain, genome_limit)
    ck = ArrayChecks(arrays, source)
    a = ck.read(specs)
    n, w = config.max_organisms, config.width
    at_tile = tile_at(w)

    tick, next_id = a["scalars"].tolist()
    ck.scalar("scalars.tick", tick, 0, config.ticks, "ticks of this config")
    ck.scalar("scalars.next_id", next_id, 0, most_ids(config), "next ids")
    for k, name in enumerate(TOTALS):
        ck.scalar(f"state.totals ({name})", int(a["state.totals"][k]), 0, None, "counters")

    # ---- the map: the seed's, with resources and corpses in range ----
    kind, resource = generate(config, seed_word)
    ck.each("state.kind", a["state.kind"], a["state.kind"] != kind,
            "the map is the one the config and seed make", at_tile)
    big_r = config.r_max * 256
    ck.within("state.resource", a["state.resource"], 0, big_r, "Q8 resources", at_tile)
    ck.each("state.resource", a["state.resource"], (kind != FERTILE) & (a["state.resource"] != 0),
            "only fertile tiles hold resources", at_tile)
    ck.within("state.corpse", a["state.corpse"], 0, None, "corpse energies", at_tile)
    ck.within("state.signal", a["state.signal"], 0, CHANNELS, "signal marks (channel + 1)",
              at_tile)

    # ---- organisms ----
    alive = a["state.alive"]
    ck.within("state.alive", alive, 0, 1, "living flags", SLOT)
    live = alive == 1
    oid = a["state.oid"]
    ck.within("state.oid", oid, -1, next_id - 1, "ids (-1: never used)", SLOT)
    ck.within("state.oid", oid, 0, None, "ids of the living", SLOT, rows=live)
    ck.require(np.unique(oid[live]).size == int(live.sum()),
               "state.oid: two living organisms share an id")
    ck.within("state.x", a["state.x"], 0, w - 1, "columns", SLOT)
    ck.within("state.y", a["state.y"], 0, config.height - 1, "rows", SLOT)
    ck.within("state.energy", a["state.energy"], 0, config.max_energy, "energies of the living",
              SLOT, rows=live)
    ck.within("state.born", a["state.born"], 0, tick, "birth ticks", SLOT)
    parent, generation = a["state.parent"], a["state.generation"]
    ck.each("state.parent", parent, live & ((parent < -1) | (parent >= oid)),
            "a parent is -1 (none) or an id older than its child", SLOT)
    ck.within("state.generation", generation, 0, None, "generations", SLOT, rows=live)
    ck.each("state.generation", generation, live & ((parent == -1) != (generation == 0)),
            "generation 0 is exactly the organisms without a parent", SLOT)
    lineage = a["state.lineage"]
    ck.each("state.lineage", lineage, live & ((lineage < 0) | (lineage > oid)),
            "a lineage is the id of an ancestor (or the organism's own)", SLOT)
    ck.within("state.tag", a["state.tag"], 0, (1 << 32) - 1, "32-bit lineage tags", SLOT)
    ck.within("state.genome_bytes", a["state.genome_bytes"], 0, genome_limit,
              "genome sizes", SLOT)
    for name in ("offspring", "kills", "eaten", "moved", "assists", "signals"):
        ck.within(f"state.{name}", a[f"state.{name}"], 0, None, "counts", SLOT)
    ck.within("state.birth_energy", a["state.birth_energy"], 0, config.max_energy,
              "starting energies", SLOT)

    # ---- the grid: one organism per tile, where it stands, never on an obstacle ----
    occupancy = a["state.occupancy"]
    ck.within("state.occupancy", occupancy, -1, n - 1, "organism slots (-1: nobody)", at_tile)
    ck.occupancy("state.occupancy", occupancy, live, (a["state.y"] * w + a["state.x"],),
                 "organism", at_tile)
    ck.each("state.occupancy", occupancy, (occupancy >= 0) & (kind == OBSTACLE),
            "nobody stands on an obstacle", at_tile)

    # ---- genomes: one per living organism ----
    lengths = a["genome_lengths"]
    ck.within("genome_lengths", lengths, -1, genome_limit, "genome lengths (-1: none)", SLOT)
    ck.each("genome_lengths", lengths, (lengths >= 0) != live,
            "living organisms and genomes go together (state.alive)", SLOT)
    total = int(lengths.clip(0).sum())
    ck.require(total == a["genome_bytes"].size,
               f"genome_bytes holds {a['genome_bytes'].size} bytes; genome_lengths add up "
               f"to {total}")
    return a
