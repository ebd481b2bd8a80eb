"""Tournament selection and elitism over fitness arrays (higher is better; ties go to the
earlier index, so that results never depend on anything but the draws)."""

from __future__ import annotations

import numpy as np

from primordia.core.rng import DrawStream


def tournament(fitness: np.ndarray, candidates: np.ndarray, k: int, draws: DrawStream,
               tolerance: float = 0.0) -> int:
    """The fittest of ``k`` candidates drawn with replacement. A later candidate wins only
    if it is better by more than ``tolerance``: differences that small count as ties, which
    go to the first drawn (so that tiny parsimony penalties do not decide every tournament
    between equally good genomes)."""
    best = int(candidates[draws.integer(0, len(candidates))])
    for _ in range(k - 1):
        other = int(candidates[draws.integer(0, len(candidates))])
        # without a tolerance, compare as they are (integer fitness never goes via a float)
        if (fitness[other] > fitness[best] + tolerance if tolerance
                else fitness[other] > fitness[best]):
            best = other
    return best


def ranked(fitness: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``members`` best first (a stable sort: equal fitness keeps index order)."""
    members = np.asarray(members, dtype=np.int64)
    return members[np.argsort(-fitness[members], kind="stable")]


def elites(fitness: np.ndarray, members: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` fittest of ``members``."""
    return ranked(fitness, members)[:count]
