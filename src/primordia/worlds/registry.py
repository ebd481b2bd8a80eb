"""The worlds Primordia knows, by name: one ``WorldKind`` each, which says where the rest of
the system finds what it needs of that world. Commands, the server, the replay reader and the
island engine look a world up here; none of them branches on a world's name.

A world is its package under ``worlds/`` plus parts that live in the layers that use it (its
run in ``runs/``, its server adapter in ``web/``). A ``WorldKind`` names those parts either as
objects or as ``"module:attribute"`` references that are imported on first use, so this
module imports nothing above ``worlds`` and a world's parts load only when a command needs
them. Adding a world is its package plus one ``WORLDS.register`` call (here for the built-in
worlds, anywhere for a world of your own; docs/architecture.md walks through it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from primordia.core.errors import ConfigError


def resolve(ref: Any) -> Any:
    """``ref`` itself, or the attribute a ``"package.module:attribute"`` string names."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    value: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class WorldKind:
    """What the system needs of one world, by reference (see the module docstring).

    - ``run``: its ``runs.world_run.WorldRun`` subclass -- config model, time unit, brains,
      building, stepping, recording, checkpoints, resume, and the island hooks;
    - ``recording``: its ``runs.recording_schema.RecordingFormat`` (how each line of its
      ``record.jsonl.gz`` is checked);
    - ``adapter``: its ``web.adapters.base.WorldAdapter`` subclass (a live session);
    - ``replay``: a function ``(header, lines) -> web.replay.Recording`` reading its
      recording for the dashboard's replay.
    """

    name: str
    title: str
    run: Any
    recording: Any
    adapter: Any
    replay: Any
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def _get(self, part: str) -> Any:
        if part not in self._cache:
            self._cache[part] = resolve(getattr(self, part))
        return self._cache[part]

    @property
    def run_class(self) -> Any:
        return self._get("run")

    @property
    def recording_format(self) -> Any:
        return self._get("recording")

    @property
    def adapter_class(self) -> Any:
        return self._get("adapter")

    @property
    def replay_reader(self) -> Any:
        return self._get("replay")

    @property
    def config_class(self) -> Any:
        return self.run_class.CONFIG

    @property
    def unit(self) -> str:
        """What the world counts its time in: ``tick`` or ``turn`` (the config's length key
        is this plus ``s``)."""
        return self.run_class.UNIT

    @property
    def length_key(self) -> str:
        return self.unit + "s"

    @property
    def brains(self) -> tuple[str, ...]:
        """The brains it runs, the default first (every registered brain, unless
        ``run_class.brain_problem`` says why not)."""
        return self.run_class.brains()


class WorldRegistry:
    """Name -> ``WorldKind``, in registration order, with errors that list the names."""

    def __init__(self) -> None:
        self._kinds: dict[str, WorldKind] = {}

    def register(self, kind: WorldKind) -> WorldKind:
        if kind.name in self._kinds:
            raise ValueError(f"world {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        """Forget a world (a test's own world, after the test)."""
        del self._kinds[name]

    def get(self, name: Any) -> WorldKind:
        kind = self._kinds.get(name) if isinstance(name, str) else None
        if kind is None:
            raise ConfigError(f"unknown world {name!r} (known: {', '.join(self._kinds)})")
        return kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return list(self._kinds)

    def kinds(self) -> list[WorldKind]:
        return list(self._kinds.values())


WORLDS = WorldRegistry()

WORLDS.register(WorldKind(
    name="hex",
    title="the NeuroGenesis hex world: organisms that see, turn, move, eat and starve",
    run="primordia.runs.hex_run:HexRun",
    recording="primordia.runs.recording_schema:HEX_RECORDING",
    adapter="primordia.web.adapters.hex:HexAdapter",
    replay="primordia.web.replay:load_hex"))
WORLDS.register(WorldKind(
    name="sandbox",
    title="the NPC sandbox: brains that sense, act, trade and evolve",
    run="primordia.runs.sandbox_run:SandboxRun",
    recording="primordia.runs.recording_schema:SANDBOX_RECORDING",
    adapter="primordia.web.adapters.sandbox:SandboxAdapter",
    replay="primordia.web.replay:load_sandbox"))
WORLDS.register(WorldKind(
    name="ecology",
    title="the ecology world: a torus of regrowing resources, hazards and an energy economy",
    run="primordia.runs.ecology_run:EcologyRun",
    recording="primordia.runs.recording_schema:ECOLOGY_RECORDING",
    adapter="primordia.web.adapters.ecology:EcologyAdapter",
    replay="primordia.web.replay:load_ecology"))
