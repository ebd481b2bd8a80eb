"""Phylogeny in the ALife data standard: one row per organism that ever lived."""

from __future__ import annotations

from typing import Mapping


def phylogeny_rows(ancestors: Mapping[int, tuple[int, ...]], origin: Mapping[int, int],
                   destruction: Mapping[int, int]) -> list[tuple]:
    """(id, ancestor_list, origin_time, destruction_time) rows, by id. The ancestor list is
    written as the standard asks, e.g. ``[3,7]``, and ``[none]`` for an organism without
    parents; destruction_time is empty while it lives."""
    rows = []
    for oid in sorted(origin):
        parents = ancestors.get(oid, ())
        anc = "[" + ",".join(str(p) for p in parents) + "]" if parents else "[none]"
        end = destruction.get(oid)
        rows.append((oid, anc, origin[oid], "" if end is None else end))
    return rows


PHYLOGENY_HEADER = ("id", "ancestor_list", "origin_time", "destruction_time")
