"""What the coordinator knows of the worlds islands run in: an island's world config, the
substrate of the brain it runs, and the bounds a result for an island must respect (cells,
capacity, genome size). Experiments and breeding build on these; nothing here knows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from primordia.brains.base import Substrate
from primordia.brains.registry import SUBSTRATES
from primordia.core.config import Config
from primordia.core.errors import ConfigError

BRAINS = {"sandbox": ("psil",), "hex": ("neural", "psil")}


def world_config(world: str, values: dict[str, Any], seed: int, length: int) -> Config:
    """The world's validated config for one island (ConfigError naming the key)."""
    if world == "sandbox":
        from primordia.worlds.sandbox.config import SandboxConfig
        return SandboxConfig.build({**values, "seed": seed, "ticks": length})
    from primordia.worlds.hex.config import HexConfig
    return HexConfig.build({**values, "seed": seed, "turns": length})


def substrate_for(world: str, brain: str, config: Config) -> Substrate:
    if brain not in BRAINS[world]:
        raise ConfigError(f"brain {brain!r}: the {world} world takes "
                          f"{', '.join(BRAINS[world])}")
    if world == "hex":
        from primordia.runs.hex_run import hex_substrate
        return hex_substrate(brain, config)
    return SUBSTRATES.get(brain)


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
    if world == "sandbox":
        return Limits(config.size * config.size, config.npcs, cap)
    return Limits(config.cells, config.cells, cap)


def population(world: str, config: Config) -> int:
    return config.npcs if world == "sandbox" else config.num_organisms
