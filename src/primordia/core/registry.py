"""Registries of named kinds (worlds, substrates, tasks): the CLI and the server look them up
by name. Registration is explicit, at import of the module that defines the kind."""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> factory, with a clear error that lists the known names."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, Callable[..., T]] = {}
        self._facts: dict[str, dict[str, Any]] = {}

    def register(self, name: str, factory: Callable[..., T], **facts: Any) -> None:
        """Add ``name``; ``facts`` are what others may ask of the kind without making one
        (a substrate's settings model, say)."""
        if name in self._items:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._items[name] = factory
        self._facts[name] = dict(facts)

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests that register a kind of their own take it out again)."""
        self._items.pop(name, None)
        self._facts.pop(name, None)

    def fact(self, name: str, key: str, default: Any = None) -> Any:
        """What ``name`` was registered with under ``key`` (``default`` if nothing)."""
        self.get_factory(name)
        return self._facts[name].get(key, default)

    def get_factory(self, name: str) -> Callable[..., T]:
        """The factory of ``name`` (ConfigError listing the known names if there is none)."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.what} {name!r} (known: {known})") from None

    def get(self, name: str, **options) -> T:
        """A new instance of ``name``; ``options`` go to its factory (a substrate's settings,
        such as a neural net's starting size)."""
        return self.get_factory(name)(**options)

    def names(self) -> list[str]:
        return sorted(self._items)
