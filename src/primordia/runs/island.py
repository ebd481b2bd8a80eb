"""One island: a short deterministic run of a world seeded with genomes from a global bank
(the founders), and how each founder's lineage did -- what a distributed worker computes and
the coordinator selects on. The world runs with the same engine as ``primordia run``
(``WorldRun.execute`` in memory); ``LineageObserver`` follows lineages tick by tick.

Lineages. Founder k is placed ``copies`` times (the first organisms of the start, founder-major;
the rest of the start is the world's own). An organism born on the island belongs to its first
parent's lineage (sandbox: parent ``a`` of the GA's crossover; hex: the eater that begot it);
archetypes, random refills, replacements and their descendants belong to no reported lineage.
A sandbox teaching rewrites a genome, not a lineage.

Statistics of a lineage (its members: founder copies and organisms born into it), observed at
the start and at the end of every tick (turn):

- ``organisms``: members that ever lived; ``survivors``: members alive at the end;
  ``offspring``: members born on the island.
- ``lifetime``: sum over tick ends of the members alive then (organism-ticks).
- ``area``: distinct cells where a member stood when observed (at the start or a tick end).
- ``net_energy`` -- sandbox: sum over members of 30 x food eaten (30 energy a meal) + energy at
  the member's last tick end alive - the start energy (100): a forager that eats and keeps its
  store scores high, one that starves -100. Hex: meals eaten by members - members starved.
- ``interactions`` -- sandbox: teachings given + teachings received (the sandbox's only
  per-NPC record of contact; trades, shares and attacks are counted only world-wide).
  Hex: organisms eaten by members + members eaten.

Per-member values are read at the member's last tick end alive, so what a member does in the
tick it dies in is not counted (hex: none of it matters -- an eater cannot die that turn).

Sample: living members of reported lineages; each lineage's queue is its survivors (founder
copies) then its offspring, each by age descending, then id; lineages (by founder id) give one
genome each in turn until ``sample`` are chosen; a genome equal to one already chosen is
skipped.

Cost: ``python benchmarks/bench_island.py`` (16 random founders, 1000 ticks, default
configs, kernels cached; 2 shared cores, one thread) measured 0.25-0.45 s for a sandbox island
(20 or 200 NPCs) and 0.6 s (neural) / 1.1-2.6 s (psil) for a hex island of 200 organisms;
the lineage observer adds little to the plain run (a hex run of the same size: 1.2 s).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numba import njit
from pydantic import Field, ValidationError, model_validator

from primordia.brains.base import Substrate
from primordia.core.config import FrozenModel, describe, integer, merged
from primordia.core.errors import ConfigError, GenomeError
from primordia.worlds.registry import WORLDS

from .world_run import Reporter, WorldRun

OBJECTIVES = ("lifetime", "net_energy", "offspring", "area", "interactions")
"""The order of ``fitness_vector``: all to be maximised."""
MAX_GENOME_HEX = 2 * 65536

class Founder(FrozenModel):
    """A genome from the bank: its id there and its canonical bytes as hex."""

    id: int = Field(ge=1, lt=2**63)
    genome: str = Field(max_length=MAX_GENOME_HEX)


class IslandSpec(FrozenModel):
    """Everything that determines an island (same spec, same outcome, on any machine)."""

    world: str = Field(max_length=64, description="A registered world (GET /v1/worlds).")
    brain: str = Field(max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(ge=0, lt=2**63)
    length: int = Field(ge=1, le=1_000_000, description="Ticks (sandbox) or turns (hex).")
    founders: list[Founder] = Field(min_length=1, max_length=4096)
    copies: int = Field(1, ge=1, le=1_000_000, description="Placements of each founder.")
    sample: int = Field(16, ge=0, le=1024, description="Genomes to return at most.")

    @model_validator(mode="after")
    def _consistent(self) -> "IslandSpec":
        if self.world not in WORLDS:
            raise ValueError(f"world {self.world!r}: not a world Primordia knows (known: "
                             f"{', '.join(WORLDS.names())})")
        kind = WORLDS.get(self.world)
        problem = kind.run_class.refusal(self.brain)
        if problem:
            raise ValueError(f"brain: {problem}")
        for key in ("seed", kind.length_key):
            if key in self.config:
                raise ValueError(f"config.{key}: set by the spec's "
                                 f"{'seed' if key == 'seed' else 'length'} field")
        ids = [f.id for f in self.founders]
        if len(set(ids)) != len(ids):
            dup = min(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"founders: id {dup} appears more than once")
        return self

    @classmethod
    def build(cls, values: dict[str, Any]) -> "IslandSpec":
        """Validate ``values``; a bad one raises ConfigError naming the key."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(f"island spec: {describe(exc)}") from None


