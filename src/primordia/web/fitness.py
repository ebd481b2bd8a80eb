"""The fitness distribution a world sends with every delta: a small histogram of its
per-organism fitness measure, binned on the server with numpy, so a dashboard's chart is
never older than a turn while the delta stays a few dozen bytes."""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 24
"""Bins at most: integer measures get one bin per value while their range fits."""


def histogram(measure: str, values: np.ndarray) -> dict[str, Any]:
    """``{measure, lo, width, counts}``: bin i holds values in [lo + i*width, lo + (i+1)*width)
    (the last bin includes the top value); no bins when there are no organisms."""
    if values.size == 0:
        return {"measure": measure, "lo": 0, "width": 1, "counts": []}
    lo, hi = values.min().item(), values.max().item()
    integral = np.issubdtype(values.dtype, np.integer)
    if integral and hi - lo + 1 <= BINS:
        n, width = int(hi - lo + 1), 1
    else:
        n, width = BINS, (hi - lo) / BINS or 1
    index = np.minimum(((values - lo) / width).astype(np.int64), n - 1)
    return {"measure": measure, "lo": lo, "width": width,
            "counts": np.bincount(index, minlength=n).tolist()}
