"""The binary phenotype: Primordia reads the Mycos project's chunk files and writes the same
bytes from the same networks; malformed or truncated files are errors, never bad reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.mycos.chunkfile import (chunk_from_bytes, chunk_to_bytes,
                                              links_from_bytes, links_to_bytes, trailer_bytes)
from primordia.brains.mycos.genome import (INPUT, INTERNAL, OUTPUT, TOGGLE, FLIP, ChunkGene,
                                           ConnGene, LinkGene)
from primordia.core.errors import GenomeError

from .conftest import CONFORMANCE, chunks


def conn(fs, fi, ts, ti, tag, trigger=0, action=0):
    return ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts, to_index=ti,
                    trigger=trigger, action=action)


TINY = ChunkGene(ni=1, no=1, nn=1, conns=(conn(INPUT, 0, INTERNAL, 0, 100),
                                          conn(INTERNAL, 0, OUTPUT, 0, 200)))
NETWORKS = {                 # the networks of tests/conformance/mycos/README.md, built by hand
    "noop": ChunkGene(ni=2, no=2, nn=0),
    "tiny_toggle": TINY,
    "gated_child": TINY,
    "parent_with_gate": ChunkGene(ni=1, no=1, nn=2, conns=(
        conn(INPUT, 0, INTERNAL, 0, 100), conn(INTERNAL, 0, INTERNAL, 1, 200),
        conn(INTERNAL, 1, OUTPUT, 0, 300))),
    "oscillator_2cycle": ChunkGene(ni=0, no=1, nn=2, internals_init=0b01, conns=(
        conn(INTERNAL, 0, INTERNAL, 1, 100, action=FLIP),
        conn(INTERNAL, 1, INTERNAL, 0, 200, action=FLIP),
        conn(INTERNAL, 0, OUTPUT, 0, 300))),
    "fanout_1_to_1024": ChunkGene(ni=1, no=0, nn=1024, conns=tuple(
        conn(INPUT, 0, INTERNAL, k, 100 + k) for k in range(1024))),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_conformance_files_read_as_their_networks_and_are_written_byte_for_byte(name):
    data = (CONFORMANCE / f"{name}.myc").read_bytes()
    read = chunk_from_bytes(data, name)
    assert read.chunk == NETWORKS[name] and read.trailer == ()
    assert chunk_to_bytes(NETWORKS[name]) == data


def test_tiny_toggle_header_is_as_the_spec_shows():
    assert chunk_to_bytes(TINY)[:32].hex() == ("4d59434f53434830" "0100" "0000" "01000000"
                                               "01000000" "01000000" "02000000" "00000000")


@settings(max_examples=200, deadline=None)
@given(chunks(max_bits=40, max_conns=40))
def test_any_valid_chunk_survives_writing_and_reading(chunk):
    assert chunk_from_bytes(chunk_to_bytes(chunk)).chunk == chunk


def test_a_trailer_is_read_and_a_truncated_one_rejected():
    base = chunk_to_bytes(TINY)
    tail = trailer_bytes([(1, b"tiny"), (2, b"a note!")])
    assert len(tail) % 4 == 0
    assert chunk_from_bytes(base + tail).trailer == ((1, b"tiny"), (2, b"a note!"))
    with pytest.raises(GenomeError, match="truncated trailer"):
        chunk_from_bytes(base + tail[:-4])


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_truncation_of_a_conformance_file_is_rejected(name):
    data = (CONFORMANCE / f"{name}.myc").read_bytes()
    for cut in range(len(data)) if len(data) < 200 else range(0, len(data), 97):
        with pytest.raises(GenomeError):
            chunk_from_bytes(data[:cut])


@pytest.mark.parametrize("offset,value,message", [
    (0, 0x4E, "not a Mycos chunk"),
    (8, 2, "version 2"),
    (20, 0xFF, "unexpected end of file"),        # Nn = 255: the records no longer fit
    (24, 3, "announces 3 connections"),
    (35, 1, "bad padding"),
    (36, 3, "from_section 3"),
    (36, 2, "Output -> Internal is not an allowed edge"),
    (38, 3, "trigger 3"),
    (40, 1, "from_index 1 is out of range"),
    (44, 5, "to_index 5 is out of range"),
    (64, 100, "order_tag 100 repeats"),          # the second record's tag
])
def test_malformed_chunk_files_name_the_problem(offset, value, message):
    data = bytearray(chunk_to_bytes(ChunkGene(ni=1, no=1, nn=1, conns=(
        conn(INPUT, 0, INTERNAL, 0, 100), conn(INPUT, 0, INTERNAL, 0, 200, trigger=TOGGLE)))))
    data[offset] = value
    with pytest.raises(GenomeError, match=message):
        chunk_from_bytes(bytes(data))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(NETWORKS)), st.lists(st.tuples(st.integers(0, 10**6),
                                                            st.integers(0, 255)), max_size=6),
       st.integers(0, 64))
def test_damaged_files_are_read_or_rejected_never_crash(name, edits, cut):
    data = bytearray((CONFORMANCE / f"{name}.myc").read_bytes())
    for pos, value in edits:
        data[pos % len(data)] = value
    data = bytes(data[:len(data) - cut])
    try:
        read = chunk_from_bytes(data)
    except GenomeError:
        return
    assert chunk_from_bytes(chunk_to_bytes(read.chunk)).chunk == read.chunk


def test_links_round_trip_and_reject_bad_records():
    links = (LinkGene(from_chunk=0, from_out_idx=2, order_tag=7, to_chunk=1, to_in_idx=0,
                      trigger=1, action=2),
             LinkGene(from_chunk=1, from_out_idx=0, order_tag=1, to_chunk=0, to_in_idx=3))
    data = links_to_bytes(links)
    assert len(data) == 48
    assert data[:24].hex() == ("00000000" "02000000" "01" "02" "0000" "01000000" "00000000"
                               "07000000")
    assert links_from_bytes(data) == links
    with pytest.raises(GenomeError, match="whole number of 24-byte"):
        links_from_bytes(data[:-1])
    bad = bytearray(data)
    bad[8] = 3
    with pytest.raises(GenomeError, match="link 0: trigger 3"):
        links_from_bytes(bytes(bad))
