"""Shared pieces of the Mycos tests: the conformance files and random valid genomes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from primordia.brains.mycos.genome import (INPUT, INTERNAL, OUTPUT, ChunkGene, ConnGene,
                                           LinkGene, MycosGenome)

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance" / "mycos"


@st.composite
def chunks(draw, max_bits: int = 12, max_conns: int = 20) -> ChunkGene:
    """A valid chunk: allowed edges only, indices in range, tags rising per source."""
    ni, no, nn = (draw(st.integers(0, max_bits)) for _ in range(3))
    edges = [(f, t) for f, t in ((INPUT, INTERNAL), (INTERNAL, INTERNAL), (INTERNAL, OUTPUT))
             if (ni, nn, no)[f] and (ni, nn, no)[t]]
    conns, next_tag = [], {}
    if edges:
        for _ in range(draw(st.integers(0, max_conns))):
            f, t = draw(st.sampled_from(edges))
            fi = draw(st.integers(0, (ni, nn, no)[f] - 1))
            tag = next_tag.get((f, fi), 0) + draw(st.integers(1, 300))
            next_tag[(f, fi)] = tag
            conns.append(ConnGene(from_section=f, from_index=fi, order_tag=tag, to_section=t,
                                  to_index=draw(st.integers(0, (ni, nn, no)[t] - 1)),
                                  trigger=draw(st.integers(0, 2)),
                                  action=draw(st.integers(0, 2))))
    return ChunkGene(ni=ni, no=no, nn=nn, conns=tuple(conns),
                     inputs_init=draw(st.integers(0, 2**ni - 1)),
                     outputs_init=draw(st.integers(0, 2**no - 1)),
                     internals_init=draw(st.integers(0, 2**nn - 1)))


@st.composite
def genomes(draw, max_chunks: int = 4) -> MycosGenome:
    """A valid genome: a few chunks and links from outputs to inputs."""
    body = draw(st.lists(chunks(), min_size=1, max_size=max_chunks))
    outs = [(c, k) for c, ch in enumerate(body) for k in range(ch.no)]
    ins = [(c, k) for c, ch in enumerate(body) for k in range(ch.ni)]
    links, next_tag = [], {}
    if outs and ins:
        for _ in range(draw(st.integers(0, 6))):
            fc, fo = draw(st.sampled_from(outs))
            tc, ti = draw(st.sampled_from(ins))
            tag = next_tag.get((fc, fo), 0) + draw(st.integers(1, 50))
            next_tag[(fc, fo)] = tag
            links.append(LinkGene(from_chunk=fc, from_out_idx=fo, order_tag=tag, to_chunk=tc,
                                  to_in_idx=ti, trigger=draw(st.integers(0, 2)),
                                  action=draw(st.integers(0, 2))))
    return MycosGenome(chunks=tuple(body), links=tuple(links),
                       seed=draw(st.integers(0, 2**64 - 1)), tag=draw(st.text(max_size=8)))
