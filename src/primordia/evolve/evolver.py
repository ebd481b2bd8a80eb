"""One way to evolve: an ask/tell ``Evolver`` (docs/architecture.md, "One way to evolve").

``tell`` hands the evolver an evaluated population -- one fitness per member (higher is
better), or rows of objectives for NSGA-II -- and returns what it decided (a ``Mating``: who
stays, who is replaced, who may parent). ``ask`` then makes the children, each with the
members it came from and, in a steady-state world, the member whose place it takes. The
evolver never looks inside a genome: the caller passes the variation operators (``vary``:
an object with ``crossover(a, b, draws)`` and ``mutate(genome, draws)``) and the draws.

Every loop of the project -- the sandbox's in-world GA, the Mycos task run, the island
breeder -- is one ``Evolver`` made of three parts, in the way of pymoo's algorithms:

- a **survival** (``ReplaceWorst``, ``SpeciesElites``, ``Nsga2Survivors``,
  ``ElitesAndRandoms``): from the told population, the members kept as they are, the groups
  parents come from and how many children each breeds;
- a **selection** (``Tournament``, ``CrowdedTournament``): one parent from a group;
- a **variation** (``Variation``): the one order of draws every child is made in -- first
  parent; [a draw for crossover]; second parent and crossover; [a draw for mutation];
  mutation.

What must outlive a generation (species representatives, NSGA-II's survivors, the novelty
archive) is the evolver's ``state``: plain JSON data that a checkpoint stores under the key
``"evolver"`` and ``load_state`` checks and restores. A stateless evolver's state is ``{}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Protocol, Sequence

import numpy as np

from primordia.core.errors import ConfigError
from primordia.core.rng import DrawStream

from . import nsga2
from .novelty import NoveltyArchive, blend
from .selection import elites, tournament
from .species import Speciation

Encode = Callable[[Any], Any]
"""A genome to JSON data (for the state of evolvers that keep genomes)."""
Decode = Callable[[Any], Any]
"""JSON data back to a genome (validating: it raises ``GenomeError`` on bad data)."""


class Vary(Protocol):
    """The variation operators of a substrate, with whatever settings the caller holds (a
    world's genome cap, say). Never returns an invalid genome."""

    def crossover(self, a: Any, b: Any, draws: DrawStream) -> Any: ...

    def mutate(self, genome: Any, draws: DrawStream) -> Any: ...


class Offspring(NamedTuple):
    """A child: its genome, the told members it came from (one or two) and the member
    whose place it takes (steady state; None in a new generation)."""

    genome: Any
    parents: tuple[int, ...]
    place: int | None = None


@dataclass
class Mating:
    """What ``tell`` decided. Indices are into the told population (or into ``genomes``
    when the survival keeps parents of its own, as NSGA-II does)."""

    groups: list[np.ndarray]                 # candidate parents, per group
    counts: list[int]                        # children each group breeds
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    replaced: np.ndarray | None = None       # places the children take, in order
    fitness: np.ndarray | None = None        # what tournaments compare
    rank: np.ndarray | None = None           # NSGA-II front and crowding per candidate
    crowd: np.ndarray | None = None
    genomes: Sequence[Any] | None = None     # parents' genomes, if the survival keeps them
    species: np.ndarray | None = None        # species of each told member (speciation)
    extra: dict[str, Any] = field(default_factory=dict)   # a survival's own results


# ---- variation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variation:
    """How a child is made. A rate of None means always, without a draw (the sandbox crosses
    every child; the island breeder mutates every child)."""

    crossover_rate: float | None = None
    mutation_rate: float | None = None

    def child(self, pick: Callable[[DrawStream], int], genome: Callable[[int], Any],
              vary: Vary, draws: DrawStream, can_cross: bool = True
              ) -> tuple[Any, tuple[int, ...]]:
        """A child and its parents, drawn in the one order every loop keeps."""
        a = pick(draws)
        if can_cross and (self.crossover_rate is None or draws.chance(self.crossover_rate)):
            b = pick(draws)
            child, parents = vary.crossover(genome(a), genome(b), draws), (a, b)
        else:
            child, parents = genome(a), (a,)
        if self.mutation_rate is None or draws.chance(self.mutation_rate):
            child = vary.mutate(child, draws)
        return child, parents


# ---- selection ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tournament:
    """The fittest of ``k`` drawn with replacement (``selection.tournament``: ties, and
    differences up to ``tolerance``, go to the first drawn)."""

    k: int = 3
    tolerance: float = 0.0

    def pick(self, mating: Mating, group: np.ndarray, draws: DrawStream) -> int:
        return tournament(mating.fitness, group, self.k, draws, self.tolerance)


@dataclass(frozen=True)
class CrowdedTournament:
    """NSGA-II's binary tournament over every candidate: lower front, then more room."""

    def pick(self, mating: Mating, group: np.ndarray, draws: DrawStream) -> int:
        return nsga2.crowded_tournament(mating.rank, mating.crowd, draws)


# ---- survival ----------------------------------------------------------------------------------
@dataclass
class ReplaceWorst:
    """Steady state (the sandbox's GA): the bottom ``replace_share`` (at least one) is
    replaced by children of the top ``pool_share``. Ranking is by fitness, ties to the
    member told first; the replaced take children in ascending ``places`` order."""

    pool_share: float = 0.5
    replace_share: float = 0.25

    def tell(self, fitness: np.ndarray, places: np.ndarray | None = None, **_: Any) -> Mating:
        n = fitness.shape[0]
        rank = np.argsort(-fitness, kind="stable")
        replaced = rank[n - max(1, int(n * self.replace_share)):]
        if places is not None:
            replaced = replaced[np.argsort(places[replaced], kind="stable")]
        else:
            replaced = np.sort(replaced)
        return Mating([rank[:int(n * self.pool_share)]], [replaced.size], replaced=replaced,
                      fitness=fitness)

    def state(self, encode: Encode) -> dict[str, Any]:
        return {}

    def load_state(self, data: dict[str, Any], decode: Decode) -> None:
        pass


@dataclass
class SpeciesElites:
    """Generational with species (NEAT-style, the Mycos design): each species keeps its
    ``elitism`` fittest and breeds a share of the rest in proportion to its mean fitness
    (largest remainders), parents from within the species. ``speciation`` None: one
    species. ``rows(genomes)`` and ``metric(row, block)`` give the speciation distance."""

    elitism: int = 2
    speciation: Speciation | None = None
    rows: Callable[[Sequence[Any]], np.ndarray] | None = None
    metric: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def tell(self, fitness: np.ndarray, genomes: Sequence[Any] | None = None,
             **_: Any) -> Mating:
        n = fitness.shape[0]
        if self.speciation is None:
            species = np.zeros(n, dtype=np.int64)
        else:
            sp = self.speciation
            species = sp.assign_rows(genomes, self.rows(genomes), self.rows(sp.representatives),
                                     self.metric)
        groups = [np.flatnonzero(species == s) for s in range(int(species.max()) + 1)]
        keep: list[int] = []
        for members in groups:
            keep += elites(fitness, members, min(self.elitism, members.size)).tolist()
        keep = keep[:n]
        mean = np.array([fitness[m].mean() for m in groups])
        counts = shares(mean - mean.min() + 1e-3, n - len(keep))
        return Mating(groups, counts.tolist(), kept=np.array(keep, dtype=np.int64),
                      fitness=fitness, species=species)

    def state(self, encode: Encode) -> dict[str, Any]:
        if self.speciation is None:
            return {}
        sp = self.speciation
        return {"speciation": {"target": sp.target, "threshold": sp.threshold, "step": sp.step,
                               "min_threshold": sp.min_threshold,
                               "representatives": [encode(g) for g in sp.representatives]}}

    def load_state(self, data: dict[str, Any], decode: Decode) -> None:
        if self.speciation is None:
            return
        sp = data["speciation"]
        if not (isinstance(sp["target"], int) and sp["target"] >= 1
                and all(isinstance(sp[k], (int, float)) and math.isfinite(sp[k]) and sp[k] > 0
                        for k in ("threshold", "step", "min_threshold"))):
            raise ConfigError("speciation needs a target >= 1 and finite threshold, step and "
                              "min_threshold above 0")
        self.speciation = Speciation(
            target=int(sp["target"]), threshold=float(sp["threshold"]), step=float(sp["step"]),
            min_threshold=float(sp["min_threshold"]),
            representatives=[decode(g) for g in sp["representatives"]])


@dataclass
class Nsga2Survivors:
    """NSGA-II's elitist step: last generation's survivors and the told population
    (survivors first) compete for ``size`` places by front, then crowding; the survivors are
    the next parents (kept in the state) and every child is bred from them."""

    size: int
    parents: list[Any] = field(default_factory=list)
    parent_objectives: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def tell(self, fitness: np.ndarray, objectives: np.ndarray | None = None,
             genomes: Sequence[Any] | None = None, **_: Any) -> Mating:
        pool = self.parents + list(genomes)
        F = objectives if not self.parents else np.vstack([self.parent_objectives, objectives])
        keep = nsga2.select(F, self.size, duplicates_last=True)
        self.parents = [pool[i] for i in keep.tolist()]
        self.parent_objectives = F[keep]
        rank, crowd = nsga2.rank_and_crowding(self.parent_objectives)
        return Mating([np.arange(len(self.parents))], [self.size], rank=rank, crowd=crowd,
                      genomes=self.parents, extra={"front": int((rank == 0).sum())})

    def state(self, encode: Encode) -> dict[str, Any]:
        return {"parents": [encode(g) for g in self.parents],
                "parent_objectives": self.parent_objectives.tolist()}

    def load_state(self, data: dict[str, Any], decode: Decode) -> None:
        parents = data["parents"]
        if not isinstance(parents, list) or len(parents) > self.size:
            raise ConfigError(f"parents must be a list of at most {self.size} genomes")
        objectives = finite_rows(data["parent_objectives"], "parent_objectives")
        self.parents = [decode(g) for g in parents]
        self.parent_objectives = objectives
        if len(self.parents) != len(objectives):
            raise ConfigError("parent_objectives must hold one row of objectives per parent")


@dataclass
class ElitesAndRandoms:
    """The island breeder's generation: NSGA-II keeps the best ``elite_share`` of ``size``
    (``elite``), a random ``random_share`` of the rest is kept too, and crowded tournaments
    over every ranked member breed the remaining places. Stateless: a pure function of the
    told vectors and the draws."""

    size: int
    elite_share: float
    random_share: float

    def elite(self, objectives: np.ndarray) -> np.ndarray:
        n = min(objectives.shape[0], round(self.elite_share * self.size))
        return nsga2.select(objectives, n, duplicates_last=True)

    def tell(self, fitness: np.ndarray, objectives: np.ndarray | None = None,
             places: np.ndarray | None = None, draws: DrawStream | None = None,
             **_: Any) -> Mating:
        """``places``: each member's label (a bank id); the random keeps draw from the
        rest in label order."""
        rank, crowd = nsga2.rank_and_crowding(objectives)
        elite = self.elite(objectives)
        rest = sorted(set(range(objectives.shape[0])) - set(elite.tolist()),
                      key=None if places is None else places.__getitem__)
        randoms = []
        for _ in range(min(len(rest), round(self.random_share * self.size))):
            randoms.append(rest.pop(draws.integer(0, len(rest))))
        count = self.size - elite.size - len(randoms)
        return Mating([np.arange(objectives.shape[0])], [count],
                      kept=np.concatenate([elite, np.array(randoms, dtype=np.int64)]),
                      rank=rank, crowd=crowd, extra={"elite": elite, "randoms": randoms})

    def state(self, encode: Encode) -> dict[str, Any]:
        return {}

    def load_state(self, data: dict[str, Any], decode: Decode) -> None:
        pass


# ---- the evolver -------------------------------------------------------------------------------
@dataclass
class Evolver:
    """Ask/tell evolution: ``tell`` the evaluated population, ``ask`` for the children.
    With a ``novelty`` archive, behaviours told are scored for novelty, which selection sees
    blended into fitness with ``novelty_weight`` (and as one more objective for NSGA-II)."""

    survival: Any
    selection: Any
    variation: Variation
    novelty: NoveltyArchive | None = None
    novelty_weight: float = 1.0
    mating: Mating | None = None

    def tell(self, fitness: np.ndarray | None = None, *, objectives: np.ndarray | None = None,
             behaviour: np.ndarray | None = None, genomes: Sequence[Any] | None = None,
             places: np.ndarray | None = None, draws: DrawStream | None = None) -> Mating:
        """Take the population's results; returns (and keeps, for ``ask``) what was decided.
        ``places``: where each member lives (a world's slots): children take the places of
        the replaced in ascending place order. ``draws``: for survivals that draw (who is
        kept at random)."""
        if self.novelty is not None and behaviour is not None:
            novelty = self.novelty.score(np.asarray(behaviour, dtype=np.float64))
            if fitness is not None:
                fitness = blend(fitness, novelty, self.novelty_weight)
            if objectives is not None:
                objectives = np.column_stack([objectives, novelty])
        self.mating = self.survival.tell(fitness, objectives=objectives, genomes=genomes,
                                         places=places, draws=draws)
        return self.mating

    def ask(self, draws: Callable[[int], DrawStream], vary: Vary,
            genome: Callable[[int], Any] | None = None,
            parent: Callable[[int, DrawStream], int] | None = None,
            can_cross: bool = True) -> list[Offspring]:
        """The children of the last ``tell``: child k is made with ``draws(k)`` (the same
        stream for every k, or one per child). ``genome(i)`` is member i's genome (not
        needed when the survival keeps the parents' genomes); ``parent(i, draws)`` may put
        another member (any key ``genome`` knows) in place of the one selection picked."""
        m = self.mating
        if m is None:
            raise RuntimeError("ask() before tell()")
        if m.genomes is not None:
            genome = m.genomes.__getitem__
        out: list[Offspring] = []
        for group, count in zip(m.groups, m.counts):
            def pick(d: DrawStream, group: np.ndarray = group) -> int:
                chosen = self.selection.pick(m, group, d)
                return chosen if parent is None else parent(chosen, d)
            for _ in range(count):
                k = len(out)
                child, parents = self.variation.child(pick, genome, vary, draws(k), can_cross)
                place = None if m.replaced is None else int(m.replaced[k])
                out.append(Offspring(child, parents, place))
        return out

    # ---- state: what a checkpoint keeps ---------------------------------------------------
    def state(self, encode: Encode = lambda g: g) -> dict[str, Any]:
        """Everything beyond the population that decides the next children, as JSON data."""
        out = dict(self.survival.state(encode))
        if self.novelty is not None:
            a = self.novelty
            out["novelty"] = {"k": a.k, "threshold": a.threshold, "idle": a.idle,
                              "archive": a.archive.tolist()}
        return out

    def load_state(self, data: Any, decode: Decode = lambda g: g,
                   behaviour_width: int | None = None) -> None:
        """Restore a ``state`` (untrusted: every value is checked; ConfigError names the
        key). ``behaviour_width``: the values of one novelty row, if known."""
        if not isinstance(data, dict):
            raise ConfigError("evolver: must be an object")
        try:
            self.survival.load_state(data, decode)
            if self.novelty is not None:
                self.novelty = _novelty(data["novelty"], behaviour_width)
        except ConfigError as exc:
            raise ConfigError(f"evolver: {exc}") from None


def _novelty(data: dict[str, Any], width: int | None) -> NoveltyArchive:
    archive = finite_rows(data["archive"], "novelty.archive")
    k, threshold, idle = data["k"], data["threshold"], data["idle"]
    if not (type(k) is int and 1 <= k <= 1000 and type(idle) is int and idle >= 0
            and type(threshold) in (int, float) and math.isfinite(threshold)
            and threshold > 0):
        raise ConfigError("novelty needs k in 1..1000, idle >= 0 and a finite threshold "
                          "above 0")
    if width is not None and archive.size and archive.shape[1] != width:
        raise ConfigError(f"novelty.archive rows must have {width} values (one per output, "
                          "tick and episode of the task)")
    return NoveltyArchive(k=k, threshold=float(threshold), idle=idle, archive=archive)


def finite_rows(rows: Any, name: str) -> np.ndarray:
    """A list of equally long lists of finite numbers as a 2-D array."""
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ConfigError(f"{name} must be a list of lists of numbers")
    if len({len(r) for r in rows}) > 1 or not all(
            type(v) in (int, float) for r in rows for v in r):
        raise ConfigError(f"{name} must be rows of finite numbers of one length")
    out = np.array(rows, dtype=np.float64) if rows else np.zeros((0, 0))
    if out.ndim != 2 or not np.isfinite(out).all():
        raise ConfigError(f"{name} must be rows of finite numbers of one length")
    return out


def shares(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` split in proportion to ``weights`` (largest remainders; ties: lower index)."""
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    w = weights / weights.sum() * total if weights.sum() > 0 else np.full(len(weights),
                                                                          total / len(weights))
    base = np.floor(w).astype(np.int64)
    rest = total - base.sum()
    order = np.lexsort((np.arange(len(w)), -(w - base)))
    base[order[:rest]] += 1
    return base
