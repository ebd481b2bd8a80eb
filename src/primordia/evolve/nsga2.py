"""NSGA-II (Deb et al. 2002): non-dominated sorting, crowding distance and the survivor
selection built on them. Objectives are maximised; ``F[i, m]`` is objective m of point i.
Two objectives take an O(N log N) path; more take the general O(M N^2) sort."""

from __future__ import annotations

import bisect

import numpy as np


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a >= b) and np.any(a > b))


def _fronts_general(F: np.ndarray) -> list[np.ndarray]:
    n = F.shape[0]
    better = (F[:, None, :] >= F[None, :, :]).all(axis=2) & \
        (F[:, None, :] > F[None, :, :]).any(axis=2)          # better[i, j]: i dominates j
    count = better.sum(axis=0)                               # how many dominate j
    fronts, current = [], np.flatnonzero(count == 0)
    while current.size:
        fronts.append(current)
        count = count - better[current].sum(axis=0)
        count[current] = -1
        current = np.flatnonzero(count == 0)
    assert sum(f.size for f in fronts) == n
    return fronts


def _fronts_two(F: np.ndarray) -> list[np.ndarray]:
    """Sort by the first objective (descending, ties by the second descending); a point then
    belongs to the first front whose last member does not dominate it. Fronts' last second
    objectives are increasing, so a binary search finds it."""
    order = np.lexsort((-F[:, 1], -F[:, 0]))
    fronts: list[list[int]] = []
    lasts: list[tuple[float, float]] = []     # (f1, f2) of each front's last member
    keys: list[float] = []                    # -f2 of each front's last member (ascending)
    for i in order.tolist():
        f1, f2 = F[i, 0], F[i, 1]
        # first front whose last member (f1' >= f1) has f2' < f2, or equal point (no dominance)
        k = bisect.bisect_left(keys, -f2)     # fronts with -f2' < -f2, i.e. f2' > f2: dominate
        while k < len(fronts) and lasts[k][1] == f2 and lasts[k][0] > f1:
            k += 1                            # equal f2, larger f1: dominates too
        if k == len(fronts):
            fronts.append([])
            lasts.append((f1, f2))
            keys.append(-f2)
        fronts[k].append(i)
        lasts[k] = (f1, f2)
        keys[k] = -f2
    return [np.array(sorted(f), dtype=np.int64) for f in fronts]


def non_dominated_fronts(F: np.ndarray) -> list[np.ndarray]:
    """Fronts of point indices, best first; each sorted by index."""
    F = np.asarray(F, dtype=np.float64)
    if F.shape[0] == 0:
        return []
    if F.shape[1] == 2:
        return _fronts_two(F)
    return [np.sort(f) for f in _fronts_general(F)]


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """Per point of one front: the normalised side lengths of the cuboid its neighbours span
    on each objective (boundary points: infinity)."""
    n, m = F.shape
    out = np.zeros(n)
    if n <= 2:
        out[:] = np.inf
        return out
    for j in range(m):
        order = np.argsort(F[:, j], kind="stable")
        span = F[order[-1], j] - F[order[0], j]
        out[order[0]] = out[order[-1]] = np.inf
        if span > 0:
            out[order[1:-1]] += (F[order[2:], j] - F[order[:-2], j]) / span
    return out


def select(F: np.ndarray, count: int, duplicates_last: bool = False) -> np.ndarray:
    """``count`` survivors: whole fronts best first, the last one cut by crowding distance
    (largest first; ties by index). With ``duplicates_last``, a point whose objective vector
    repeats an earlier point's competes only for the places the distinct points leave: on
    coarse objectives (a score in quarters, a gene count) copies of a few Pareto points
    would otherwise fill the population."""
    F = np.asarray(F, dtype=np.float64)
    if not duplicates_last:
        return _select(F, count)
    _, first = np.unique(F, axis=0, return_index=True)
    distinct = np.sort(first)
    rest = np.setdiff1d(np.arange(F.shape[0]), distinct)
    chosen = distinct[_select(F[distinct], count)]
    if chosen.size < count:
        chosen = np.concatenate([chosen, rest[_select(F[rest], count - chosen.size)]])
    return chosen


def _select(F: np.ndarray, count: int) -> np.ndarray:
    chosen: list[int] = []
    for front in non_dominated_fronts(F):
        if len(chosen) + front.size <= count:
            chosen += front.tolist()
            continue
        crowd = crowding_distance(F[front])
        order = np.lexsort((front, -crowd))
        chosen += front[order[:count - len(chosen)]].tolist()
        break
    return np.array(chosen, dtype=np.int64)


def rank_and_crowding(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's front number and crowding distance within its front (for tournaments:
    lower rank wins, then larger crowding)."""
    F = np.asarray(F, dtype=np.float64)
    rank = np.zeros(F.shape[0], dtype=np.int64)
    crowd = np.zeros(F.shape[0])
    for r, front in enumerate(non_dominated_fronts(F)):
        rank[front] = r
        crowd[front] = crowding_distance(F[front])
    return rank, crowd


def crowded_tournament(rank: np.ndarray, crowd: np.ndarray, draws) -> int:
    """NSGA-II's binary tournament: of two points drawn with replacement, the lower rank wins,
    then the larger crowding distance; a tie goes to the first drawn. ``draws`` is a
    ``primordia.core.rng.DrawStream``."""
    a = draws.integer(0, rank.shape[0])
    b = draws.integer(0, rank.shape[0])
    if rank[b] < rank[a] or (rank[b] == rank[a] and crowd[b] > crowd[a]):
        return int(b)
    return int(a)
