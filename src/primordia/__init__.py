"""Primordia: a laboratory for digital evolution.

``import primordia`` is cheap; the Python API (``primordia.world``, ``primordia.resume``,
``primordia.evolve_task``, ``primordia.evolve_islands``, ``primordia.register_brain``, ...:
``primordia.api``, docs/api.md) loads on first use."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("Reporter", "WorldKind", "WorldRun", "evolve_islands", "evolve_task", "list_brains",
        "list_worlds", "register_brain", "register_world", "resume", "world")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'primordia' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
