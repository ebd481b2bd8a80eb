"""The hex world's settings, with NeuroGenesis's defaults (docs/worlds/hex.md)."""

from __future__ import annotations

from pydantic import Field, model_validator

from primordia.core.config import Config


class HexConfig(Config):
    """Everything that, with the seed, determines a hex run. The brain settings
    (``num_neurons``, ``max_num_neurons``, ``num_synapses``, ``mutation_magnitude``) are
    handed to the substrate; the world itself decides who mutates (``mutation_chance``)."""

    world_width: int = Field(20, ge=1, le=4096, description="Cells per side of the grid.")
    steps_per_second: int = Field(5, ge=1, le=1000, description="Live view's default speed.")
    num_organisms: int = Field(200, ge=1, le=16_777_216, description="Starting population.")
    num_neurons: int = Field(2, ge=0, le=1000, description="Inter neurons of a new brain.")
    max_num_neurons: int = Field(20, ge=0, le=1000, description="Inter neurons at most "
                                 "(ids 1000 + i stay below the action ids at 2000).")
    num_synapses: int = Field(4, ge=0, le=100_000, description="Synapses of a new brain.")
    turns_to_starve: int = Field(20, ge=1, le=1_000_000, description="Turns without a meal "
                                                                      "an organism survives.")
    mutation_chance: float = Field(0.04, ge=0, le=1, description="Chance an offspring's brain "
                                                                  "is mutated.")
    mutation_magnitude: float = Field(1.0, ge=0, le=100, description="Mutation operations "
                                      "(rounded, at least 1) and weight perturbation scale.")
    center_spawn_min_fraction: float = Field(0.25, ge=0, le=1)
    center_spawn_max_fraction: float = Field(0.75, ge=0, le=1)
    seed: int = Field(42, ge=0, lt=2**63, description="The run's seed.")
    turns: int = Field(1000, ge=0, le=100_000_000, description="Turns to run.")
    gas: int = Field(200, ge=1, le=500, description="Compute budget per decision for "
                     "bytecode brains.")
    max_genome: int = Field(64, ge=16, le=65536, description="Genome size cap in bytes for "
                            "bytecode brains.")

    @model_validator(mode="after")
    def _consistent(self) -> "HexConfig":
        if self.center_spawn_min_fraction >= self.center_spawn_max_fraction:
            raise ValueError("center_spawn_min_fraction must be below "
                             "center_spawn_max_fraction")
        if self.num_organisms > self.world_width ** 2:
            raise ValueError(f"num_organisms: {self.num_organisms} do not fit in "
                             f"{self.world_width} x {self.world_width} cells")
        if self.num_neurons > self.max_num_neurons:
            raise ValueError("num_neurons must not exceed max_num_neurons")
        return self

    @property
    def cells(self) -> int:
        return self.world_width * self.world_width

    @property
    def spawn_sigma(self) -> float:
        """Standard deviation of spawn positions: max(0.5, W x max(0.05, |max - min|) / 2)."""
        spread = abs(self.center_spawn_max_fraction - self.center_spawn_min_fraction)
        return max(0.5, self.world_width * max(0.05, spread) / 2)

    @property
    def spawn_attempts(self) -> int:
        """Gaussian tries before the nearest-to-centre fallback: max(64, 4 W^2)."""
        return max(64, 4 * self.cells)
