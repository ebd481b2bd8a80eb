"""Registries of named kinds (worlds, substrates, tasks): the CLI and the server look them up
by name. Registration is explicit, at import of the module that defines the kind."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> factory, with a clear error that lists the known names."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T]) -> None:
        if name in self._items:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._items[name] = factory

    def get(self, name: str, **options) -> T:
        """A new instance of ``name``; ``options`` go to its factory (a substrate's settings,
        such as a neural net's starting size)."""
        try:
            factory = self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.what} {name!r} (known: {known})") from None
        return factory(**options)

    def names(self) -> list[str]:
        return sorted(self._items)
