"""Timelines for people: sampling intervals and unicode sparklines."""

from __future__ import annotations

from typing import Sequence

BARS = "▁▂▃▄▅▆▇█"


def sample_every(ticks: int, requested: int = 0) -> int:
    """The timeline's interval: ``requested``, or about 80 samples over the run."""
    if requested > 0:
        return requested
    return max(1, ticks // 80)


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """Values as a row of block characters, averaged down to at most ``width`` columns."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [sum(values[int(k * step):max(int(k * step) + 1, int((k + 1) * step))])
                  / max(1, int((k + 1) * step) - int(k * step)) for k in range(width)]
    lo, hi = min(values), max(values)
    if hi == lo:
        return BARS[0] * len(values)
    scale = (len(BARS) - 1) / (hi - lo)
    return "".join(BARS[int(round((v - lo) * scale))] for v in values)
