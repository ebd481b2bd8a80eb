"""The ecology world's settings: the map, the energy economy and reproduction
(docs/worlds/ecology.md, "Knobs"). Rates are given as fractions and held by the kernels as
16.16 fixed point (``q16``), so every tick is integer arithmetic."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from primordia.worlds.config import WorldConfig

MAX_RADIUS = 7
"""The widest sensing radius (a 15 x 15 view), the wasm ABI's limit too."""


def q16(fraction: float) -> int:
    """A fraction in 0..1 as 16.16 fixed point (rounded to nearest)."""
    return int(round(fraction * 65536))


class EcologyConfig(WorldConfig):
    """Everything that, with the seed, determines an ecology run."""

    DEFAULT_BRAIN = "wasm"

    # ---- the map ----
    width: int = Field(256, ge=4, le=4096, description="Tiles across (the grid is a torus).")
    height: int = Field(256, ge=4, le=4096, description="Tiles down.")
    patch_size: int = Field(16, ge=1, le=1024, description="Typical size of a resource, "
                            "obstacle or hazard patch, in tiles.")
    resource_density: float = Field(0.5, ge=0, le=1, description="Share of tiles that grow "
                                    "resources.")
    obstacle_share: float = Field(0.05, ge=0, le=0.9, description="Share of tiles that are "
                                  "obstacles.")
    hazard_share: float = Field(0.02, ge=0, le=1, description="Share of tiles that hurt.")
    radiation_share: float = Field(0.01, ge=0, le=1, description="Share of tiles that raise "
                                   "the mutation rate of offspring born on or next to them.")
    r_max: int = Field(50, ge=1, le=10_000, description="Most energy a tile's resource holds.")
    regrowth: float = Field(0.02, ge=0, le=1, description="Logistic regrowth rate per tick.")

    # ---- organisms ----
    num_organisms: int = Field(2000, ge=0, le=1_000_000, description="Founders, placed at "
                               "random free tiles.")
    min_organisms: int = Field(200, ge=0, le=1_000_000, description="Random organisms are added "
                               "at the end of a tick to keep at least this many alive (unset: "
                               "a tenth of num_organisms).")
    max_organisms: int = Field(16_384, ge=1, le=4_194_304, description="Slots: births fail "
                               "when every slot is taken.")
    radius: int = Field(2, ge=0, le=MAX_RADIUS, description="Sensing radius (tiles, "
                        "neighbours, signals): a (2r+1) x (2r+1) window.")
    neighbor_records: int = Field(8, ge=0, le=8, description="Neighbour records sensed "
                                  "(the nearest first).")
    gas: int = Field(1000, ge=1, le=100_000, description="Compute budget per organism per "
                     "tick.")

    # ---- the energy economy (integer energy units) ----
    start_energy: int = Field(100, ge=1, le=1_000_000, description="A founder's energy.")
    max_energy: int = Field(5000, ge=1, le=1_000_000_000, description="Energy cap; what "
                            "eating brings beyond it is lost.")
    basal_cost: int = Field(1, ge=0, le=1_000_000, description="Energy every organism pays "
                            "per tick.")
    instruction_cost: int = Field(2, ge=0, le=1_000_000, description="Energy per 1,000 gas "
                                  "(instructions) a brain used this tick (rounded down).")
    brain_upkeep: int = Field(1, ge=0, le=1_000_000, description="Energy per tick per 1,024 "
                              "bytes of genome (rounded down).")
    move_cost: int = Field(1, ge=0, le=1_000_000, description="Energy per step taken.")
    attack_cost: int = Field(5, ge=0, le=1_000_000, description="Energy an attack costs on "
                             "top of its amount.")
    attack_amount: int = Field(50, ge=1, le=1_000_000, description="The amount of an attack "
                               "for brains that do not name one.")
    attack_damage: int = Field(150, ge=0, le=10_000, description="Damage per 100 energy an "
                               "attacker puts in.")
    bite: int = Field(20, ge=1, le=1_000_000, description="Most energy one meal takes from a "
                      "tile (corpse first, then resource).")
    corpse_energy: int = Field(30, ge=0, le=1_000_000, description="Energy a dead organism "
                               "leaves on its tile.")
    corpse_decay: float = Field(0.02, ge=0, le=1, description="Share of a corpse that rots "
                                "away per tick (at least 1 energy).")
    hazard_damage: int = Field(10, ge=0, le=1_000_000, description="Energy a hazard tile "
                               "takes per tick.")
    radiation_damage: int = Field(1, ge=0, le=1_000_000, description="Energy a radiation tile "
                                  "takes per tick.")

    # ---- reproduction ----
    reproduce_cost: int = Field(10, ge=0, le=1_000_000, description="Energy a birth costs "
                                "the parent besides the child's share.")
    reproduce_min: int = Field(80, ge=0, le=1_000_000_000, description="Energy a parent "
                               "needs to reproduce.")
    offspring_share: float = Field(0.5, ge=0, le=1, description="Share of the parent's energy "
                                   "(after the cost) the child takes.")
    mutation_rounds: int = Field(1, ge=0, le=64, description="Mutation rounds an offspring "
                                 "gets when its parent does not ask for a number.")
    max_mutations: int = Field(8, ge=0, le=64, description="Most rounds a parent may ask for.")
    radiation_extra: int = Field(2, ge=0, le=64, description="Rounds added for a child born on "
                                 "or next to a radiation tile.")
    max_genome: int = Field(4096, ge=16, le=1_048_576, description="Genome size cap in bytes "
                            "(for substrates that have one).")
    energy_band: int = Field(100, ge=1, le=1_000_000, description="Energy per step of the "
                             "neighbour records' energy band (0..15).")

    seed: int = Field(42, ge=0, lt=2**63, description="The run's seed.")
    ticks: int = Field(1000, ge=0, le=100_000_000, description="Ticks to run.")

    @model_validator(mode="before")
    @classmethod
    def _top_up_follows_founders(cls, data: Any) -> Any:
        """Unset, ``min_organisms`` is a tenth of ``num_organisms``: a world of any size
        keeps drawing random organisms until a lineage takes hold."""
        if isinstance(data, dict) and "min_organisms" not in data:
            founders = data.get("num_organisms", cls.model_fields["num_organisms"].default)
            if type(founders) is int:
                data = {**data, "min_organisms": max(0, founders) // 10}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "EcologyConfig":
        shares = self.obstacle_share + self.hazard_share + self.radiation_share \
            + self.resource_density
        if shares > 1 + 1e-9:
            raise ValueError(f"obstacle, hazard and radiation shares and resource_density add "
                             f"up to {shares:g}; at most 1")
        if self.num_organisms > self.max_organisms or self.min_organisms > self.max_organisms:
            raise ValueError("num_organisms and min_organisms must not exceed max_organisms")
        if max(self.num_organisms, self.min_organisms) > self.tiles:
            raise ValueError(f"{max(self.num_organisms, self.min_organisms)} organisms do not "
                             f"fit on {self.tiles} tiles")
        if self.view_side > min(self.width, self.height):
            raise ValueError(f"radius {self.radius}: the {self.view_side}-tile window must fit "
                             f"in the {self.width} x {self.height} map")
        if self.reproduce_min < self.reproduce_cost:
            raise ValueError("reproduce_min must be at least reproduce_cost (a parent never "
                             "pays more than it has)")
        if self.max_energy < self.start_energy:
            raise ValueError("max_energy must be at least start_energy")
        return self

    @property
    def tiles(self) -> int:
        return self.width * self.height

    @property
    def view_side(self) -> int:
        return 2 * self.radius + 1
