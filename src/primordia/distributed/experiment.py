"""An island experiment: the TOML file that, with its seed, says everything the coordinator
does -- which world and brain, the niches (world settings) islands run in, how big the
pool is, how islands are filled, how the next generation is chosen, and how far untrusted
workers are checked. Validated by pydantic, each niche against its world (``islands``);
stored in the database as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from primordia.core.config import FrozenModel, NumbersAreNotBooleans, describe, read_toml
from primordia.core.errors import ConfigError, PrimordiaError
from primordia.worlds.registry import WORLDS

from .islands import population, substrate_for, world_config

RESERVED_WORLD_KEYS = {"seed", "ticks", "turns"}
"""Set per island by the coordinator, never by a niche."""


class Section(NumbersAreNotBooleans, FrozenModel):
    """A part of the experiment file: immutable, no unknown keys, and numbers that are not
    booleans."""


class Niche(Section):
    """A world setting islands run in: the experiment's ``world_config`` with these keys
    changed (a rich and a sparse world, say)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    config: dict[str, Any] = Field(default_factory=dict)


class Selection(Section):
    """How a generation's ranked pool becomes the next pool (docs/distributed.md)."""

    elite_share: float = Field(0.25, ge=0, le=1, description="Top share kept by NSGA-II rank.")
    random_share: float = Field(0.10, ge=0, le=1, description="Share kept at random from the "
                                "rest, for diversity.")
    crossover_rate: float = Field(0.5, ge=0, le=1, description="Chance a refill child has "
                                  "two parents (else it is a mutant of one).")
    sample_use: float = Field(0.5, ge=0, le=1, description="Chance a refill parent is "
                              "replaced by a genome its lineage evolved on an island.")

    @model_validator(mode="after")
    def _shares(self) -> "Selection":
        if self.elite_share + self.random_share > 1:
            raise ValueError("elite_share + random_share must not exceed 1")
        return self


class Verification(Section):
    """BOINC-style adaptive replication: a worker's results are re-run by another worker
    until it has ``trust_after`` verified results in a row; then only a ``spot_check``
    share is, plus every result that would enter the elite."""

    trust_after: int = Field(10, ge=1, le=10_000, description="Verified results in a row "
                             "before a worker's lone results are accepted (a new worker's "
                             "are always re-run).")
    spot_check: float = Field(0.1, ge=0, le=1)
    max_results: int = Field(5, ge=3, le=20, description="Results per job at most "
                             "(replicas and tie-breakers) before it is given up.")


class Leases(Section):
    seconds: float = Field(300, gt=0, le=86_400, description="A lease's deadline, renewed "
                           "by heartbeats.")
    attempts: int = Field(5, ge=1, le=100, description="Expired leases before a job is "
                          "given up.")


class ExperimentConfig(Section):
    """Everything that, with ``seed``, determines an island experiment."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(0, ge=0, lt=2**63)
    world: str = Field("sandbox", max_length=64, description="A registered world "
                       "(primordia.worlds.registry: sandbox, hex, ...).")
    brain: str = "psil"
    world_config: dict[str, Any] = Field(default_factory=dict)
    niches: list[Niche] = Field(default_factory=lambda: [Niche(name="default")],
                                min_length=1, max_length=64)
    generations: int = Field(5, ge=1, le=100_000)
    pool: int = Field(32, ge=2, le=100_000, description="Genomes evaluated per generation.")
    islands: int = Field(8, ge=1, le=100_000, description="Islands per generation (niches "
                         "in turn).")
    founders: int = Field(8, ge=1, le=4096, description="Pool genomes per island.")
    copies: int = Field(1, ge=1, le=1024, description="Organisms per founder on an island.")
    length: int = Field(500, ge=1, le=1_000_000, description="Ticks (turns) per island.")
    sample: int = Field(8, ge=0, le=1024, description="Genomes an island sends back.")
    selection: Selection = Selection()
    verification: Verification = Verification()
    leases: Leases = Leases()

    @field_validator("world")
    @classmethod
    def _known_world(cls, world: str) -> str:
        if world not in WORLDS:
            raise ValueError(f"{world!r} is not a world Primordia knows (known: "
                             f"{', '.join(WORLDS.names())})")
        return world

    @model_validator(mode="after")
    def _consistent(self) -> "ExperimentConfig":
        if self.islands * self.founders < self.pool:
            raise ValueError(f"islands x founders ({self.islands * self.founders}) must cover "
                             f"the pool ({self.pool})")
        if self.founders > self.pool:
            raise ValueError(f"founders ({self.founders}) must not exceed the pool "
                             f"({self.pool})")
        names = [n.name for n in self.niches]
        if len(set(names)) != len(names):
            raise ValueError("niches: names must be unique")
        for where, keys in [("world_config", self.world_config)] + [
                (f"niches.{n.name}.config", n.config) for n in self.niches]:
            bad = RESERVED_WORLD_KEYS & set(keys)
            if bad:
                raise ValueError(f"{where}: {', '.join(sorted(bad))} are set per island")
        return self

    def niche_config(self, niche: Niche) -> dict[str, Any]:
        return {**self.world_config, **niche.config}


def load_experiment(path: str | Path) -> ExperimentConfig:
    """An experiment TOML file, validated; problems raise one-line ConfigErrors."""
    return build_experiment(read_toml(path), source=str(path))


def build_experiment(values: dict[str, Any], source: str = "experiment") -> ExperimentConfig:
    try:
        config = ExperimentConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe(exc)}") from None
    check_niches(config, source)
    return config


def check_niches(exp: ExperimentConfig, source: str) -> None:
    """Every niche makes a valid world with room for an island's founders."""
    for niche in exp.niches:
        where = f"{source}: niches.{niche.name}"
        try:
            cfg = world_config(exp.world, exp.brain, exp.niche_config(niche), exp.seed,
                               exp.length)
            substrate_for(exp.world, cfg)
        except PrimordiaError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        room = population(exp.world, cfg)
        if exp.founders * exp.copies > room:
            raise ConfigError(f"{where}: founders x copies ({exp.founders * exp.copies}) "
                              f"exceed the population ({room})")
