"""What the coordinator knows of the worlds islands run in: an island's world config, the
substrate of the brain it runs, and the bounds a result for an island must respect (cells,
capacity, genome size). Experiments and breeding build on these; nothing here knows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from primordia.brains.base import Substrate
from primordia.core.config import Config, merged
from primordia.core.errors import ConfigError
from primordia.worlds.registry import WORLDS


def world_config(world: str, brain: str, values: dict[str, Any], seed: int,
                 length: int) -> Config:
    """The world's validated config for one island of ``brain`` (ConfigError naming the
    key); ``values`` may hold a ``brain`` table with the brain's settings."""
    kind = WORLDS.get(world)
    return kind.config_class.build(merged({**values, "seed": seed, kind.length_key: length},
                                          {"brain": {"kind": brain}}))


def substrate_for(world: str, config: Config) -> Substrate:
    """The substrate of the config's brain, with its settings (ConfigError if the world
    refuses it)."""
    return WORLDS.get(world).run_class.substrate(config)


@dataclass(frozen=True)
class Limits:
    """Bounds every honest result of an island respects."""

    cells: int          # cells of the world
    capacity: int       # organisms alive at once, at most
    max_genome: int     # bytes of an encoded genome


def limits(world: str, config: Config) -> Limits:
    run_class = WORLDS.get(world).run_class
    cap = substrate_for(world, config).longest_genome(run_class.genome_cap(config))
    cells, capacity = run_class.bounds(config)
    return Limits(cells, capacity, cap)


def population(world: str, config: Config) -> int:
    return WORLDS.get(world).run_class.population(config)
