"""The Mycos design's six normative conformance tests, one each. Other files test each part
in depth; these state the design's checks as it wrote them."""

from __future__ import annotations

import numpy as np

from primordia.brains.mycos import variation as v
from primordia.brains.mycos.batch import evaluate
from primordia.brains.mycos.compiler import compile_genome
from primordia.brains.mycos.genome import (DISABLE, ENABLE, FLIP, INPUT, INTERNAL, OUTPUT,
                                           TOGGLE, ChunkGene, ConnGene, MycosGenome, validate)
from primordia.brains.mycos.reference import CLAMP, FREEZE, QUENCH, Guards
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.runs.mycos_run import MycosEvolveConfig, evolve
from primordia.tasks.scoring import evaluate_task
from primordia.tasks.task import load_task

STREAM = stream_id("test.mycos.conformance")


def conn(fs, fi, ts, ti, tag, trigger=0, action=ENABLE):
    return ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts, to_index=ti,
                    trigger=trigger, action=action)


def population(n: int, seed: int) -> list[MycosGenome]:
    task = load_task("T01_xor2")
    return [v.random_genome(DrawStream(Rng(seed), STREAM, 0, i), task.io.inputs,
                            task.io.outputs) for i in range(n)]


def test_1_determinism_same_seeds_same_fitness_and_metrics():
    task = load_task("T03_pulse_counter")
    a = evaluate_task(task, population(200, 1))
    b = evaluate_task(task, population(200, 1))
    assert np.array_equal(a.fitness, b.fitness) and np.array_equal(a.metrics, b.metrics)
    assert np.array_equal(a.seen, evaluate_task(task, population(200, 1), threads=2).seen)


def test_2_resolve_semantics_highest_order_tag_wins():
    chunk = ChunkGene(ni=1, no=3, nn=2, conns=(
        conn(INPUT, 0, INTERNAL, 0, 1, action=ENABLE),      # three effects on Int0 at once:
        conn(INPUT, 0, INTERNAL, 0, 7, action=DISABLE),     # the tag-7 Disable wins over
        conn(INPUT, 0, INTERNAL, 0, 4, action=ENABLE),      # Enables tagged 1 and 4
        conn(INPUT, 0, INTERNAL, 1, 2, action=DISABLE),     # and on Int1 the tag-9 Enable
        conn(INPUT, 0, INTERNAL, 1, 9, action=ENABLE),
        conn(INTERNAL, 0, OUTPUT, 0, 1, trigger=TOGGLE, action=FLIP),
        conn(INTERNAL, 1, OUTPUT, 1, 1, trigger=TOGGLE, action=FLIP)))
    seen, _ = evaluate([MycosGenome(chunks=(chunk,))], [(0, 0)], [(0, 0), (0, 1)],
                       np.ones((1, 1, 1), dtype=np.uint8))
    assert seen[0, 0, 0].tolist() == [0, 1]        # Int0 stayed 0 (no flip), Int1 became 1


def test_3_oscillation_detection_sets_the_period_and_every_policy_terminates():
    two_cycle = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=1, conns=(
        conn(INPUT, 0, INTERNAL, 0, 1, action=FLIP),
        conn(INTERNAL, 0, INTERNAL, 0, 1, trigger=TOGGLE, action=FLIP))),))
    for policy in (FREEZE, CLAMP, QUENCH):
        _, metrics = evaluate([two_cycle], [(0, 0)], [(0, 0)],
                              np.array([[[1], [0], [1]]], dtype=np.uint8), Guards(policy=policy))
        rounds, _, oscillator, period, applied = metrics[0, 0].tolist()
        assert (oscillator, period, applied) == (1, 2, policy)
        assert rounds < 3 * 16                      # far inside max_rounds per tick


def test_4_mutation_validity_after_many_mutations():
    d = DrawStream(Rng(4), STREAM, 1, 0)
    for g in population(20, 4):
        for _ in range(100):
            g = v.mutate(g, d)
        validate(g)
        compile_genome(g)


def test_5_crossover_validity_children_compile():
    d = DrawStream(Rng(5), STREAM, 2, 0)
    pop = population(40, 5)
    for k in range(200):
        child = v.crossover(pop[k % 40], pop[(7 * k + 3) % 40], d)
        validate(child)
        compile_genome(child)


def test_6_end_to_end_xor_is_solved_within_100_generations_at_the_defaults():
    """A fixed seed at the Mycos design's defaults (population 512); benchmarks/bench_mycos.py runs
    20 seeds."""
    run = evolve(MycosEvolveConfig(seed=1, gens=100), load_task("T01_xor2"))
    assert run.generation_solved is not None and run.generation_solved < 100
    assert run.champion_score >= 0.95
