"""The ask/tell Evolver: tell it results, ask it for children. It learns on a toy problem,
its state survives a trip through checkpoint JSON, the same draws give the same children,
the sandbox's GA through it is the GA the sandbox always had, and tournament ties go to the
first drawn."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from primordia.core.errors import ConfigError
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.evolve.evolver import (CrowdedTournament, ElitesAndRandoms, Evolver,
                                      Nsga2Survivors, ReplaceWorst, SpeciesElites, Tournament,
                                      Variation, shares)
from primordia.evolve.novelty import NoveltyArchive
from primordia.evolve.selection import tournament
from primordia.evolve.species import Speciation

STREAM = stream_id("test.evolver")
BITS = 24


class Bits:
    """A toy substrate: a genome is an int of BITS bits; fitness counts its ones."""

    @staticmethod
    def crossover(a: int, b: int, draws: DrawStream) -> int:
        cut = draws.integer(1, BITS)
        low = (1 << cut) - 1
        return (a & low) | (b & ~low & ((1 << BITS) - 1))

    @staticmethod
    def mutate(g: int, draws: DrawStream) -> int:
        return g ^ (1 << draws.integer(0, BITS))


def ones(pop: list[int]) -> np.ndarray:
    return np.array([bin(g).count("1") for g in pop], dtype=np.float64)


def rows(genomes) -> np.ndarray:
    return np.array([[(g >> k) & 1 for k in range(BITS)] for g in genomes],
                    dtype=np.float64).reshape(len(genomes), BITS)


def hamming(row: np.ndarray, block: np.ndarray) -> np.ndarray:
    return np.abs(block - row).sum(axis=1)


def generational(seed: int = 1, speciate: bool = True) -> Evolver:
    return Evolver(SpeciesElites(1, Speciation(target=3, threshold=4.0) if speciate else None,
                                 rows, hamming),
                   Tournament(k=3), Variation(crossover_rate=0.7, mutation_rate=0.9),
                   novelty=NoveltyArchive(k=3), novelty_weight=0.8)


def draws_for(seed: int, generation: int):
    return lambda k: DrawStream(Rng(seed), STREAM, generation, k)


def run_generations(ev: Evolver, pop: list[int], first: int, count: int, seed: int = 1):
    for gen in range(first, first + count):
        fit = ones(pop)
        m = ev.tell(fit, behaviour=rows(pop), genomes=pop)
        brood = ev.ask(draws_for(seed, gen), Bits, genome=pop.__getitem__)
        pop = [pop[i] for i in m.kept.tolist()] + [o.genome for o in brood]
    return pop


# ---- ask/tell on a toy problem ---------------------------------------------------------------
def test_a_generational_evolver_learns_onemax_by_ask_and_tell():
    pop = [0] * 40
    start = ones(pop).max()
    pop = run_generations(generational(), pop, 0, 40)
    assert len(pop) == 40
    assert ones(pop).max() >= start + 15


def test_a_steady_state_evolver_replaces_the_worst_in_place():
    pop = [0] * 16
    ev = Evolver(ReplaceWorst(), Tournament(k=3), Variation(None, 1.0))
    slots = np.arange(100, 116)[::-1].copy()            # where each member lives
    for t in range(60):
        m = ev.tell(ones(pop), places=slots)
        d = DrawStream(Rng(2), STREAM, t, 0)
        brood = ev.ask(lambda k: d, Bits, genome=pop.__getitem__)
        assert len(brood) == 4 and [o.place for o in brood] == m.replaced.tolist()
        assert sorted(slots[m.replaced].tolist()) == slots[m.replaced].tolist()
        worst = set(np.argsort(-ones(pop), kind="stable")[12:].tolist())
        assert set(m.replaced.tolist()) == worst
        assert all(len(o.parents) == 2 and set(o.parents) <= set(m.groups[0].tolist())
                   for o in brood)
        for o in brood:
            pop[o.place] = o.genome
    assert ones(pop).max() >= 12


def test_ask_before_tell_is_a_mistake():
    with pytest.raises(RuntimeError):
        generational().ask(draws_for(1, 0), Bits, genome=lambda i: 0)


# ---- state through checkpoint data -------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: generational(),
    lambda: Evolver(Nsga2Survivors(24), CrowdedTournament(), Variation(0.5, 0.8),
                    novelty=NoveltyArchive(k=3), novelty_weight=0.5),
], ids=["species", "nsga2"])
def test_state_round_trips_through_checkpoint_json(make):
    def gens(ev, pop, first, count):
        for gen in range(first, first + count):
            objectives = np.column_stack([ones(pop), -np.array(pop, dtype=np.float64) % 7])
            m = ev.tell(ones(pop), objectives=objectives, behaviour=rows(pop), genomes=pop)
            brood = ev.ask(draws_for(5, gen), Bits, genome=pop.__getitem__)
            pop = [pop[i] for i in m.kept.tolist()] + [o.genome for o in brood]
        return pop

    straight = make()
    pop = gens(straight, [0] * 24, 0, 3)
    saved = json.loads(json.dumps(straight.state(encode=hex)))      # what a checkpoint holds
    assert saved and saved["novelty"]["archive"]
    end = gens(straight, pop, 3, 3)
    resumed = make()
    resumed.load_state(saved, decode=lambda text: int(text, 16))
    assert resumed.state(encode=hex) == saved
    assert gens(resumed, pop, 3, 3) == end
    assert resumed.state(encode=hex) == straight.state(encode=hex)


def test_a_stateless_evolver_has_an_empty_state():
    ev = Evolver(ReplaceWorst(), Tournament(), Variation())
    assert ev.state() == {}
    ev.load_state({})


@pytest.mark.parametrize("edit,words", [
    (lambda s: s["speciation"].update(target=0), "speciation"),
    (lambda s: s["novelty"].update(threshold=float("nan")), "novelty"),
    (lambda s: s["novelty"].update(archive=[[1.0], [1.0, 2.0]]), "novelty.archive"),
])
def test_a_damaged_state_is_refused_naming_the_key(edit, words):
    ev = generational()
    run_generations(ev, [0] * 12, 0, 2)
    state = json.loads(json.dumps(ev.state()))
    edit(state)
    with pytest.raises(ConfigError, match=f"evolver: .*{words}"):
        generational().load_state(state)


# ---- the same draws give the same children -----------------------------------------------------
def test_the_same_draws_give_the_same_children_and_other_draws_others():
    pop = [(k * 2654435761) % (1 << BITS) for k in range(30)]

    def children(seed):
        ev = generational(speciate=False)
        m = ev.tell(ones(pop), behaviour=rows(pop), genomes=pop)
        return m.kept.tolist(), ev.ask(draws_for(seed, 0), Bits, genome=pop.__getitem__)

    assert children(3) == children(3)
    assert children(3)[1] != children(4)[1]


def test_children_are_made_in_one_order_of_draws():
    """first parent; [crossover draw]; second parent and crossover; [mutation draw];
    mutation -- replayed here by hand from a copy of the same stream."""
    fit = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    ev = Evolver(ElitesAndRandoms(5, 0.0, 0.0), CrowdedTournament(), Variation(0.5, 0.5))
    mating = ev.tell(objectives=fit[:, None])
    (child,) = ev.ask(lambda k: DrawStream(Rng(7), STREAM, 0, 0), Bits,
                      genome=lambda i: 1 << i)[:1]
    d = DrawStream(Rng(7), STREAM, 0, 0)
    from primordia.evolve.nsga2 import crowded_tournament
    a = crowded_tournament(mating.rank, mating.crowd, d)
    g, parents = 1 << a, (a,)
    if d.chance(0.5):
        b = crowded_tournament(mating.rank, mating.crowd, d)
        g, parents = Bits.crossover(1 << a, 1 << b, d), (a, b)
    if d.chance(0.5):
        g = Bits.mutate(g, d)
    assert (child.genome, child.parents) == (g, parents)


# ---- tournaments --------------------------------------------------------------------------------
def test_tournament_ties_go_to_the_first_drawn():
    fit = np.zeros(10, dtype=np.int64)
    for entity in range(50):
        first = DrawStream(Rng(1), STREAM, 0, entity).integer(0, 10)
        assert tournament(fit, np.arange(10), 3, DrawStream(Rng(1), STREAM, 0, entity)) == first


def test_tournament_compares_integer_fitness_exactly():
    big = 2 ** 53
    fit = np.array([big, big + 1], dtype=np.int64)    # equal as floats, not as integers
    for entity in range(40):
        d = DrawStream(Rng(3), STREAM, 1, entity)
        probe = DrawStream(Rng(3), STREAM, 1, entity)
        picks = [probe.integer(0, 2) for _ in range(3)]
        assert tournament(fit, np.arange(2), 3, d) == (1 if 1 in picks else 0)


def test_a_tournament_tolerance_makes_near_ties_go_to_the_first_drawn():
    fit = np.array([1.0, 1.0005])
    for entity in range(40):
        first = DrawStream(Rng(2), STREAM, 2, entity).integer(0, 2)
        assert tournament(fit, np.arange(2), 2, DrawStream(Rng(2), STREAM, 2, entity),
                          tolerance=1e-3) == first


def test_offspring_shares_add_up_and_follow_the_weights():
    assert shares(np.array([1.0, 1.0, 2.0]), 8).tolist() == [2, 2, 4]
    assert shares(np.array([1.0, 1.0, 1.0]), 4).tolist() == [2, 1, 1]
    assert shares(np.array([0.0, 0.0]), 3).tolist() == [2, 1]
    assert shares(np.array([5.0]), 0).tolist() == [0]


# ---- the sandbox's GA ----------------------------------------------------------------------------
def old_sandbox_ga(w) -> None:
    """The sandbox's GA as it was before the Evolver (SandboxWorld.evolve and its own
    _tournament), kept here as the reference: rank by fitness then id, the bottom quarter
    replaced by children of best-of-three tournaments over the top half."""
    from primordia.worlds.sandbox.world import STREAM_GA
    s, cfg = w.state, w.config
    live = w.alive_slots()
    rank = live[np.lexsort((s.npc_id[live], -s.fitness[live]))]
    n = rank.size
    pool = rank[:n // 2]
    victims = np.sort(rank[n - max(1, n // 4):])
    draws = DrawStream(w.rng, STREAM_GA, w.tick_no, 0)

    def best_of_three() -> int:
        best = int(pool[draws.integer(0, pool.size)])
        for _ in range(2):
            other = int(pool[draws.integer(0, pool.size)])
            if s.fitness[other] > s.fitness[best]:
                best = other
        return best

    children, parents = [], []
    for _ in victims.tolist():
        a, b = best_of_three(), best_of_three()
        child = w.crossover(w.genomes[a], w.genomes[b], draws)
        if draws.random() < cfg.mutation_rate:
            child = w.substrate.mutate(child, draws, w.max_genome)
        children.append(child)
        parents.append((a, b))
    w.replace(victims, children, parents)
    w._refill(draws)


@pytest.mark.parametrize("changes", [{"seed": 1}, {"seed": 2, "crossover": "classic"},
                                     {"seed": 3, "mutation_rate": 0.3, "npcs": 13}])
def test_the_sandbox_ga_through_the_evolver_is_the_old_ga(changes):
    from primordia.brains.registry import SUBSTRATES
    from primordia.runs.sandbox_run import SandboxRun
    from primordia.worlds.sandbox.config import SandboxConfig

    cfg = SandboxConfig(**{"npcs": 40, "evolve_every": 4, **changes})
    new = SandboxRun.build(cfg, SUBSTRATES.get("psil"))
    old = SandboxRun.build(cfg, SUBSTRATES.get("psil"))
    old.evolve = lambda: old_sandbox_ga(old)
    for _ in range(10):
        new.run(4)
        old.run(4)
        assert new.state_hash() == old.state_hash()
    assert new.state.stats.sum() > 0 and new.next_id > cfg.npcs + 10


def test_a_world_never_imports_evolve():
    src = pathlib.Path(__file__).resolve().parents[2] / "src" / "primordia" / "worlds"
    for path in src.rglob("*.py"):
        text = path.read_text()
        assert "primordia.evolve" not in text and "from ...evolve" not in text, path
