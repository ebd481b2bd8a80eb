"""Mycos variation: every operator, mutation and crossover keeps genomes valid, within the
caps and compilable, however often they are applied; each operator does what it says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.mycos import variation as v
from primordia.brains.mycos.compiler import compile_genome
from primordia.brains.mycos.genome import (DEFAULT_CAPS, INPUT, INTERNAL, OUTPUT, Caps,
                                           ChunkGene, ConnGene, MycosGenome, validate)
from primordia.core.rng import DrawStream, Rng, stream_id

from .conftest import genomes

STREAM = stream_id("test.mycos.variation")
SMALL = Caps(max_chunks=3, max_conns_per_chunk=6, max_links=4, max_nn_per_chunk=5)


def draws(seed: int, k: int = 0) -> DrawStream:
    return DrawStream(Rng(seed), STREAM, k, 0)


def small(g: MycosGenome) -> MycosGenome:
    """Cut a generated genome down to the SMALL caps (so that rollback is exercised)."""
    chunks = tuple(ChunkGene(ni=ch.ni, no=ch.no, nn=min(ch.nn, 5), conns=tuple(
        cn for cn in ch.conns if (cn.from_section != INTERNAL or cn.from_index < 5)
        and (cn.to_section != INTERNAL or cn.to_index < 5))[:6],
        internals_init=ch.internals_init & 31) for ch in g.chunks[:3])
    links = tuple(ln for ln in g.links if ln.from_chunk < 3 and ln.to_chunk < 3)[:4]
    return MycosGenome(chunks=chunks, links=links, seed=g.seed)


@settings(max_examples=150, deadline=None)
@given(genomes(), st.integers(0, 2**32), st.lists(st.integers(0, 11), min_size=1,
                                                   max_size=40))
def test_every_operator_any_number_of_times_keeps_the_genome_valid(g, seed, ops):
    d = draws(seed)
    for caps, genome in ((DEFAULT_CAPS, g), (SMALL, small(g))):
        validate(genome, caps)
        for k in ops:
            genome = v.apply(v.MUTATIONS[k][2], genome, d, caps)
            validate(genome, caps)
        compile_genome(genome, caps)


@settings(max_examples=100, deadline=None)
@given(genomes(), genomes(), st.integers(0, 2**32))
def test_mutation_and_crossover_chains_stay_valid_and_compile(a, b, seed):
    d = draws(seed)
    for caps, x, y in ((DEFAULT_CAPS, a, b), (SMALL, small(a), small(b))):
        for _ in range(15):
            x, y = v.mutate(x, d, caps, rates={"gate_insert": 0.3}), v.crossover(y, x, d, caps)
            validate(x, caps)
            validate(y, caps)
        compile_genome(x, caps)
        compile_genome(y, caps)


@settings(max_examples=50, deadline=None)
@given(genomes(), st.integers(0, 2**32))
def test_crossover_of_a_genome_with_itself_is_that_genome(g, seed):
    assert v.crossover(g, g, draws(seed)) == g


def test_the_same_draws_give_the_same_children():
    a = v.random_genome(draws(1), [(0, 0), (0, 1)], [(0, 2)], seed=1)
    b = v.random_genome(draws(2), [(0, 0), (0, 1)], [(0, 2)], seed=2)
    assert v.mutate(a, draws(3)) == v.mutate(a, draws(3))
    assert v.crossover(a, b, draws(4)) == v.crossover(a, b, draws(4))


def test_the_twelve_operators_and_their_default_rates():
    assert [name for name, _, _ in v.MUTATIONS] == [
        "add_connection", "remove_connection", "rewire_target", "flip_trigger", "flip_action",
        "bump_order", "add_internal_bits", "remove_unused_internal_bits", "add_link",
        "remove_link", "init_state_tweak", "gate_insert"]
    # independent chances, not a distribution: the Mycos design's add everything up to 0.97
    assert (v.DEFAULT_RATES["add_connection"], v.DEFAULT_RATES["gate_insert"]) == (0.20, 0.02)
    assert sum(v.DEFAULT_RATES.values()) == pytest.approx(0.97)


def conn(fs, fi, ts, ti, tag, trigger=0, action=0):
    return ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts, to_index=ti,
                    trigger=trigger, action=action)


BASE = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=4, internals_init=0b0110, conns=(
    conn(INPUT, 0, INTERNAL, 0, 3), conn(INTERNAL, 0, INTERNAL, 2, 1),
    conn(INTERNAL, 2, OUTPUT, 0, 1))),), seed=9)


def test_add_connection_takes_the_next_tag_of_its_source():
    for seed in range(40):
        g = v.add_connection(BASE, draws(seed))
        (new,) = set(g.chunks[0].conns) - set(BASE.chunks[0].conns)
        before = [c.order_tag for c in BASE.chunks[0].conns if c.source == new.source]
        assert new.order_tag == max(before, default=0) + 1


def test_flips_cycle_triggers_and_actions():
    g = BASE
    for _ in range(3):
        g = v.flip_trigger(g, draws(0))            # the same connection each time
    assert g == BASE
    one = v.flip_action(BASE, draws(5))
    changed = [(a.action, b.action) for a, b in zip(BASE.chunks[0].conns, one.chunks[0].conns)
               if a != b]
    assert changed in ([(0, 1)], [(1, 2)], [(2, 0)])


def test_removing_unused_internal_bits_moves_later_bits_down():
    for seed in range(30):
        g = v.remove_unused_internal_bits(BASE, draws(seed))
        ch = g.chunks[0]
        assert ch.nn in (2, 3)                     # bits 1 and 3 are unused
        kept = [0, 2] if ch.nn == 2 else None
        if kept:
            assert ch.internals_init == 0b10       # bit 2 (1) moved to 1; bit 0 (0) stays
            assert conn(INTERNAL, 0, INTERNAL, 1, 1) in ch.conns
            assert conn(INTERNAL, 1, OUTPUT, 0, 1) in ch.conns
        validate(g)


def test_gate_insert_splices_a_relay_chunk_with_four_links():
    g = v.gate_insert(BASE, draws(0))
    assert len(g.chunks) == 2 and len(g.links) == 4
    assert {ln.to_chunk for ln in g.links} == {0, 1} and {ln.from_chunk for ln in g.links} == {0, 1}
    validate(g)


def test_operators_beyond_the_caps_are_rolled_back():
    full = Caps(max_chunks=1, max_conns_per_chunk=3, max_links=0, max_nn_per_chunk=4)
    for op in (v.add_connection, v.add_internal_bits, v.gate_insert, v.add_link):
        assert v.apply(op, BASE, draws(1), full) == BASE


def test_random_genomes_have_the_task_bits_and_are_valid():
    g = v.random_genome(draws(7), [(0, 0)], [(1, 0)], seed=3)
    assert len(g.chunks) == 2 and g.seed == 3
    assert (g.chunks[0].ni, g.chunks[1].no) == (1, 1)
    assert g.chunks[0].no >= 1 and g.chunks[1].ni >= 1     # room for links between them
