"""The neural nets' own settings, the ``[brain]`` table of a world whose kind is ``neural``
(docs/brains/neural.md), with NeuroGenesis's defaults."""

from __future__ import annotations

from pydantic import Field, model_validator

from primordia.core.config import Config

from .genome import MAX_INTER, MAX_SYNAPSES

MAX_MAGNITUDE = 100.0
"""Mutation magnitude at most (it is also the number of operations per mutation)."""


class NeuralSettings(Config):
    """How big a new net is, how big one may grow, and how hard a mutation shakes it."""

    num_neurons: int = Field(2, ge=0, le=MAX_INTER, description="Inter neurons of a new brain.")
    max_num_neurons: int = Field(20, ge=0, le=MAX_INTER, description="Inter neurons at most "
                                 "(ids 1000 + i stay below the action ids at 2000).")
    num_synapses: int = Field(4, ge=0, le=MAX_SYNAPSES, description="Synapses of a new brain.")
    mutation_magnitude: float = Field(1.0, ge=0, le=MAX_MAGNITUDE,
                                      description="Mutation operations (rounded, at least 1) "
                                      "and weight perturbation scale.")

    @model_validator(mode="after")
    def _within_the_cap(self) -> "NeuralSettings":
        if self.num_neurons > self.max_num_neurons:
            raise ValueError("num_neurons must not exceed max_num_neurons")
        return self
