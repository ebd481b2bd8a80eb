"""Which founder each living organism descends from, so clients can colour by lineage even
when they joined after the ancestors died."""

from __future__ import annotations

from typing import Iterable


class LineageRoots:
    """Living organism id -> founder id. A founder (no parent) is its own root; an offspring
    inherits its first parent's root. Dead organisms are forgotten, so memory follows the
    population, not the run's length."""

    def __init__(self) -> None:
        self._root: dict[int, int] = {}

    def born(self, ids: Iterable[int], parents: Iterable[int]) -> None:
        """Births of one tick, in order (a parent < 0 marks a founder)."""
        root = self._root
        for oid, parent in zip(ids, parents):
            root[oid] = oid if parent < 0 else root.get(parent, parent)

    def died(self, ids: Iterable[int]) -> None:
        root = self._root
        for oid in ids:
            root.pop(oid, None)

    def root(self, oid: int) -> int:
        return self._root.get(oid, oid)

    def __len__(self) -> int:
        return len(self._root)
