"""Lineage roots: founders are their own, offspring inherit their parent's, the dead go."""

from __future__ import annotations

from primordia.web.lineage import Ancestry, LineageRoots


def test_offspring_inherit_the_founders_root_through_generations():
    roots = LineageRoots()
    roots.born([1, 2], [-1, -1])
    roots.born([3], [1])
    roots.died([1])                       # the founder's death does not change its line
    roots.born([4, 5], [3, 2])
    assert [roots.root(i) for i in (2, 3, 4, 5)] == [2, 1, 1, 2]
    roots.died([2, 3, 4, 5])
    assert len(roots) == 0


def test_the_ancestry_chain_runs_parent_first_with_births_deaths_and_who_lives():
    a = Ancestry(depth=3)
    a.born(0, [1, 2], [-1, -1])
    a.born(5, [3], [1])
    a.died(7, [1])
    a.born(9, [4], [3])
    a.born(12, [5], [4])
    chain, older = a.chain(5)
    assert chain == [{"id": 4, "born": 9, "died": None, "alive": True},
                     {"id": 3, "born": 5, "died": None, "alive": True},
                     {"id": 1, "born": 0, "died": 7, "alive": False}]
    assert older is False
    a.born(13, [6], [5])
    assert [x["id"] for x in a.chain(6)[0]] == [5, 4, 3] and a.chain(6)[1] is True
    assert a.chain(2) == ([], False)


def test_prune_keeps_the_living_and_their_ancestors_within_the_depth():
    a = Ancestry(depth=2, floor=0)
    a.born(0, [1, 2], [-1, -1])
    a.born(1, [3], [1])
    a.born(2, [4], [3])
    a.born(3, [5], [4])
    a.died(4, [1, 2, 3, 4])             # 2 has no descendants; 1 is three generations up
    a.prune()
    assert a.chain(5) == ([{"id": 4, "born": 2, "died": 4, "alive": False},
                           {"id": 3, "born": 1, "died": 4, "alive": False}], True)
    assert len(a) == 3


def test_the_ancestry_table_stays_bounded_over_a_long_session():
    """200 organisms, 20 born and 20 dead a turn for 5,000 turns: 100,000 births in all, the
    table never holds more than a few times the living (here, deep chains are cut at 32)."""
    import random

    rng = random.Random(1)
    a = Ancestry()
    living = list(range(200))
    a.born(0, living, [-1] * 200)
    next_id, largest = 200, 0
    for turn in range(1, 5001):
        parents = [rng.choice(living) for _ in range(20)]
        born = list(range(next_id, next_id + 20))
        next_id += 20
        a.born(turn, born, parents)
        dead = rng.sample(living, 20)
        a.died(turn, dead)
        living = [i for i in living if i not in set(dead)] + born
        largest = max(largest, len(a))
    assert largest <= 2 * 33 * 200
    assert largest < 8000                    # not the 100,200 organisms of the session
    newest = living[-1]
    chain, _ = a.chain(newest)
    assert len(chain) == 32 or chain[-1]["born"] == 0
