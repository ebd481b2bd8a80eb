"""The map of an ecology world from its seed: smooth random fields choose obstacle, hazard,
radiation and fertile patches (docs/worlds/ecology.md, "The map"). Integer arithmetic only,
so the same seed gives the same map everywhere."""

from __future__ import annotations

import numpy as np

from primordia.core.rng import random_u64_py, stream_id

from .config import EcologyConfig
from .state import FERTILE, HAZARD, OBSTACLE, OPEN, RADIATION

STREAM_TERRAIN = stream_id("ecology.terrain")
FIELDS = ((OBSTACLE, "obstacle_share"), (HAZARD, "hazard_share"),
          (RADIATION, "radiation_share"), (FERTILE, "resource_density"))
"""Kinds in the order they take tiles, with the config share each takes; field f is the
f-th of these."""


def noise_field(seed_word: int, field: int, width: int, height: int, patch: int) -> np.ndarray:
    """Field ``field``'s value per tile (int64[height * width]): value noise on a wrapping
    lattice of about ``patch`` tiles per cell, blended bilinearly in integers."""
    lx, ly = max(1, width // patch), max(1, height // patch)
    lattice = np.array([[random_u64_py(seed_word, STREAM_TERRAIN, field, j * lx + i, 0) >> 48
                         for i in range(lx)] for j in range(ly)], dtype=np.int64)
    gx, fx = np.divmod(np.arange(width, dtype=np.int64) * lx, width)
    gy, fy = np.divmod(np.arange(height, dtype=np.int64) * ly, height)
    gx1, gy1 = (gx + 1) % lx, (gy + 1) % ly
    gy_, gy1_, fy_ = gy[:, None], gy1[:, None], fy[:, None]
    top = lattice[gy_, gx] * (width - fx) + lattice[gy_, gx1] * fx
    bottom = lattice[gy1_, gx] * (width - fx) + lattice[gy1_, gx1] * fx
    return (top * (height - fy_) + bottom * fy_).reshape(-1)


def generate(config: EcologyConfig, seed_word: int) -> tuple[np.ndarray, np.ndarray]:
    """(kind int8[T], resource int64[T] in Q8): each kind takes its share of the tiles still
    open with the highest values of its field (ties to the lower index); fertile tiles start
    full."""
    w, h = config.width, config.height
    tiles = w * h
    kind = np.full(tiles, OPEN, dtype=np.int8)
    index = np.arange(tiles)
    for field, (k, share_name) in enumerate(FIELDS):
        want = round(getattr(config, share_name) * tiles)
        if want <= 0:
            continue
        values = noise_field(seed_word, field, w, h, config.patch_size)
        order = np.lexsort((index, -values))          # highest value first, ties by index
        still_open = order[kind[order] == OPEN]
        kind[still_open[:want]] = k
    resource = np.where(kind == FERTILE, config.r_max * 256, 0).astype(np.int64)
    return kind, resource
