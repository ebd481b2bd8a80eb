"""What the coordinator knows of the worlds islands run in: each niche's world config
checked up front, the substrate that breeds genomes for them, and the bounds a result for
an island must respect (cells, capacity, genome size)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from primordia.brains.base import Substrate
from primordia.core.config import Config
from primordia.core.errors import ConfigError, PrimordiaError
from primordia.worlds.registry import WORLDS

from .experiment import ExperimentConfig


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


def check_niches(exp: ExperimentConfig, source: str) -> None:
    """Every niche makes a valid world with room for an island's founders."""
    for niche in exp.niches:
        where = f"{source}: niches.{niche.name}"
        try:
            cfg = world_config(exp.world, exp.niche_config(niche), exp.seed, exp.length)
            substrate_for(exp.world, exp.brain, cfg)
        except PrimordiaError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        room = population(exp.world, cfg)
        if exp.founders * exp.copies > room:
            raise ConfigError(f"{where}: founders x copies ({exp.founders * exp.copies}) "
                              f"exceed the population ({room})")


def breeding_substrate(exp: ExperimentConfig) -> tuple[Substrate, int]:
    """The substrate that varies the pool's genomes and the genome cap every niche takes."""
    configs = [world_config(exp.world, exp.niche_config(n), exp.seed, exp.length)
               for n in exp.niches]
    return (substrate_for(exp.world, exp.brain, configs[0]),
            min(limits(exp.world, exp.brain, c).max_genome for c in configs))
