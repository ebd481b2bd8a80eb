"""What a hex snapshot (``HexWorld.arrays()``, a checkpoint's world arrays) holds, and the
rules it must keep before a world is built from it.

``layout`` lists every array with its dtype and its shape (exact, or at most what the config
allows); ``check`` refuses a snapshot that breaks any rule of the world: values in range
(cells on the grid, facings, hunger below starvation), and the cross-references (occupancy
against positions and the living, ids against the next id, parents against their
children, the genome table against the living). Every problem is one ConfigError naming the
file, the array and the place.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from primordia.core.checks import ArrayChecks, ArraySpec

from .config import HexConfig
from .grid import FACING_NAMES
from .state import TOTALS, empty_state

SCALARS = ("turn", "next_id")
"""The world's counters that a checkpoint keeps besides the arrays."""
SLOT = "slot {0}"


def most_ids(config: HexConfig) -> int:
    """How many ids a run of this config can give out: its founders, then at most one per
    cell and turn."""
    return config.cells * (config.turns + 1)


def cell_at(width: int) -> Callable[[int], str]:
    """Names a cell index as its axial coordinates, for messages."""
    return lambda c: f"cell (q {c % width}, r {c // width})"


def layout(config: HexConfig, brain: Mapping[str, ArraySpec], genome_limit: int
           ) -> dict[str, ArraySpec]:
    """Every array of a snapshot for ``config``, with the brain's state arrays (``brain``)
    and genomes of at most ``genome_limit`` bytes."""
    n = config.cells
    out = {f"state.{name}": ArraySpec.exact(a.dtype, *a.shape)
           for name, a in empty_state(n, config.world_width)._asdict().items()}
    out["scalars"] = ArraySpec.exact(np.int64, len(SCALARS))
    out["genome_bytes"] = ArraySpec.upto(np.uint8, n * genome_limit)
    out["genome_lengths"] = ArraySpec.exact(np.int64, n)
    out.update({f"brain.{k}": spec for k, spec in brain.items()})
    return out


def check(config: HexConfig, arrays: Mapping[str, np.ndarray],
          brain: Mapping[str, ArraySpec], genome_limit: int, source: str
          ) -> dict[str, np.ndarray]:
    """The snapshot's arrays, cast to their dtypes, once every rule holds (ConfigError
    naming the first that does not)."""
    specs = layout(config, brain, genome_limit)
    ck = ArrayChecks(arrays, source)
    a = ck.read(specs)
    n, width = config.cells, config.world_width

    turn, next_id = a["scalars"].tolist()
    ck.scalar("scalars.turn", turn, 0, config.turns, "turns of this config")
    ck.scalar("scalars.next_id", next_id, 0, most_ids(config), "next ids")
    totals = a["state.totals"]
    for k, name in enumerate(TOTALS):
        ck.scalar(f"state.totals ({name})", int(totals[k]), 0, None, "counters")

    # ---- organisms: the index-like fields hold in every slot, the rest in living slots ----
    alive = a["state.alive"]
    ck.within("state.alive", alive, 0, 1, "living flags", SLOT)
    live = alive == 1
    oid = a["state.oid"]
    ck.within("state.oid", oid, -1, next_id - 1, "ids (-1: never used)", SLOT)
    ck.within("state.oid", oid, 0, None, "ids of the living", SLOT, rows=live)
    living_ids = oid[live]
    ck.require(np.unique(living_ids).size == living_ids.size,
               "state.oid: two living organisms share an id")
    for axis in ("q", "r"):
        ck.within(f"state.{axis}", a[f"state.{axis}"], 0, width - 1, "positions", SLOT)
    ck.within("state.facing", a["state.facing"], 0, len(FACING_NAMES) - 1, "facings", SLOT)
    born = a["state.born"]
    ck.within("state.born", born, 0, turn, "birth turns", SLOT)
    ck.within("state.hunger", a["state.hunger"], 0, config.turns_to_starve - 1,
              "hunger counts (below turns_to_starve)", SLOT, rows=live)
    for name in ("hunger", "meals"):
        ck.each(f"state.{name}", a[f"state.{name}"], live & (a[f"state.{name}"] > turn - born),
                "it counts turns since the organism's birth at most", SLOT)
    ck.within("state.meals", a["state.meals"], 0, None, "meal counts", SLOT, rows=live)
    parent, generation = a["state.parent"], a["state.generation"]
    ck.each("state.parent", parent, live & ((parent < -1) | (parent >= oid)),
            "a parent is -1 (none) or an id older than its child", SLOT)
    ck.within("state.generation", generation, 0, None, "generations", SLOT, rows=live)
    ck.each("state.generation", generation, live & ((parent == -1) != (generation == 0)),
            "generation 0 is exactly the organisms without a parent", SLOT)

    # ---- the grid: one organism per cell, where it stands ----
    occupancy = a["state.occupancy"]
    ck.within("state.occupancy", occupancy, -1, n - 1, "organism slots (-1: nobody)",
              cell_at(width))
    ck.occupancy("state.occupancy", occupancy, live, (a["state.r"] * width + a["state.q"],),
                 "organism", cell_at(width))

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
