"""Genome -> phenotype: the compiler validates, emits the spec's binaries, writes and reads
phenotype directories, and prunes only what can never fire."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from primordia.brains.mycos.compiler import (LINKS_FILE, compile_genome, prune, read_phenotype,
                                             write_phenotype)
from primordia.brains.mycos.genome import (INPUT, INTERNAL, NO_CAPS, OUTPUT, ChunkGene,
                                           ConnGene, LinkGene, MycosGenome, validate)
from primordia.core.errors import GenomeError, InputFileError

from .conftest import CONFORMANCE, genomes
from .test_chunkfile import NETWORKS


def conn(fs, fi, ts, ti, tag):
    return ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts, to_index=ti)


def test_a_genome_of_the_conformance_networks_compiles_to_their_files(tmp_path):
    names = sorted(NETWORKS)
    genome = MycosGenome(chunks=tuple(NETWORKS[n] for n in names))
    phenotype = compile_genome(genome, NO_CAPS)     # fanout_1_to_1024 is over the default caps
    for name, data in zip(names, phenotype.chunks):
        assert data == (CONFORMANCE / f"{name}.myc").read_bytes(), name
    assert phenotype.links == b""
    with pytest.raises(GenomeError, match="chunks\\[0\\].nn: 1024 internal bits"):
        compile_genome(genome)


@settings(max_examples=100, deadline=None)
@given(genomes())
def test_phenotype_directories_round_trip(tmp_path_factory, genome):
    out = tmp_path_factory.mktemp("pheno")
    paths = write_phenotype(compile_genome(genome), out)
    assert [p.name for p in paths][-1] == LINKS_FILE
    back = read_phenotype(out)
    assert back.chunks == genome.chunks and back.links == genome.links


def test_reading_a_directory_without_chunks_or_with_a_bad_link_fails_clearly(tmp_path):
    with pytest.raises(InputFileError, match="no chunk_000.myc"):
        read_phenotype(tmp_path)
    genome = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=0),))
    write_phenotype(compile_genome(genome), tmp_path)
    bad = bytearray(24)
    bad[12:16] = (3).to_bytes(4, "little")                         # to_chunk 3: no such chunk
    (tmp_path / LINKS_FILE).write_bytes(bytes(bad))
    with pytest.raises(GenomeError, match="links\\[0\\].to_chunk: 3 names no chunk"):
        read_phenotype(tmp_path)


def test_pruning_drops_what_no_input_can_reach():
    chunk = ChunkGene(ni=1, no=2, nn=4, internals_init=0b1000, conns=(
        conn(INPUT, 0, INTERNAL, 0, 1),       # In0 -> Int0 -> Int1 -> Out0: kept
        conn(INTERNAL, 0, INTERNAL, 1, 1),
        conn(INTERNAL, 1, OUTPUT, 0, 1),
        conn(INTERNAL, 2, INTERNAL, 3, 1),    # Int2 <-> Int3 and Int3 -> Out1: nothing
        conn(INTERNAL, 3, INTERNAL, 2, 1),    # reaches them (Int3 starting at 1 is no edge)
        conn(INTERNAL, 3, OUTPUT, 1, 2)))
    genome = MycosGenome(chunks=(chunk, ChunkGene(ni=2, no=0, nn=0)), links=(
        LinkGene(from_chunk=0, from_out_idx=0, order_tag=1, to_chunk=1, to_in_idx=0),
        LinkGene(from_chunk=0, from_out_idx=1, order_tag=1, to_chunk=1, to_in_idx=1)))
    pruned = prune(genome)
    assert [(c.from_section, c.from_index) for c in pruned.chunks[0].conns] == [
        (INPUT, 0), (INTERNAL, 0), (INTERNAL, 1)]
    assert [ln.from_out_idx for ln in pruned.links] == [0]
    assert pruned.chunks[0].internals_init == 0b1000        # bits and sizes stay
    assert compile_genome(genome, pruned=True) == compile_genome(pruned)


@settings(max_examples=200, deadline=None)
@given(genomes())
def test_pruning_is_a_valid_subset_and_idempotent(genome):
    pruned = prune(genome)
    validate(pruned)
    for before, after in zip(genome.chunks, pruned.chunks):
        assert set(after.conns) <= set(before.conns)
        assert [c for c in before.conns if c.from_section == INPUT] == \
            [c for c in after.conns if c.from_section == INPUT]
    assert set(pruned.links) <= set(genome.links)
    assert prune(pruned) == pruned
