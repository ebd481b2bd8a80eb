"""WebAssembly organisms as a Substrate: IR genomes made, varied, checked, stored and
compiled for any world's layout (docs/brains/wasm.md).

Genome sizes are counted in instructions (the ``max_instrs`` setting), so the byte caps
worlds pass as ``max_len`` (sized for bytecode) do not apply and are ignored.

A genome may also be a hand-written module (``ModuleGenome``, a founder brought from
outside). Modules are not varied: a module's offspring is a clone, and a child of an IR
parent and a module is a copy of the IR parent.
"""

from __future__ import annotations

from typing import Any, Sequence

from primordia.brains.base import Brain, BrainIO, SubstrateBase
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream

from . import ir, modules, variation
from .asm import disassemble
from .brain import Genome, WasmBrain
from .check import MAX_MODULE_BYTES
from .context import layout_of
from .modules import ModuleGenome
from .settings import MemorySize, WasmSettings
from .view import WasmView, wasm_view


def _fits(io: BrainIO, memory: int) -> bool:
    try:
        layout_of(io, memory)
    except ValueError:
        return False
    return True


class WasmSubstrate(SubstrateBase):
    """The ``wasm`` substrate (registered by name in ``primordia.brains.registry``)."""

    name = "wasm"
    SETTINGS = WasmSettings
    VIEW = WasmView
    """The dashboard's view of one organism (``view``), as the published schema has it."""
    max_genome_bytes = max(ir.MAX_GENOME_BYTES, MAX_MODULE_BYTES)

    def __init__(self, io: BrainIO | None = None, settings: WasmSettings | None = None,
                 **options: Any) -> None:
        """``settings``, or its keys as ``options`` (checked as a config would be)."""
        if settings is None:
            settings = WasmSettings.build(options, source="wasm")
        elif options:
            raise ConfigError("wasm: give settings or options, not both")
        self.settings = settings
        if io is not None:
            try:
                layout_of(io, settings.memory)
            except ValueError as exc:
                enough = next((m for m in MemorySize.__args__
                               if _fits(io, m)), None)
                hint = f" (the brain's memory = {enough} would)" if enough else ""
                raise ConfigError(f"wasm: {exc}{hint}") from None
        self.io = io
        self.archetypes: dict[str, ir.WasmGenome] = {}

    def longest_genome(self, max_len: int) -> int:
        return self.max_genome_bytes

    def random(self, draws: DrawStream, max_len: int = 0) -> ir.WasmGenome:
        return variation.random_genome(draws, min(self.settings.random_instrs,
                                                  self.settings.max_instrs))

    def mutate(self, genome: Genome, draws: DrawStream, max_len: int = 0) -> Genome:
        if isinstance(genome, ModuleGenome):
            return genome
        return variation.mutate(genome, draws, self.settings.max_instrs)

    def crossover(self, a: Genome, b: Genome, draws: DrawStream, max_len: int = 0) -> Genome:
        if isinstance(a, ModuleGenome) or isinstance(b, ModuleGenome):
            return a
        return variation.crossover(a, b, draws, self.settings.max_instrs)

    def validate(self, genome: Any) -> None:
        if isinstance(genome, ModuleGenome):
            return  # checked when it was made
        if not isinstance(genome, ir.WasmGenome):
            raise GenomeError(f"not a wasm genome: {type(genome).__name__}")
        ir.validate(genome)

    def encode(self, genome: Genome) -> bytes:
        if isinstance(genome, ModuleGenome):
            return modules.encode(genome)
        return ir.encode(genome)

    def decode(self, data: bytes) -> Genome:
        """IR bytes (``PWIR...``) or a module's (``\\0asm...``)."""
        if bytes(data[:4]) == b"\0asm":
            return modules.decode(bytes(data))
        return ir.decode(data)

    def from_file(self, data: bytes, name: str) -> Genome:
        """A founder's genome: ``.wir`` text, a ``.wat``/``.wasm`` module, PWIR bytes, or hex
        of either binary form (``files.from_bytes``). A module's data must also clear the
        context of the world this substrate is made for."""
        from .check import PAGE, check_module
        from .files import from_bytes

        genome = from_bytes(data, name)
        if isinstance(genome, ModuleGenome) and self.io is not None:
            layout = layout_of(self.io, PAGE)
            problems = check_module(genome.wasm, layout=layout)
            if problems:
                raise GenomeError(f"{name}: module breaks the ABI in this world: "
                                  f"{problems[0]}")
        return genome

    def to_text(self, genome: Genome) -> str:
        if isinstance(genome, ModuleGenome):
            return f"; a hand-written module of {len(genome.wasm)} bytes"
        return disassemble(genome)

    def brain_size(self, genome: Genome) -> int:
        """The upkeep a world may charge for this brain per tick: ``variation.brain_size``
        for IR, a module's bytes / 8."""
        if isinstance(genome, ModuleGenome):
            return len(genome.wasm) // 8
        return variation.brain_size(genome)

    def compile(self, genomes: Sequence[Genome], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> Brain:
        """A WasmBrain (one wasm call per round; ``threads`` does not apply)."""
        return WasmBrain(list(genomes), io, memory=self.settings.memory, capacity=capacity)

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        if not isinstance(brain, WasmBrain):
            raise ConfigError("wasm: a view needs the organism's WasmBrain")
        return wasm_view(brain, slot, genome, io)
