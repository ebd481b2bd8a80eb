"""WebAssembly organisms as a Substrate: IR genomes made, varied, checked, stored and
compiled for any world's layout (docs/brains/wasm.md).

Genome sizes are counted in instructions (the ``max_instrs`` setting), so the byte caps
worlds pass as ``max_len`` (sized for bytecode) do not apply and are ignored.
"""

from __future__ import annotations

from typing import Any, Sequence

from primordia.brains.base import Brain, BrainIO, SubstrateBase
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream

from . import ir, variation
from .asm import disassemble
from .brain import WasmBrain
from .layout import Layout
from .settings import WasmSettings


class WasmSubstrate(SubstrateBase):
    """The ``wasm`` substrate (registered by name in ``primordia.brains.registry``)."""

    name = "wasm"
    SETTINGS = WasmSettings
    max_genome_bytes = ir.MAX_GENOME_BYTES

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
                Layout(io.n_sensors, io.n_actions, memory=settings.memory)
            except ValueError as exc:
                raise ConfigError(f"wasm: {exc}") from None
        self.io = io
        self.archetypes: dict[str, ir.WasmGenome] = {}

    def longest_genome(self, max_len: int) -> int:
        return ir.MAX_GENOME_BYTES

    def random(self, draws: DrawStream, max_len: int = 0) -> ir.WasmGenome:
        return variation.random_genome(draws, min(self.settings.random_instrs,
                                                  self.settings.max_instrs))

    def mutate(self, genome: ir.WasmGenome, draws: DrawStream,
               max_len: int = 0) -> ir.WasmGenome:
        return variation.mutate(genome, draws, self.settings.max_instrs)

    def crossover(self, a: ir.WasmGenome, b: ir.WasmGenome, draws: DrawStream,
                  max_len: int = 0) -> ir.WasmGenome:
        return variation.crossover(a, b, draws, self.settings.max_instrs)

    def validate(self, genome: Any) -> None:
        if not isinstance(genome, ir.WasmGenome):
            raise GenomeError(f"not a wasm IR genome: {type(genome).__name__}")
        ir.validate(genome)

    def encode(self, genome: ir.WasmGenome) -> bytes:
        return ir.encode(genome)

    def decode(self, data: bytes) -> ir.WasmGenome:
        return ir.decode(data)

    def to_text(self, genome: ir.WasmGenome) -> str:
        return disassemble(genome)

    def brain_size(self, genome: ir.WasmGenome) -> int:
        """The upkeep a world may charge for this brain per tick (variation.brain_size)."""
        return variation.brain_size(genome)

    def compile(self, genomes: Sequence[ir.WasmGenome], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> Brain:
        """A WasmBrain (one wasm call per round; ``threads`` does not apply)."""
        return WasmBrain(list(genomes), io, memory=self.settings.memory, capacity=capacity)

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        text = disassemble(genome)
        if isinstance(brain, WasmBrain) and 0 <= slot < brain.capacity and brain.alive[slot]:
            text = (f"; last step: gas used {int(brain.gas_used[slot])}"
                    f"{', ran out' if brain.halted[slot] else ''}\n" + text)
        return {"kind": self.name, "text": text}