COUNT = integer(ge=0, lt=2**62)
"""Every count a worker reports fits a signed 64-bit column (and a digest's JSON). The
outcome's numbers are integers as JSON has them (3.0 is 3; "3" and true are refused): it
arrives from workers, and the coordinator's published schema must say what it takes."""
FOUNDER = integer(ge=1, lt=2**63)


class LineageStats(FrozenModel):
    """How one founder's lineage did (definitions in the module docstring)."""

    founder: FOUNDER
    organisms: COUNT
    survivors: COUNT
    lifetime: COUNT
    net_energy: integer(gt=-2**62, lt=2**62)
    offspring: COUNT
    area: COUNT
    interactions: COUNT


class SampledGenome(FrozenModel):
    """A living member's genome: a founder copy (survivor) or one born on the island."""

    founder: FOUNDER
    genome: str = Field(max_length=MAX_GENOME_HEX)
    kind: Literal["survivor", "offspring"]
    age: COUNT


class IslandOutcome(FrozenModel):
    """The result the coordinator receives: a deterministic function of the spec."""

    world: str = Field(max_length=16)
    length: COUNT
    lineages: list[LineageStats] = Field(max_length=4096)
    sample: list[SampledGenome] = Field(max_length=1024)
    population: COUNT
    state_hash: str = Field(max_length=64)


def fitness_vector(stats: LineageStats) -> tuple[int, ...]:
    """The objectives of a lineage in ``OBJECTIVES`` order."""
    return tuple(int(getattr(stats, k)) for k in OBJECTIVES)


# ---- the observer ------------------------------------------------------------------------------

ORGANISMS, LIFETIME, OFFSPRING, AREA, VALUES = range(5)
"""Columns of the observer's per-lineage totals; VALUES.. are the world's per-member values
(net energy, interactions)."""
EMPTY_KEY = np.int64(-1)


@njit(cache=True, nogil=True)
def _insert(table, key):
    """Add ``key`` to the open-addressing set ``table`` (-1: empty); True if it was new."""
    mask = np.uint64(table.shape[0] - 1)
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    j = np.int64((h ^ (h >> np.uint64(32))) & mask)
    while True:
        k = table[j]
        if k == key:
            return False
        if k == -1:
            table[j] = key
            return True
        j = np.int64((np.uint64(j) + np.uint64(1)) & mask)


@njit(cache=True, nogil=True)
def _rehash(old, table):
    for j in range(old.shape[0]):
        if old[j] >= 0:
            _insert(table, old[j])


@njit(cache=True, nogil=True)
def observe(alive, ids, cells, values, death, born_lin, first, n_cells, tracked_id, lin_of,
            founder_copy, last, totals, visited):
    """One observation of every slot: a member that died or was replaced adds its last values
    (and its ``death`` values) to its lineage; an organism new in its slot joins lineage
    ``born_lin`` (-1: none) and counts as an organism (and offspring unless ``first``); each
    living member adds a tick of lifetime (unless ``first``) and its cell to ``visited``.
    Returns how many keys ``visited`` gained."""
    n_values = values.shape[1]
    gained = 0
    for i in range(alive.shape[0]):
        lin = lin_of[i]
        if lin >= 0:
            if alive[i] == 0 or ids[i] != tracked_id[i]:
                for k in range(n_values):
                    totals[lin, VALUES + k] += last[i, k] + death[i, k]
                lin_of[i] = -1
            else:
                for k in range(n_values):
                    last[i, k] = values[i, k]
        if alive[i] == 0:
            continue
        if ids[i] != tracked_id[i]:
            tracked_id[i] = ids[i]
            lin = born_lin[i]
            lin_of[i] = lin
            founder_copy[i] = first
            if lin >= 0:
                totals[lin, ORGANISMS] += 1
                if not first:
                    totals[lin, OFFSPRING] += 1
                for k in range(n_values):
                    last[i, k] = values[i, k]
        lin = lin_of[i]
        if lin >= 0:
            if not first:
                totals[lin, LIFETIME] += 1
            if _insert(visited, lin * n_cells + cells[i]):
                totals[lin, AREA] += 1
                gained += 1
    return gained


