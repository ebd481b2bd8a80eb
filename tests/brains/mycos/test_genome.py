"""Mycos genomes: the canonical JSON form round-trips exactly, and every broken invariant is
rejected with a message that names the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.mycos.genome import (INPUT, INTERNAL, OUTPUT, Caps, ChunkGene, ConnGene,
                                           LinkGene, MycosGenome, bits_to_hex, from_json,
                                           to_json, validate)
from primordia.core.errors import GenomeError

from .conftest import genomes

WIRE = MycosGenome(chunks=(ChunkGene(ni=2, no=1, nn=1, internals_init=1, conns=(
    ConnGene(from_section=INTERNAL, from_index=0, order_tag=5, to_section=OUTPUT, to_index=0),
    ConnGene(from_section=INPUT, from_index=1, order_tag=3, to_section=INTERNAL, to_index=0,
             trigger=2, action=1),
    ConnGene(from_section=INPUT, from_index=1, order_tag=1, to_section=INTERNAL, to_index=0))),
    ChunkGene(ni=1, no=0, nn=0)),
    links=(LinkGene(from_chunk=0, from_out_idx=0, order_tag=1, to_chunk=1, to_in_idx=0),),
    seed=7, tag="wire")


def test_canonical_form_has_schema_key_order_sorted_genes_and_hex_bitsets():
    data = json.loads(to_json(WIRE))
    assert list(data) == ["meta", "chunks", "links"]
    chunk = data["chunks"][0]
    assert list(chunk) == ["ni", "no", "nn", "inputs_init", "outputs_init", "internals_init",
                           "conns"]
    assert list(chunk["conns"][0]) == ["from_section", "to_section", "trigger", "action",
                                       "from_index", "to_index", "order_tag"]
    # sorted by (from_section, from_index, order_tag): the two input conns, then the internal
    assert [(c["from_section"], c["order_tag"]) for c in chunk["conns"]] == [(0, 1), (0, 3),
                                                                             (1, 5)]
    assert chunk["internals_init"] == "01" and chunk["inputs_init"] == "00"
    assert data["chunks"][1]["outputs_init"] == ""          # a zero-bit section


def test_bitsets_are_lsb_first_bytes():
    assert bits_to_hex(0b1, 9) == "0100"                    # bit 0 -> byte 0, value 1
    assert bits_to_hex(1 << 8, 9) == "0001"                 # bit 8 -> byte 1, value 1
    assert bits_to_hex(0b10000010, 8) == "82"


@settings(max_examples=200, deadline=None)
@given(genomes())
def test_json_round_trips_exactly(genome):
    text = to_json(genome)
    back = from_json(text)
    assert back == genome
    assert to_json(back) == text


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["chunks"][0]["conns"][0].update(to_section=0), "chunks[0].conns[0]"),
    (lambda d: d["chunks"][0]["conns"][0].update(trigger=3), "chunks[0].conns[0].trigger"),
    (lambda d: d["chunks"][0]["conns"][0].update(to_index=9), "chunks[0].conns[0].to_index"),
    (lambda d: d["chunks"][0]["conns"][1].update(from_index=2), "chunks[0].conns[1].from_index"),
    (lambda d: d["chunks"][0]["conns"][1].update(order_tag=1), "chunks[0].conns[1].order_tag"),
    (lambda d: d["chunks"][0]["conns"][0].update(order_tag=-1), "chunks[0].conns[0].order_tag"),
    (lambda d: d["chunks"][0]["conns"][0].update(order_tag=2**32), "chunks[0].conns[0].order_tag"),
    (lambda d: d["chunks"][0]["conns"][0].update(order_tag=True), "chunks[0].conns[0].order_tag"),
    (lambda d: d["chunks"][0]["conns"][0].pop("action"), "chunks[0].conns[0]"),
    (lambda d: d["chunks"][0]["conns"][0].update(extra=1), "chunks[0].conns[0]"),
    (lambda d: d["chunks"][0].update(internals_init="03"), "chunks[0].internals_init"),
    (lambda d: d["chunks"][0].update(inputs_init="0"), "chunks[0].inputs_init"),
    (lambda d: d["chunks"][0].update(inputs_init="zz"), "chunks[0].inputs_init"),
    (lambda d: d["chunks"][0].update(nn="1"), "chunks[0].nn"),
    (lambda d: d["links"][0].update(to_chunk=2), "links[0].to_chunk"),
    (lambda d: d["links"][0].update(from_out_idx=1), "links[0].from_out_idx"),
    (lambda d: d["links"].append(dict(d["links"][0])), "links[1].order_tag"),
    (lambda d: d.update(chunks=[]), "chunks"),
    (lambda d: d["meta"].update(seed=2**64), "meta.seed"),
    (lambda d: d.update(other=1), "genome"),
])
def test_invalid_genomes_are_rejected_naming_the_field(edit, field):
    data = json.loads(to_json(WIRE))
    edit(data)
    with pytest.raises(GenomeError) as info:
        from_json(json.dumps(data))
    assert str(info.value).startswith(field + ":"), str(info.value)


def test_caps_bind_what_evolution_makes_but_can_be_lifted():
    big = MycosGenome(chunks=(ChunkGene(ni=1, no=0, nn=300),))
    with pytest.raises(GenomeError, match="chunks\\[0\\].nn: 300 internal bits; at most 256"):
        validate(big)
    validate(big, Caps(max_nn_per_chunk=1024))
    with pytest.raises(GenomeError, match="^chunks: 2 chunks; at most 1"):
        validate(MycosGenome(chunks=(ChunkGene(1, 1, 1), ChunkGene(1, 1, 1))), Caps(max_chunks=1))


@pytest.mark.parametrize("text", ["", "[", "[]", "{\"chunks\": 5}", "1e999", "[" * 100_000])
def test_malformed_json_is_a_genome_error(text):
    with pytest.raises(GenomeError):
        from_json(text)


def test_io_bits_are_capped_and_bitsets_must_be_canonical_hex():
    huge = {"chunks": [{"ni": 40_000_000, "no": 1, "nn": 0, "inputs_init": "",
                        "outputs_init": "00", "internals_init": "", "conns": []}]}
    with pytest.raises(GenomeError, match="chunks\\[0\\].ni: 40000000 bits; at most 4096"):
        from_json(json.dumps(huge))
    data = json.loads(to_json(WIRE))
    for bad in ("0 ", "0A"):
        data["chunks"][1]["inputs_init"] = bad
        with pytest.raises(GenomeError, match="chunks\\[1\\].inputs_init: .* lowercase hex"):
            from_json(json.dumps(data))


_CORRUPTIONS = [
    ("from_section", 2), ("to_section", 0), ("from_index", 10**6), ("to_index", -1),
    ("order_tag", 2**32), ("order_tag", True), ("trigger", 3), ("action", 1.0),
]


@settings(max_examples=200, deadline=None)
@given(genomes(), st.integers(0, 2**32 - 1), st.integers(0, 12))
def test_the_bulk_check_accepts_exactly_what_the_field_checks_accept(genome, pick, how):
    """``validate`` first checks a genome in bulk and asks the field-by-field checks only
    when that fails: the bulk check must never pass an invalid genome, and must pass the
    valid ones (or nothing would be fast)."""
    from dataclasses import replace

    from primordia.brains.mycos.genome import DEFAULT_CAPS, _plainly_valid, _validate_fields

    assert _plainly_valid(genome, DEFAULT_CAPS)
    chunks = list(genome.chunks)
    c = pick % len(chunks)
    if how < len(_CORRUPTIONS) and chunks[c].conns:      # break one connection field
        name, value = _CORRUPTIONS[how]
        conns = list(chunks[c].conns)
        k = pick % len(conns)
        conns[k] = replace(conns[k], **{name: value})
        object.__setattr__(chunks[c], "conns", tuple(conns))   # bypass the re-sort
    elif how == 8:
        chunks[c] = replace(chunks[c], internals_init=1 << chunks[c].nn)
    elif how == 9 and genome.links:
        link = genome.links[pick % len(genome.links)]
        object.__setattr__(genome, "links", genome.links + (link,))    # a repeated tag
    elif how == 10:
        chunks[c] = replace(chunks[c], nn=300)
    broken = replace(genome, chunks=tuple(chunks)) if how != 9 else genome
    try:
        _validate_fields(broken, DEFAULT_CAPS)
        valid = True
    except GenomeError:
        valid = False
    if _plainly_valid(broken, DEFAULT_CAPS):
        assert valid
