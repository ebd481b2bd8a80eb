"""A brain's action round, callable from inside a world's numba kernel.

Worlds whose NPCs act several times per tick (one action round per yield) spend most of a
tick between rounds if each round is a Python call. A brain that offers ``round_state()``
lets the world run all of a tick's rounds in one kernel: the kernel calls ``brain_round``
below, and numba picks the brain's implementation from the type of the state it is given.
A brain registers that implementation with ``numba.extending.overload(brain_round)``,
matching its own state type. Brains without one are stepped through ``Brain.step``; both
paths give the same results.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from primordia.brains.base import offers


def brain_round(state, slots, n, sensors, actions, more) -> None:
    """For ``slots[:n]`` (distinct, in any order): read ``sensors[slot]``, decide, write
    ``actions[slot]``, and set ``more[slot]`` to whether that organism acts again this tick.
    Only the overloads registered by brains run; this Python body never does."""
    raise TypeError(f"no brain_round for a brain state of type {type(state).__name__}")


@runtime_checkable
class RoundsInKernel(Protocol):
    """A brain whose action rounds a world can run inside one kernel (``brain_round``)."""

    def round_state(self) -> Any:
        """The arrays ``brain_round`` works on, valid until the population changes."""


def round_state_of(brain: Any) -> Any | None:
    """The brain's kernel round state (its ``round_state()``: the arrays ``brain_round``
    works on, valid until the population changes), or None if it only offers
    ``Brain.step``."""
    return brain.round_state() if offers(brain, RoundsInKernel) else None


__all__ = ["RoundsInKernel", "brain_round", "round_state_of"]
