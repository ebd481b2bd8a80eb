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
        members: list[list[int]] = [[] for _ in reps]
        for i, g in enumerate(genomes):
            for s, rep in enumerate(reps):
                if distance(g, rep) <= self.threshold:
                    break
            else:
                s = len(reps)
                reps.append(g)
                members.append([])
            species[i] = s
            members[s].append(i)
        alive = [s for s, m in enumerate(members) if m]       # species that kept members
        renumber = {s: k for k, s in enumerate(alive)}
        species = np.array([renumber[s] for s in species.tolist()], dtype=np.int64)
        self.representatives = [genomes[members[s][0]] for s in alive]
        if len(alive) > self.target:
            self.threshold *= 1 + self.step
        elif len(alive) < self.target:
            self.threshold = max(self.min_threshold, self.threshold / (1 + self.step))
        return species
