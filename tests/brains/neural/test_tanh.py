"""The deterministic tanh: accurate, odd, monotone, and the same bits in Python and numba."""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.neural import tanh as t
from primordia.brains.neural.tanh import tanh_nb, tanh_py

PACKAGE = Path(t.__file__).resolve().parent


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def grid() -> np.ndarray:
    """Dense points over the whole interesting range, the saturation edge and tiny values."""
    return np.concatenate([np.linspace(-22.0, 22.0, 200_001),
                           np.geomspace(1e-300, 1.0, 20_000), -np.geomspace(1e-300, 1.0, 2_000),
                           np.linspace(19.0, 20.5, 20_001), [0.0, -0.0, 20.0, -20.0]])


def test_tanh_is_within_1e14_of_math_tanh_on_a_dense_grid():
    xs = grid()
    err = max(abs(tanh_py(float(x)) - math.tanh(x)) for x in xs)
    assert err <= 1e-14


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False))
def test_tanh_is_within_1e14_of_math_tanh_for_any_float(x):
    y = tanh_py(x)
    assert not math.isnan(y) and -1.0 <= y <= 1.0
    assert abs(y - math.tanh(x)) <= 1e-14


def test_numba_and_python_give_the_same_bits():
    xs = np.concatenate([grid()[::7], np.random.default_rng(5).uniform(-25, 25, 50_000)])
    mismatches = [x for x in xs if bits(tanh_py(float(x))) != bits(tanh_nb(float(x)))]
    assert mismatches == []


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False))
def test_numba_and_python_agree_on_hypothesis_floats(x):
    assert bits(tanh_py(x)) == bits(tanh_nb(x))


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False))
def test_tanh_is_exactly_odd(x):
    assert bits(tanh_py(-x)) == bits(-tanh_py(x))


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False))
def test_tanh_is_positive_exactly_for_positive_input(x):
    """The kernel decides on/off actions by the sign of the input alone."""
    assert (tanh_py(x) > 0.0) == (x > 0.0) and (tanh_py(x) < 0.0) == (x < 0.0)


def test_tanh_is_monotone_and_saturates():
    xs = np.linspace(-22.0, 22.0, 400_001)
    ys = [tanh_py(float(x)) for x in xs]
    assert all(a <= b for a, b in zip(ys, ys[1:]))
    assert tanh_py(20.0) == 1.0 and tanh_py(-1e300) == -1.0 and tanh_py(math.inf) == 1.0
    assert tanh_py(1e-10) == 1e-10 and bits(tanh_py(-0.0)) == bits(-0.0)


def test_simulation_code_calls_no_library_transcendentals():
    """Library tanh/exp differ between machines; the brain must use tanh_py/tanh_nb only."""
    banned = re.compile(r"\b(math|np|numpy|cmath)\.(tanh|exp|expm1|log|log1p|pow|sinh|cosh)\s*\(")
    offenders = [p.name for p in PACKAGE.glob("*.py") if banned.search(p.read_text())]
    assert offenders == []
