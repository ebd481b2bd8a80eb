"""Evolving Mycos networks on a task: the generational loop of the Mycos design with speciation,
per-species elitism and tournaments (or NSGA-II over the task's objective vector), optional
novelty search, and its run directory.

A generation: evaluate every network on every episode (one batched kernel call), score it
(``primordia.tasks.scoring``), stop if the best score reaches the target, then build the next
population. With ``selection="species"``: speciate; each species keeps its elites and breeds
a share of the rest in proportion to its mean fitness; parents come from tournaments within
the species. With ``selection="nsga2"``: last generation's survivors and this population
compete on the objective vector (score, fewer connections, fewer internal bits, less
oscillation) for the places; parents come from crowded binary tournaments among the
survivors. Either way a child is a crossover of two parents with the crossover rate, else a
copy of one, and is mutated with the mutation rate. With ``novelty`` below 1, selection sees
``novelty x fitness + (1 - novelty) x scaled novelty`` (species) or novelty as one more
objective (NSGA-II); a network's behaviour is its outputs on every episode and tick. All
randomness is keyed by (seed, generation, slot). Selection and breeding are the project's
one ``evolve.evolver.Evolver`` (``make_evolver``): told the results, asked for the children.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from pydantic import Field, ValidationError

from primordia.brains.mycos import variation as var
from primordia.brains.mycos.compiler import compile_genome, write_phenotype
from primordia.brains.mycos.genome import MycosGenome, from_dict, to_dict, to_json
from primordia.core.config import FrozenModel, describe
from primordia.core.errors import ConfigError, GenomeError, InputFileError, PrimordiaError
from primordia.brains.mycos.reference import FREEZE, Guards
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.evolve.evolver import (CrowdedTournament, Evolver, Nsga2Survivors,
                                      SpeciesElites, Tournament, Variation)
from primordia.evolve.novelty import NoveltyArchive
from primordia.evolve.species import Speciation
from primordia.tasks.scoring import Penalties, evaluate_task
from primordia.tasks.task import Task

from .checkpoint import DIGEST, checkpoint_digest
from .rundir import RunDirectory, write_atomic

STREAM_INIT = stream_id("mycos.init")
STREAM_BREED = stream_id("mycos.breed")


class MycosEvolveConfig(FrozenModel):
    """Hyperparameters (the Mycos design's defaults)."""

    pop: int = Field(512, ge=4, le=100_000, description="Population size.")
    gens: int = Field(200, ge=1, le=1_000_000, description="Generations at most.")
    seed: int = Field(0, ge=0, lt=2**63)
    mutation_rate: float = Field(0.9, ge=0, le=1, description="Chance a child is mutated.")
    crossover_rate: float = Field(0.6, ge=0, le=1, description="Chance a child has 2 parents.")
    speciation: bool = True
    species_target: int = Field(10, ge=1)
    tournament_k: int = Field(5, ge=1, le=64)
    tie_tolerance: float = Field(1e-3, ge=0, description="Fitness differences up to this are "
                                 "ties in a tournament (the penalties still rank elites).")
    elitism: int = Field(2, ge=0, description="Elites kept per species.")
    target_score: float = Field(0.95, ge=0, le=1, description="Mean episode score that stops "
                                                              "the run.")
    max_rounds: int = Field(1024, ge=1, le=2**31)
    max_effects: int = Field(5_000_000, ge=1, le=2**62)
    policy: int = Field(FREEZE, ge=1, le=3, description="1 freeze, 2 clamp, 3 quench.")
    penalties: Penalties = Penalties()
    selection: Literal["species", "nsga2"] = Field(
        "species", description="species: tournaments and elites within species; nsga2: "
        "non-dominated sorting of (score, -connections, -internal bits, -oscillation).")
    novelty: float = Field(1.0, ge=0, le=1, description="Weight of fitness against novelty "
                           "(1: fitness only; 0: novelty only).")
    novelty_k: int = Field(15, ge=1, le=1000, description="Neighbours a novelty is the mean "
                           "distance to.")
    threads: int = Field(1, ge=1, le=256)


@dataclass
class GenerationStats:
    generation: int
    best_fitness: float
    mean_fitness: float
    best_score: float
    species: int
    evaluations: int
    front: int = 0
    """NSGA-II runs: the size of the first non-dominated front of the survivors."""


@dataclass
class MycosRun:
    """The state of a run between generations (everything the next one needs)."""

    config: MycosEvolveConfig
    task: Task
    population: list[MycosGenome]
    evolver: Evolver
    """Selection and breeding, with their state (species, NSGA-II survivors, novelty)."""
    generation: int = 0
    evaluations: int = 0
    history: list[GenerationStats] = field(default_factory=list)
    champion: MycosGenome | None = None
    champion_fitness: float = -np.inf
    champion_score: float = 0.0
    generation_solved: int | None = None

    # what NSGA-II's survival keeps (a checkpoint's restore checks their shapes)
    @property
    def parents(self) -> list[MycosGenome]:
        """NSGA-II runs: last generation's survivors, and their objectives."""
        return getattr(self.evolver.survival, "parents", [])

    @property
    def parent_objectives(self) -> np.ndarray:
        return getattr(self.evolver.survival, "parent_objectives", np.zeros((0, 0)))


def make_evolver(config: MycosEvolveConfig) -> Evolver:
    """The Mycos design's selection: species with elites and tournaments (or NSGA-II over
    the objective vector), crossover and mutation with their rates, and a novelty archive
    (used when ``novelty`` is below 1)."""
    if config.selection == "nsga2":
        survival: Any = Nsga2Survivors(config.pop)
        selection: Any = CrowdedTournament()
    else:
        survival = SpeciesElites(
            config.elitism, Speciation(target=config.species_target, threshold=0.5)
            if config.speciation else None, var.feature_rows, var.row_distances)
        selection = Tournament(config.tournament_k, config.tie_tolerance)
    return Evolver(survival, selection, Variation(config.crossover_rate, config.mutation_rate),
                   novelty=NoveltyArchive(k=config.novelty_k), novelty_weight=config.novelty)


def start(config: MycosEvolveConfig, task: Task) -> MycosRun:
    """Generation 0: random networks with the task's chunks and IO bits, unique seeds."""
    rng = Rng(config.seed)
    pop = [var.random_genome(DrawStream(rng, STREAM_INIT, 0, i), task.io.inputs,
                             task.io.outputs, seed=rng.u64(STREAM_INIT, 1, i, 0))
           for i in range(config.pop)]
    return MycosRun(config, task, pop, make_evolver(config))


def step(run: MycosRun) -> GenerationStats:
    """Evaluate the current population, record it, and breed the next one (unless solved)."""
    cfg = run.config
    guards = Guards(max_rounds=cfg.max_rounds, max_effects=cfg.max_effects, policy=cfg.policy)
    result = evaluate_task(run.task, run.population, guards, cfg.penalties, cfg.threads)
    fitness = result.fitness
    scores = result.scores.mean(axis=1)
    run.evaluations += len(run.population)
    best = int(np.argmax(fitness))                        # ties: the lower index
    if fitness[best] > run.champion_fitness:
        run.champion, run.champion_fitness = run.population[best], float(fitness[best])
        run.champion_score = float(scores[best])
    if run.generation_solved is None and scores.max() >= cfg.target_score:
        run.generation_solved = run.generation
        solvers = np.flatnonzero(scores >= cfg.target_score)
        solver = int(solvers[np.argmax(fitness[solvers])])    # the fittest that solves it
        run.champion, run.champion_fitness = run.population[solver], float(fitness[solver])
        run.champion_score = float(scores[solver])
    behaviour = None
    if cfg.novelty < 1:
        behaviour = run.task.observed(result.seen).reshape(len(run.population), -1)
    if cfg.selection == "nsga2":
        mating = run.evolver.tell(objectives=result.objectives, behaviour=behaviour,
                                  genomes=run.population)
        species = np.zeros(len(run.population), dtype=np.int64)
        front = mating.extra["front"]
    else:
        mating = run.evolver.tell(fitness, behaviour=behaviour, genomes=run.population)
        species, front = mating.species, 0
    stats = GenerationStats(run.generation, float(result.fitness.max()),
                            float(result.fitness.mean()), float(scores.max()),
                            int(species.max()) + 1, run.evaluations, front)
    run.history.append(stats)
    if run.generation_solved is None:
        rng, generation = Rng(cfg.seed), run.generation
        brood = run.evolver.ask(lambda k: DrawStream(rng, STREAM_BREED, generation, k), var,
                                genome=run.population.__getitem__)
        run.population = ([run.population[i] for i in mating.kept.tolist()]
                          + [o.genome for o in brood])
    run.generation += 1
    return stats


def state_hash(run: MycosRun) -> str:
    """Digest of the generation number and every genome's canonical JSON."""
    h = hashlib.blake2b(digest_size=32)
    h.update(run.generation.to_bytes(8, "little"))
    for g in run.population:
        h.update(to_json(g).encode())
    return h.hexdigest()


def evolve(config: MycosEvolveConfig, task: Task,
           report: Callable[[GenerationStats], None] | None = None) -> MycosRun:
    """Run until the target score is reached or ``gens`` generations have been evaluated."""
    return timed_evolve(config, task, None, report)[0]


def write_run(run: MycosRun, out: RunDirectory, wall_seconds: float) -> dict:
    """champion.json, champion/ (its .myc files), evaluations.csv and summary.json."""
    assert run.champion is not None
    out.write_text("champion.json", to_json(run.champion))
    write_phenotype(compile_genome(run.champion), out.file("champion"))
    out.write_csv("evaluations.csv", ["generation", "best_fitness", "mean_fitness",
                                      "best_score", "species", "evaluations", "front"],
                  ([s.generation, round(s.best_fitness, 6), round(s.mean_fitness, 6),
                    round(s.best_score, 6), s.species, s.evaluations, s.front]
                   for s in run.history))
    summary = {"task": run.task.name, "best_fitness": run.champion_fitness,
               "best_score": run.champion_score, "generation_solved": run.generation_solved,
               "generations": run.generation, "evaluations": run.evaluations,
               "state_hash": state_hash(run), "wall_seconds": round(wall_seconds, 3),
               "config": run.config.model_dump()}
    out.write_json("summary.json", summary)
    return summary


CHECKPOINT = "checkpoint.json"
CHECKPOINT_VERSION = 4
"""3: sealed with a digest (``seal``); 4: the evolver's state under ``evolver`` (3 is still
read)."""
EVOLVER_KEYS = ("speciation", "novelty", "parents", "parent_objectives")
"""Where version 3 kept what is now the evolver's state."""
MAX_CHECKPOINT_BYTES = 1 << 30
"""Largest checkpoint.json read."""


def checkpoint(run: MycosRun) -> dict:
    """Everything the next generation needs, as plain JSON data (no pickle)."""
    return {
        "version": CHECKPOINT_VERSION, "config": run.config.model_dump(),
        "task": run.task.model_dump(), "generation": run.generation,
        "evaluations": run.evaluations,
        "population": [to_dict(g) for g in run.population],
        "history": [vars(h) for h in run.history],
        "champion": to_dict(run.champion) if run.champion is not None else None,
        "champion_fitness": run.champion_fitness if run.champion is not None else None,
        "champion_score": run.champion_score, "generation_solved": run.generation_solved,
        "evolver": run.evolver.state(to_dict),
    }


def restore(data: dict) -> MycosRun:
    """The run a checkpoint describes; ConfigError or GenomeError if it is malformed."""
    try:
        if data.get("version") == 3:
            data = {**{k: v for k, v in data.items() if k not in EVOLVER_KEYS},
                    "evolver": {k: data[k] for k in EVOLVER_KEYS}}
        elif data.get("version") != CHECKPOINT_VERSION:
            raise ConfigError(f"checkpoint: version {data.get('version')!r}; this Primordia "
                              f"reads versions 3 and {CHECKPOINT_VERSION}")
        config = MycosEvolveConfig.model_validate(data["config"])
        task = Task.model_validate(data["task"])
        for name, low, high in (("generation", 0, 2**62), ("evaluations", 0, 2**62)):
            if type(data[name]) is not int or not low <= data[name] <= high:
                raise ConfigError(f"checkpoint: {name} {data[name]!r} is not an integer in "
                                  f"{low}..{high}")
        # lengths before any genome is decoded: the config bounds the work
        for name, low, high, what in (
                ("population", config.pop, config.pop, "the config's pop"),
                ("history", data["generation"], data["generation"], "one per generation")):
            if not isinstance(data[name], list) or not low <= len(data[name]) <= high:
                raise ConfigError(f"checkpoint: {name} must be a list of {what} ({low}.."
                                  f"{high} entries)")
        if data["champion"] is None and data["generation"] > 0:
            raise ConfigError("checkpoint: a run past generation 0 has a champion")
        width = len(task.episodes) * task.tick_budget * len(task.io.outputs)
        evolver = make_evolver(config)
        try:
            evolver.load_state(data["evolver"], from_dict, behaviour_width=width)
        except ConfigError as exc:
            raise ConfigError(f"checkpoint: {exc}") from None
        run = MycosRun(
            config, task, [from_dict(g) for g in data["population"]], evolver,
            generation=int(data["generation"]), evaluations=int(data["evaluations"]),
            history=[GenerationStats(int(h["generation"]), float(h["best_fitness"]),
                                     float(h["mean_fitness"]), float(h["best_score"]),
                                     int(h["species"]), int(h["evaluations"]),
                                     int(h["front"]))
                     for h in data["history"]],
            champion=from_dict(data["champion"]) if data["champion"] is not None else None,
            champion_fitness=(float(data["champion_fitness"])
                              if data["champion"] is not None else -np.inf),
            champion_score=float(data["champion_score"]),
            generation_solved=data["generation_solved"])
    except GenomeError as exc:
        raise GenomeError(f"checkpoint: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"checkpoint: malformed ({describe(exc)})") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        said = " ".join(str(exc).split())[:200]
        raise ConfigError(f"checkpoint: malformed ({type(exc).__name__}: {said})") from None
    solved = data.get("generation_solved")
    if solved is not None and not (type(solved) is int and 0 <= solved <= run.generation):
        raise ConfigError("checkpoint: generation_solved must be null or a generation "
                          "already run")
    if not (math.isfinite(run.champion_fitness) or run.champion is None):
        raise ConfigError("checkpoint: champion_fitness must be a finite number")
    if run.parents and run.parent_objectives.shape[1] != (4 if config.novelty == 1 else 5):
        raise ConfigError("checkpoint: evolver: parent_objectives must hold one row of "
                          "objectives per parent")
    if len(run.population) != config.pop:
        raise ConfigError(f"checkpoint: {len(run.population)} genomes for a population of "
                          f"{config.pop}")
    return run


def seal(doc: dict) -> dict:
    """The checkpoint document with its digest (of its canonical JSON; see
    ``runs.checkpoint.checkpoint_digest``), as it is written."""
    body = json.loads(json.dumps(doc))
    return {**body, DIGEST: checkpoint_digest({}, body)}


def save_checkpoint(run: MycosRun, out: RunDirectory) -> None:
    write_atomic(out.file(CHECKPOINT), json.dumps(seal(checkpoint(run))).encode())


def load_checkpoint(directory: str | Path) -> MycosRun:
    """The run a checkpoint.json holds: read (up to MAX_CHECKPOINT_BYTES), checked against
    its digest, then every value checked (``restore``)."""
    path = Path(directory) / CHECKPOINT
    try:
        with path.open("rb") as f:
            text = f.read(MAX_CHECKPOINT_BYTES + 1)
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    if len(text) > MAX_CHECKPOINT_BYTES:
        raise InputFileError(f"{path}: larger than {MAX_CHECKPOINT_BYTES} bytes, more than a "
                             "checkpoint holds")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}: not JSON ({str(exc)[:120]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a checkpoint")
    digest = data.pop(DIGEST, None)
    if not isinstance(digest, str):
        raise InputFileError(f"{path}: has no digest, so it cannot be checked (an older "
                             "Primordia or another program wrote it); start the run again")
    if checkpoint_digest({}, data) != digest:
        raise InputFileError(f"{path} is damaged: its digest does not match its contents")
    try:
        return restore(data)
    except PrimordiaError as exc:
        raise type(exc)(f"{path}: {str(exc).removeprefix('checkpoint: ')}") from None


def timed_evolve(config: MycosEvolveConfig, task: Task, out: RunDirectory | None = None,
                 report: Callable[[GenerationStats], None] | None = None,
                 run: MycosRun | None = None, checkpoint_every: int = 10) -> tuple[MycosRun,
                                                                                    dict]:
    """Run (or continue ``run``) to the end, checkpointing every ``checkpoint_every``
    generations and at the end when ``out`` is given; write the run directory."""
    t0 = time.perf_counter()
    run = start(config, task) if run is None else run
    while run.generation < run.config.gens and run.generation_solved is None:
        stats = step(run)
        if report is not None:
            report(stats)
        if out is not None and checkpoint_every and run.generation % checkpoint_every == 0:
            save_checkpoint(run, out)
    wall = time.perf_counter() - t0
    summary = {}
    if out is not None:
        save_checkpoint(run, out)
        summary = write_run(run, out, wall)
    return run, summary
