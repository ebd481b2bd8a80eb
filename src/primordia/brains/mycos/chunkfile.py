"""MycosChunk v1 (``.myc``) and ``links.bin``: the binary phenotype, byte for byte as
the Mycos design gives it (docs/brains/mycos.md, "Phenotype files"), all integers little-endian.

A chunk file: a 32-byte header (magic ``MYCOSCH0``, u16 version 1, u16 flags, u32 Ni, No, Nn,
Nc, u32 reserved), the input, output and internal bit sections (ceil(n / 8) bytes each, LSB
first), zeros to a 4-byte boundary, Nc 16-byte connection records, and optionally a trailer of
(u16 type, u16 length, value, padded to 4 bytes) entries. ``links.bin`` is a run of 24-byte
link records. Readers check every length before reading and every value before use: a
malformed or truncated file is a GenomeError that says where, never an out-of-bounds read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from primordia.core.errors import GenomeError

from .genome import ALLOWED_EDGES, SECTION_NAMES, ChunkGene, ConnGene, LinkGene

MAGIC = b"MYCOSCH0"
VERSION = 1
HEADER = struct.Struct("<8sHHIIIII")
CONN_RECORD = struct.Struct("<BBBBIII")
LINK_RECORD = struct.Struct("<IIBBHIII")
TLV_HEAD = struct.Struct("<HH")
TLV_NAMES = {1: "name", 2: "note", 3: "build hash"}


def _pad4(n: int) -> int:
    return (n + 3) & ~3


def record_order(conn: ConnGene) -> tuple[int, ...]:
    """Records are written in ascending order tag (ties: source, then target, trigger,
    action). Within one source this is the genome's order; across sources the order carries
    no meaning, and this one reproduces every chunk file of the Mycos project."""
    return (conn.order_tag, conn.from_section, conn.from_index, conn.to_section, conn.to_index,
            conn.trigger, conn.action)


def chunk_to_bytes(chunk: ChunkGene) -> bytes:
    """One chunk as a MycosChunk v1 file (no trailer)."""
    out = bytearray(HEADER.pack(MAGIC, VERSION, 0, chunk.ni, chunk.no, chunk.nn,
                                len(chunk.conns), 0))
    for bits, size in ((chunk.inputs_init, chunk.ni), (chunk.outputs_init, chunk.no),
                       (chunk.internals_init, chunk.nn)):
        out += bits.to_bytes((size + 7) // 8, "little")
    out += bytes(_pad4(len(out)) - len(out))
    for cn in sorted(chunk.conns, key=record_order):
        out += CONN_RECORD.pack(cn.from_section, cn.to_section, cn.trigger, cn.action,
                                cn.from_index, cn.to_index, cn.order_tag)
    return bytes(out)


@dataclass(frozen=True)
class ChunkFile:
    """What a chunk file holds: the chunk, and the trailer's entries as (type, bytes)."""

    chunk: ChunkGene
    trailer: tuple[tuple[int, bytes], ...] = ()


