"""Neural nets as a Substrate: how worlds and evolvers make, vary, store and compile them.

A net is made for one world's layout: it has a sensory neuron per sensor and an action neuron
per action (but ``confidence``) of the ``BrainIO`` the substrate is given. Genome sizes are
counted in neurons and synapses, so the byte caps worlds pass as ``max_len`` (sized for
bytecode) do not apply and are ignored.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from primordia.brains.base import Brain, BrainIO, SubstrateBase
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream

from . import genome as gn
from . import variation
from .brain import NeuralBrain
from .genome import NeuralGenome
from .view import NeuralView, neural_view

MAX_MAGNITUDE = 1000.0
"""Mutation magnitude at most (it is also the number of operations per mutation)."""


class NeuralSubstrate(SubstrateBase):
    """The ``neural`` substrate (registered by name in ``primordia.brains.registry``)."""

    name = "neural"
    VIEW = NeuralView
    """The dashboard's view of one organism (``view``), as the published schema has it."""

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        return neural_view(brain, slot, genome, io)
    max_genome_bytes = gn.MAX_GENOME_BYTES
    """The longest encoded genome ``decode`` accepts."""

    def __init__(self, io: BrainIO | None = None, num_neurons: int = 2,
                 max_num_neurons: int = 20, num_synapses: int = 4,
                 mutation_magnitude: float = 1.0, **unknown) -> None:
        if unknown:
            raise ConfigError(f"neural: unknown options {', '.join(sorted(unknown))} (known: "
                              "io, num_neurons, max_num_neurons, num_synapses, "
                              "mutation_magnitude)")

        def count(value, key: str, top: int) -> int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise ConfigError(f"neural: {key} must be an integer in 0..{top}, "
                                  f"not {value!r}")
            return value

        self.max_num_neurons = count(max_num_neurons, "max_num_neurons", gn.MAX_INTER)
        self.num_neurons = count(num_neurons, "num_neurons", self.max_num_neurons)
        self.num_synapses = count(num_synapses, "num_synapses", gn.MAX_SYNAPSES)
        if isinstance(mutation_magnitude, bool) or not isinstance(mutation_magnitude,
                                                                  (int, float)) \
                or not math.isfinite(mutation_magnitude) \
                or not 0 <= mutation_magnitude <= MAX_MAGNITUDE:
            raise ConfigError(f"neural: mutation_magnitude must be a number in "
                              f"0..{MAX_MAGNITUDE:g}, not {mutation_magnitude!r}")
        self.mutation_magnitude = float(mutation_magnitude)
        if io is not None:
            if not isinstance(io, BrainIO):
                raise ConfigError(f"neural: io must be a BrainIO, not {type(io).__name__}")
            try:
                gn.check_layout(io)
            except GenomeError as exc:
                raise ConfigError(str(exc)) from None
        self.io = io
        # No named nets: worlds that start roles from archetypes get random nets instead.
        self.archetypes: dict[str, NeuralGenome] = {}

    def _io(self) -> BrainIO:
        if self.io is None:
            raise ConfigError("neural: random nets need the world's layout; create the "
                              "substrate with io=<the world's BrainIO>")
        return self.io

    def random(self, draws: DrawStream, max_len: int = 0) -> NeuralGenome:
        io = self._io()
        return variation.random_genome(draws, io.n_sensors, gn.action_ids_for(io),
                                       self.num_neurons, self.num_synapses)

    def mutate(self, genome: NeuralGenome, draws: DrawStream, max_len: int = 0) -> NeuralGenome:
        return variation.mutate(genome, draws, self.mutation_magnitude, self.max_num_neurons)

    def crossover(self, a: NeuralGenome, b: NeuralGenome, draws: DrawStream, max_len: int = 0,
                  **options) -> NeuralGenome:
        """``variation.crossover``; options meant for other substrates (the sandbox's
        ``classic_rate`` and ``mode``) are accepted and have no effect."""
        return variation.crossover(a, b, draws)

    def validate(self, genome: NeuralGenome) -> None:
        gn.validate(genome)
        if self.io is not None:
            gn.check_fits(genome, self.io)

    def encode(self, genome: NeuralGenome) -> bytes:
        return gn.encode(genome)

    def decode(self, data: bytes) -> NeuralGenome:
        genome = gn.decode(data)
        if self.io is not None:
            gn.check_fits(genome, self.io)
        return genome

    def to_text(self, genome: NeuralGenome) -> str:
        return gn.to_text(genome)

    def compile(self, genomes: Sequence[NeuralGenome], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> NeuralBrain:
        return NeuralBrain(list(genomes), io=io, threads=threads, capacity=capacity,
                           breeding=(self.num_neurons, self.num_synapses,
                                     self.mutation_magnitude, self.max_num_neurons))
