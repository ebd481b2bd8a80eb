"""The Mycos genome (docs/brains/mycos.md): chunks of input, internal and output bits wired
by event-driven connections, and links from one chunk's outputs to another's inputs.

Genomes are immutable values. ``validate`` checks every invariant and names the offending
field; ``to_json``/``from_json`` are the canonical text form: keys in a fixed order, genes
sorted as the invariants say, bitsets as lowercase hex of their bytes, bit i in byte i // 8 at
position i % 8 (LSB first). ``to_json(from_json(text)) == text`` for canonical text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from primordia.core.errors import GenomeError, InputFileError

INPUT, INTERNAL, OUTPUT = 0, 1, 2
"""Sections of a chunk (a connection's from_section / to_section)."""
ON, OFF, TOGGLE = 0, 1, 2
"""Triggers: the edge of the source bit that fires a connection."""
ENABLE, DISABLE, FLIP = 0, 1, 2
"""Actions on the target bit: set, clear, invert (the spec calls the last one Toggle)."""
TRIGGER_NAMES = ("On", "Off", "Toggle")
ACTION_NAMES = ("Enable", "Disable", "Toggle")
SECTION_NAMES = ("Input", "Internal", "Output")
ALLOWED_EDGES = frozenset({(INPUT, INTERNAL), (INTERNAL, INTERNAL), (INTERNAL, OUTPUT)})
U32 = 2**32 - 1
U64 = 2**64 - 1


@dataclass(frozen=True)
class Caps:
    """Hard caps on a genome's size (the Mycos design's defaults); evolution never exceeds them."""

    max_chunks: int = 64
    max_conns_per_chunk: int = 256
    max_links: int = 256
    max_nn_per_chunk: int = 256
    max_io_per_chunk: int = 4096
    """Inputs and outputs per chunk: not a seed cap, but without one a small file could ask
    for millions of bits."""


DEFAULT_CAPS = Caps()
NO_CAPS = Caps(max_chunks=U32, max_conns_per_chunk=U32, max_links=U32, max_nn_per_chunk=U32,
               max_io_per_chunk=U32)
"""For networks written by hand or read from files, which the caps do not bind."""


@dataclass(frozen=True, order=True)
class ConnGene:
    """One connection record: when bit ``from_index`` of ``from_section`` shows ``trigger``,
    apply ``action`` to bit ``to_index`` of ``to_section``; ``order_tag`` ranks conflicting
    effects on one bit (the highest wins). Field order is the sort order of the invariants."""

    from_section: int
    from_index: int
    order_tag: int
    to_section: int
    to_index: int
    trigger: int = ON
    action: int = ENABLE

    @property
    def source(self) -> tuple[int, int]:
        return self.from_section, self.from_index

    @property
    def target(self) -> tuple[int, int]:
        return self.to_section, self.to_index


@dataclass(frozen=True, order=True)
class LinkGene:
    """Output ``from_out_idx`` of chunk ``from_chunk`` drives input ``to_in_idx`` of chunk
    ``to_chunk`` (sorted by source, then tag)."""

    from_chunk: int
    from_out_idx: int
    order_tag: int
    to_chunk: int
    to_in_idx: int
    trigger: int = ON
    action: int = ENABLE

    @property
    def source(self) -> tuple[int, int]:
        return self.from_chunk, self.from_out_idx


@dataclass(frozen=True)
class ChunkGene:
    """A chunk: ``ni`` inputs, ``no`` outputs, ``nn`` internal bits, their initial values as
    bit masks (bit i of the int is bit i of the section), and its connections (sorted)."""

    ni: int
    no: int
    nn: int
    conns: tuple[ConnGene, ...] = ()
    inputs_init: int = 0
    outputs_init: int = 0
    internals_init: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "conns", tuple(sorted(self.conns)))

    def section_size(self, section: int) -> int:
        return (self.ni, self.nn, self.no)[section]


@dataclass(frozen=True)
class MycosGenome:
    """A whole network: chunks, links between them, and the seed its variation draws from."""

    chunks: tuple[ChunkGene, ...]
    links: tuple[LinkGene, ...] = ()
    seed: int = 0
    tag: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "chunks", tuple(self.chunks))
        object.__setattr__(self, "links", tuple(sorted(self.links)))

    @property
    def n_connections(self) -> int:
        return sum(len(ch.conns) for ch in self.chunks)


# ---- validation ---------------------------------------------------------------------------------

