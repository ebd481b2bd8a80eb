"""Novelty search: a behaviour's novelty is its mean distance to its k nearest neighbours
among the population and an archive of past behaviours; behaviours more novel than a
threshold enter the archive, and the threshold adapts so that entries stay steady."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class NoveltyArchive:
    """Behaviour descriptors are float vectors of one length; distance is Euclidean."""

    k: int = 15
    threshold: float = 1.0
    raise_above: int = 4          # more entries than this in one generation: threshold x 1.2
    lower_after: int = 5          # this many generations without entries: threshold x 0.95
    max_size: int = 10_000        # the oldest entries leave beyond this
    archive: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    idle: int = 0

    def score(self, behaviours: np.ndarray) -> np.ndarray:
        """Novelty of each row of ``behaviours`` (the population itself counts, minus self);
        then the most novel enter the archive and the threshold adapts."""
        b = np.asarray(behaviours, dtype=np.float64)
        pool = b if self.archive.size == 0 else np.vstack([b, self.archive])
        d = np.sqrt(((b[:, None, :] - pool[None, :, :]) ** 2).sum(axis=2))
        d[np.arange(b.shape[0]), np.arange(b.shape[0])] = np.inf       # not oneself
        k = max(1, min(self.k, pool.shape[0] - 1))
        near = np.sort(d, axis=1)[:, :k]
        novelty = np.where(np.isfinite(near), near, 0.0).mean(axis=1)
        enter = np.flatnonzero(novelty > self.threshold)
        if enter.size:
            added = b[enter]
            self.archive = added if self.archive.size == 0 else np.vstack([self.archive, added])
            self.archive = self.archive[-self.max_size:]
            self.idle = 0
            if enter.size > self.raise_above:
                self.threshold *= 1.2
        else:
            self.idle += 1
            if self.idle >= self.lower_after:
                self.threshold *= 0.95
                self.idle = 0
        return novelty


def blend(fitness: np.ndarray, novelty: np.ndarray, alpha: float) -> np.ndarray:
    """The Mycos design's combined objective: alpha x fitness + (1 - alpha) x novelty scaled to
    [0, 1] over the population."""
    span = novelty.max() - novelty.min() if novelty.size else 0.0
    scaled = (novelty - novelty.min()) / span if span > 0 else np.zeros_like(novelty)
    return alpha * fitness + (1 - alpha) * scaled
