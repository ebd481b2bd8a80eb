"""The hex world's settings, with NeuroGenesis's defaults (docs/worlds/hex.md)."""

from __future__ import annotations

from pydantic import Field, model_validator

from primordia.worlds.config import WorldConfig


class HexConfig(WorldConfig):
    """Everything that, with the seed, determines a hex run. The brain's own settings are in
    its ``[brain]`` table (a neural net's size and mutation magnitude); the world decides who
    mutates (``mutation_chance``) and what every organism is granted (``gas`` per decision,
    ``max_genome`` bytes)."""

    DEFAULT_BRAIN = "neural"
    MOVED_TO_BRAIN = {"num_neurons": "neural", "max_num_neurons": "neural",
                      "num_synapses": "neural", "mutation_magnitude": "neural"}

    world_width: int = Field(20, ge=1, le=4096, description="Cells per side of the grid.")
    steps_per_second: int = Field(5, ge=1, le=1000, description="Live view's default speed.")
    num_organisms: int = Field(200, ge=1, le=16_777_216, description="Starting population.")
    turns_to_starve: int = Field(20, ge=1, le=1_000_000, description="Turns without a meal "
                                                                      "an organism survives.")
    mutation_chance: float = Field(0.04, ge=0, le=1, description="Chance an offspring's brain "
                                                                  "is mutated.")
    center_spawn_min_fraction: float = Field(0.25, ge=0, le=1)
    center_spawn_max_fraction: float = Field(0.75, ge=0, le=1)
    seed: int = Field(42, ge=0, lt=2**63, description="The run's seed.")
    turns: int = Field(1000, ge=0, le=100_000_000, description="Turns to run.")
    gas: int = Field(200, ge=1, le=500, description="Compute budget per decision (spent by "
                     "bytecode brains).")
    max_genome: int = Field(64, ge=16, le=65536, description="Genome size cap in bytes (for "
                            "brains whose genomes are bytecode).")

    @model_validator(mode="after")
    def _consistent(self) -> "HexConfig":
        if self.center_spawn_min_fraction >= self.center_spawn_max_fraction:
            raise ValueError("center_spawn_min_fraction must be below "
                             "center_spawn_max_fraction")
        if self.num_organisms > self.world_width ** 2:
            raise ValueError(f"num_organisms: {self.num_organisms} do not fit in "
                             f"{self.world_width} x {self.world_width} cells")
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
