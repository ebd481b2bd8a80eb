"""Axial hex geometry: six facings, their neighbour offsets, turning, and cell indices
(cell = r * width + q for 0 <= q, r < width)."""

from __future__ import annotations

import numpy as np
from numba import njit

EAST, NORTH_EAST, NORTH_WEST, WEST, SOUTH_WEST, SOUTH_EAST = range(6)
FACING_NAMES = ("East", "NorthEast", "NorthWest", "West", "SouthWest", "SouthEast")
DQ = np.array([1, 1, 0, -1, -1, 0], dtype=np.int64)
DR = np.array([0, -1, -1, 0, 1, 1], dtype=np.int64)
"""Neighbour offsets per facing: East (q+1, r), NorthEast (q+1, r-1), NorthWest (q, r-1),
West (q-1, r), SouthWest (q-1, r+1), SouthEast (q, r+1)."""


@njit(cache=True, nogil=True, inline="always")
def turned(facing, left, right):
    """Facing after a turn: exactly one of left/right turns one step (left goes
    E -> NE -> NW -> W -> SW -> SE -> E); both or neither keep the facing."""
    if left and not right:
        return (facing + 1) % 6
    if right and not left:
        return (facing + 5) % 6
    return facing


@njit(cache=True, nogil=True, inline="always")
def neighbour(q, r, facing, width):
    """The cell index of the neighbour in ``facing``, or -1 outside the grid."""
    nq = q + DQ[facing]
    nr = r + DR[facing]
    if nq < 0 or nr < 0 or nq >= width or nr >= width:
        return -1
    return nr * width + nq
