"""Selection machinery: tournaments and elites, speciation near its target, novelty search,
and NSGA-II's sorting (the two-objective fast path against the general one) and selection."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.evolve import nsga2
from primordia.evolve.novelty import NoveltyArchive, blend
from primordia.evolve.selection import elites, ranked, tournament
from primordia.evolve.species import Speciation

STREAM = stream_id("test.evolve")


def test_tournaments_favour_the_fit_and_follow_the_draws():
    fit = np.arange(10, dtype=np.float64)
    d1, d2 = DrawStream(Rng(1), STREAM, 0, 0), DrawStream(Rng(1), STREAM, 0, 0)
    wins = [tournament(fit, np.arange(10), 5, d1) for _ in range(300)]
    assert wins == [tournament(fit, np.arange(10), 5, d2) for _ in range(300)]
    assert np.mean(wins) > 7                       # best of five of 0..9 is about 7.8
    assert tournament(fit, np.array([3]), 5, d1) == 3


def test_elites_are_the_best_and_ties_keep_index_order():
    fit = np.array([1.0, 5.0, 5.0, 0.0, 3.0])
    assert elites(fit, np.arange(5), 3).tolist() == [1, 2, 4]
    assert ranked(fit, np.array([4, 2, 1])).tolist() == [2, 1, 4]


def test_speciation_moves_its_threshold_toward_the_target():
    points = list(np.linspace(0, 100, 200))
    sp = Speciation(target=10, threshold=0.5)
    counts = []
    for _ in range(120):
        species = sp.assign(points, lambda a, b: abs(a - b))
        counts.append(species.max() + 1)
    assert 6 <= counts[-1] <= 14 and counts[0] > 50
    assert species.min() == 0 and set(species.tolist()) == set(range(counts[-1]))


def test_novelty_is_distance_to_the_nearest_and_fills_the_archive():
    arch = NoveltyArchive(k=1, threshold=0.5)
    b = np.array([[0.0], [0.1], [5.0]])
    nov = arch.score(b)
    assert nov.tolist() == [0.1, 0.1, 4.9]
    assert arch.archive.tolist() == [[5.0]]
    assert arch.score(np.array([[5.0], [9.0]])).tolist() == [0.0, 4.0]
    assert blend(np.array([1.0, 0.0]), np.array([0.0, 2.0]), 0.5).tolist() == [0.5, 0.5]


objectives = arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(2, 3)),
                    elements=st.integers(-3, 3).map(float))


@settings(max_examples=300, deadline=None)
@given(objectives)
def test_two_objective_sort_equals_the_general_sort_and_fronts_are_right(F):
    fronts = nsga2.non_dominated_fronts(F)
    general = [np.sort(f) for f in nsga2._fronts_general(F)]
    assert [f.tolist() for f in fronts] == [f.tolist() for f in general]
    for r, front in enumerate(fronts):             # no one in a front dominates another
        for i in front:
            assert not any(nsga2.dominates(F[j], F[i]) for j in front)
            if r:                                  # and someone in the front before does
                assert any(nsga2.dominates(F[j], F[i]) for j in fronts[r - 1])


@settings(max_examples=100, deadline=None)
@given(objectives, st.integers(1, 60))
def test_selection_takes_whole_fronts_then_the_least_crowded(F, count):
    count = min(count, F.shape[0])
    chosen = nsga2.select(F, count)
    assert len(chosen) == count and len(set(chosen.tolist())) == count
    rank, _ = nsga2.rank_and_crowding(F)
    worst = rank[chosen].max()
    assert all(rank[i] >= worst for i in set(range(F.shape[0])) - set(chosen.tolist()))


def test_crowding_distance_favours_the_ends_and_the_isolated():
    F = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    cd = nsga2.crowding_distance(F)
    assert np.isinf(cd[0]) and np.isinf(cd[3])
    assert cd[1] == cd[2] == (3 / 4 + 3 / 4)


def test_a_tournament_tolerance_turns_small_differences_into_ties():
    fit = np.array([1.0, 1.0005, 2.0])
    d = DrawStream(Rng(3), STREAM, 0, 0)
    wins = {tournament(fit, np.array([0, 1]), 4, d, tolerance=1e-3) for _ in range(100)}
    assert wins == {0, 1}                          # the first drawn keeps a near tie
    assert {tournament(fit, np.array([0, 2]), 8, d, tolerance=1e-3) for _ in range(50)} == {2}


@settings(max_examples=100, deadline=None)
@given(objectives, st.integers(1, 60))
def test_duplicates_last_prefers_distinct_points_and_fills_with_copies(F, count):
    F = np.vstack([F, F[:3]])                      # some exact copies at the end
    count = min(count, F.shape[0])
    chosen = nsga2.select(F, count, duplicates_last=True)
    assert len(chosen) == count and len(set(chosen.tolist())) == count
    distinct = np.unique(F, axis=0).shape[0]
    rows = {tuple(F[i]) for i in chosen.tolist()}
    assert len(rows) == min(count, distinct)       # copies only once every point is in


def test_duplicates_last_keeps_a_population_from_collapsing_onto_two_points():
    """A coarse front: 10 copies each of two Pareto points and 10 distinct dominated points.
    Plain selection of 10 takes copies of the front only; duplicates_last keeps 8 others."""
    F = np.array([[0.5, 0.0]] * 10 + [[0.75, -3.0]] * 10 + [[0.25 + 0.01 * i, -5.0 - i]
                                                             for i in range(10)])
    plain = nsga2.select(F, 10)
    assert set(plain.tolist()) <= set(range(20))
    spread = nsga2.select(F, 10, duplicates_last=True)
    assert len({tuple(F[i]) for i in spread.tolist()}) == 10


def test_crowded_tournament_prefers_lower_rank_then_more_room():
    rank = np.array([0, 1, 0])
    crowd = np.array([0.5, 9.0, np.inf])
    d = DrawStream(Rng(4), STREAM, 0, 0)
    wins = [nsga2.crowded_tournament(rank, crowd, d) for _ in range(300)]
    assert wins.count(1) < wins.count(0) < wins.count(2)
    assert set(wins) == {0, 1, 2}                  # point 1 wins only against itself
