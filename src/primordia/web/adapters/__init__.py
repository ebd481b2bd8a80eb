"""World adapters by name: the server looks a session's world up here, in the world registry
(each world names its adapter there)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from primordia.worlds.registry import WORLDS

from .base import WorldAdapter


class _Adapters(Mapping[str, type[WorldAdapter]]):
    """Every registered world's adapter class, by world name, in registration order."""

    def __getitem__(self, name: str) -> type[WorldAdapter]:
        if name not in WORLDS:
            raise KeyError(name)
        return WORLDS.get(name).adapter_class

    def __iter__(self) -> Iterator[str]:
        return iter(WORLDS.names())

    def __len__(self) -> int:
        return len(WORLDS.names())


ADAPTERS: Mapping[str, type[WorldAdapter]] = _Adapters()

__all__ = ["ADAPTERS", "WorldAdapter"]