def _check(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise GenomeError(f"{where}: {message}")


def _check_int(value: Any, where: str, top: int) -> None:
    _check(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top, where,
           f"{value!r} is not an integer in 0..{top}")


def _check_tags(genes: tuple, where: str, kind: str) -> None:
    """Order tags strictly increase along each source's genes (genes are sorted)."""
    for k in range(1, len(genes)):
        if genes[k].source == genes[k - 1].source and genes[k].order_tag == \
                genes[k - 1].order_tag:
            _check(False, f"{where}[{k}].order_tag",
                   f"{genes[k].order_tag} repeats the tag of another {kind} from the same "
                   "source (tags must strictly increase per source)")


_CONN_FIELDS = attrgetter("from_section", "from_index", "order_tag", "to_section", "to_index",
                          "trigger", "action")
_LINK_FIELDS = attrgetter("from_chunk", "from_out_idx", "order_tag", "to_chunk", "to_in_idx",
                          "trigger", "action")


def _plainly_valid(genome: MycosGenome, caps: Caps) -> bool:
    """True only if ``genome`` is valid (plain ints everywhere, every invariant and cap met),
    checked in bulk; False sends it to ``validate``'s field-by-field checks, which find and
    name the problem (or accept what this is too strict for, such as int subclasses).
    Variation validates after every operator, so this is on evolution's hot path."""
    n = len(genome.chunks)
    if not (1 <= n <= caps.max_chunks and type(genome.seed) is int and 0 <= genome.seed <= U64
            and type(genome.tag) is str):
        return False
    for ch in genome.chunks:
        ni, no, nn = ch.ni, ch.no, ch.nn
        if not (type(ni) is int and type(no) is int and type(nn) is int
                and 0 <= ni <= caps.max_io_per_chunk and 0 <= no <= caps.max_io_per_chunk
                and 0 <= nn <= caps.max_nn_per_chunk and max(ni, no, nn) <= U32
                and len(ch.conns) <= caps.max_conns_per_chunk):
            return False
        for bits, size in ((ch.inputs_init, ni), (ch.outputs_init, no), (ch.internals_init, nn)):
            if not (type(bits) is int and bits >= 0 and bits >> size == 0):
                return False
        size = (ni, nn, no)
        last = None
        for fs, fi, tag, ts, ti, tr, ac in map(_CONN_FIELDS, ch.conns):
            if not (type(fs) is int and type(fi) is int and type(tag) is int
                    and type(ts) is int and type(ti) is int and type(tr) is int
                    and type(ac) is int and (fs, ts) in ALLOWED_EDGES and 0 <= tr <= 2
                    and 0 <= ac <= 2 and 0 <= fi < size[fs] and 0 <= ti < size[ts]
                    and 0 <= tag <= U32 and (fs, fi, tag) != last):
                return False
            last = (fs, fi, tag)
    if len(genome.links) > caps.max_links:
        return False
    last = None
    for fc, fo, tag, tc, ti, tr, ac in map(_LINK_FIELDS, genome.links):
        if not (type(fc) is int and type(fo) is int and type(tag) is int and type(tc) is int
                and type(ti) is int and type(tr) is int and type(ac) is int
                and 0 <= fc < n and 0 <= tc < n and 0 <= tr <= 2 and 0 <= ac <= 2
                and 0 <= fo < genome.chunks[fc].no and 0 <= ti < genome.chunks[tc].ni
                and 0 <= tag <= U32 and (fc, fo, tag) != last):
            return False
        last = (fc, fo, tag)
    return True


def validate(genome: MycosGenome, caps: Caps = DEFAULT_CAPS) -> None:
    """Raise GenomeError naming the first field that breaks an invariant or a cap."""
    if not _plainly_valid(genome, caps):
        _validate_fields(genome, caps)


def _validate_fields(genome: MycosGenome, caps: Caps) -> None:
    _check(len(genome.chunks) >= 1, "chunks", "a genome needs at least one chunk")
    _check(len(genome.chunks) <= caps.max_chunks, "chunks",
           f"{len(genome.chunks)} chunks; at most {caps.max_chunks}")
    _check_int(genome.seed, "meta.seed", U64)
    _check(isinstance(genome.tag, str), "meta.tag", "must be a string")
    for c, ch in enumerate(genome.chunks):
        at = f"chunks[{c}]"
        for name in ("ni", "no", "nn"):
            _check_int(getattr(ch, name), f"{at}.{name}", U32)
        _check(ch.nn <= caps.max_nn_per_chunk, f"{at}.nn",
               f"{ch.nn} internal bits; at most {caps.max_nn_per_chunk}")
        for name in ("ni", "no"):
            _check(getattr(ch, name) <= caps.max_io_per_chunk, f"{at}.{name}",
                   f"{getattr(ch, name)} bits; at most {caps.max_io_per_chunk}")
        for name, size in (("inputs_init", ch.ni), ("outputs_init", ch.no),
                           ("internals_init", ch.nn)):
            bits = getattr(ch, name)
            _check(isinstance(bits, int) and 0 <= bits and bits >> size == 0, f"{at}.{name}",
                   f"sets bits beyond the section's {size}")
        _check(len(ch.conns) <= caps.max_conns_per_chunk, f"{at}.conns",
               f"{len(ch.conns)} connections; at most {caps.max_conns_per_chunk}")
        for k, cn in enumerate(ch.conns):
            cat = f"{at}.conns[{k}]"
            for name in ("from_section", "to_section", "trigger", "action"):
                _check_int(getattr(cn, name), f"{cat}.{name}", 2)
            for name in ("from_index", "to_index", "order_tag"):
                _check_int(getattr(cn, name), f"{cat}.{name}", U32)
            _check((cn.from_section, cn.to_section) in ALLOWED_EDGES, cat,
                   f"{SECTION_NAMES[cn.from_section]} -> {SECTION_NAMES[cn.to_section]} is not "
                   "an allowed edge (Input -> Internal, Internal -> Internal, Internal -> Output)")
            _check(cn.from_index < ch.section_size(cn.from_section), f"{cat}.from_index",
                   f"{cn.from_index} is out of range for the chunk's "
                   f"{ch.section_size(cn.from_section)} {SECTION_NAMES[cn.from_section]} bits")
            _check(cn.to_index < ch.section_size(cn.to_section), f"{cat}.to_index",
                   f"{cn.to_index} is out of range for the chunk's "
                   f"{ch.section_size(cn.to_section)} {SECTION_NAMES[cn.to_section]} bits")
        _check_tags(ch.conns, f"{at}.conns", "connection")
    _check(len(genome.links) <= caps.max_links, "links",
           f"{len(genome.links)} links; at most {caps.max_links}")
    n = len(genome.chunks)
    for k, ln in enumerate(genome.links):
        at = f"links[{k}]"
        for name in ("trigger", "action"):
            _check_int(getattr(ln, name), f"{at}.{name}", 2)
        for name in ("from_chunk", "from_out_idx", "to_chunk", "to_in_idx", "order_tag"):
            _check_int(getattr(ln, name), f"{at}.{name}", U32)
        _check(ln.from_chunk < n, f"{at}.from_chunk",
               f"{ln.from_chunk} names no chunk (0..{n - 1})")
        _check(ln.to_chunk < n, f"{at}.to_chunk", f"{ln.to_chunk} names no chunk (0..{n - 1})")
        _check(ln.from_out_idx < genome.chunks[ln.from_chunk].no, f"{at}.from_out_idx",
               f"{ln.from_out_idx} is out of range for chunk {ln.from_chunk}'s "
               f"{genome.chunks[ln.from_chunk].no} outputs")
        _check(ln.to_in_idx < genome.chunks[ln.to_chunk].ni, f"{at}.to_in_idx",
               f"{ln.to_in_idx} is out of range for chunk {ln.to_chunk}'s "
               f"{genome.chunks[ln.to_chunk].ni} inputs")
    _check_tags(genome.links, "links", "link")


# ---- canonical JSON -----------------------------------------------------------------------------

CONN_KEYS = ("from_section", "to_section", "trigger", "action", "from_index", "to_index",
             "order_tag")
LINK_KEYS = ("from_chunk", "from_out_idx", "trigger", "action", "to_chunk", "to_in_idx",
             "order_tag")
CHUNK_KEYS = ("ni", "no", "nn", "inputs_init", "outputs_init", "internals_init", "conns")
"""Key order of the canonical form: the Mycos design's schema order."""


def bits_to_hex(bits: int, size: int) -> str:
    """A bitset of ``size`` bits as hex of its ceil(size / 8) bytes, LSB first."""
    return bits.to_bytes((size + 7) // 8, "little").hex()


_LOWER_HEX = re.compile(r"[0-9a-f]*")


def hex_to_bits(text: Any, size: int, where: str) -> int:
    _check(isinstance(text, str), where, "a bitset is a hex string")
    _check(_LOWER_HEX.fullmatch(text) is not None, where,
           f"{text[:40]!r} is not lowercase hex digits")
    _check(len(text) == 2 * ((size + 7) // 8), where,
           f"{len(text)} hex digits; a {size}-bit set has {2 * ((size + 7) // 8)}")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise GenomeError(f"{where}: {text[:40]!r} is not hex") from None
    bits = int.from_bytes(raw, "little")
    _check(bits >> size == 0, where, f"sets bits beyond the section's {size}")
    return bits


def to_dict(genome: MycosGenome) -> dict[str, Any]:
    """The canonical form as plain data."""
    return {
        "meta": {"seed": genome.seed, "tag": genome.tag},
        "chunks": [{
            "ni": ch.ni, "no": ch.no, "nn": ch.nn,
            "inputs_init": bits_to_hex(ch.inputs_init, ch.ni),
            "outputs_init": bits_to_hex(ch.outputs_init, ch.no),
            "internals_init": bits_to_hex(ch.internals_init, ch.nn),
            "conns": [{k: getattr(cn, k) for k in CONN_KEYS} for cn in ch.conns],
        } for ch in genome.chunks],
        "links": [{k: getattr(ln, k) for k in LINK_KEYS} for ln in genome.links],
    }


def to_json(genome: MycosGenome) -> str:
    """Canonical JSON: fixed key order, no spaces, sorted genes, one trailing newline."""
    return json.dumps(to_dict(genome), separators=(",", ":")) + "\n"


def _fields(obj: Any, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    _check(isinstance(obj, dict), where, "expected an object")
    unknown = sorted(set(obj) - set(keys))
    _check(not unknown, where, f"unknown field {unknown[0]!r}" if unknown else "")
    missing = [k for k in keys if k not in obj]
    _check(not missing, where, f"missing field {missing[0]!r}" if missing else "")
    for k in keys:
        if k not in ("conns", "inputs_init", "outputs_init", "internals_init"):
            _check_int(obj[k], f"{where}.{k}", U32)
    return obj


def from_dict(data: Any, caps: Caps = DEFAULT_CAPS) -> MycosGenome:
    """A validated genome from plain data (as ``json.loads`` gives it)."""
    _check(isinstance(data, dict), "genome", "expected an object")
    unknown = sorted(set(data) - {"meta", "chunks", "links"})
    _check(not unknown, "genome", f"unknown field {unknown[0]!r}" if unknown else "")
    meta = data.get("meta", {})
    _check(isinstance(meta, dict), "meta", "expected an object")
    _check(not set(meta) - {"seed", "tag"}, "meta", "only seed and tag are allowed")
    seed, tag = meta.get("seed", 0), meta.get("tag", "")
    _check_int(seed, "meta.seed", U64)
    _check(isinstance(tag, str), "meta.tag", "must be a string")
    chunks_raw = data.get("chunks")
    _check(isinstance(chunks_raw, list), "chunks", "expected a list")
    _check(len(chunks_raw) <= caps.max_chunks, "chunks",
           f"{len(chunks_raw)} chunks; at most {caps.max_chunks}")
    chunks = []
    for c, raw in enumerate(chunks_raw):
        at = f"chunks[{c}]"
        ch = _fields(raw, CHUNK_KEYS, at)
        _check(ch["nn"] <= caps.max_nn_per_chunk, f"{at}.nn",
               f"{ch['nn']} internal bits; at most {caps.max_nn_per_chunk}")
        for name in ("ni", "no"):
            _check(ch[name] <= caps.max_io_per_chunk, f"{at}.{name}",
                   f"{ch[name]} bits; at most {caps.max_io_per_chunk}")
        _check(isinstance(ch["conns"], list), f"{at}.conns", "expected a list")
        _check(len(ch["conns"]) <= caps.max_conns_per_chunk, f"{at}.conns",
               f"{len(ch['conns'])} connections; at most {caps.max_conns_per_chunk}")
        conns = [ConnGene(**_fields(cn, CONN_KEYS, f"{at}.conns[{k}]"))
                 for k, cn in enumerate(ch["conns"])]
        chunks.append(ChunkGene(
            ni=ch["ni"], no=ch["no"], nn=ch["nn"], conns=tuple(conns),
            inputs_init=hex_to_bits(ch["inputs_init"], ch["ni"], f"{at}.inputs_init"),
            outputs_init=hex_to_bits(ch["outputs_init"], ch["no"], f"{at}.outputs_init"),
            internals_init=hex_to_bits(ch["internals_init"], ch["nn"], f"{at}.internals_init")))
    links_raw = data.get("links", [])
    _check(isinstance(links_raw, list), "links", "expected a list")
    _check(len(links_raw) <= caps.max_links, "links",
           f"{len(links_raw)} links; at most {caps.max_links}")
    links = [LinkGene(**_fields(ln, LINK_KEYS, f"links[{k}]")) for k, ln in enumerate(links_raw)]
    genome = MycosGenome(chunks=tuple(chunks), links=tuple(links), seed=seed, tag=tag)
    validate(genome, caps)
    return genome


def from_json(text: str | bytes, caps: Caps = DEFAULT_CAPS) -> MycosGenome:
    """Parse and validate genome JSON; GenomeError names what is wrong and where."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise GenomeError(f"genome JSON: {exc}") from None
    return from_dict(data, caps)


MAX_FILE_BYTES = 64 * 2**20
"""Largest genome file read (a genome at the default caps is well under 2 MiB of JSON)."""


def load_genome(path: str | Path, caps: Caps = DEFAULT_CAPS) -> MycosGenome:
    """Read and validate a genome JSON file; errors name the file and the field."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, expected a genome JSON file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise GenomeError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        return from_json(data, caps)
    except GenomeError as exc:
        raise GenomeError(f"{p.name}: {exc}") from None
