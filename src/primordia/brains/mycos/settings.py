"""The settings of Mycos networks living in worlds (``MycosSettings``): how sensors and actions
are coded into bits, what a new network looks like, how long a decision may propagate, and
the caps evolution keeps networks within (docs/brains/mycos.md, "In worlds")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from primordia.core.config import Config

from .genome import Caps
from .reference import CLAMP, FREEZE, QUENCH

POLICIES = {"freeze_last_stable": FREEZE, "clamp_commutative": CLAMP,
            "parity_quench": QUENCH}


class MycosSettings(Config):
    """Mycos bit networks in a world: input bit i reads channel i mod C (the S sensors, then
    the clock) at threshold (i div C) mod sensor_bits; output bit j is code bit
    (j div A) mod action_bits of action j mod A."""

    sensor_bits: int = Field(4, ge=1, le=31, description=(
        "Thresholds per sensor: 1, 2, 3, 4, then doubling (8, 16, ...). Input bit i is on "
        "when channel i mod C is a sensor at least threshold (i div C) mod sensor_bits."))
    clock: bool = Field(True, description=(
        "One more input channel after the sensors whose bits invert every decision: an "
        "edge each tick for networks whose senses do not change."))
    action_bits: int = Field(4, ge=1, le=16, description=(
        "Binary code bits per action. An action's value is its code modulo its levels; "
        "confidence is the code as a fraction of 1 (16.16)."))
    inputs: int = Field(0, ge=0, le=4096, description=(
        "Input bits of a new network; 0: channels x sensor_bits when the substrate knows "
        "the world's layout, else 32."))
    outputs: int = Field(0, ge=0, le=4096, description=(
        "Output bits of a new network; 0: actions x action_bits when the substrate knows "
        "the world's layout, else 16."))
    internal_bits: int = Field(8, ge=0, le=256, description=(
        "A new network has 0 to this many internal bits."))
    connections: int = Field(16, ge=0, le=256, description=(
        "A new network has 0 to this many connections."))
    rounds: int = Field(16, ge=1, le=1024, description=(
        "Propagation rounds per decision at most (networks can oscillate)."))
    policy: Literal["freeze_last_stable", "clamp_commutative", "parity_quench"] = Field(
        "freeze_last_stable", description="What a decision that cycles does.")
    mutation_scale: float = Field(1.0, ge=0.0, le=100.0, description=(
        "Each mutation operator's probability (the Mycos design's) times this, at most 1."))
    max_chunks: int = Field(8, ge=1, le=64, description="Chunks per network at most.")
    max_internal_bits: int = Field(64, ge=0, le=256, description=(
        "Internal bits per chunk at most."))
    max_connections: int = Field(64, ge=0, le=256, description=(
        "Connections per chunk at most."))
    max_links: int = Field(32, ge=0, le=256, description="Links per network at most.")
    max_io_bits: int = Field(256, ge=1, le=4096, description=(
        "Input and output bits per chunk at most."))

    @model_validator(mode="after")
    def _within_caps(self) -> "MycosSettings":
        for key, cap in (("internal_bits", "max_internal_bits"),
                         ("connections", "max_connections"),
                         ("inputs", "max_io_bits"), ("outputs", "max_io_bits")):
            value = getattr(self, key)
            if value > getattr(self, cap):
                raise ValueError(f"{key} ({value}) is above {cap} ({getattr(self, cap)})")
        return self

    @property
    def caps(self) -> Caps:
        """The genome caps evolution keeps networks within."""
        return Caps(max_chunks=self.max_chunks, max_conns_per_chunk=self.max_connections,
                    max_links=self.max_links, max_nn_per_chunk=self.max_internal_bits,
                    max_io_per_chunk=self.max_io_bits)

    @property
    def policy_code(self) -> int:
        return POLICIES[self.policy]
