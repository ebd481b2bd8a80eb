"""The neural genome: canonical form, validation that names the field, exact round trips,
and decoding that survives hostile bytes."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.brains.base import BrainIO
from primordia.brains.neural.genome import (MAX_GENOME_BYTES, NeuralGenome, action_ids_for,
                                            check_fits, confidence_slot, decode, encode,
                                            to_text, validate)
from primordia.core.errors import GenomeError

from .conftest import HEX_LIKE_IO, LEVELS_IO, genomes

NET = NeuralGenome(1, ((1000, 0.5), (1003, -0.25)), ((2000, 0.0), (2001, 1.0), (2002, -1.0)),
                   ((1003, 2001, 2.0), (0, 1000, -8.0), (1000, 1003, 7.5)))


def test_layout_gives_an_action_neuron_per_action_but_confidence():
    assert action_ids_for(HEX_LIKE_IO) == (2000, 2001, 2002)
    assert confidence_slot(HEX_LIKE_IO) == 3
    assert action_ids_for(LEVELS_IO) == (2000, 2002, 2003)     # slot 1 is the confidence
    assert confidence_slot(LEVELS_IO) == 1
    assert confidence_slot(BrainIO(("s",), ("a",))) == -1


def test_construction_sorts_into_canonical_order():
    assert NET.synapses == ((0, 1000, -8.0), (1000, 1003, 7.5), (1003, 2001, 2.0))
    assert NET.inter_ids == (1000, 1003)
    validate(NET)
    check_fits(NET, HEX_LIKE_IO)


@pytest.mark.parametrize("genome, field", [
    (NeuralGenome(True), "sensors"),
    (NeuralGenome(1001), "sensors"),
    (NeuralGenome(1, ((999, 0.0),)), "inter[0].id"),
    (NeuralGenome(1, ((1000, 0.0), (1000, 0.5))), "inter[1].id"),
    (NeuralGenome(1, ((1000, 8.5),)), "inter[0].bias"),
    (NeuralGenome(1, ((1000, float("nan")),)), "inter[0].bias"),
    (NeuralGenome(1, ((1000, 1),)), "inter[0].bias"),                    # ints are not floats
    (NeuralGenome(1, (), ((1999, 0.0),)), "actions[0].id"),
    (NeuralGenome(1, (), ((2000, 0.0),), ((1, 2000, 1.0),)), "synapses[0].pre"),
    (NeuralGenome(1, (), ((2000, 0.0),), ((2000, 2000, 1.0),)), "synapses[0].pre"),
    (NeuralGenome(1, ((1000, 0.0),), (), ((0, 0, 1.0),)), "synapses[0].post"),
    (NeuralGenome(1, ((1000, 0.0),), (), ((1000, 1000, 1.0),)), "synapses[0]: a self-loop"),
    (NeuralGenome(1, ((1000, 0.0),), (), ((0, 1000, 1.0), (0, 1000, 2.0))),
     "synapses[1]: (0, 1000) repeats"),
    (NeuralGenome(1, ((1000, 0.0),), (), ((0, 1000, -8.001),)), "synapses[0].weight"),
    (NeuralGenome(1, ((1000, 0.0),), (), ((0, 1000, float("inf")),)), "synapses[0].weight"),
    (NeuralGenome(1, ((1000, 0.0),), (), ((0, 1000),)), "synapses[0]: expected"),
    (NeuralGenome(1, (("a", 0.0), (1000, 0.0))), "inter"),
])
def test_validate_names_the_offending_field(genome, field):
    with pytest.raises(GenomeError, match=re.escape(field)):
        validate(genome)


def test_check_fits_names_the_mismatch():
    with pytest.raises(GenomeError, match="sensors"):
        check_fits(NeuralGenome(2, (), ((2000, 0.0), (2001, 0.0), (2002, 0.0))), HEX_LIKE_IO)
    with pytest.raises(GenomeError, match="actions"):
        check_fits(NeuralGenome(1, (), ((2000, 0.0),)), HEX_LIKE_IO)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genomes())
def test_encode_decode_round_trip_exactly(g):
    data = encode(g)
    back = decode(data)
    assert back == g and encode(back) == data
    # every float comes back with the same bits, -0.0 included
    assert [repr(b) for _, b in back.inter] == [repr(b) for _, b in g.inter]
    assert [repr(w) for *_, w in back.synapses] == [repr(w) for *_, w in g.synapses]


def test_extreme_floats_round_trip_bit_for_bit():
    g = NeuralGenome(1, ((1000, -0.0), (1001, 5e-324)), ((2000, 8.0),),
                     ((0, 1000, 0.1), (0, 1001, -7.999999999999999), (1000, 2000, 1e-300)))
    assert encode(decode(encode(g))) == encode(g)
    assert repr(decode(encode(g)).inter[0][1]) == "-0.0"


def test_encoding_is_compact_canonical_json():
    data = encode(NET)
    assert b" " not in data
    assert json.loads(data) == {"sensors": 1, "inter": [[1000, 0.5], [1003, -0.25]],
                                "actions": [[2000, 0.0], [2001, 1.0], [2002, -1.0]],
                                "synapses": [[0, 1000, -8.0], [1000, 1003, 7.5],
                                             [1003, 2001, 2.0]]}


@pytest.mark.parametrize("data", [
    b"", b"\xff\xfe", b"[]", b"null", b'{"sensors": 1}', b"[" * 100_000 + b"]" * 100_000,
    b'{"sensors":1,"inter":[[1000,NaN]],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[1000,Infinity]],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[1000,1e999]],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[1000,' + b"9" * 400 + b']],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[1000,' + b"9" * 5000 + b']],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[1000]],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[[1],0.5]],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[[{"a":1},0.5],[1000,0.5]],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":{},"actions":[],"synapses":[]}',
    b'{"sensors":1.0,"inter":[],"actions":[],"synapses":[]}',
    b'{"sensors":1,"inter":[],"actions":[],"synapses":[[0,2000,true]]}',
    b'{"sensors":1,"inter":[],"actions":[[2000,0.1]],"synapses":[[0,2000,1],[0,2000,2]]}',
    b'{"sensors":1,"inter":[],"actions":[],"synapses":[],"extra":0}',
    b" " * (MAX_GENOME_BYTES + 1),
])
def test_decode_refuses_hostile_bytes_with_a_genome_error(data):
    with pytest.raises(GenomeError):
        decode(data)


def test_decode_widens_integer_numbers_to_floats():
    g = decode(b'{"sensors":1,"inter":[],"actions":[[2000,1]],"synapses":[[0,2000,-3]]}')
    assert g.actions == ((2000, 1.0),) and type(g.synapses[0][2]) is float


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200))
def test_decode_raises_only_genome_errors_on_random_bytes(data):
    try:
        validate(decode(data))
    except GenomeError:
        pass


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genomes(max_inter=3, max_synapses=6), st.data())
def test_decode_raises_only_genome_errors_on_damaged_encodings(g, data):
    raw = bytearray(encode(g))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.integers(0, 2))
        if op == 0:
            raw[at] = data.draw(st.sampled_from(b'0123456789-.,[]{}":eE \x00truefalsnul'))
        elif op == 1 and len(raw) > 1:
            del raw[at]
        else:
            raw.insert(at, data.draw(st.integers(0, 255)))
    try:
        validate(decode(bytes(raw)))
    except GenomeError:
        pass


def test_to_text_lists_every_neuron_and_synapse():
    text = to_text(NET)
    assert "inter  1003" in text and "action 2002" in text
    assert "synapse 1003 -> 2001" in text and text.count("synapse") == 3


def test_a_valid_genome_is_checked_once_and_an_invalid_one_every_time(monkeypatch):
    """Genomes are immutable: one that passed ``validate`` is remembered as valid (the brain
    and the encoder both check what they are given); one that failed fails again."""
    from primordia.brains.neural import genome as gn

    walked = []
    real = gn._validate
    monkeypatch.setattr(gn, "_validate", lambda g: (walked.append(g), real(g)))
    good = NeuralGenome(2, inter=((1000, 0.5),), synapses=((0, 1000, 1.0),))
    validate(good)
    validate(good)
    encode(good)
    assert walked == [good]
    bad = NeuralGenome(2, synapses=((0, 7, 1.0),))
    for _ in range(2):
        with pytest.raises(GenomeError, match="synapses"):
            validate(bad)
    assert walked == [good, bad, bad]
    assert NeuralGenome(2, inter=((1000, 0.5),), synapses=((0, 1000, 1.0),)) == good
