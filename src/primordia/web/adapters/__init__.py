"""World adapters by name: the server looks a session's world up here."""

from __future__ import annotations

from .base import WorldAdapter
from .hex import HexAdapter
from .sandbox import SandboxAdapter

ADAPTERS: dict[str, type[WorldAdapter]] = {a.NAME: a for a in (HexAdapter, SandboxAdapter)}

__all__ = ["ADAPTERS", "WorldAdapter"]
