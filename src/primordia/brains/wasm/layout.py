"""Where things are in an organism's memory: the context struct the host writes before each
step and reads after it (docs/brains/wasm.md, "The context").

All fields are little-endian i32 words. The struct starts at ``ctx_ptr`` (0 for compiled IR
organisms, whose memory is all their own); everything after it is the organism's to use.
"""

from __future__ import annotations

from dataclasses import dataclass

# header words
H_TICK, H_ID, H_RAND, H_ENERGY, H_AGE, H_SENSORS, H_ACTIONS, H_RADIUS, H_NEIGHBORS, \
    H_LAST_RESULT, H_GAS, H_MEMORY = range(12)
HEADER_WORDS = 16
"""Header words (12..15 are reserved and 0)."""

# the action record the ABI calls fill (zeroed before each step)
R_FLAGS, R_MOVE_DX, R_MOVE_DY, R_ATTACK_SLOT, R_ATTACK_AMOUNT, R_REPRO_PTR, R_REPRO_LEN, \
    R_SIGNAL_CHANNEL, R_SIGNAL_VALUE = range(9)
RECORD_WORDS = 12
F_MOVE, F_EAT, F_ATTACK, F_REPRODUCE, F_SIGNAL = 1, 2, 4, 8, 16
"""Bits of the record's flags word: which ABI actions the step asked for."""

MAX_NEIGHBORS = 8
NEIGHBOR_WORDS = 4
"""A neighbour record: dx, dy, energy band, lineage similarity (0..255)."""
MAX_PAYLOAD = 64
"""The longest ``try_reproduce`` payload, in bytes."""
MAX_RADIUS = 7
"""The widest sensing radius a world may give (a 15 x 15 tile view)."""

MIN_MEMORY = 1024
MAX_MEMORY = 65536
"""An organism's memory: a power of two from 1 KiB to one wasm page."""


@dataclass(frozen=True)
class Layout:
    """Word offsets of the context's parts for a world with ``sensors`` sensors, ``actions``
    actions and sensing radius ``radius``, in an organism memory of ``memory`` bytes."""

    sensors: int
    actions: int
    radius: int = 0
    memory: int = 4096

    def __post_init__(self) -> None:
        if not 0 <= self.radius <= MAX_RADIUS:
            raise ValueError(f"radius must be 0..{MAX_RADIUS}")
        if self.memory & (self.memory - 1) or not MIN_MEMORY <= self.memory <= MAX_MEMORY:
            raise ValueError(f"memory must be a power of two, {MIN_MEMORY}..{MAX_MEMORY}")
        if self.sensors < 0 or self.actions < 0 or self.bytes * 2 > self.memory:
            raise ValueError(f"a context of {self.bytes} bytes needs at least "
                             f"{2 * self.bytes} bytes of memory")

    @property
    def sensor_at(self) -> int:
        return HEADER_WORDS

    @property
    def action_at(self) -> int:
        return HEADER_WORDS + self.sensors

    @property
    def record_at(self) -> int:
        return self.action_at + self.actions

    @property
    def view_side(self) -> int:
        return 2 * self.radius + 1

    @property
    def view_at(self) -> int:
        return self.record_at + RECORD_WORDS

    @property
    def neighbor_at(self) -> int:
        return self.view_at + self.view_side ** 2

    @property
    def words(self) -> int:
        return self.neighbor_at + MAX_NEIGHBORS * NEIGHBOR_WORDS

    @property
    def bytes(self) -> int:
        return 4 * self.words
