"""Checks of untrusted arrays: the first broken rule is one error naming the file, the array,
the value, the place and the rule; casts happen only where no value can change."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.core.checks import ArrayChecks, ArraySpec
from primordia.core.errors import ConfigError, InputFileError


def checks(**arrays) -> ArrayChecks:
    return ArrayChecks(arrays, "run/checkpoint.npz")


def test_a_value_out_of_range_names_the_array_the_value_the_place_and_the_range():
    ck = checks(x=np.array([1, 2, 3, 100_000_000, 4], dtype=np.int32))
    with pytest.raises(ConfigError) as info:
        ck.within("x", ck.arrays["x"], 0, 63, "positions", "slot {0}")
    assert str(info.value) == ("run/checkpoint.npz: x holds 100000000 at slot 3; positions "
                               "are 0..63")


def test_only_the_rows_asked_for_are_checked_and_nan_is_never_in_range():
    ck = checks()
    energy = np.array([[5], [-7], [9]])
    ck.within("energy", energy, 0, None, "energies", rows=np.array([True, False, True]))
    with pytest.raises(ConfigError, match="energies are at least 0"):
        ck.within("energy", energy, 0, None, "energies")
    with pytest.raises(ConfigError, match="rate holds nan at index 1"):
        ck.within("rate", np.array([0.5, np.nan]), None, None, "rates")


def test_dtypes_are_cast_only_when_safe_and_shapes_must_fit():
    ck = checks(a=np.arange(4, dtype=np.int16), b=np.arange(4.0), c=np.zeros((2, 2)),
                d=np.array([object()], dtype=object))
    got = ck.get("a", ArraySpec.exact(np.int32, 4))
    assert got.dtype == np.int32 and got.tolist() == [0, 1, 2, 3]
    with pytest.raises(ConfigError, match="b has dtype float64, expected int32"):
        ck.get("b", ArraySpec.exact(np.int32, 4))
    with pytest.raises(ConfigError, match=r"c has shape \(2, 2\), the config needs shape 2 x "
                                          r"0..1"):
        ck.get("c", ArraySpec.upto(np.float64, 2, 1, least=(2, 0)))
    with pytest.raises(ConfigError, match="d has dtype object"):
        ck.get("d", ArraySpec.exact(np.int64, 1))
    with pytest.raises(ConfigError, match="e is missing"):
        ck.get("e", ArraySpec.exact(np.int64, 1))
    with pytest.raises(ConfigError, match="unexpected array 'd'"):
        ck.unexpected({"a", "b", "c"})


def test_occupancy_must_match_the_positions_of_the_living():
    occupant = np.array([[-1, 0], [-1, -1]])
    live = np.array([True, False])
    x, y = np.array([1, 0]), np.array([0, 1])
    ck = ArrayChecks({}, "f", InputFileError)
    ck.occupancy("occ", occupant, live, (y, x), "NPC", "cell ({1}, {0})")
    with pytest.raises(InputFileError, match=r"occ holds -1 at cell \(0, 1\), where the NPC "
                                             "in slot 1 stands"):
        ck.occupancy("occ", occupant, np.array([True, True]), (y, x), "NPC", "cell ({1}, {0})")
    occupant[1, 1] = 1
    with pytest.raises(InputFileError, match=r"occ holds 1 at cell \(1, 1\); slot 1 is not a "
                                             "living NPC there"):
        ck.occupancy("occ", occupant, live, (y, x), "NPC", "cell ({1}, {0})")


def test_the_living_must_be_in_the_lineage_as_born_and_not_dead():
    ck = checks()
    ids, live, born = np.array([4, 9]), np.array([True, True]), np.array([0, 3])
    lin_id, origin = np.array([1, 4, 9]), np.array([0, 0, 3])
    ck.living_in_lineage(ids, live, born, lin_id, origin, np.array([2, -1, -1]), "NPC")
    with pytest.raises(ConfigError, match=r"slot 1 \(id 9\) is not in the lineage"):
        ck.living_in_lineage(ids, live, born, lin_id[:2], origin[:2], np.array([2, -1]), "NPC")
    with pytest.raises(ConfigError, match="lineage.destruction says it died"):
        ck.living_in_lineage(ids, live, born, lin_id, origin, np.array([2, 5, -1]), "NPC")
    with pytest.raises(ConfigError, match="born at another time"):
        ck.living_in_lineage(ids, live, np.array([1, 3]), lin_id, origin,
                             np.array([2, -1, -1]), "NPC")
