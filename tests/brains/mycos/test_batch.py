"""The batched numba evaluator agrees with the reference bit for bit: outputs after every
tick and every metric, on the fixtures and on generated networks (10,000 per run)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.mycos.batch import evaluate
from primordia.brains.mycos.genome import (INPUT, INTERNAL, OUTPUT, ChunkGene, ConnGene,
                                           LinkGene, MycosGenome)
from primordia.brains.mycos.reference import CLAMP, FREEZE, QUENCH, Guards, run_episode

from .conftest import genomes
from .test_chunkfile import NETWORKS
from .test_reference import _ring3, _self_loop


def _io(genome_list, max_in=3, max_out=3):
    """Task-style IO: the first inputs and outputs of chunks 0 and 1, plus one that no network
    has (it must be ignored and read as 0)."""
    ins = [(0, i) for i in range(max_in)] + [(1, 0), (9, 0)]
    outs = [(0, o) for o in range(max_out)] + [(1, 0), (1, 2), (7, 1)]
    return ins, outs


def _overrides(rng, episodes):
    """Per episode 0-3 (chunk, internal bit, value) overrides, some for bits no network has
    and some naming one bit twice (the last wins)."""
    return [[(int(rng.integers(0, 3)), int(rng.integers(0, 7)), int(rng.integers(0, 2)))
             for _ in range(int(rng.integers(0, 4)))] for _ in range(episodes)]


def _reference(genome_list, ins, outs, values, guards, internals=None):
    seen = np.zeros((len(genome_list), values.shape[0], values.shape[1], len(outs)), np.uint8)
    metrics = np.zeros((len(genome_list), values.shape[0], 5), np.int64)
    for g, genome in enumerate(genome_list):
        for e in range(values.shape[0]):
            schedule = [[(c, i, int(values[e, t, k])) for k, (c, i) in enumerate(ins)]
                        for t in range(values.shape[1])]
            s, m = run_episode(genome, schedule, outs, guards,
                               internals[e] if internals else ())
            seen[g, e] = s
            metrics[g, e] = (m.rounds, m.effects_applied, m.oscillator, m.period,
                             m.policy_applied)
    return seen, metrics


def _agree(genome_list, values, guards, threads=1, internals=None):
    ins, outs = _io(genome_list)
    got = evaluate(genome_list, ins, outs, values, guards, threads=threads, internals=internals)
    want = _reference(genome_list, ins, outs, values, guards, internals)
    for g in range(len(genome_list)):
        assert np.array_equal(got[0][g], want[0][g]), genome_list[g]
        assert np.array_equal(got[1][g], want[1][g]), (genome_list[g], got[1][g], want[1][g])


@pytest.mark.parametrize("policy", [FREEZE, CLAMP, QUENCH])
@pytest.mark.parametrize("window", [0, 3, 8])
def test_fixtures_and_cycles_agree_with_the_reference(policy, window):
    nets = [MycosGenome(chunks=(NETWORKS[n],)) for n in sorted(NETWORKS)]
    nets += [_self_loop(), _ring3()]
    rng = np.random.default_rng(window + 10 * policy)          # test data only
    values = rng.integers(0, 2, (4, 5, 5)).astype(np.uint8)
    _agree(nets, values, Guards(policy=policy, window=window, max_rounds=60))


@settings(max_examples=60, deadline=None)
@given(st.lists(genomes(), min_size=1, max_size=6), st.integers(0, 2**32 - 1),
       st.sampled_from([FREEZE, CLAMP, QUENCH]), st.integers(0, 8), st.integers(1, 40))
def test_generated_networks_agree_with_the_reference(nets, seed, policy, window, max_effects):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2, (3, 4, 5)).astype(np.uint8)
    _agree(nets, values, Guards(policy=policy, window=window, max_rounds=40,
                                max_effects=max_effects * 3),
           internals=_overrides(rng, 3) if seed % 2 else None)


def random_network(rng: np.random.Generator) -> MycosGenome:
    """A valid random network of 1-3 chunks, dense enough to cycle often (test data)."""
    chunks = []
    for _ in range(int(rng.integers(1, 4))):
        ni, no, nn = (int(v) for v in rng.integers(0, 6, 3))
        sizes = {INPUT: ni, INTERNAL: nn, OUTPUT: no}
        edges = [e for e in ((INPUT, INTERNAL), (INTERNAL, INTERNAL), (INTERNAL, OUTPUT))
                 if sizes[e[0]] and sizes[e[1]]]
        conns, tags = [], {}
        for _ in range(int(rng.integers(0, 16)) if edges else 0):
            f, t = edges[int(rng.integers(0, len(edges)))]
            fi = int(rng.integers(0, sizes[f]))
            tags[(f, fi)] = tags.get((f, fi), 0) + int(rng.integers(1, 4))
            conns.append(ConnGene(from_section=f, from_index=fi, order_tag=tags[(f, fi)],
                                  to_section=t, to_index=int(rng.integers(0, sizes[t])),
                                  trigger=int(rng.integers(0, 3)),
                                  action=int(rng.integers(0, 3))))
        chunks.append(ChunkGene(ni=ni, no=no, nn=nn, conns=tuple(conns),
                                internals_init=int(rng.integers(0, 2**nn))))
    outs = [(c, o) for c, ch in enumerate(chunks) for o in range(ch.no)]
    ins = [(c, i) for c, ch in enumerate(chunks) for i in range(ch.ni)]
    links, tags = [], {}
    for _ in range(int(rng.integers(0, 4)) if outs and ins else 0):
        fc, fo = outs[int(rng.integers(0, len(outs)))]
        tc, ti = ins[int(rng.integers(0, len(ins)))]
        tags[(fc, fo)] = tags.get((fc, fo), 0) + 1
        links.append(LinkGene(from_chunk=fc, from_out_idx=fo, order_tag=tags[(fc, fo)],
                              to_chunk=tc, to_in_idx=ti, trigger=int(rng.integers(0, 3)),
                              action=int(rng.integers(0, 3))))
    return MycosGenome(chunks=tuple(chunks), links=tuple(links))


@pytest.mark.parametrize("part", range(4))
def test_ten_thousand_generated_networks_agree_with_the_reference(part):
    """2,500 networks per part, 2 episodes of 3 ticks each, the policies in turn."""
    rng = np.random.default_rng(1000 + part)
    nets = [random_network(rng) for _ in range(2500)]
    values = rng.integers(0, 2, (2, 3, 5)).astype(np.uint8)
    guards = Guards(policy=(FREEZE, CLAMP, QUENCH, FREEZE)[part], window=(8, 8, 8, 2)[part],
                    max_rounds=64)
    _agree(nets, values, guards, threads=2 if part % 2 else 1,
           internals=_overrides(rng, 2) if part >= 2 else None)
    _, metrics = evaluate(nets, *_io(nets), values, guards)
    assert metrics[:, :, 2].sum() > 50          # cycles are common enough to be tested


def test_episode_overrides_set_initial_internal_bits():
    """An input pulse flips the internal bit; the internal bit's rising edge sets the output,
    its falling edge clears it. Starting at 0 the output ends 1; an episode that overrides
    the internal bit to 1 sees it fall instead, and the output stays 0."""
    flip = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=1, conns=(
        ConnGene(INPUT, 0, 1, INTERNAL, 0, trigger=0, action=2),
        ConnGene(INTERNAL, 0, 1, OUTPUT, 0, trigger=0, action=0),
        ConnGene(INTERNAL, 0, 2, OUTPUT, 0, trigger=1, action=1))),))
    values = np.ones((3, 1, 1), dtype=np.uint8)
    sets = [[], [(0, 0, 1)], [(0, 0, 1), (5, 0, 1), (0, 3, 1), (0, 0, 0)]]
    seen, _ = evaluate([flip], [(0, 0)], [(0, 0)], values, internals=sets)
    assert seen[0, :, 0, 0].tolist() == [1, 0, 1]  # absent bits ignored; the last value wins
    want, _ = _reference([flip], [(0, 0)], [(0, 0)], values, Guards(), sets)
    assert np.array_equal(seen, want)


def test_negative_bits_and_non_bit_values_are_refused():
    """The kernel trusts its maps: a negative (chunk, bit) would index another network's
    bits, and a value of 2 would spill into the next bit of the packed state."""
    nets = [MycosGenome(chunks=(NETWORKS[n],)) for n in sorted(NETWORKS)][:2]
    ones = np.ones((1, 1, 1), dtype=np.uint8)
    for ins, outs, sets in (([(-1, 0)], [(0, 0)], None), ([(0, 0)], [(0, -1)], None),
                            ([(0, 0)], [(0, 0)], [[(0, -1, 1)]])):
        with pytest.raises(ValueError, match="counted from 0"):
            evaluate(nets, ins, outs, ones, internals=sets)
    with pytest.raises(ValueError, match="bits"):
        evaluate(nets, [(0, 0)], [(0, 0)], ones * 2)