class LineageObserver(Reporter):
    """Follows the founders' lineages through a run (a ``Reporter``): a lineage per slot,
    updated where an organism id changed, per-lineage totals, and a set of visited
    (lineage, cell) pairs -- numpy and one kernel call per tick."""

    def __init__(self, founders: int, copies: int) -> None:
        self.founders, self.copies = founders, copies
        self.world: Any = None

    def _death(self, delta: Any) -> np.ndarray:
        death = self.run.death_values(delta, self.tracked_id)
        return self._no_death if death is None else death

    # ---- the hooks -----------------------------------------------------------------------------
    def started(self, run: WorldRun) -> None:
        self.run = run
        view = run.lineage_view()
        alive, ids, _, values, _ = view
        n, lineages = alive.shape[0], self.founders
        self.tracked_id = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        self.lin_of = np.full(n, -1, dtype=np.int64)
        self.founder_copy = np.zeros(n, dtype=np.bool_)
        self.last = np.zeros((n, values.shape[1]), dtype=np.int64)
        self.totals = np.zeros((lineages, VALUES + values.shape[1]), dtype=np.int64)
        self._no_death = np.zeros((n, values.shape[1]), dtype=np.int64)
        self.visited = np.full(1024, EMPTY_KEY, dtype=np.int64)
        self.n_visited = 0
        self.survivors = np.zeros(lineages, dtype=np.int64)
        live = np.flatnonzero(alive)
        live = live[np.argsort(ids[live], kind="stable")][:lineages * self.copies]
        born = np.full(n, -1, dtype=np.int64)
        born[live] = np.arange(live.size) // self.copies
        self._observe(view, born, self._no_death, True)

    def ticked(self, run: WorldRun, delta: Any = None) -> None:
        view = run.lineage_view()
        alive, ids = view[:2]
        new = np.flatnonzero((alive != 0) & (ids != self.tracked_id))
        born = np.full(alive.shape[0], -1, dtype=np.int64)
        members = np.flatnonzero(self.lin_of >= 0)
        if new.size and members.size:             # the parents lived at the last observation
            parents = run.parents(new)
            by_id = members[np.argsort(self.tracked_id[members])]
            known = self.tracked_id[by_id]
            at = np.minimum(np.searchsorted(known, parents), known.size - 1)
            born[new] = np.where(known[at] == parents, self.lin_of[by_id[at]], -1)
        self._observe(view, born, self._death(delta), False)

    def _observe(self, view, born: np.ndarray, death: np.ndarray, first: bool) -> None:
        alive, ids, cells, values, n_cells = view
        need = 2 * (self.n_visited + alive.shape[0])
        if need > self.visited.shape[0]:
            size = self.visited.shape[0]
            while size < need:
                size *= 2
            table = np.full(size, EMPTY_KEY, dtype=np.int64)
            _rehash(self.visited, table)
            self.visited = table
        self.n_visited += observe(alive, ids, np.ascontiguousarray(cells, dtype=np.int64),
                                  np.ascontiguousarray(values), death, born, first, n_cells,
                                  self.tracked_id, self.lin_of, self.founder_copy, self.last,
                                  self.totals, self.visited)

    def finished(self, run: WorldRun) -> None:
        """Members still alive are survivors; their last values close their lineages' sums."""
        live = np.flatnonzero(self.lin_of >= 0)
        lin = self.lin_of[live]
        self.survivors = np.bincount(lin, minlength=self.founders).astype(np.int64)
        for k in range(self.last.shape[1]):
            np.add.at(self.totals[:, VALUES + k], lin, self.last[live, k])

    # ---- results -------------------------------------------------------------------------------
    def stats(self, founder_ids: list[int]) -> list[LineageStats]:
        """One ``LineageStats`` per founder, in the order given."""
        t = self.totals.tolist()
        return [LineageStats(founder=fid, organisms=t[k][ORGANISMS],
                             survivors=int(self.survivors[k]), lifetime=t[k][LIFETIME],
                             net_energy=t[k][VALUES], offspring=t[k][OFFSPRING],
                             area=t[k][AREA], interactions=t[k][VALUES + 1])
                for k, fid in enumerate(founder_ids)]

    def sample(self, count: int, founder_ids: list[int], encode) -> list[SampledGenome]:
        """Up to ``count`` living members' genomes by the module's sample rule."""
        live = np.flatnonzero(self.lin_of >= 0)
        if count == 0 or live.size == 0:
            return []
        now = self.run.position()
        birth = self.run.birth_times()
        ids = self.tracked_id[live]
        age = now - birth[live]
        offspring = ~self.founder_copy[live]
        lin = self.lin_of[live]
        live = live[np.lexsort((ids, -age, offspring, lin))]
        queues: dict[int, list[int]] = {}
        for slot in live.tolist():
            queues.setdefault(int(self.lin_of[slot]), []).append(slot)
        out: list[SampledGenome] = []
        seen: set[str] = set()
        heads = {k: 0 for k in queues}
        while len(out) < count and heads:
            for k in sorted(heads):
                if len(out) == count:
                    break
                queue = queues[k]
                while heads[k] < len(queue):
                    slot = queue[heads[k]]
                    heads[k] += 1
                    g = encode(slot).hex()
                    if g not in seen:
                        seen.add(g)
                        out.append(SampledGenome(
                            founder=founder_ids[k], genome=g,
                            kind="offspring" if not self.founder_copy[slot] else "survivor",
                            age=int(now - birth[slot])))
                        break
                if heads[k] >= len(queue):
                    del heads[k]
        return out


