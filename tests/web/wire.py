"""What a client does with the wire: apply deltas to a snapshot, as the dashboard will."""

from __future__ import annotations

from typing import Any

from primordia.worlds.registry import WORLDS

SMALL = {kind.name: dict(kind.run_class.SMALL) for kind in WORLDS.kinds()}
"""Worlds small enough for fast tests, busy enough that organisms move, die and are born
within a few turns (each world's run says how: ``WorldRun.SMALL``)."""
WORLD_BRAINS = [(kind.name, brain) for kind in WORLDS.kinds() for brain in kind.brains]


def organisms(snapshot: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """Living organisms by id -> position, in the grid's own coordinates."""
    a, b = snapshot["grid"]["coords"]
    return {o["id"]: (o[a], o[b]) for o in snapshot["organisms"]}


def tiles(snapshot: dict[str, Any]) -> list[int] | None:
    terrain = snapshot["terrain"]
    return None if terrain is None else [ord(ch) - 48 for ch in terrain["tiles"]]


def apply(snapshot: dict[str, Any], deltas: list[dict[str, Any]]
          ) -> tuple[dict[int, tuple[int, int]], list[int] | None, int]:
    """The organisms, tiles and turn after ``deltas``: moves (checked against where the mover
    was), then removals, then births, then changed tiles."""
    live, grid, turn = organisms(snapshot), tiles(snapshot), snapshot["turn"]
    a, b = snapshot["grid"]["coords"]
    width = snapshot["grid"]["width"]
    for d in deltas:
        assert d["turn"] == turn + 1
        turn = d["turn"]
        for m in d["moves"]:
            assert live[m["id"]] == tuple(m["from"]), m
            live[m["id"]] = tuple(m["to"])
        for oid in d["removed"]:
            del live[oid]
        for o in d["spawned"]:
            assert o["id"] not in live
            live[o["id"]] = (o[a], o[b])
        for x, y, t in d["tiles"]:
            grid[y * width + x] = t
    return live, grid, turn
