"""A session: one world with its brain, created from {world, config, seed, brain}, that steps,
shows itself and resets. Plain synchronous code: the manager runs it off the event loop."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel

from primordia.core.config import merged
from primordia.http.errors import ApiError

from .adapters import ADAPTERS, WorldAdapter
from .protocol import MAX_COUNT, message

MAX_STEP_WORK = 262_144
"""Organism-turns one step request (REST or stream) may ask for: a step's deltas are held
until it ends, at about 35 bytes of JSON (and a few hundred of Python objects) per organism
per turn, so this keeps one reply near 10 MB however large the world. A 200-organism world
steps the full 1,000 turns at once; the largest hex world allowed, 4."""


class Session:
    """One live world. Not thread-safe: its manager holds a lock around every call."""

    def __init__(self, world: str = "hex", config: dict[str, Any] | None = None,
                 seed: int | None = None, brain: str | None = None) -> None:
        adapter = ADAPTERS.get(world)
        if adapter is None:
            raise ApiError(422, "unknown_world", f"world: unknown world {world!r} (known: "
                           f"{', '.join(sorted(ADAPTERS))})", "world")
        brains = adapter.brains()
        values = (config.model_dump() if isinstance(config, BaseModel)
                  else dict(config or {}))
        table = values.get("brain")
        named = table.get("kind") if isinstance(table, dict) else None
        if brain and named and named != brain:
            raise ApiError(422, "invalid_config", f"config.brain.kind: {named!r}, but the "
                           f"request's brain is {brain!r}", "config.brain.kind")
        brain = brain or named or brains[0]
        if brain not in brains:
            raise ApiError(422, "unknown_brain", f"brain: {world} runs {', '.join(brains)}"
                           f", not {brain!r}", "brain")
        config = merged(values, {"brain": {"kind": brain}})
        self.id = uuid.uuid4().hex
        self.created_at_unix_ms = int(time.time() * 1000)
        self.world_name, self.brain_name = world, brain
        self.config = adapter.make_config(config or {}, seed)
        self.adapter: WorldAdapter = adapter(self.config, brain)
        self._snapshot: dict[str, Any] = {}
        self._snapshot_key: tuple[int, int] | None = None
        self._snapshot_message: tuple[tuple[int, int], str] | None = None
        self._resets = 0

    @property
    def turn(self) -> int:
        return self.adapter.turn

    def metadata(self) -> dict[str, Any]:
        return {"id": self.id, "created_at_unix_ms": self.created_at_unix_ms,
                "world": self.world_name, "brain": self.brain_name,
                "config": self.config.model_dump(), "max_step": self.max_step}

    @property
    def max_step(self) -> int:
        """Turns one step may take now: ``MAX_STEP_WORK`` over the population (the living,
        or the configured size if larger), between 1 and the protocol's ``MAX_COUNT``."""
        size = max(self.adapter.population, self.adapter.planned_population)
        return max(1, min(MAX_COUNT, MAX_STEP_WORK // max(1, size)))

    def step(self, count: int) -> list[dict[str, Any]]:
        """``count`` ticks; their deltas in order. More than ``max_step`` is refused (409: the
        limit follows the session's population), not cut short: a client learns the limit
        from the session's metadata."""
        limit = self.max_step
        if count > limit:
            raise ApiError(409, "step_too_large", f"count: at most {limit} turns per step in "
                           f"this world (its population times the turns may not exceed "
                           f"{MAX_STEP_WORK:,})", "count")
        return [self.adapter.tick() for _ in range(count)]

    def snapshot(self) -> dict[str, Any]:
        """The world as it is (kept until the next turn or reset: a dashboard polling a
        paused session, or many clients of one, cost one snapshot a turn). Read-only."""
        key = (self._resets, self.turn)
        if self._snapshot_key != key:
            self._snapshot, self._snapshot_key = self.adapter.snapshot(), key
        return self._snapshot

    def snapshot_message(self) -> str:
        """The snapshot as a serialised StateSnapshot stream message, made once a turn: every
        stream client that needs it then holds the same string, not a copy each (a large
        world's snapshot is about 12 MB)."""
        key = (self._resets, self.turn)
        if self._snapshot_message is None or self._snapshot_message[0] != key:
            self._snapshot_message = (key, message("StateSnapshot", self.snapshot()))
        return self._snapshot_message[1]

    def metrics(self) -> dict[str, Any]:
        return self.adapter.metrics()

    def reset(self, seed: int | None = None) -> None:
        """The world from turn 0 again, with the same config (and ``seed`` if given)."""
        if seed is not None:
            self.config = type(self.adapter).make_config(self.config.model_dump(), seed)
        self.adapter = type(self.adapter)(self.config, self.brain_name)
        self._resets += 1

    def focus(self, organism_id: int) -> dict[str, Any] | None:
        """FocusBrain: a living organism's stats, brain and ancestor chain (from the server's
        ancestry table, so it names ancestors that died before any client looked), or None
        if it is not alive."""
        a = self.adapter
        slot = a.slot_of(organism_id)
        if slot is None:
            return None
        ancestors, older = a.ancestry.chain(organism_id)
        return {"organism_id": organism_id, "alive": True, "turn": a.turn,
                "world": self.world_name, "organism": a.organism(slot),
                "brain": a.world.substrate.view(a.brain, slot, a.genome(slot), a.io),
                "ancestors": ancestors, "older_ancestors": older}

    def state_hash(self) -> str:
        return self.adapter.state_hash()


def describe_worlds() -> dict[str, Any]:
    """GET /v1/worlds: every world with its brains and knobs; every brain."""
    from primordia.brains.registry import SUBSTRATES

    worlds = [a.describe() for a in ADAPTERS.values()]
    served = {b for w in worlds for b in w["brains"]}
    return {"worlds": worlds,
            "brains": [{"name": n, "worlds": [w["name"] for w in worlds if n in w["brains"]]}
                       for n in SUBSTRATES.names() if n in served]}
