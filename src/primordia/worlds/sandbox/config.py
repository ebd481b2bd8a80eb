"""The sandbox's settings, with the reference sandbox's defaults (its CLI flags;
docs/worlds/sandbox.md)."""

from __future__ import annotations

import math
from pydantic import Field, model_validator

from primordia.worlds.config import WorldConfig


class SandboxConfig(WorldConfig):
    """Everything that, with the seed, determines a sandbox run. The world grants gas (it
    senses it, items change it, it grows) and caps genomes (the cap grows) for every brain;
    how genomes cross is the brain's (``[brain]``: micro-PSIL's ``crossover``)."""

    DEFAULT_BRAIN = "psil"
    MOVED_TO_BRAIN = {"crossover": "psil", "classic_rate": "psil"}

    npcs: int = Field(20, ge=1, le=100_000, description="Initial population (and capacity).")
    world: int = Field(0, ge=0, le=4096, description="Side of the square world; 0 = automatic.")
    ticks: int = Field(10_000, ge=0, le=100_000_000, description="Ticks to run.")
    gas: int = Field(200, ge=1, le=500, description="Base gas per think.")
    evolve_every: int = Field(100, ge=1, description="Ticks between GA rounds.")
    seed: int = Field(42, ge=0, lt=2**63, description="The run's seed.")
    traders: float = Field(0.25, ge=0, le=1, description="Share of traders at the start.")
    mutation_rate: float = Field(0.8, ge=0, le=1, description="Chance a child is mutated.")
    max_genome: int = Field(128, ge=16, le=65536, description="Genome size cap in bytes.")
    genome_grow: int = Field(64, ge=0, le=65536, description="Cap growth per step (bytes).")
    genome_grow_every: int = Field(50_000, ge=1, description="Ticks between cap growth steps.")
    gas_grow: int = Field(10, ge=0, le=500, description="Base gas growth per step.")
    gas_grow_every: int = Field(70_000, ge=1, description="Ticks between gas growth steps.")
    food_rate: float = Field(0.5, ge=0, le=1, description="Starting food spawn chance per tick.")
    item_rate: float = Field(0.05, ge=0, le=1, description="Item spawn chance per tick.")

    @model_validator(mode="after")
    def _fits(self) -> "SandboxConfig":
        if self.npcs > self.size ** 2:
            raise ValueError(f"npcs: {self.npcs} do not fit in a {self.size} x {self.size} "
                             "world")
        return self

    @property
    def size(self) -> int:
        """The world's side: ``world``, or max(32, floor(sqrt(npcs)) * 4)."""
        return self.world or max(32, math.isqrt(self.npcs) * 4)

    @property
    def max_food(self) -> int:
        return 3 * self.npcs

    @property
    def max_items(self) -> int:
        return max(4, self.npcs // 2)

    @property
    def forges(self) -> int:
        return max(3, self.size // 8)
