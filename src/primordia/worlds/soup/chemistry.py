"""The soup's chemistry as data: molecules, their atoms, their caps, and the reactions
between them (docs/worlds/soup.md, "Chemistry").

A cell holds a pool of each molecule (int64, ``MOLECULES`` order). A reaction is a row of
changes, applied all or nothing: every pool it takes from must hold enough, and every pool
it adds to must stay within its cap; otherwise nothing happens. ATP (``A``) is energy, not
matter; every other molecule is counted in atoms, and every reaction keeps the atoms it
moves (``ATOMS``; a test holds the table to it). Photosynthesis also takes one unit of
light, which the soup hands out per tick.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MOLECULES = ("X", "W", "G", "O", "A", "S", "F", "B", "I", "Y", "Z")
"""Carbon dioxide, water, glucose, oxygen, ATP, starch, fat, barrier, instruction, and the
chemicals Y (for barriers) and Z (for instructions)."""
X, W, G, O, A, S, F, B, I, Y, Z = range(len(MOLECULES))

CAPS = np.array([100_000, 100_000, 10_000, 100_000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
                dtype=np.int64)
"""Most of each a cell holds (the reference's caps; Y and Z, which it lacks, as B and I)."""

ELEMENTS = ("C", "H", "O", "Y", "Z")
_ATOMS = {"X": {"C": 1, "O": 2}, "W": {"H": 2, "O": 1}, "G": {"C": 6, "H": 12, "O": 6},
          "O": {"O": 2}, "A": {}, "Y": {"Y": 1}, "Z": {"Z": 1}}
_ATOMS["S"] = {e: 100 * n for e, n in _ATOMS["G"].items()}
_ATOMS["F"] = {e: 200 * n for e, n in _ATOMS["G"].items()}
_ATOMS["B"] = {**_ATOMS["G"], "Y": 1}
_ATOMS["I"] = {**_ATOMS["G"], "Z": 1}
ATOMS = np.array([[_ATOMS[m].get(e, 0) for e in ELEMENTS] for m in MOLECULES], dtype=np.int64)
"""Atoms of each element in one unit of each molecule (ATP: none)."""

_REACTIONS = {
    "PHOTOSYNTHESIZE": {"X": -6, "W": -6, "G": 1, "O": 6},
    "RESPIRE": {"G": -1, "O": -6, "X": 6, "W": 6, "A": 38},
    "MAKE_STARCH": {"G": -100, "A": -100, "S": 1},
    "BREAK_STARCH": {"S": -1, "G": 100},
    "MAKE_FAT": {"G": -200, "A": -400, "F": 1},
    "BREAK_FAT": {"F": -1, "G": 200},
    "MAKE_BARRIER": {"G": -1, "Y": -1, "A": -10, "B": 1},
    "BREAK_BARRIER": {"B": -1, "A": -20, "G": 1, "Y": 1},
    "MAKE_INSTRUCTION": {"G": -1, "Z": -1, "A": -10, "I": 1},
    "BREAK_INSTRUCTION": {"I": -1, "A": -20, "G": 1, "Z": 1},
}
REACTIONS = tuple(_REACTIONS)
"""Reaction names, in ``DELTA`` order: each is the instruction of that name."""
DELTA = np.array([[_REACTIONS[r].get(m, 0) for m in MOLECULES] for r in REACTIONS],
                 dtype=np.int64)
"""Change in each pool when a reaction runs once."""
LIGHT = np.array([1 if r == "PHOTOSYNTHESIZE" else 0 for r in REACTIONS], dtype=np.int64)
"""Units of light a reaction takes."""


@njit(cache=True, nogil=True)
def react(pools, reaction, light):
    """Run ``reaction`` once on one cell's ``pools`` (int64[len(MOLECULES)]), all or nothing,
    with ``light`` units of light available; returns the light it took, or -1 when it could
    not run (and nothing changed)."""
    need = LIGHT[reaction]
    if need > light:
        return -1
    for m in range(pools.shape[0]):
        after = pools[m] + DELTA[reaction, m]
        if after < 0 or (DELTA[reaction, m] > 0 and after > CAPS[m]):
            return -1
    for m in range(pools.shape[0]):
        pools[m] += DELTA[reaction, m]
    return need


def atoms(pools: np.ndarray) -> np.ndarray:
    """Atoms of each element in ``pools`` (any leading shape, molecules last)."""
    return np.asarray(pools, dtype=np.int64) @ ATOMS
