"""The soup's chemistry: reactions all or nothing, within caps, keeping every atom."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.worlds.soup.chemistry import (CAPS, DELTA, MOLECULES, REACTIONS, A, G, O, W, X,
                                             atoms, react)

PHOTO, RESPIRE = REACTIONS.index("PHOTOSYNTHESIZE"), REACTIONS.index("RESPIRE")


def pools(**amounts) -> np.ndarray:
    out = np.zeros(len(MOLECULES), dtype=np.int64)
    for name, v in amounts.items():
        out[MOLECULES.index(name)] = v
    return out


def test_every_reaction_keeps_its_atoms():
    """ATP is energy; everything else is matter, and no reaction makes or loses any."""
    assert not atoms(DELTA).any(), dict(zip(REACTIONS, atoms(DELTA).tolist()))


def test_photosynthesis_as_the_reference_tests_it():
    p = pools(X=10, W=10)
    assert react(p, PHOTO, 1) == 1
    assert p.tolist() == pools(X=4, W=4, G=1, O=6).tolist()


def test_photosynthesis_needs_light():
    p = pools(X=10, W=10)
    assert react(p, PHOTO, 0) == -1 and p.tolist() == pools(X=10, W=10).tolist()


def test_respiration_makes_38_atp():
    p = pools(G=2, O=6)
    assert react(p, RESPIRE, 0) == 0
    assert (p[G], p[O], p[X], p[W], p[A]) == (1, 0, 6, 6, 38)


def test_too_little_of_an_input_changes_nothing():
    for start in (pools(X=5, W=5), pools(X=10, W=5)):
        p = start.copy()
        assert react(p, PHOTO, 1) == -1 and (p == start).all()


def test_a_product_over_its_cap_changes_nothing():
    """The reference's case: glucose already above its cap."""
    start = pools(X=10, W=10, G=20_000)
    p = start.copy()
    assert react(p, PHOTO, 1) == -1 and (p == start).all()


def test_starch_lysis_gives_back_its_glucose():
    """The seed's reaction (the reference adds a starch instead of taking one)."""
    p = pools(S=1)
    assert react(p, REACTIONS.index("BREAK_STARCH"), 0) == 0
    assert p[MOLECULES.index("S")] == 0 and p[G] == 100


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=len(MOLECULES), max_size=len(MOLECULES)),
       st.lists(st.integers(0, len(REACTIONS) - 1), max_size=60),
       st.integers(0, 10))
def test_any_sequence_of_reactions_conserves_atoms_and_keeps_pools_in_range(start, seq, light):
    p = np.minimum(np.array(start, dtype=np.int64), CAPS)
    before = atoms(p)
    for r in seq:
        took = react(p, r, light)
        assert took in (-1, 0, 1)
        light -= max(took, 0)
        assert (p >= 0).all() and (p <= CAPS).all()
    assert (atoms(p) == before).all()
