"""Neural nets as a Substrate: how worlds and evolvers make, vary, store and compile them.

A net is made for one world's layout: it has a sensory neuron per sensor and an action neuron
per action (but ``confidence``) of the ``BrainIO`` the substrate is given. Genome sizes are
counted in neurons and synapses, so the byte caps worlds pass as ``max_len`` (sized for
bytecode) do not apply and are ignored.
"""

from __future__ import annotations

from typing import Any, Sequence

from primordia.brains.base import DEFAULT_MAX_GENOME_BYTES, Brain, BrainIO, SubstrateBase
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream

from . import genome as gn
from . import variation
from .brain import NeuralBrain
from .genome import NeuralGenome
from .settings import NeuralSettings
from .view import NeuralView, neural_view


class NeuralSubstrate(SubstrateBase):
    """The ``neural`` substrate (registered by name in ``primordia.brains.registry``)."""

    name = "neural"
    SETTINGS = NeuralSettings
    VIEW = NeuralView
    """The dashboard's view of one organism (``view``), as the published schema has it."""

    def view(self, brain: Brain, slot: int, genome: Any, io: BrainIO) -> dict[str, Any]:
        return neural_view(brain, slot, genome, io)
    max_genome_bytes = gn.MAX_GENOME_BYTES
    """The longest encoded genome ``decode`` accepts."""

    def __init__(self, io: BrainIO | None = None, settings: NeuralSettings | None = None,
                 **options: Any) -> None:
        """``settings``, or its keys as ``options`` (checked as a config would be)."""
        if settings is None:
            settings = NeuralSettings.build(options, source="neural")
        elif options:
            raise ConfigError("neural: give settings or options, not both")
        self.settings = settings
        self.max_num_neurons = settings.max_num_neurons
        self.num_neurons = settings.num_neurons
        self.num_synapses = settings.num_synapses
        self.mutation_magnitude = settings.mutation_magnitude
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

    def longest_genome(self, max_len: int) -> int:
        """Nets grow by neurons and synapses, not under a world's byte cap; a sample from an
        island larger than 1 MiB is refused all the same."""
        return DEFAULT_MAX_GENOME_BYTES

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

    def crossover(self, a: NeuralGenome, b: NeuralGenome, draws: DrawStream,
                  max_len: int = 0) -> NeuralGenome:
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

    def size(self, genome: NeuralGenome) -> int:
        """``gn.packed_size``: what the brain packs, not the JSON text, so a brain that
        breeds in place knows it without building the genome."""
        return gn.packed_size(genome)

    def to_text(self, genome: NeuralGenome) -> str:
        return gn.to_text(genome)

    def compile(self, genomes: Sequence[NeuralGenome], io: BrainIO, threads: int = 1,
                capacity: int | None = None) -> NeuralBrain:
        return NeuralBrain(list(genomes), io=io, threads=threads, capacity=capacity,
                           breeding=(self.num_neurons, self.num_synapses,
                                     self.mutation_magnitude, self.max_num_neurons))
