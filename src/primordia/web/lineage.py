"""Lineage of a live world: which founder each living organism descends from, so clients
can colour by lineage when they joined after the ancestors died, and the recent ancestry of
the living, so a focus reply can name ancestors no client saw."""

from __future__ import annotations

from typing import Any, Iterable


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


ANCESTRY_DEPTH = 32
"""Generations back a focus reply shows, and that the ancestry table keeps."""


class Ancestry:
    """Who descends from whom in a live session, with birth and death turns, so a focus reply
    can name ancestors that died before any client looked. Only the living and their
    ancestors up to ``depth`` generations back are kept: ``prune`` drops the rest, and runs by
    itself once the table outgrows ``slack`` times the living (plus a floor) and twice what
    the last prune kept, so memory follows the population (at most about ``2 * (depth + 1)``
    entries per living organism), not the session's length, and pruning never runs every
    turn."""

    def __init__(self, depth: int = ANCESTRY_DEPTH, slack: int = 4, floor: int = 1024) -> None:
        self.depth, self.slack, self.floor = depth, slack, floor
        self._parent: dict[int, int] = {}
        self._born: dict[int, int] = {}
        self._died: dict[int, int] = {}
        self._living: set[int] = set()
        self._kept = 0

    def born(self, turn: int, ids: Iterable[int], parents: Iterable[int]) -> None:
        """Births at ``turn`` (a parent < 0 marks a founder)."""
        for oid, parent in zip(ids, parents):
            self._parent[oid], self._born[oid] = parent, turn
            self._living.add(oid)

    def died(self, turn: int, ids: Iterable[int]) -> None:
        for oid in ids:
            if oid in self._living:
                self._living.discard(oid)
                self._died[oid] = turn
        if len(self._parent) > max(self.slack * len(self._living) + self.floor, 2 * self._kept):
            self.prune()

    def prune(self) -> None:
        """Keep the living and their ancestors within ``depth`` generations (level by level,
        so an ancestor near any living organism stays); forget the rest."""
        keep = set(self._living)
        level = keep
        for _ in range(self.depth):
            level = {p for p in (self._parent.get(i, -1) for i in level)
                     if p >= 0 and p in self._parent and p not in keep}
            if not level:
                break
            keep |= level
        for table in (self._parent, self._born, self._died):
            for oid in [i for i in table if i not in keep]:
                del table[oid]
        self._kept = len(self._parent)

    def chain(self, oid: int) -> tuple[list[dict[str, Any]], bool]:
        """``oid``'s ancestors, parent first, at most ``depth``: {id, born, died, alive}
        (``died`` is None for the living); and whether older ones exist that the table no
        longer holds (beyond the depth, or from before the session kept them)."""
        out: list[dict[str, Any]] = []
        parent = self._parent.get(oid, -1)
        while parent >= 0 and len(out) < self.depth and parent in self._parent:
            out.append({"id": parent, "born": self._born[parent],
                        "died": self._died.get(parent), "alive": parent in self._living})
            parent = self._parent[parent]
        return out, parent >= 0

    def __len__(self) -> int:
        return len(self._parent)
