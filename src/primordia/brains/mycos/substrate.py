"""Mycos bit networks as a Substrate: how worlds and evolvers make, vary, store and compile
them (docs/brains/mycos.md, "In worlds").

A network does not depend on the world's layout (``worldio`` maps any number of input and
output bits onto any sensors and actions), so genomes are made without a world; a substrate
given the world's ``BrainIO`` sizes new networks to it. Genome sizes are bounded by the
settings' caps, so the byte caps worlds pass as ``max_len`` (sized for bytecode) are ignored.
Genomes are stored as their canonical JSON (UTF-8).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Sequence

from primordia.brains.base import Brain, BrainIO, SubstrateBase
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream

from . import genome as gn
from . import variation
from .brain import MycosBrain
from .genome import ACTION_NAMES, TRIGGER_NAMES, U32, U64, Caps, MycosGenome
from .settings import MycosSettings
from .view import MycosView, mycos_view

MAX_TAG = 64
"""Characters of a genome's tag at most (evolution keeps tags; this bounds the bytes)."""
DEFAULT_INPUTS, DEFAULT_OUTPUTS = 32, 16
"""A new network's input and output bits when neither the settings nor a layout say."""


def json_bound(caps: Caps) -> int:
    """The longest canonical JSON of a genome within ``caps`` (numbers at their widest, a
    tag of ``MAX_TAG`` characters each escaped as a surrogate pair)."""
    conn = len(json.dumps({k: U32 for k in gn.CONN_KEYS}, separators=(",", ":"))) + 1
    link = len(json.dumps({k: U32 for k in gn.LINK_KEYS}, separators=(",", ":"))) + 1
    io_hex = 2 * ((caps.max_io_per_chunk + 7) // 8)
    chunk = len(json.dumps({"ni": U32, "no": U32, "nn": U32, "inputs_init": "",
                            "outputs_init": "", "internals_init": "", "conns": []},
                           separators=(",", ":"))) + 1
    chunk += 2 * io_hex + 2 * ((caps.max_nn_per_chunk + 7) // 8)
    chunk += caps.max_conns_per_chunk * conn
    top = len(json.dumps({"meta": {"seed": U64, "tag": ""}, "chunks": [], "links": []},
                         separators=(",", ":"))) + 1
    return top + 12 * MAX_TAG + caps.max_chunks * chunk + caps.max_links * link


class MycosSubstrate(SubstrateBase):
    """The ``mycos`` substrate (registered by name in ``primordia.brains.registry``)."""

    name = "mycos"
    SETTINGS = MycosSettings
    """The settings model: what ``**options`` and a world config's brain table may hold."""
    VIEW = MycosView
    """The dashboard's view of one organism (``view``), as the published schema has it."""

    def __init__(self, io: BrainIO | None = None, settings: MycosSettings | None = None,
                 **options: Any) -> None:
        if settings is not None and not isinstance(settings, MycosSettings):
            raise ConfigError(f"mycos: settings must be MycosSettings, not "
                              f"{type(settings).__name__}")
        if options or settings is None:
            base = settings.model_dump() if settings is not None else {}
            settings = MycosSettings.build({**base, **options}, source="mycos")
        if io is not None and not isinstance(io, BrainIO):
            raise ConfigError(f"mycos: io must be a BrainIO, not {type(io).__name__}")
        self.settings = settings
        self.io = io
        self.caps = settings.caps
        self.max_genome_bytes = json_bound(self.caps)
        """The longest encoded genome ``decode`` accepts (every genome within the caps)."""
        scale = settings.mutation_scale
        self.rates = {name: min(1.0, p * scale) for name, p in variation.DEFAULT_RATES.items()}
        s, io_cap = settings, settings.max_io_bits
        channels = (io.n_sensors + (1 if s.clock else 0)) if io is not None else 0
        self.inputs = s.inputs or (channels * s.sensor_bits if channels else DEFAULT_INPUTS)
        self.outputs = s.outputs or (min(io_cap, io.n_actions * s.action_bits)
                                     if io is not None and io.n_actions else DEFAULT_OUTPUTS)
        self.inputs, self.outputs = min(self.inputs, io_cap), min(self.outputs, io_cap)

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        return mycos_view(brain, slot, genome, self.to_text(genome))

    def random(self, draws: DrawStream, max_len: int = 0) -> MycosGenome:
        """``variation.random_genome`` with chunk 0 sized for worlds, and random starting
        internal and output bits (so that new organisms differ before anything fires)."""
        s = self.settings
        g = variation.random_genome(draws, [(0, self.inputs - 1)], [(0, self.outputs - 1)],
                                    caps=self.caps, max_internal=s.internal_bits,
                                    max_conns=s.connections)
        ch = g.chunks[0]
        ch = replace(ch, internals_init=_random_bits(draws, ch.nn),
                     outputs_init=_random_bits(draws, ch.no))
        return replace(g, chunks=(ch,) + g.chunks[1:])

    def mutate(self, genome: MycosGenome, draws: DrawStream, max_len: int = 0) -> MycosGenome:
        return variation.mutate(genome, draws, self.caps, self.rates)

    def crossover(self, a: MycosGenome, b: MycosGenome, draws: DrawStream,
                  max_len: int = 0) -> MycosGenome:
        return variation.crossover(a, b, draws, self.caps)

    def validate(self, genome: MycosGenome) -> None:
        if not isinstance(genome, MycosGenome):
            raise GenomeError(f"a Mycos genome is a MycosGenome, not {type(genome).__name__}")
        gn.validate(genome, self.caps)
        if len(genome.tag) > MAX_TAG:
            raise GenomeError(f"meta.tag: {len(genome.tag)} characters; at most {MAX_TAG}")

    def encode(self, genome: MycosGenome) -> bytes:
        return gn.to_json(genome).encode("utf-8")

    def decode(self, data: bytes) -> MycosGenome:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise GenomeError(f"a Mycos genome is bytes, not {type(data).__name__}")
        if len(data) > self.max_genome_bytes:
            raise GenomeError(f"genome is {len(data)} bytes; at most {self.max_genome_bytes}")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise GenomeError("genome: not UTF-8 text (canonical JSON)") from None
        try:
            genome = gn.from_json(text, self.caps)
        except GenomeError as exc:
            raise GenomeError(" ".join(str(exc).split())) from None
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise GenomeError(f"genome JSON: {' '.join(str(exc).split())[:200]}") from None
        self.validate(genome)
        return genome

    def to_text(self, genome: MycosGenome) -> str:
        return to_text(genome)

    def compile(self, genomes: Sequence[MycosGenome], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> MycosBrain:
        return MycosBrain(list(genomes), io=io, settings=self.settings, threads=threads,
                          capacity=capacity)


def _random_bits(draws: DrawStream, n: int) -> int:
    """``n`` random bits as an int (64 per draw)."""
    value = 0
    for k in range(0, n, 64):
        value |= draws.u64() << k
    return value & ((1 << n) - 1)


def _bits(value: int, size: int) -> str:
    return "".join(str(value >> i & 1) for i in range(size)) or "-"


def to_text(genome: MycosGenome) -> str:
    """The network readably: each chunk's sizes and starting internal bits, its connections
    (source, trigger, action, target, tag), then the links."""
    short = ("In", "Int", "Out")
    def count(n: int, word: str) -> str:
        return f"{n} {word}" + ("" if n == 1 else "s")

    lines = [f"mycos network: {count(len(genome.chunks), 'chunk')}, "
             f"{count(genome.n_connections, 'connection')}, {count(len(genome.links), 'link')}"]
    for c, ch in enumerate(genome.chunks):
        lines.append(f"chunk {c}: {ch.ni} inputs, {ch.nn} internal, {ch.no} outputs; "
                     f"internals start {_bits(ch.internals_init, ch.nn)}")
        for cn in ch.conns:
            lines.append(f"  {short[cn.from_section]}{cn.from_index} "
                         f"{TRIGGER_NAMES[cn.trigger]} -> {ACTION_NAMES[cn.action]} "
                         f"{short[cn.to_section]}{cn.to_index}  (tag {cn.order_tag})")
    for ln in genome.links:
        lines.append(f"link c{ln.from_chunk}.Out{ln.from_out_idx} {TRIGGER_NAMES[ln.trigger]} "
                     f"-> {ACTION_NAMES[ln.action]} c{ln.to_chunk}.In{ln.to_in_idx}  "
                     f"(tag {ln.order_tag})")
    return "\n".join(lines)

