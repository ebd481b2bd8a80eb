"""Typed configuration: a strict pydantic base, TOML loading, and one-line errors.

Every world, substrate and evolver describes its settings as a ``Config`` subclass; a run's
resolved config is written back as TOML so that it, with the seed, reproduces the run.
"""

from __future__ import annotations

import functools
import numbers
import tomllib
import types
import typing
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError,
                      ValidationInfo, field_validator)

from .errors import ConfigError, InputFileError

C = TypeVar("C", bound="Config")


class ClosedModel(BaseModel):
    """A model that refuses unknown keys (a typo is an error, not an option). The shared base
    of wire bodies and replies, whose fields stay assignable."""

    model_config = ConfigDict(extra="forbid")


class FrozenModel(BaseModel):
    """An immutable model that refuses unknown keys: the shared base of settings and records
    that are made once and then only read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NumbersAreNotBooleans(BaseModel):
    """A model whose numeric fields refuse ``true``/``false``: pydantic would read them as 1
    and 0, so ``npcs = true`` would quietly run one NPC."""

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name in numeric_fields(cls):
            raise ValueError("expected a number, not a boolean")
        return value


def _whole(value: Any) -> Any:
    """An integral float (3.0) or integer-like number (numpy's) as an int; anything else as
    it is, for the strict check after this to accept or refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    return value


def integer(*constraints: Any, **bounds: Any) -> Any:
    """An integer as JSON Schema's ``integer`` has it, within ``constraints`` (annotated_types
    such as ``Ge(0)``) and ``bounds`` (``Field``'s ge, le, ...): 3, and 3.0 read as 3; never
    3.5, "3" or ``true``. For wire models, whose published schema must accept what the server
    accepts and no more (pydantic's lax int would also take "3"; its strict int would refuse
    3.0). The conversion comes last, so that the bounds stay in the schema."""
    parts = [Strict(), *constraints, *([Field(**bounds)] if bounds else []),
             BeforeValidator(_whole)]
    return Annotated[(int, *parts)]


Integer = integer()

Number = Annotated[float, Strict()]
"""A number as JSON Schema's ``number`` has it: 3 or 3.5; never "3.5" or ``true``."""


@functools.cache
def numeric_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of ``model``'s fields typed int or float (alone or with None)."""
    names = set()
    for name, field in model.model_fields.items():
        kinds = {field.annotation}
        if typing.get_origin(field.annotation) in (typing.Union, types.UnionType):
            kinds = set(typing.get_args(field.annotation)) - {type(None)}
        if kinds and kinds <= {int, float}:
            names.add(name)
    return frozenset(names)


class Config(NumbersAreNotBooleans):
    """Immutable settings that reject unknown keys (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @classmethod
    def build(cls: type[C], values: dict[str, Any], source: str = "config") -> C:
        """Validate ``values``; a bad value raises ConfigError naming the key path."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(f"{source}: {describe(exc)}") from None

    @classmethod
    def from_toml(cls: type[C], path: str | Path, overrides: dict[str, Any] | None = None) -> C:
        """Read a TOML file, apply ``overrides`` (e.g. command-line flags), validate."""
        return cls.build(merged(read_toml(path), overrides or {}), source=str(path))

    def replace(self: C, **changes: Any) -> C:
        """A copy with some values changed, validated again."""
        return type(self).build({**self.model_dump(), **changes})

    def to_toml(self) -> str:
        """The settings as TOML text: scalars, then tables of scalars (a world's
        ``[brain]``)."""
        values = self.model_dump()
        lines = [f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, dict)]
        for key, table in values.items():
            if isinstance(table, dict):
                lines += ["", f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
        return "\n".join(lines) + "\n"


def merged(values: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``changes`` applied; a table in both is merged key by key (so that
    ``--brain`` sets ``brain.kind`` and keeps the file's brain settings)."""
    out = dict(values)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


MAX_TOML_BYTES = 1024 * 1024
"""Largest config or experiment file read: settings are a few hundred bytes."""


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; unreadable, oversized, malformed or absurdly nested files raise
    one-line errors."""
    p = Path(path)
    try:
        if not p.is_file():
            raise InputFileError(f"{p}: no such file")
        with p.open("rb") as f:
            data = f.read(MAX_TOML_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{p}: cannot read ({exc})") from None
    if len(data) > MAX_TOML_BYTES:
        raise ConfigError(f"{p}: larger than {MAX_TOML_BYTES} bytes, the limit for a config")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{p}: cannot read ({exc})") from None
    except ValueError as exc:      # int() of more digits than Python converts: not a TOML error
        raise ConfigError(f"{p}: not valid TOML ({str(exc).split(':')[0]})") from None
    except RecursionError:
        raise ConfigError(f"{p}: nested too deeply to be a config") from None


def describe(exc: ValidationError) -> str:
    """The first validation problem as 'key.path: message (got value)'."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"])
    got = err.get("input")
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    message = err["msg"].removeprefix("Value error, ")
    if isinstance(got, dict):     # a check of a whole table: its message names the keys
        return f"{path + ': ' if path else ''}{message}{tail}"
    shown = repr(got)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{path or '(top level)'}: {message} (got {shown}){tail}"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {type(value).__name__} as a TOML scalar")


def key_value(text: str, flag: str) -> tuple[str, Any]:
    """``KEY=VALUE`` given to option ``flag``: the value read as a TOML value (a number,
    true, "text"), or else as the text itself; ConfigError in one line if there is no key."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{flag} {text!r}: write KEY=VALUE")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        value = raw.strip()
    return key.strip(), value
