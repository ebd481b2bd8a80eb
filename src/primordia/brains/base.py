"""The interfaces between worlds and brains (docs/architecture.md, "The interfaces"): a world
publishes its ``BrainIO``, a substrate compiles genomes into a ``Brain`` for it, and the world
steps that brain without knowing which kind it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError
from primordia.core.rng import DrawStream

DEFAULT_MAX_GENOME_BYTES = 1 << 20
"""The longest genome a checkpoint may hold for a substrate that does not say
(``max_genome_bytes``)."""


@dataclass(frozen=True)
class BrainIO:
    """A world's sensor and action layout: names of its int32 sensor and action slots, and
    how many values each action distinguishes (``action_levels``; empty: 2 each, i.e. on/off).
    Substrates that do not write integers directly (neural nets, bit networks) use the
    levels to turn an activation into an action value. An action named ``confidence`` is a
    priority the world reads when it settles conflicts (16.16 fixed point)."""

    sensors: tuple[str, ...]
    actions: tuple[str, ...]
    action_levels: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.action_levels and (len(self.action_levels) != len(self.actions)
                                   or min(self.action_levels) < 2):
            raise ValueError("action_levels: one count >= 2 per action")

    def levels(self, action: int) -> int:
        """Values action ``action`` distinguishes (0 .. levels - 1)."""
        return self.action_levels[action] if self.action_levels else 2

    @property
    def n_sensors(self) -> int:
        return len(self.sensors)

    @property
    def n_actions(self) -> int:
        return len(self.actions)


@runtime_checkable
class Brain(Protocol):
    """A compiled population; organisms live in slots that the world mirrors."""

    @property
    def capacity(self) -> int: ...

    def begin_tick(self, budget: np.ndarray, active: np.ndarray) -> None:
        """Start a tick's decisions with a compute budget per slot (gas for bytecode brains)."""

    def step(self, sensors: np.ndarray, actions: np.ndarray, active: np.ndarray) -> np.ndarray:
        """One action round for the active slots: read ``sensors[N, S]``, write
        ``actions[N, A]``; returns bool[N], the slots that may act again this tick."""

    def add(self, genomes: Sequence[Any], slots: np.ndarray | None = None) -> np.ndarray:
        """Place organisms (in the given free slots, or the lowest free ones); their slots."""

    def remove(self, slots: Sequence[int] | np.ndarray) -> None:
        """Free the slots of organisms that died."""


@runtime_checkable
class Substrate(Protocol):
    """One brain kind: how its genomes are made, varied, stored and compiled."""

    name: str

    def random(self, draws: DrawStream, max_len: int) -> Any:
        """A random genome."""

    def mutate(self, genome: Any, draws: DrawStream, max_len: int) -> Any:
        """A mutated copy (never invalid)."""

    def crossover(self, a: Any, b: Any, draws: DrawStream, max_len: int, **options) -> Any:
        """A child of two parents (never invalid)."""

    def encode(self, genome: Any) -> bytes:
        """Canonical bytes of a genome."""

    def decode(self, data: bytes) -> Any:
        """The genome of canonical bytes (GenomeError if invalid)."""

    def to_text(self, genome: Any) -> str:
        """A readable form (disassembly)."""

    def compile(self, genomes: Sequence[Any], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> Brain:
        """A Brain running these genomes in slots 0.. for a world with this layout."""


def genome_limit(substrate: Substrate) -> int:
    """The longest encoded genome of ``substrate`` (its ``max_genome_bytes``, if it says)."""
    return int(getattr(substrate, "max_genome_bytes", DEFAULT_MAX_GENOME_BYTES))


def state_layout(brain: Brain) -> dict[str, ArraySpec]:
    """The arrays a brain's ``state_arrays`` may give, at their largest: its own
    ``state_layout``, else the shapes of what it gives now, else none (a brain without
    state between ticks)."""
    layout = getattr(brain, "state_layout", None)
    if layout is not None:
        return dict(layout())
    arrays = getattr(brain, "state_arrays", None)
    if arrays is None:
        return {}
    return {name: ArraySpec.exact(np.asarray(a).dtype, *np.shape(a))
            for name, a in arrays().items()}


def load_state(brain: Brain, arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Give a restored brain the state a checkpoint saved for it (its ``brain.*`` arrays),
    if it keeps any; a refusal names the checkpoint."""
    load = getattr(brain, "load_state_arrays", None)
    if load is None:
        return
    try:
        load({k[len("brain."):]: v for k, v in arrays.items() if k.startswith("brain.")})
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
