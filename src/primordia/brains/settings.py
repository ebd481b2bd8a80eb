"""A world config's ``[brain]`` table: which brain (``kind``) and that brain's own settings.

Every substrate describes its settings as a ``Config`` (registered beside it as
``settings=``); a world config holds one ``BrainTable`` and knows nothing of what is in it.
The table is flat, as people write it::

    [brain]
    kind = "neural"
    num_neurons = 4

and is checked against the kind's settings model as it is read, so a typo or a setting of
another brain is a one-line error naming ``brain.KEY``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from primordia.core.config import Config, describe
from primordia.core.errors import ConfigError

from .base import BrainIO, NoSettings, Substrate
from .registry import SUBSTRATES


def settings_model(kind: str) -> type[Config]:
    """The settings model registered with substrate ``kind`` (ConfigError if unknown)."""
    return SUBSTRATES.fact(kind, "settings", NoSettings)


class BrainTable(BaseModel):
    """``kind`` plus the settings of that brain, every one filled in (defaults included)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kind: str = Field(max_length=64, description="The brain: a registered substrate "
                      "(docs/brains/); the other keys are its settings.")

    @model_validator(mode="before")
    @classmethod
    def _settings_of_the_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return data                   # the field checks say what is wrong
        kind = data["kind"]
        try:
            model = settings_model(kind)
        except ConfigError:
            known = ", ".join(SUBSTRATES.names())
            raise ValueError(f"kind: {kind!r} is not a brain Primordia knows "
                             f"(known: {known})") from None
        try:
            settings = model.model_validate({k: v for k, v in data.items() if k != "kind"})
        except ValidationError as exc:
            err = exc.errors()[0]
            if err["type"] == "extra_forbidden":
                known = ", ".join(model.model_fields) or "none"
                raise ValueError(f"{err['loc'][0]}: a {kind} brain has no such setting "
                                 f"(its settings: {known})") from None
            raise ValueError(describe(exc)) from None
        return {"kind": kind, **settings.model_dump()}

    @property
    def settings(self) -> Config:
        """The settings, as the substrate's own model."""
        return settings_model(self.kind).model_validate(self.model_extra or {})

    def values(self) -> dict[str, Any]:
        """The table as written: ``kind`` and every setting."""
        return self.model_dump()


def make_substrate(table: BrainTable, io: BrainIO | None = None) -> Substrate:
    """The substrate of ``table``'s kind, with its settings, for a world with layout ``io``
    (a substrate's factory takes ``io`` and ``settings``)."""
    return SUBSTRATES.get(table.kind, io=io, settings=table.settings)
