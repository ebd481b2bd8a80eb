"""The reference tick: wavefront rounds, resolution by order tag, links across chunks, guards,
and what each oscillation policy does when the state cycles."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.mycos.genome import (DISABLE, ENABLE, FLIP, INPUT, INTERNAL, OFF, ON,
                                           OUTPUT, TOGGLE, ChunkGene, ConnGene, LinkGene,
                                           MycosGenome)
from primordia.brains.mycos.reference import CLAMP, FREEZE, QUENCH, Guards, run_episode

from .conftest import genomes
from .test_chunkfile import NETWORKS


def conn(fs, fi, ts, ti, tag, trigger=ON, action=ENABLE):
    return ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts, to_index=ti,
                    trigger=trigger, action=action)


def one(chunk: ChunkGene) -> MycosGenome:
    return MycosGenome(chunks=(chunk,))


def test_tiny_toggle_passes_a_rising_input_through_to_its_output():
    seen, m = run_episode(one(NETWORKS["tiny_toggle"]), [[(0, 0, 1)], [(0, 0, 1)]], [(0, 0)])
    assert seen == [[1], [1]]
    assert (m.rounds, m.effects_applied, m.oscillator) == (2, 2, False)  # nothing in tick 2


def test_the_oscillator_fixture_never_moves_without_an_edge():
    """Int0 starts at 1, but Prev starts equal to the initial bits: no edge, no event."""
    seen, m = run_episode(one(NETWORKS["oscillator_2cycle"]), [[], []], [(0, 0)])
    assert seen == [[0], [0]] and m.rounds == 0


@pytest.mark.parametrize("tags,expected", [
    ((5, 9), 0),        # the Disable from In1 has the higher tag
    ((9, 5), 1),        # the Enable from In0 has the higher tag
    ((5, 5), 0),        # equal tags: the later proposal (In1, higher bit) wins
])
def test_conflicts_resolve_by_highest_tag_then_last_proposal(tags, expected):
    start = 1 - expected                    # Int0 starts at the other value; Out0 follows it
    chunk = ChunkGene(ni=2, no=1, nn=1, internals_init=start, outputs_init=start, conns=(
        conn(INPUT, 0, INTERNAL, 0, tags[0], action=ENABLE),
        conn(INPUT, 1, INTERNAL, 0, tags[1], action=DISABLE),
        conn(INTERNAL, 0, OUTPUT, 0, 1, trigger=ON, action=ENABLE),
        conn(INTERNAL, 0, OUTPUT, 0, 2, trigger=OFF, action=DISABLE)))
    seen, _ = run_episode(one(chunk), [[(0, 0, 1), (0, 1, 1)]], [(0, 0)])
    assert seen == [[expected]]


def test_on_proposals_come_before_off_proposals():
    """In0 rises and In1 falls in the same round, equal tags: Off is emitted later and wins."""
    chunk = ChunkGene(ni=2, no=1, nn=1, inputs_init=0b10, conns=(
        conn(INPUT, 0, INTERNAL, 0, 7, trigger=ON, action=DISABLE),
        conn(INPUT, 1, INTERNAL, 0, 7, trigger=OFF, action=ENABLE),
        conn(INTERNAL, 0, OUTPUT, 0, 1)))
    seen, _ = run_episode(one(chunk), [[(0, 0, 1), (0, 1, 0)]], [(0, 0)])
    assert seen == [[1]]


def test_links_carry_a_chain_across_chunks_within_one_tick():
    relay = ChunkGene(ni=1, no=1, nn=1, conns=(conn(INPUT, 0, INTERNAL, 0, 1),
                                               conn(INTERNAL, 0, OUTPUT, 0, 1)))
    genome = MycosGenome(chunks=(relay, relay), links=(
        LinkGene(from_chunk=0, from_out_idx=0, order_tag=1, to_chunk=1, to_in_idx=0,
                 trigger=TOGGLE, action=FLIP),))
    seen, m = run_episode(genome, [[(0, 0, 1)]], [(0, 0), (1, 0)])
    assert seen == [[1, 1]] and m.rounds == 5      # Int0, Out0, link, Int0, Out0


def _self_loop():
    """In0 starts Int0 flipping, and every flip of Int0 flips it again: period 2."""
    return one(ChunkGene(ni=1, no=1, nn=1, conns=(
        conn(INPUT, 0, INTERNAL, 0, 1, action=FLIP),
        conn(INTERNAL, 0, INTERNAL, 0, 1, trigger=TOGGLE, action=FLIP),
        conn(INTERNAL, 0, OUTPUT, 0, 2, trigger=TOGGLE, action=FLIP))))


def _ring3():
    """In0 starts a flip that runs around three internals for ever: period 6."""
    return one(ChunkGene(ni=1, no=0, nn=3, conns=(
        conn(INPUT, 0, INTERNAL, 0, 1, action=FLIP),
        conn(INTERNAL, 0, INTERNAL, 1, 1, trigger=TOGGLE, action=FLIP),
        conn(INTERNAL, 1, INTERNAL, 2, 1, trigger=TOGGLE, action=FLIP),
        conn(INTERNAL, 2, INTERNAL, 0, 1, trigger=TOGGLE, action=FLIP))))


@pytest.mark.parametrize("network,period", [(_self_loop, 2), (_ring3, 6)])
@pytest.mark.parametrize("policy", [FREEZE, CLAMP, QUENCH])
def test_cycles_are_found_with_their_period_and_every_policy_ends_the_tick(network, period,
                                                                           policy):
    seen, m = run_episode(network(), [[(0, 0, 1)]], [], Guards(policy=policy))
    assert m.oscillator and m.period == period and m.policy_applied == policy
    assert m.rounds < 4 * period + 4                # found within a few turns, not the guard


def test_freeze_returns_the_internals_and_outputs_to_the_start_of_the_tick():
    seen, m = run_episode(_self_loop(), [[(0, 0, 1)]], [(0, 0)], Guards(policy=FREEZE))
    assert seen == [[0]]


def test_without_a_window_the_round_guard_ends_the_tick_and_the_next_starts_quiet():
    """The guard cuts the flipping; Prev = Curr at the end of the tick leaves no edge."""
    seen, m = run_episode(_self_loop(), [[(0, 0, 1)], [(0, 0, 0)], [(0, 0, 1)]], [(0, 0)],
                          Guards(window=0, max_rounds=50))
    assert not m.oscillator and m.rounds == 100             # 50 + 0 + 50


def test_the_effect_guard_stops_new_rounds():
    _, m = run_episode(_self_loop(), [[(0, 0, 1)]], [], Guards(window=0, max_effects=7))
    assert m.effects_applied == 7 or m.effects_applied == 8    # a round is never cut short


@settings(max_examples=150, deadline=None)
@given(genomes(), st.sampled_from([FREEZE, CLAMP, QUENCH]), st.integers(0, 2**16))
def test_any_network_finishes_every_tick_within_the_guards(genome, policy, pattern):
    ins = [(c, i) for c, ch in enumerate(genome.chunks) for i in range(ch.ni)]
    schedule = [[(c, i, pattern >> (t * 3 + k) & 1) for k, (c, i) in enumerate(ins)]
                for t in range(4)]
    guards = Guards(policy=policy, max_rounds=200)
    _, m = run_episode(genome, schedule, [], guards)
    assert m.rounds <= 4 * 200
    again = run_episode(genome, schedule, [], guards)[1]
    assert again == m                                       # deterministic
