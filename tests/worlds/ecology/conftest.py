"""Helpers for ecology tests: small busy worlds of any brain."""

from __future__ import annotations

import pytest

from primordia.brains.settings import make_substrate
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.ecology.io import io_of
from primordia.worlds.ecology.world import EcologyWorld

SMALL = dict(width=24, height=24, num_organisms=60, max_organisms=400, patch_size=6, seed=3,
             start_energy=500, reproduce_min=300, reproduce_cost=50, corpse_energy=100,
             resource_density=0.3, regrowth=0.01, min_organisms=0)
"""The scenarios here were written for this economy (the world's first defaults): founders
rich enough to reproduce at once, and no top-up unless a test asks for one."""


def build_world(brain: str = "neural", threads: int = 1, founders=None,
                **overrides) -> EcologyWorld:
    """A 24 x 24 world of 60 organisms with ``brain`` (config keys as ``overrides``)."""
    cfg = EcologyConfig(**{**SMALL, "brain": {"kind": brain}, **overrides})
    return EcologyWorld(cfg, make_substrate(cfg.brain, io_of(cfg)), threads=threads,
                        founders=founders)


@pytest.fixture
def world():
    """``build_world``: call it with a brain and config keys."""
    return build_world