def chunk_from_bytes(data: bytes, source: str = "chunk") -> ChunkFile:
    """Read and check a MycosChunk v1 file."""
    def fail(message: str) -> GenomeError:
        return GenomeError(f"{source}: {message}")

    if len(data) < HEADER.size:
        raise fail(f"unexpected end of file: {len(data)} bytes, the header alone is 32")
    magic, version, _flags, ni, no, nn, nc, _reserved = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise fail(f"not a Mycos chunk (magic {magic!r}, expected {MAGIC!r})")
    if version != VERSION:
        raise fail(f"version {version}; this reader knows version {VERSION}")
    pos = HEADER.size
    sections = []
    for name, size in (("inputs", ni), ("outputs", no), ("internals", nn)):
        n = (size + 7) // 8
        if pos + n > len(data):
            raise fail(f"unexpected end of file in the {name} bit section ({size} bits)")
        bits = int.from_bytes(data[pos:pos + n], "little")
        if bits >> size:
            raise fail(f"the {name} section sets bits beyond its {size}")
        sections.append(bits)
        pos += n
    pad = _pad4(pos)
    if pad > len(data) or any(data[pos:pad]):
        raise fail(f"bad padding at byte {pos}: expected zeros to a 4-byte boundary")
    pos = pad
    if pos + nc * CONN_RECORD.size > len(data):
        raise fail(f"unexpected end of file: the header announces {nc} connections, the file "
                   f"holds {(len(data) - pos) // CONN_RECORD.size}")
    sizes = (ni, nn, no)
    conns = []
    tags: dict[tuple[int, int], set[int]] = {}
    for k in range(nc):
        fs, ts, trig, act, fi, ti, tag = CONN_RECORD.unpack_from(data, pos)
        pos += CONN_RECORD.size
        where = f"connection {k}"
        for name, value in (("from_section", fs), ("to_section", ts), ("trigger", trig),
                            ("action", act)):
            if value > 2:
                raise fail(f"{where}: {name} {value} (0..2)")
        if (fs, ts) not in ALLOWED_EDGES:
            raise fail(f"{where}: {SECTION_NAMES[fs]} -> {SECTION_NAMES[ts]} is not an allowed "
                       "edge")
        if fi >= sizes[fs]:
            raise fail(f"{where}: from_index {fi} is out of range ({sizes[fs]} "
                       f"{SECTION_NAMES[fs]} bits)")
        if ti >= sizes[ts]:
            raise fail(f"{where}: to_index {ti} is out of range ({sizes[ts]} "
                       f"{SECTION_NAMES[ts]} bits)")
        seen = tags.setdefault((fs, fi), set())
        if tag in seen:
            raise fail(f"{where}: order_tag {tag} repeats another tag of the same source")
        seen.add(tag)
        conns.append(ConnGene(from_section=fs, from_index=fi, order_tag=tag, to_section=ts,
                              to_index=ti, trigger=trig, action=act))
    trailer = []
    while pos < len(data):
        if pos + TLV_HEAD.size > len(data):
            raise fail(f"truncated trailer entry at byte {pos}")
        kind, length = TLV_HEAD.unpack_from(data, pos)
        end = pos + TLV_HEAD.size + length
        if _pad4(end) > len(data):
            raise fail(f"truncated trailer entry at byte {pos} ({length} bytes announced)")
        trailer.append((kind, bytes(data[pos + TLV_HEAD.size:end])))
        pos = _pad4(end)
    chunk = ChunkGene(ni=ni, no=no, nn=nn, conns=tuple(conns), inputs_init=sections[0],
                      outputs_init=sections[1], internals_init=sections[2])
    return ChunkFile(chunk, tuple(trailer))


def trailer_bytes(entries: list[tuple[int, bytes]]) -> bytes:
    """Trailer entries (type, value) in the file layout, each padded to 4 bytes."""
    out = bytearray()
    for kind, value in entries:
        if not 0 <= kind <= 0xFFFF or len(value) > 0xFFFF:
            raise GenomeError(f"trailer entry type {kind}: value of {len(value)} bytes does "
                              "not fit its u16 fields")
        out += TLV_HEAD.pack(kind, len(value)) + value
        out += bytes(_pad4(len(out)) - len(out))
    return bytes(out)


def links_to_bytes(links: tuple[LinkGene, ...] | list[LinkGene]) -> bytes:
    """``links.bin``: one 24-byte record per link, in the genome's order."""
    return b"".join(LINK_RECORD.pack(ln.from_chunk, ln.from_out_idx, ln.trigger, ln.action, 0,
                                     ln.to_chunk, ln.to_in_idx, ln.order_tag) for ln in links)


def links_from_bytes(data: bytes, source: str = "links.bin") -> tuple[LinkGene, ...]:
    """Read ``links.bin``; ranges against chunks are checked with the genome (``validate``)."""
    if len(data) % LINK_RECORD.size:
        raise GenomeError(f"{source}: {len(data)} bytes is not a whole number of 24-byte link "
                          "records")
    links = []
    for k in range(len(data) // LINK_RECORD.size):
        fc, fo, trig, act, _reserved, tc, ti, tag = LINK_RECORD.unpack_from(
            data, k * LINK_RECORD.size)
        if trig > 2 or act > 2:
            raise GenomeError(f"{source}: link {k}: trigger {trig} / action {act} (0..2)")
        links.append(LinkGene(from_chunk=fc, from_out_idx=fo, order_tag=tag, to_chunk=tc,
                              to_in_idx=ti, trigger=trig, action=act))
    return tuple(links)
