"""micro-PSIL as a Substrate: how worlds and evolvers make, vary, store and compile genomes.

Genomes here are main code only (bytes, no quotation table): that is what the GA's operators
and the sandbox's teachings work on. Any ``PsilGenome`` still compiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from primordia.brains.base import Brain, BrainIO, SubstrateBase, hex_text
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream

from . import variation
from .archetypes import ARCHETYPES
from .asm import assemble, disassemble
from .brain import PsilBrain
from .files import ASSEMBLY_SUFFIXES, HEX_SUFFIXES
from .genome import MAX_CODE_BYTES, PsilGenome
from .settings import PsilSettings
from .view import PsilView, psil_view


class PsilSubstrate(SubstrateBase):
    """The ``psil`` substrate (registered by name in ``primordia.brains.registry``)."""

    name = "psil"
    archetypes: dict[str, bytes] = dict(ARCHETYPES)
    max_genome_bytes = MAX_CODE_BYTES
    """The longest encoded genome ``decode`` accepts."""
    VIEW = PsilView
    """The dashboard's view of one organism (``view``), as the published schema has it."""
    SETTINGS = PsilSettings

    def __init__(self, io: BrainIO | None = None, settings: PsilSettings | None = None,
                 **options: Any) -> None:
        """``settings``, or its keys as ``options``; bytecode reads any layout, so ``io``
        is not needed."""
        if settings is None:
            settings = PsilSettings.build(options, source="psil")
        elif options:
            raise ConfigError("psil: give settings or options, not both")
        self.settings = settings

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        return psil_view(brain, slot, genome)

    def random(self, draws: DrawStream, max_len: int) -> bytes:
        return variation.random_genome(draws, max_len)

    def mutate(self, genome: bytes, draws: DrawStream, max_len: int) -> bytes:
        return variation.mutate(genome, draws, max_len)

    def crossover(self, a: bytes, b: bytes, draws: DrawStream, max_len: int) -> bytes:
        """The settings' crossover (growth with a classic share, or classic)."""
        return variation.crossover(a, b, draws, max_len,
                                   classic_rate=self.settings.classic_rate,
                                   mode=self.settings.crossover)

    def transfer(self, teacher: bytes, student: bytes, draws: DrawStream) -> bytes:
        """Teaching: a fragment of the teacher's code overwrites part of the student's."""
        return variation.teach(teacher, student, draws)

    def validate(self, genome: bytes) -> None:
        if not isinstance(genome, (bytes, bytearray)):
            raise GenomeError(f"a micro-PSIL genome is bytes, not {type(genome).__name__}")
        if len(genome) > MAX_CODE_BYTES:
            raise GenomeError(f"genome is {len(genome)} bytes; at most {MAX_CODE_BYTES}")

    def longest_genome(self, max_len: int) -> int:
        """Variation keeps genomes within the world's cap."""
        return min(max_len, MAX_CODE_BYTES)

    def encode(self, genome: bytes) -> bytes:
        return bytes(genome)

    def decode(self, data: bytes) -> bytes:
        self.validate(data)
        return bytes(data)

    def from_file(self, data: bytes, name: str) -> bytes:
        """A founder's genome: ``.mpsil`` text (assembled), hex text, or raw code bytes in a
        ``.bin`` file. A world's genomes are main code only, so a program with quotations
        is refused."""
        suffix = Path(name).suffix.lower()
        digits = hex_text(data)
        try:
            if suffix in ASSEMBLY_SUFFIXES:
                try:
                    text = bytes(data).decode("utf-8")
                except UnicodeDecodeError:
                    raise GenomeError("not UTF-8 text") from None
                genome = assemble(text, source=name)
            elif suffix in HEX_SUFFIXES or (digits is not None and suffix != ".bin"):
                try:
                    genome = PsilGenome.from_hex(bytes(data).decode("ascii"))
                except UnicodeDecodeError:
                    raise GenomeError("not hex text") from None
            elif suffix == ".bin":
                genome = PsilGenome.from_bytes(bytes(data))
            else:
                raise GenomeError("not a micro-PSIL genome; give .mpsil text, hex text or raw "
                                  "code in a .bin file")
            if genome.quotations:
                raise GenomeError("defines quotations; a world's micro-PSIL genomes are main "
                                  "code only")
            return self.decode(genome.code)
        except GenomeError as e:
            message = str(e)
            raise GenomeError(message if message.startswith(name) else f"{name}: {message}"
                              ) from None

    def to_text(self, genome: bytes) -> str:
        return disassemble(bytes(genome))

    def compile(self, genomes: Sequence[bytes], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> PsilBrain:
        return PsilBrain(list(genomes), io=io, threads=threads, capacity=capacity)
