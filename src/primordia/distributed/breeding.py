"""Global evolution between generations (docs/distributed.md, "A generation"), as pure functions
of the experiment, the generation number and the verified evidence, so that every coordinator --
restarted or not, on SQLite or PostgreSQL -- breeds the same genomes: rank the pool by NSGA-II
over the lineages' fitness vectors, keep the top share and a random share, refill by mutation
and crossover (parents picked by crowded tournament, sometimes replaced by a genome their
lineage evolved on an island) -- the project's one ``evolve.evolver.Evolver``, told the
vectors and asked for the children -- and spread the next pool over islands and niches.
All draws come from ``core.rng`` keyed by the experiment seed and the generation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from primordia.brains.base import Substrate
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.evolve.evolver import (CrowdedTournament, ElitesAndRandoms, Evolver,
                                      Variation)

from .experiment import ExperimentConfig
from .islands import limits, substrate_for, world_config

STREAM_INIT = stream_id("islands.init")
STREAM_KEEP = stream_id("islands.keep")
STREAM_BREED = stream_id("islands.breed")
STREAM_ASSIGN = stream_id("islands.assign")
STREAM_ISLAND = stream_id("islands.seed")
STREAM_SPOT = stream_id("islands.spot")


def breeding_substrate(exp: ExperimentConfig) -> tuple[Substrate, int]:
    """The substrate that varies the pool's genomes and the genome cap every niche takes."""
    configs = [world_config(exp.world, exp.brain, exp.niche_config(n), exp.seed, exp.length)
               for n in exp.niches]
    return (substrate_for(exp.world, configs[0]),
            min(limits(exp.world, c).max_genome for c in configs))


def first_pool(exp: ExperimentConfig, substrate: Substrate, max_len: int) -> list[Any]:
    """Generation 0: the substrate's archetypes (by name) while they last, then random
    genomes."""
    named = substrate.archetypes
    out = [named[k] for k in sorted(named)][:exp.pool]
    rng = Rng(exp.seed)
    for k in range(len(out), exp.pool):
        out.append(substrate.random(DrawStream(rng, STREAM_INIT, 0, k), max_len))
    return out


@dataclass
class Candidate:
    """A pool member with the mean of its lineages' fitness vectors over the islands it ran
    on (None: no island of it was decided), and the bank ids of genomes its lineages
    brought back."""

    genome_id: int
    vector: tuple[float, ...] | None
    samples: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Child:
    genome: Any
    origin: str                          # mutant | cross | random
    parents: tuple[tuple[int, str], ...]  # (bank id, role)


@dataclass
class Selection:
    """What a generation's close decides: front number per ranked member, who is kept
    (``elite``, ``randoms``) and the children that fill the next pool."""

    ranks: dict[int, int]
    elite: list[int]
    randoms: list[int]
    children: list[Child]

    @property
    def next_pool(self) -> int:
        return len(self.elite) + len(self.randoms) + len(self.children)


def evolver(exp: ExperimentConfig) -> Evolver:
    """The breeder's Evolver: NSGA-II elites and random keeps, crowded tournaments, and
    children that cross (with the crossover rate) and are always mutated."""
    sel = exp.selection
    return Evolver(ElitesAndRandoms(exp.pool, sel.elite_share, sel.random_share),
                   CrowdedTournament(), Variation(crossover_rate=sel.crossover_rate,
                                                  mutation_rate=None))


def elite_ids(exp: ExperimentConfig, candidates: Sequence[Candidate]) -> list[int]:
    """The members NSGA-II keeps as the elite (their evidence must be verified)."""
    ranked = [c for c in candidates if c.vector is not None]
    if not ranked:
        return []
    F = np.array([c.vector for c in ranked], dtype=np.float64)
    return [ranked[i].genome_id for i in evolver(exp).survival.elite(F).tolist()]


class _Varied:
    """The substrate's operators under the pool's genome cap."""

    def __init__(self, substrate: Substrate, max_len: int) -> None:
        self.substrate, self.max_len = substrate, max_len

    def crossover(self, a: Any, b: Any, draws: DrawStream) -> Any:
        return self.substrate.crossover(a, b, draws, self.max_len)

    def mutate(self, genome: Any, draws: DrawStream) -> Any:
        return self.substrate.mutate(genome, draws, self.max_len)


def select_and_breed(exp: ExperimentConfig, generation: int,
                     candidates: Sequence[Candidate], genomes: dict[int, Any],
                     substrate: Substrate, max_len: int) -> Selection:
    """The next pool of ``exp.pool`` genomes from ``candidates`` (sorted by id);
    ``genomes`` maps bank ids (members and samples) to genome objects."""
    rng, sel = Rng(exp.seed), exp.selection
    ranked = [c for c in candidates if c.vector is not None]
    if not ranked:                       # nothing was decided: start afresh, at random
        kids = [Child(substrate.random(DrawStream(rng, STREAM_BREED, generation, k),
                                       max_len), "random", ()) for k in range(exp.pool)]
        return Selection({}, [], [], kids)
    ids = np.array([c.genome_id for c in ranked], dtype=np.int64)
    ev = evolver(exp)
    mating = ev.tell(objectives=np.array([c.vector for c in ranked], dtype=np.float64),
                     places=ids, draws=DrawStream(rng, STREAM_KEEP, generation, 0))

    def parent(i: int, d: DrawStream) -> int:
        """A crowded-tournament winner, or now and then a genome its lineage evolved."""
        c = ranked[i]
        if c.samples and d.chance(sel.sample_use):
            return c.samples[d.integer(0, len(c.samples))]
        return c.genome_id

    brood = ev.ask(lambda k: DrawStream(rng, STREAM_BREED, generation, k),
                   _Varied(substrate, max_len), genome=genomes.__getitem__, parent=parent,
                   can_cross=len(ranked) > 1)
    children = [Child(o.genome, "cross", ((o.parents[0], "first"), (o.parents[1], "second")))
                if len(o.parents) == 2 else Child(o.genome, "mutant", ((o.parents[0], "first"),))
                for o in brood]
    ranks = {c.genome_id: int(r) for c, r in zip(ranked, mating.rank.tolist())}
    return Selection(ranks, ids[mating.extra["elite"]].tolist(),
                     sorted(ids[mating.extra["randoms"]].tolist()), children)


def assign(exp: ExperimentConfig, generation: int, pool: Sequence[int]) -> list[list[int]]:
    """Founders per island: the pool shuffled, then dealt round the islands in turn, so each
    genome runs on islands x founders / pool islands (+-1), in varied company."""
    order = sorted(pool)
    d = DrawStream(Rng(exp.seed), STREAM_ASSIGN, generation, 0)
    for i in range(len(order) - 1, 0, -1):
        j = d.integer(0, i + 1)
        order[i], order[j] = order[j], order[i]
    p, f = len(order), exp.founders
    return [[order[(i * f + j) % p] for j in range(f)] for i in range(exp.islands)]


def island_seed(exp: ExperimentConfig, generation: int, island: int) -> int:
    return Rng(exp.seed).u64(STREAM_ISLAND, generation, island, 0) >> 1


def spot_checked(exp: ExperimentConfig, generation: int, island: int) -> bool:
    """Whether this island is re-run even when a trusted worker ran it (a fixed draw, so a
    worker cannot tell from the job which islands are checked)."""
    return Rng(exp.seed).random(STREAM_SPOT, generation, island, 0) < \
        exp.verification.spot_check
