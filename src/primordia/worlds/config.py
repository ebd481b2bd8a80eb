"""What every world's config shares: the ``[brain]`` table (brains/settings.py), filled in with
the world's default brain, and old files read in -- brain settings that configs once held at
their top level move into the table, or are refused with one line naming the new key."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from pydantic import Field, model_validator

from primordia.brains.settings import BrainTable, settings_model
from primordia.core.config import Config
from primordia.core.errors import ConfigError


class WorldConfig(Config):
    """A world's settings plus the brain its organisms have."""

    DEFAULT_BRAIN: ClassVar[str] = "psil"
    """The brain a config without a ``[brain]`` table (or without its ``kind``) gets."""
    MOVED_TO_BRAIN: ClassVar[Mapping[str, str]] = {}
    """Keys this world's configs held at the top level before brains owned their settings,
    and the brain whose settings they are now."""

    FILLS_BRAIN: ClassVar[bool] = True
    """Whether a missing ``[brain]`` table (or kind) is filled in with ``DEFAULT_BRAIN``
    (a server's request model leaves it to the session, whose request names the brain)."""

    brain: BrainTable = Field(None, description="[brain]: kind (a registered brain; the "
                              "world's default if left out) and that brain's settings.")

    @model_validator(mode="before")
    @classmethod
    def _brain_table(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls.FILLS_BRAIN:
            return data
        data = dict(data)
        table = data.get("brain")
        table = {} if table is None else table
        if not isinstance(table, dict):
            return data                   # the field check says what is wrong
        table = dict(table)
        table.setdefault("kind", cls.DEFAULT_BRAIN)
        for key, owner in cls.MOVED_TO_BRAIN.items():
            if key in data:
                _move(key, data.pop(key), owner, table)
        data["brain"] = table
        return data


def _move(key: str, value: Any, owner: str, table: dict[str, Any]) -> None:
    """Read an old top-level brain setting into ``table``: kept if the table's brain is the
    one it belongs to, dropped if it is that brain's default (every old run directory holds
    all of them, and they never applied to another brain), refused otherwise."""
    if table["kind"] == owner:
        if key in table and table[key] != value:
            raise ValueError(f"{key}: now brain.{key}, and the [brain] table sets another "
                             "value")
        table.setdefault(key, value)
        return
    try:
        default = settings_model(owner).model_fields[key].default
    except (ConfigError, KeyError):   # the owner is not registered now: nothing to compare
        default = object()
    if value != default:
        raise ValueError(f"{key}: a {owner} brain's setting, now brain.{key} (with "
                         f"brain.kind = \"{owner}\"); this config's brain is "
                         f"{table['kind']!r}")