# ---- running an island -------------------------------------------------------------------------

def island_config(spec: IslandSpec) -> Any:
    """The world's config: the spec's keys, with its seed and length."""
    kind = WORLDS.get(spec.world)
    values = merged({**spec.config, "seed": spec.seed, kind.length_key: spec.length},
                    {"brain": {"kind": spec.brain}})
    return kind.config_class.build(values, source="config")


def island_substrate(spec: IslandSpec, config: Any) -> Substrate:
    """The substrate the island's world runs (with the brain settings its config holds)."""
    return WORLDS.get(spec.world).run_class.substrate(config)


def decode_founder(substrate: Substrate, founder: Founder) -> Any:
    """The founder's genome, or a GenomeError naming the founder."""
    try:
        raw = bytes.fromhex(founder.genome)
    except ValueError:
        raise GenomeError(f"founder {founder.id}: genome is not hex") from None
    try:
        genome = substrate.decode(raw)
        substrate.validate(genome)
    except GenomeError as exc:
        raise GenomeError(f"founder {founder.id}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise GenomeError(f"founder {founder.id}: cannot decode the genome ({exc})") from None
    return genome


def run_island(spec: IslandSpec, threads: int = 1,
               reporters: list[Reporter] | None = None) -> IslandOutcome:
    """Run the island the spec describes and report its founders' lineages. ``reporters``
    also watch the run (after the lineage observer)."""
    config = island_config(spec)
    run_class = WORLDS.get(spec.world).run_class
    population = run_class.population(config)
    placed = len(spec.founders) * spec.copies
    if placed > population:
        raise ConfigError(f"founders: {len(spec.founders)} founders x {spec.copies} copies "
                          f"do not fit in a population of {population}")
    substrate = island_substrate(spec, config)
    genomes = [decode_founder(substrate, f) for f in spec.founders]
    founders = [g for g in genomes for _ in range(spec.copies)]
    observer = LineageObserver(len(genomes), spec.copies)
    run = run_class(config, threads=threads, brain=spec.brain, founders=founders,
                    reporters=[observer, *(reporters or [])])
    world = run.execute()
    ids = [f.id for f in spec.founders]
    lineages = sorted(observer.stats(ids), key=lambda s: s.founder)
    return IslandOutcome(world=spec.world, length=spec.length, lineages=lineages,
                         sample=observer.sample(spec.sample, ids, run.genome_bytes),
                         population=run.living(), state_hash=world.state_hash())
