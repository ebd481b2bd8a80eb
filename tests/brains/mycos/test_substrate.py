"""The mycos substrate as worlds find it in the registry: settings, variation that keeps genomes
valid and within the caps, canonical bytes, and a decoder that only ever says GenomeError."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.base import BrainIO, Substrate
from primordia.brains.mycos.brain import MycosBrain
from primordia.brains.mycos.genome import (INPUT, INTERNAL, OUTPUT, U32, ChunkGene, ConnGene,
                                           LinkGene, MycosGenome, validate)
from primordia.brains.mycos.settings import MycosSettings
from primordia.brains.mycos.substrate import MAX_TAG, MycosSubstrate, json_bound
from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream, Rng

from .conftest import genomes

HEX_LIKE = BrainIO(sensors=("look",), actions=("move", "left", "right", "confidence"),
                   action_levels=(2, 2, 2, 2))
TIGHT = dict(max_chunks=2, max_internal_bits=10, max_connections=12, max_links=3,
             max_io_bits=40, internal_bits=10, connections=12)
"""Small caps, so that evolution reaches them quickly."""


def draws(entity: int, tick: int = 0) -> DrawStream:
    return DrawStream(Rng(5), 1, tick, entity)


def test_the_registry_builds_it_with_its_settings():
    sub = SUBSTRATES.get("mycos", rounds=4, sensor_bits=2)
    assert isinstance(sub, MycosSubstrate) and isinstance(sub, Substrate)
    assert sub.name == "mycos" and sub.archetypes == {}
    assert MycosSubstrate.SETTINGS is MycosSettings
    assert sub.settings.rounds == 4 and sub.settings.sensor_bits == 2
    given_settings = MycosSettings(rounds=7)
    assert MycosSubstrate(settings=given_settings).settings is given_settings
    merged = MycosSubstrate(settings=given_settings, policy="parity_quench").settings
    assert (merged.rounds, merged.policy) == (7, "parity_quench")


@pytest.mark.parametrize("options", [
    {"rounds": 0}, {"rounds": 2000}, {"sensor_bits": 32}, {"action_bits": 17},
    {"policy": "melt"}, {"internal_bits": 100, "max_internal_bits": 50},
    {"inputs": 300, "max_io_bits": 256}, {"connections": True}, {"mutation_scale": -1},
    {"brain_size": 3}, {"settings": {"rounds": 3}}, {"io": "hex"},
])
def test_bad_options_are_one_line_config_errors(options):
    with pytest.raises(ConfigError) as exc:
        SUBSTRATES.get("mycos", **options)
    assert "\n" not in str(exc.value)


def test_new_networks_fit_the_layout_when_the_substrate_knows_it():
    g = MycosSubstrate(io=HEX_LIKE).random(draws(0))
    assert (g.chunks[0].ni, g.chunks[0].no) == ((1 + 1) * 4, 4 * 4)     # look and the clock
    g = MycosSubstrate(io=HEX_LIKE, clock=False).random(draws(0))
    assert (g.chunks[0].ni, g.chunks[0].no) == (1 * 4, 4 * 4)
    g = MycosSubstrate().random(draws(0))
    assert (g.chunks[0].ni, g.chunks[0].no) == (32, 16)
    g = MycosSubstrate(io=HEX_LIKE, inputs=9, outputs=3).random(draws(0))
    assert (g.chunks[0].ni, g.chunks[0].no) == (9, 3)


def within(g: MycosGenome, s: MycosSettings) -> bool:
    validate(g, s.caps)
    return True


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([{}, TIGHT]))
def test_random_mutate_and_crossover_keep_genomes_valid_and_within_the_caps(seed, options):
    sub = MycosSubstrate(mutation_scale=3.0, **options)
    rng = Rng(seed)
    pop = [sub.random(DrawStream(rng, 2, 0, k)) for k in range(4)]
    for g in pop:
        assert within(g, sub.settings)
    for t in range(1, 25):
        d = DrawStream(rng, 3, t, 0)
        child = sub.crossover(pop[d.integer(0, 4)], pop[d.integer(0, 4)], d)
        child = sub.mutate(child, d)
        sub.validate(child)
        assert within(child, sub.settings)
        assert len(sub.encode(child)) <= sub.max_genome_bytes
        pop[d.integer(0, 4)] = child


@settings(max_examples=60, deadline=None)
@given(genomes())
def test_encode_and_decode_round_trip(g):
    sub = MycosSubstrate()
    data = sub.encode(g)
    assert isinstance(data, bytes) and sub.decode(data) == g
    assert sub.encode(sub.decode(data)) == data


def test_a_genome_at_the_caps_fits_max_genome_bytes():
    sub = MycosSubstrate(**TIGHT)
    c = sub.caps
    chunk = ChunkGene(
        ni=c.max_io_per_chunk, no=c.max_io_per_chunk, nn=c.max_nn_per_chunk,
        inputs_init=2**c.max_io_per_chunk - 1, outputs_init=2**c.max_io_per_chunk - 1,
        internals_init=2**c.max_nn_per_chunk - 1,
        conns=tuple(ConnGene(from_section=INTERNAL, from_index=k % c.max_nn_per_chunk,
                             order_tag=U32 - k, to_section=OUTPUT, to_index=39, trigger=2,
                             action=2) for k in range(c.max_conns_per_chunk)))
    links = tuple(LinkGene(from_chunk=0, from_out_idx=39, order_tag=U32 - k, to_chunk=1,
                           to_in_idx=39, trigger=2, action=2) for k in range(c.max_links))
    g = MycosGenome(chunks=(chunk,) * c.max_chunks, links=links, seed=2**64 - 1,
                    tag="\U0001f344" * MAX_TAG)
    sub.validate(g)
    assert len(sub.encode(g)) <= sub.max_genome_bytes == json_bound(c)
    assert sub.decode(sub.encode(g)) == g


def test_decode_refuses_what_the_caps_or_the_size_bound_refuse():
    sub = MycosSubstrate(**TIGHT)
    small = (ChunkGene(ni=1, no=1, nn=0),)
    wide = MycosGenome(chunks=(ChunkGene(ni=41, no=1, nn=0),))
    with pytest.raises(GenomeError, match="ni"):
        sub.decode(MycosSubstrate().encode(wide))
    with pytest.raises(GenomeError, match="bytes; at most"):
        sub.decode(b" " * (sub.max_genome_bytes + 1))
    with pytest.raises(GenomeError, match="tag"):
        sub.decode(MycosSubstrate().encode(MycosGenome(chunks=small, tag="x" * 65)))
    with pytest.raises(GenomeError):
        sub.decode("not bytes")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)


def decode_or_genome_error(data: bytes) -> None:
    try:
        MycosSubstrate().decode(data)
    except GenomeError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoding_arbitrary_bytes_raises_nothing_but_genome_error(data):
    decode_or_genome_error(data)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_decoding_arbitrary_json_raises_nothing_but_genome_error(value):
    decode_or_genome_error(json.dumps(value).encode())
    decode_or_genome_error(json.dumps({"chunks": [value], "links": value}).encode())


@settings(max_examples=200, deadline=None)
@given(genomes(), st.data())
def test_decoding_damaged_genomes_raises_nothing_but_genome_error(g, data):
    raw = bytearray(MycosSubstrate().encode(g))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    decode_or_genome_error(bytes(raw))
    decode_or_genome_error(bytes(raw[:data.draw(st.integers(0, len(raw)))]))


def test_deep_nesting_and_huge_numbers_are_genome_errors():
    for data in (b"[" * 100_000, b'{"chunks": 1' + b"9" * 5000 + b"}", b"\xff\xfe"):
        with pytest.raises(GenomeError):
            MycosSubstrate().decode(data)


def test_the_text_form_names_every_gene():
    g = MycosGenome(chunks=(
        ChunkGene(ni=1, no=1, nn=1, conns=(
            ConnGene(from_section=INPUT, from_index=0, order_tag=3, to_section=INTERNAL,
                     to_index=0),)),
        ChunkGene(ni=1, no=1, nn=0)),
        links=(LinkGene(from_chunk=0, from_out_idx=0, order_tag=1, to_chunk=1, to_in_idx=0,
                        trigger=1, action=1),))
    text = MycosSubstrate().to_text(g)
    assert "2 chunks, 1 connection, 1 link" in text
    assert "In0 On -> Enable Int0  (tag 3)" in text
    assert "c0.Out0 Off -> Disable c1.In0  (tag 1)" in text


def test_the_view_shows_the_bits_as_they_stand():
    sub = MycosSubstrate()
    g = MycosGenome(chunks=(ChunkGene(ni=2, no=1, nn=1, internals_init=1, conns=(
        ConnGene(from_section=INPUT, from_index=0, order_tag=1, to_section=INTERNAL,
                 to_index=0, action=2),
        ConnGene(from_section=INTERNAL, from_index=0, order_tag=1, to_section=OUTPUT,
                 to_index=0, trigger=1))),))
    io = BrainIO(sensors=("a",), actions=("go",))
    brain = sub.compile([g], io, capacity=2)
    assert isinstance(brain, MycosBrain)
    actions = np.zeros((2, 1), np.int32)
    brain.step(np.array([[1], [0]], np.int32), actions, None)   # In0 rises (In1 is the clock)
    view = sub.view(brain, 0, g, io)
    MycosSubstrate.VIEW.model_validate(view)
    assert view["chunks"] == [{"chunk": 0, "inputs": "11", "internals": "0", "outputs": "1"}]
    assert actions[0, 0] == 1 and view["text"].startswith("mycos network")


def test_the_settings_are_flat_and_survive_toml():
    import tomllib

    s = MycosSettings(rounds=9, policy="parity_quench", clock=False, inputs=12)
    assert MycosSettings.build(tomllib.loads(s.to_toml())) == s
    assert MycosSettings.build(tomllib.loads(MycosSettings().to_toml())) == MycosSettings()
