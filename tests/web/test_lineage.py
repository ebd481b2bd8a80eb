"""Lineage roots: founders are their own, offspring inherit their parent's, the dead go."""

from __future__ import annotations

from primordia.web.lineage import LineageRoots


def test_offspring_inherit_the_founders_root_through_generations():
    roots = LineageRoots()
    roots.born([1, 2], [-1, -1])
    roots.born([3], [1])
    roots.died([1])                       # the founder's death does not change its line
    roots.born([4, 5], [3, 2])
    assert [roots.root(i) for i in (2, 3, 4, 5)] == [2, 1, 1, 2]
    roots.died([2, 3, 4, 5])
    assert len(roots) == 0
