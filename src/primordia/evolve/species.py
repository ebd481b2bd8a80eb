"""Speciation (NEAT-style): a genome joins the first species whose representative is within
the compatibility threshold, or founds a new one; the threshold adapts each generation so
that the number of species stays near a target. The distance is the substrate's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Speciation:
    """Species representatives and the adaptive compatibility threshold."""

    target: int = 10
    threshold: float = 1.0
    step: float = 0.1                      # the threshold moves by this factor per generation
    min_threshold: float = 1e-3
    representatives: list[Any] = field(default_factory=list)

    def assign(self, genomes: list[Any], distance: Callable[[Any, Any], float]) -> np.ndarray:
        """Species index of each genome (0..S-1, in order of first appearance: old species
        first). Representatives become each species' first member; then the threshold
        adapts."""
        reps = list(self.representatives)
        species = np.empty(len(genomes), dtype=np.int64)
        for i, g in enumerate(genomes):
            for s, rep in enumerate(reps):
                if distance(g, rep) <= self.threshold:
                    break
            else:
                s = len(reps)
                reps.append(g)
            species[i] = s
        return self._settle(genomes, species)

    def assign_rows(self, genomes: list[Any], rows: np.ndarray, rep_rows: np.ndarray,
                    metric: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """``assign`` with the distance computed from one genome to many representatives at
        a time: ``rows[i]`` describes ``genomes[i]``, ``rep_rows[s]`` the current
        representative s, and ``metric(row, block)`` gives the distance from a row to each
        row of a block. Same result as ``assign`` with the same distance."""
        table = np.empty((len(rep_rows) + len(genomes), rows.shape[1]), dtype=rows.dtype)
        table[:len(rep_rows)] = rep_rows
        known = len(rep_rows)
        species = np.empty(len(genomes), dtype=np.int64)
        for i in range(len(genomes)):
            near = np.flatnonzero(metric(rows[i], table[:known]) <= self.threshold) \
                if known else np.zeros(0, dtype=np.int64)
            if near.size:
                species[i] = near[0]
            else:
                species[i] = known
                table[known] = rows[i]
                known += 1
        return self._settle(genomes, species)

    def _settle(self, genomes: list[Any], species: np.ndarray) -> np.ndarray:
        """Drop species left without members, renumber, take each one's first member as its
        representative, and move the threshold toward the target count."""
        alive, first = np.unique(species, return_index=True)   # species with members, in order
        renumber = np.zeros(int(species.max()) + 1 if species.size else 0, dtype=np.int64)
        renumber[alive] = np.arange(alive.size)
        self.representatives = [genomes[i] for i in first.tolist()]
        if alive.size > self.target:
            self.threshold *= 1 + self.step
        elif alive.size < self.target:
            self.threshold = max(self.min_threshold, self.threshold / (1 + self.step))
        return renumber[species]
