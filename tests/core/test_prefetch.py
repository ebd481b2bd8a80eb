"""The prefetch hint compiles to a real prefetch and never changes what a kernel computes."""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.prefetch import prefetch


@njit(cache=False)
def _sum_with_hints(a, ahead):
    total = 0
    for i in range(a.size):
        prefetch(a, i + ahead)          # far past the end at the last elements: still harmless
        total += a[i]
    return total


def test_prefetch_keeps_results_and_tolerates_any_index():
    a = np.arange(10_000, dtype=np.int64)
    for ahead in (0, 8, 10_000_000, -5):
        assert _sum_with_hints(a, ahead) == a.sum()


def test_prefetch_emits_the_machine_instruction():
    _sum_with_hints(np.arange(4, dtype=np.int64), 1)
    asm = _sum_with_hints.inspect_asm(_sum_with_hints.signatures[0]).lower()
    assert "prefetch" in asm
