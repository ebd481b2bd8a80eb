"""The interfaces between worlds and brains (docs/architecture.md, "The interfaces"): a world
publishes its ``BrainIO``, a substrate compiles genomes into a ``Brain`` for it, and the world
steps that brain without knowing which kind it is."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple, Protocol, Sequence, runtime_checkable

import numpy as np

from primordia.core.checks import ArraySpec
from primordia.core.config import Config
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
    """One brain kind: how its genomes are made, varied, checked, stored and compiled, and
    how the dashboard shows one organism's brain. ``SubstrateBase`` gives the members a
    substrate may leave at their defaults."""

    name: str
    SETTINGS: type[Config]
    """The substrate's settings model: the keys of a world's ``[brain]`` table besides
    ``kind`` (brains/settings.py)."""
    settings: Config
    """The settings this substrate was made with."""
    archetypes: Mapping[str, Any]
    """Named starting genomes a world may seed roles with (empty: it has none)."""
    max_genome_bytes: int
    """The longest encoded genome a checkpoint may hold."""

    def random(self, draws: DrawStream, max_len: int) -> Any:
        """A random genome."""

    def mutate(self, genome: Any, draws: DrawStream, max_len: int) -> Any:
        """A mutated copy (never invalid)."""

    def crossover(self, a: Any, b: Any, draws: DrawStream, max_len: int) -> Any:
        """A child of two parents (never invalid), as the substrate's settings say."""

    def validate(self, genome: Any) -> None:
        """Raise GenomeError, saying why, unless ``genome`` is a valid genome."""

    def longest_genome(self, max_len: int) -> int:
        """The longest encoded genome an organism can have in a world that caps genomes at
        ``max_len`` (what a result from an island is held to)."""

    def encode(self, genome: Any) -> bytes:
        """Canonical bytes of a genome."""

    def decode(self, data: bytes) -> Any:
        """The genome of canonical bytes (GenomeError if invalid)."""

    def size(self, genome: Any) -> int:
        """How big a genome is, in bytes, for worlds that charge upkeep for it: its encoded
        length, unless the substrate counts otherwise (``SubstrateBase.size``)."""

    def to_text(self, genome: Any) -> str:
        """A readable form (disassembly)."""

    def compile(self, genomes: Sequence[Any], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> Brain:
        """A Brain running these genomes in slots 0.. for a world with this layout."""

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        """The organism in ``slot`` as the dashboard shows its brain: a dict whose ``kind``
        is the substrate's name (docs/web.md has the shapes)."""


class NoSettings(Config):
    """The settings of a substrate that has none."""


class SubstrateBase:
    """Defaults for a substrate's optional members: no settings, no named genomes, the
    common genome cap, and its text form as the dashboard's view."""

    name = ""
    SETTINGS: type[Config] = NoSettings
    settings: Config = NoSettings()
    VIEW: Any = None
    """The pydantic model of ``view``'s dict, for the published schema (None: a text view,
    ``{"kind", "text"}``)."""
    archetypes: Mapping[str, Any] = MappingProxyType({})
    max_genome_bytes = DEFAULT_MAX_GENOME_BYTES

    def to_text(self, genome: Any) -> str:
        return repr(genome)

    def size(self, genome: Any) -> int:
        """The genome's canonical encoding's length."""
        return len(self.encode(genome))

    def longest_genome(self, max_len: int) -> int:
        """Genomes that do not grow under the world's byte cap: the substrate's own cap."""
        return self.max_genome_bytes

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        return {"kind": self.name, "text": self.to_text(genome)}

    def from_file(self, data: bytes, name: str) -> Any:
        """The genome a file holds (a founder of a run, ``primordia run --founder``): its
        canonical bytes, or those bytes as hex text. ``name`` is the file's name, whose
        suffix a substrate with text forms may go by. GenomeError if it holds none."""
        digits = hex_text(data)
        return self.decode(bytes.fromhex(digits) if digits is not None else bytes(data))


def hex_text(data: bytes) -> str | None:
    """The hex digits of ``data`` if it is hex text (digits with whitespace between, an even
    number of them, at least one); else None."""
    try:
        digits = "".join(bytes(data).decode("ascii").split())
    except UnicodeDecodeError:
        return None
    if not digits or len(digits) % 2 or digits.strip("0123456789abcdefABCDEF"):
        return None
    return digits


# ---- what some substrates and brains also offer ---------------------------------------------

@runtime_checkable
class Teaches(Protocol):
    """A substrate whose genomes can pass on part of themselves (the sandbox's teaching)."""

    def transfer(self, teacher: Any, student: Any, draws: DrawStream) -> Any:
        """The student's genome with a fragment of the teacher's (never invalid)."""


@runtime_checkable
class KeepsState(Protocol):
    """A brain with state between ticks (VM memory, activations): hashed and checkpointed."""

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The state, as named arrays (slot-major)."""

    def state_layout(self) -> dict[str, ArraySpec]:
        """Every array ``state_arrays`` may give, at its largest."""

    def load_state_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Take the state a checkpoint saved (ConfigError saying what is wrong)."""


@runtime_checkable
class Seeded(Protocol):
    """A brain that draws random numbers of its own (a wasm organism's context brings
    fresh random bits each step) and keys them by the world's seed, given after it is
    compiled (``seed_brain``): replicate runs of other seeds then differ in them too."""

    def reseed(self, seed: int) -> None: ...


def seed_brain(brain: Any, seed: int) -> None:
    """Give ``brain`` the world's seed if it draws random numbers of its own."""
    if isinstance(brain, Seeded):
        brain.reseed(seed)


@runtime_checkable
class KnowsReach(Protocol):
    """A brain that knows which sensors each organism can ever read, so a world may skip
    computing the others."""

    sensor_reach: np.ndarray
    """Per slot, a bitmask: bit k set if the organism can read sensor k."""


@runtime_checkable
class Spawns(Protocol):
    """A brain that breeds in place: new random or mutated genomes in free slots, from the
    same draws as the substrate's ``random``/``mutate``, without a Python object per birth."""

    def spawn(self, slots: np.ndarray, parents: np.ndarray, new_ids: np.ndarray, seed: int,
              random_stream: int, mutate_stream: int, tick: int, chance: float,
              rounds: np.ndarray | None = None) -> None:
        """``chance`` >= 0: a child is mutated once with that chance (a hex world's rule);
        < 0: ``rounds[r]`` times (the ecology world's)."""

    def genome(self, slot: int) -> Any:
        """The genome in ``slot``, built when asked."""


@runtime_checkable
class CountsWork(Protocol):
    """A brain that counts the synapse operations of its last step (a world's metric)."""

    synapse_ops_last_step: int


@runtime_checkable
class CountsGas(Protocol):
    """A brain that reports the gas (instructions) each organism used in its last step, so a
    world can charge for thinking."""

    gas_used: np.ndarray
    """Per slot, the gas its last step used."""


class AbiActions(NamedTuple):
    """What organisms asked for through the wasm ABI's action calls in their last step
    (docs/brains/wasm.md, "The ABI"), int64 per slot asked about; 0 where not asked. The
    calls only ask: the world decides."""

    move: np.ndarray        # 1: move_dir(dx, dy) was recorded
    dx: np.ndarray          # -1..1
    dy: np.ndarray
    eat: np.ndarray         # 1: eat()
    attack: np.ndarray      # 1: attack(slot, amount)
    slot: np.ndarray        # the neighbour record attacked
    amount: np.ndarray      # > 0
    reproduce: np.ndarray   # 1: try_reproduce(ptr, len)
    payload: np.ndarray     # the payload's first byte, -1 if it was empty
    signal: np.ndarray      # 1: emit_signal(channel, value)
    channel: np.ndarray
    value: np.ndarray


@runtime_checkable
class SpeaksAbi(Protocol):
    """A brain whose organisms act through the wasm ABI's calls; a world that speaks the ABI
    reads what they asked for here (the ecology world)."""

    def abi_actions(self, slots: np.ndarray) -> AbiActions:
        """What the organisms in ``slots`` asked for in their last step."""


_OFFERS: dict[tuple[type, type], bool] = {}


def offers(obj: Any, feature: type) -> bool:
    """Whether ``obj`` offers ``feature`` (one of the protocols above): ``isinstance``,
    remembered per class, because a runtime-checkable protocol's check costs about 20 us and
    worlds ask every tick. A brain's or substrate's features are its class's (its
    ``__init__`` sets the attributes they read)."""
    key = (type(obj), feature)
    found = _OFFERS.get(key)
    if found is None:
        found = _OFFERS[key] = isinstance(obj, feature)
    return found


def step_slots(brain: Any, sensors: np.ndarray, actions: np.ndarray,
               active: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """What every ``Brain.step`` checks first: sensors and actions that fit the brain's
    slots and layout (actions int32), and the living slots among ``active`` (all living when
    None). Returns the sensors as contiguous int32 and the slots to step."""
    n, io = brain.capacity, brain.io
    if sensors.shape != (n, io.n_sensors) or actions.shape != (n, io.n_actions):
        raise ConfigError(f"step: sensors {sensors.shape} and actions {actions.shape} do "
                          f"not fit {n} slots of {io}")
    if actions.dtype != np.int32:
        raise ConfigError(f"step: actions must be int32, not {actions.dtype}")
    mask = brain.alive
    if active is not None:
        mask = np.asarray(active, dtype=bool)
        if mask.shape != (n,):
            raise ConfigError(f"step: active mask has shape {mask.shape}; expected ({n},)")
        mask = mask & brain.alive
    return (np.ascontiguousarray(sensors, dtype=np.int32),
            np.flatnonzero(mask).astype(np.int64))


def slots_for(brain: Any, count: int, slots: Any, grow: Any) -> np.ndarray:
    """The slots ``count`` new organisms take in a brain's ``alive`` mask: ``slots`` if they
    are distinct free slots, one each (ConfigError otherwise), or the lowest free ones,
    after ``grow(capacity)`` when there are too few -- what every ``Brain.add`` does first."""
    if slots is None:
        free = np.flatnonzero(~brain.alive)
        if len(free) < count:
            grow(brain.capacity + count - len(free))
            free = np.flatnonzero(~brain.alive)
        return free[:count]
    slots = np.asarray(slots, dtype=np.int64).reshape(-1)
    if (len(slots) != count or len(np.unique(slots)) != len(slots)
            or (len(slots) and (slots.min() < 0 or slots.max() >= brain.capacity))
            or brain.alive[slots].any()):
        raise ConfigError("add: slots must be distinct free slots, one per genome")
    return slots


def genome_limit(substrate: Substrate) -> int:
    """The longest encoded genome of ``substrate`` (its ``max_genome_bytes``, if it says)."""
    return int(getattr(substrate, "max_genome_bytes", DEFAULT_MAX_GENOME_BYTES))


def state_layout(brain: Brain) -> dict[str, ArraySpec]:
    """The arrays a brain's state may give, at their largest (none for a brain without
    state between ticks)."""
    return dict(brain.state_layout()) if offers(brain, KeepsState) else {}


def state_arrays(brain: Brain) -> dict[str, np.ndarray]:
    """A brain's state between ticks, as named arrays (none for a brain without)."""
    return brain.state_arrays() if offers(brain, KeepsState) else {}


def load_state(brain: Brain, arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Give a restored brain the state a checkpoint saved for it (its ``brain.*`` arrays),
    if it keeps any; a refusal names the checkpoint."""
    if not offers(brain, KeepsState):
        return
    try:
        brain.load_state_arrays({k[len("brain."):]: v for k, v in arrays.items()
                                 if k.startswith("brain.")})
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
