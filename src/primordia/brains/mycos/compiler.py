"""Genome -> phenotype: one MycosChunk v1 file per chunk plus ``links.bin`` (the Mycos design's
``compile``), optional pruning of what can never fire, and a phenotype directory on disk.

Pruning keeps the network's behaviour: a bit changes only when an effect reaches it, every
tick starts with Prev equal to the initial bits (so nothing fires on its own), and only inputs
are written from outside (by the task, or by links). Connections from internal bits that no
kept connection can reach, and links from outputs that nothing can reach, never fire; they go.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from primordia.core.errors import GenomeError, InputFileError

from .chunkfile import chunk_from_bytes, chunk_to_bytes, links_from_bytes, links_to_bytes
from .genome import DEFAULT_CAPS, INPUT, INTERNAL, Caps, ChunkGene, MycosGenome, validate

LINKS_FILE = "links.bin"


def chunk_file_name(index: int) -> str:
    return f"chunk_{index:03d}.myc"


@dataclass(frozen=True)
class Phenotype:
    """A compiled genome: chunk files in chunk order, and the link table."""

    chunks: tuple[bytes, ...]
    links: bytes


def prune(genome: MycosGenome) -> MycosGenome:
    """The same network without the connections and links that can never fire."""
    live_internal = [set() for _ in genome.chunks]
    live_output = [set() for _ in genome.chunks]
    changed = True
    while changed:                       # grow the sets of bits that can change to a fixpoint
        changed = False
        for c, ch in enumerate(genome.chunks):
            for cn in ch.conns:
                if cn.from_section == INTERNAL and cn.from_index not in live_internal[c]:
                    continue
                dest = live_internal[c] if cn.to_section == INTERNAL else live_output[c]
                if cn.to_index not in dest:
                    dest.add(cn.to_index)
                    changed = True
    chunks = tuple(replace(ch, conns=tuple(
        cn for cn in ch.conns
        if cn.from_section == INPUT or cn.from_index in live_internal[c]))
        for c, ch in enumerate(genome.chunks))
    links = tuple(ln for ln in genome.links if ln.from_out_idx in live_output[ln.from_chunk])
    return replace(genome, chunks=chunks, links=links)


def compile_genome(genome: MycosGenome, caps: Caps = DEFAULT_CAPS,
                   pruned: bool = False) -> Phenotype:
    """Validate (GenomeError on any violation), optionally prune, and emit the binaries."""
    validate(genome, caps)
    if pruned:
        genome = prune(genome)
    return Phenotype(tuple(chunk_to_bytes(ch) for ch in genome.chunks),
                     links_to_bytes(genome.links))


def write_phenotype(phenotype: Phenotype, directory: str | os.PathLike) -> list[Path]:
    """``chunk_000.myc``, ``chunk_001.myc``, ... and ``links.bin`` in ``directory`` (made if
    needed; each file written to a temporary name, then renamed). Returns the paths."""
    out = Path(directory)
    files = [(chunk_file_name(k), data) for k, data in enumerate(phenotype.chunks)]
    files.append((LINKS_FILE, phenotype.links))
    paths = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files:
            path = out / name
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            paths.append(path)
    except OSError as exc:
        raise InputFileError(f"{out}: cannot write the phenotype: {exc.strerror or exc}") \
            from None
    return paths


def read_phenotype(directory: str | os.PathLike, caps: Caps = DEFAULT_CAPS) -> MycosGenome:
    """The network a phenotype directory holds, as a validated genome (seed 0, no tag)."""
    root = Path(directory)
    chunks: list[ChunkGene] = []
    while (root / chunk_file_name(len(chunks))).is_file():
        path = root / chunk_file_name(len(chunks))
        chunks.append(chunk_from_bytes(_read(path), str(path)).chunk)
        if len(chunks) > caps.max_chunks:
            raise GenomeError(f"{root}: more than {caps.max_chunks} chunk files")
    if not chunks:
        raise InputFileError(f"{root}: no {chunk_file_name(0)} here")
    links_path = root / LINKS_FILE
    links = links_from_bytes(_read(links_path), str(links_path)) if links_path.is_file() else ()
    genome = MycosGenome(chunks=tuple(chunks), links=links)
    validate(genome, caps)
    return genome


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror}") from None
