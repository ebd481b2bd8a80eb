"""What the coordinator knows of the worlds islands run in: an island's world config, the
substrate of the brain it runs, and the bounds a result for an island must respect (cells,
capacity, genome size). Experiments and breeding build on these; nothing here knows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from primordia.brains.base import Substrate
from primordia.core.config import Config
from primordia.core.errors import ConfigError
from primordia.worlds.registry import WORLDS


def world_config(world: str, values: dict[str, Any], seed: int, length: int) -> Config:
    """The world's validated config for one island (ConfigError naming the key)."""
    kind = WORLDS.get(world)
    return kind.config_class.build({**values, "seed": seed, kind.length_key: length})


def substrate_for(world: str, brain: str, config: Config) -> Substrate:
    run_class = WORLDS.get(world).run_class
    problem = run_class.refusal(brain)
    if problem:
        raise ConfigError(f"brain: {problem}")
    return run_class.substrate(brain, config)


@dataclass(frozen=True)
class Limits:
    """Bounds every honest result of an island respects."""

    cells: int          # cells of the world
    capacity: int       # organisms alive at once, at most
    max_genome: int     # bytes of an encoded genome


NEURAL_GENOME_BYTES = 1 << 20
"""Neural genomes grow by neurons and synapses, not under ``max_genome`` (a cap for
bytecode); a sample larger than this is refused all the same."""


def limits(world: str, brain: str, config: Config) -> Limits:
    cap = config.max_genome if brain == "psil" else NEURAL_GENOME_BYTES
    cells, capacity = WORLDS.get(world).run_class.bounds(config)
    return Limits(cells, capacity, cap)


def population(world: str, config: Config) -> int:
    return WORLDS.get(world).run_class.population(config)
