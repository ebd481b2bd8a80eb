"""What the server needs from a world, so that every world is served with the same routes and
messages: build it from a config, tick it into delta dicts, and show snapshots, metrics and
single organisms. One adapter class per world; a new world plugs in by adding one."""

from __future__ import annotations

import functools
import typing
from typing import Annotated, Any, ClassVar, Literal, Union

import annotated_types
import numpy as np
from pydantic import (BaseModel, Discriminator, Field, Strict, Tag, ValidationError,
                      create_model)

from primordia.brains.base import BrainIO
from primordia.brains.registry import SUBSTRATES
from primordia.brains.settings import settings_model
from primordia.core.config import Config, Number, integer
from primordia.http.errors import ApiError

from ..lineage import Ancestry


def cell_string(values: Any) -> str:
    """A small-valued grid as one character per cell, row-major: code = char code - 48 (so
    values 0-9 read as digits). Compact for big grids and cheap to build."""
    return (values.astype("uint8").ravel() + 48).tobytes().decode("latin-1")


def moves_between(before: tuple[np.ndarray, np.ndarray, np.ndarray],
                  after: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[dict[str, Any]]:
    """The delta's ``moves`` of a square world from two views, each (ids, x, y) of the
    living: every organism in both whose position changed."""
    (ids0, x0, y0), (ids1, x1, y1) = before, after
    _, a, b = np.intersect1d(ids0, ids1, assume_unique=True, return_indices=True)
    moved = (x0[a] != x1[b]) | (y0[a] != y1[b])
    a, b = a[moved], b[moved]
    return [{"id": i, "from": [xa, ya], "to": [xb, yb]} for i, xa, ya, xb, yb in zip(
        ids1[b].tolist(), x0[a].tolist(), y0[a].tolist(), x1[b].tolist(), y1[b].tolist())]


def one_per_cell(xs: list[int], ys: list[int], ids: list[int]) -> list[dict[str, Any]]:
    """A snapshot's ``occupancy`` in a square world of one organism per cell."""
    return [{"x": x, "y": y, "organism_ids": [i]} for x, y, i in zip(xs, ys, ids)]


class WorldAdapter:
    """One running world with its brain, seen by the server. Subclasses set the class
    attributes and implement the methods below."""

    NAME: ClassVar[str] = ""
    GRID: ClassVar[str] = ""                       # "hex" (axial q, r) or "square" (x, y)
    COORDS: ClassVar[tuple[str, str]] = ("x", "y")
    CONFIG: ClassVar[type[Config]] = Config
    RUN: ClassVar[Any] = None
    """The world's run class (``runs.world_run.WorldRun``): its brains and substrates."""
    HIDDEN: ClassVar[tuple[str, ...]] = ()         # config keys that mean nothing live
    CAPS: ClassVar[dict[str, int]] = {}
    BRAIN_CAPS: ClassVar[dict[str, int]] = {
        "num_neurons": 32, "max_num_neurons": 64, "num_synapses": 64,      # neural
        "rounds": 64, "max_io_bits": 1024, "inputs": 1024, "outputs": 1024}  # mycos
    """Upper bounds on brain settings (``config.brain.KEY``), for every world: a brain's
    size is the same cost wherever it lives."""
    """Upper bounds the server puts on config keys (below the config's own), so that one
    request cannot ask for a world that takes the machine's memory."""
    ORGANISM: ClassVar[type[BaseModel]] = BaseModel
    """The reply model of one organism (``web.shapes.Reply``): what snapshots, deltas and
    the focus reply say of it."""
    CELL: ClassVar[type[BaseModel]] = BaseModel
    """The reply model of a cell that more than one organism occupies."""
    TERRAIN: ClassVar[Any] = None
    """The reply model of the snapshot's ``terrain`` (None: the world has none)."""
    TILES: ClassVar[str] = "Changed tiles as [x, y, tile]."
    """What a delta's ``tiles`` hold in this world (for the published schema)."""
    RULES: ClassVar[tuple[str, ...]] = ()
    """The config's rules between keys, in words (its validators check them): JSON Schema
    cannot say them, so the published schema's description does."""

    config: Any
    brain_name: str
    world: Any
    """The world itself (its ``alive_slots()`` gives the population)."""
    ancestry: Ancestry
    """Births and deaths the adapter has seen, for the focus reply's ancestor chain."""

    @classmethod
    def caps(cls) -> dict[str, int]:
        """Every cap: the world's (``CAPS``) and the brains' (``brain.KEY``)."""
        return {**cls.CAPS, **{f"brain.{k}": v for k, v in cls.BRAIN_CAPS.items()}}

    @classmethod
    def brains(cls) -> tuple[str, ...]:
        """The brains this world runs here, the default first."""
        return cls.RUN.brains()

    # ---- what each world says ------------------------------------------------------------------
    @property
    def turn(self) -> int:
        raise NotImplementedError

    def tick(self) -> dict[str, Any]:
        """Advance one tick; the TickDelta dict {turn, moves, removed, spawned, tiles,
        metrics, fitness}."""
        raise NotImplementedError

    def fitness(self) -> dict[str, Any]:
        """The histogram of the world's fitness measure over the living (fitness.histogram)."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def metrics(self) -> dict[str, Any]:
        raise NotImplementedError

    ID_FIELD: ClassVar[str] = "oid"
    """The world state's array of organism ids (by slot), for ``slot_of``."""

    def slot_of(self, organism_id: int) -> int | None:
        """The slot of a living organism, or None."""
        s = self.world.state
        hit = np.flatnonzero((getattr(s, self.ID_FIELD) == organism_id) & (s.alive != 0))
        return int(hit[0]) if hit.size else None

    def organism(self, slot: int) -> dict[str, Any]:
        raise NotImplementedError

    def genome(self, slot: int) -> Any:
        raise NotImplementedError

    @property
    def brain(self) -> Any:
        """The world's brain (the population's, for the focus view)."""
        return self.world.brain

    @property
    def population(self) -> int:
        """Organisms alive now."""
        return int(len(self.world.alive_slots()))

    @property
    def planned_population(self) -> int:
        """The population the config asks for (what a step's work is budgeted by)."""
        raise NotImplementedError

    @property
    def io(self) -> BrainIO:
        raise NotImplementedError

    def state_hash(self) -> str:
        return self.world.state_hash()

    # ---- shared ----------------------------------------------------------------------------------
    @classmethod
    def grid(cls, width: int, height: int) -> dict[str, Any]:
        return {"kind": cls.GRID, "width": width, "height": height, "coords": list(cls.COORDS)}

    @classmethod
    def request_config(cls) -> type[Config]:
        """``_request_config`` for the brains registered now."""
        return cls._request_config(tuple(SUBSTRATES.names()))

    @classmethod
    @functools.cache
    def _request_config(cls, brains: tuple[str, ...]) -> type[Config]:
        """The config as a session request takes it: every key optional, integers and numbers
        as JSON has them (3.0 is the integer 3; no strings, no booleans), and the bounds
        tightened to ``CAPS``, so that the published schema's bounds are the server's."""
        fields = _request_fields(cls.CONFIG, cls.caps())
        tables = [create_model(f"{cls.NAME.capitalize()}{b.capitalize()}Brain",
                               __base__=settings_model(b),
                               __doc__=f"The settings of a {b} brain.",
                               kind=(Literal[b], Field(description="The brain.")),
                               **_request_fields(settings_model(b), _within(cls.caps(), "brain.")))
                  for b in cls.brains()]
        table = Annotated[Union[tuple(Annotated[t, Tag(t.model_fields["kind"].annotation
                                                         .__args__[0])] for t in tables)],
                          Discriminator(_kind)] if len(tables) > 1 else tables[0]
        fields["brain"] = (table | None, Field(None, description=(
            "The brain and its settings (GET /v1/worlds: brain_knobs); its kind is the "
            "request's brain, if that is given.")))
        doc = " ".join((cls.CONFIG.__doc__ or "").split())
        if cls.RULES:
            doc += " Between keys: " + "; ".join(cls.RULES) + "."
        model = create_model(f"{cls.CONFIG.__name__}Request", __base__=cls.CONFIG,
                             __doc__=doc, **fields)
        model.FILLS_BRAIN = False
        return model

    @classmethod
    def make_config(cls, values: dict[str, Any] | BaseModel, seed: int | None) -> Config:
        """The world's config from request values (and ``seed``, which wins over the config's);
        a bad value is a 422 naming ``config.<key>``."""
        values = values.model_dump() if isinstance(values, BaseModel) else dict(values)
        if seed is not None:
            values["seed"] = seed
        try:
            config = cls.CONFIG.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            field = f"config.{key}" if key else "config"
            raise ApiError(422, "invalid_config", f"{field}: {msg}", field) from None
        for key, cap in cls.caps().items():
            value = _value(config, key)
            if value is not None and value > cap:
                raise ApiError(422, "invalid_config", f"config.{key}: at most {cap} on this "
                               "server", f"config.{key}")
        return config

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The world for a start page: grid, brains, and each knob's default and bounds."""
        return {"name": cls.NAME, "grid": cls.GRID, "coords": list(cls.COORDS),
                "brains": list(cls.brains()), "default_brain": cls.brains()[0],
                "doc": " ".join((cls.CONFIG.__doc__ or "").split()),
                "knobs": knobs(cls.CONFIG, cls.caps(), (*cls.HIDDEN, "brain")),
                "brain_knobs": {b: knobs(settings_model(b), _within(cls.caps(), "brain."), ())
                                for b in cls.brains()}}


def _kind(value: Any) -> Any:
    """The brain a request's ``[brain]`` table is for."""
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


def _request_fields(model: type[BaseModel], caps: dict[str, int]) -> dict[str, Any]:
    """``model``'s fields as a request takes them: integers and numbers as JSON has them, the
    bounds tightened to ``caps`` (a table field is left to the caller)."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "brain":
            continue
        constraints = list(info.metadata)
        cap = caps.get(name)
        if cap is not None:
            constraints = [m for m in constraints
                           if not isinstance(m, (annotated_types.Le, annotated_types.Lt))]
            constraints.append(annotated_types.Le(min(cap, _upper(info.metadata, cap))))
        if info.annotation is bool:
            kind = Annotated[bool, Strict()]            # JSON's true/false, never 0 or 1
        elif info.annotation is int:
            kind = integer(*constraints)
        elif info.annotation is float:
            kind = Annotated[(Number, *constraints)] if constraints else Number
        else:
            kind = Annotated[(info.annotation, *constraints)] if constraints \
                else info.annotation
        fields[name] = (kind, Field(info.default, description=info.description))
    return fields


def _value(config: Any, key: str) -> Any:
    """The value of a dotted key (``brain.num_neurons``), None where the config has none (a
    brain without that setting)."""
    for part in key.split("."):
        config = getattr(config, part, None)
    return config


def _within(caps: dict[str, int], prefix: str) -> dict[str, int]:
    """The caps of the keys under ``prefix``, by their names there."""
    return {k.removeprefix(prefix): v for k, v in caps.items() if k.startswith(prefix)}


def _upper(metadata: list[Any], default: int) -> int:
    """The inclusive upper bound among a field's constraints (``default`` if none)."""
    for m in metadata:
        if isinstance(m, annotated_types.Le):
            return m.le
        if isinstance(m, annotated_types.Lt):
            return m.lt - 1
    return default


def knobs(config: type[Config], caps: dict[str, int], hidden: tuple[str, ...]
          ) -> list[dict[str, Any]]:
    """Every setting of ``config`` with its type, default, bounds, choices and description."""
    out = []
    for name, info in config.model_fields.items():
        if name in hidden:
            continue
        knob: dict[str, Any] = {"name": name, "default": info.default,
                                "description": info.description or ""}
        ann = info.annotation
        if typing.get_origin(ann) is typing.Literal:
            knob["type"], knob["choices"] = "choice", list(typing.get_args(ann))
        else:
            knob["type"] = {int: "integer", float: "number", bool: "boolean",
                            str: "string"}.get(ann, "string")
        lo = hi = None
        for m in info.metadata:
            if isinstance(m, annotated_types.Ge):
                lo = m.ge
            elif isinstance(m, annotated_types.Gt):
                lo = m.gt
            elif isinstance(m, annotated_types.Le):
                hi = m.le
            elif isinstance(m, annotated_types.Lt):
                hi = m.lt - 1 if isinstance(m.lt, int) else m.lt
        if name in caps:
            hi = caps[name] if hi is None else min(hi, caps[name])
        if lo is not None:
            knob["minimum"] = lo
        if hi is not None:
            knob["maximum"] = hi
        out.append(knob)
    return out
