"""Every organism a run's world ever held -- parent, birth and death times -- for
phylogeny.csv and the checkpoint: the bookkeeping the hex and ecology runs share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from primordia.core.checks import ArrayChecks, ArraySpec

from .phylogeny import phylogeny_rows

LINEAGE = ("id", "parent", "origin", "destruction")


@dataclass
class Lineage:
    """Every organism that ever lived: its parent (-1: none), birth and death times."""

    parent: dict[int, int] = field(default_factory=dict)
    origin: dict[int, int] = field(default_factory=dict)
    destruction: dict[int, int] = field(default_factory=dict)

    def born(self, ids: Iterable[int], parents: Iterable[int], when: int) -> None:
        for oid, parent in zip(ids, parents):
            self.parent[oid], self.origin[oid] = parent, when

    def died(self, ids: Iterable[int], when: int) -> None:
        for oid in ids:
            self.destruction[oid] = when

    def arrays(self) -> dict[str, np.ndarray]:
        ids = sorted(self.origin)
        return {"lineage.id": np.array(ids, dtype=np.int64),
                "lineage.parent": np.array([self.parent[i] for i in ids], dtype=np.int64),
                "lineage.origin": np.array([self.origin[i] for i in ids], dtype=np.int64),
                "lineage.destruction": np.array([self.destruction.get(i, -1) for i in ids],
                                                dtype=np.int64)}

    @staticmethod
    def layout(most_ids: int) -> dict[str, ArraySpec]:
        """The lineage's arrays in a checkpoint, for a run that gives out at most
        ``most_ids`` ids."""
        return {f"lineage.{k}": ArraySpec.upto(np.int64, most_ids) for k in LINEAGE}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], most_ids: int, next_id: int,
                    now: int, oid: np.ndarray, alive: np.ndarray, born: np.ndarray,
                    parent_of: np.ndarray, unit: str = "turn",
                    source: str = "checkpoint") -> "Lineage":
        """The lineage a checkpoint holds, once it fits the world restored from the same
        checkpoint (its ``next_id``, time ``now`` and organisms by slot): ids given out in
        order, each parent -1 or an id older than its child, births and deaths up to now, and
        every living organism in it as the world has it (ConfigError naming ``source``)."""
        ck = ArrayChecks(arrays, source)
        lin = {k: ck.get(f"lineage.{k}", spec)
               for k, spec in zip(LINEAGE, cls.layout(most_ids).values())}
        ids, parent, origin, died = (lin[k] for k in LINEAGE)
        for k in LINEAGE[1:]:
            ck.require(lin[k].size == ids.size, f"lineage.{k} has {lin[k].size} entries; "
                                                f"lineage.id has {ids.size}")
        ck.within("lineage.id", ids, 0, next_id - 1, "ids given out")
        ck.each("lineage.id", ids, np.diff(ids, prepend=-1) <= 0, "lineage ids go up")
        ck.each("lineage.parent", parent,
                (parent != -1) & (~np.isin(parent, ids) | (parent >= ids)),
                "a parent is -1 (none) or an id in the lineage, older than its child")
        ck.within("lineage.origin", origin, 0, now, f"birth {unit}s")
        ck.each("lineage.destruction", died,
                (died != -1) & ((died < origin) | (died > now)),
                f"a death {unit} is -1 (alive) or from the birth to now")
        live = alive == 1
        ck.living_in_lineage(oid, live, born, ids, origin, died, "organism")
        at = np.searchsorted(ids, oid[live])
        ck.each("state.parent", parent_of[live], parent[at] != parent_of[live],
                "a living organism's parent is the one its lineage row names")
        out = cls()
        for i, p, o, d in zip(ids.tolist(), parent.tolist(), origin.tolist(), died.tolist()):
            out.parent[i], out.origin[i] = p, o
            if d >= 0:
                out.destruction[i] = d
        return out

    def rows(self) -> list[tuple]:
        ancestors = {i: ((p,) if p >= 0 else ()) for i, p in self.parent.items()}
        return phylogeny_rows(ancestors, self.origin, self.destruction)
