"""Checking named arrays read from an untrusted file (a checkpoint) before anything is built
from them: each array present, of the expected dtype and shape, its values in range. The
first problem raises one error that names the file, the array, the place and the rule, e.g.
``run/checkpoint.npz: state.x holds 100000000 at slot 3; positions are 0..63``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, NoReturn

import numpy as np

from .errors import ConfigError, PrimordiaError

PLAIN_KINDS = frozenset("biuf")
"""bool, signed and unsigned integers, floats: the only kinds a checkpoint holds."""


@dataclass(frozen=True)
class ArraySpec:
    """What an array must be: its dtype, and a shape of ``len(most)`` dimensions with
    ``least[d] <= shape[d] <= most[d]`` (an exact shape when ``least`` is None)."""

    dtype: np.dtype
    most: tuple[int, ...]
    least: tuple[int, ...] | None = None

    @classmethod
    def exact(cls, dtype, *shape: int) -> "ArraySpec":
        return cls(np.dtype(dtype), tuple(int(d) for d in shape))

    @classmethod
    def upto(cls, dtype, *shape: int, least: tuple[int, ...] | None = None) -> "ArraySpec":
        """Each dimension from ``least`` (default 0) up to ``shape``."""
        return cls(np.dtype(dtype), tuple(int(d) for d in shape),
                   least if least is not None else (0,) * len(shape))

    def fits(self, shape: tuple[int, ...]) -> bool:
        low = self.most if self.least is None else self.least
        return len(shape) == len(self.most) and all(
            lo <= d <= hi for d, lo, hi in zip(shape, low, self.most))

    def wanted(self) -> str:
        """The shape in words, for messages."""
        if self.least is None:
            return f"shape {self.most}"
        return "shape " + " x ".join(
            str(hi) if lo == hi else f"{lo}..{hi}" for lo, hi in zip(self.least, self.most))


Place = str | Callable[..., str]
"""How a checker names a place: a format string of the index (``"slot {0}"``), or a
function of it."""


def where(at: Place, index: tuple[int, ...]) -> str:
    """A place in words: ``at`` formatted with (or called on) the index (``"slot {0}"`` ->
    ``slot 3``)."""
    if callable(at):
        return at(*index)
    return at.format(*index) if at else "index " + ", ".join(str(i) for i in index)


class ArrayChecks:
    """Checks of the named arrays of one file; ``error`` is the PrimordiaError raised, its
    message prefixed with ``source`` (the file)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], source: str,
                 error: type[PrimordiaError] = ConfigError) -> None:
        self.arrays = arrays
        self.source = source
        self.error = error

    def fail(self, message: str) -> NoReturn:
        raise self.error(f"{self.source}: {message}")

    def require(self, ok: bool, message: str) -> None:
        if not ok:
            self.fail(message)

    def unexpected(self, expected: Mapping[str, object] | set[str]) -> None:
        """Refuse arrays that are not ``expected`` (a damaged or foreign file)."""
        extra = sorted(set(self.arrays) - set(expected))
        if extra:
            self.fail(f"holds an unexpected array {extra[0]!r}")

    def read(self, specs: Mapping[str, ArraySpec]) -> dict[str, np.ndarray]:
        """Every array of ``specs`` (``get``), after refusing any other (``unexpected``)."""
        self.unexpected(specs)
        return {name: self.get(name, spec) for name, spec in specs.items()}

    def get(self, name: str, spec: ArraySpec) -> np.ndarray:
        """The array ``name``: present, of ``spec``'s dtype (cast only where no value can
        change) and shape."""
        if name not in self.arrays:
            self.fail(f"{name} is missing")
        a = self.arrays[name]
        if not isinstance(a, np.ndarray):
            a = np.asarray(a)
        if a.dtype.kind not in PLAIN_KINDS or a.dtype.fields is not None:
            self.fail(f"{name} has dtype {a.dtype}, expected {spec.dtype}")
        if not spec.fits(a.shape):
            self.fail(f"{name} has shape {a.shape}, the config needs {spec.wanted()}")
        if a.dtype != spec.dtype:
            if not np.can_cast(a.dtype, spec.dtype, casting="safe"):
                self.fail(f"{name} has dtype {a.dtype}, expected {spec.dtype}")
            a = a.astype(spec.dtype)
        return a

    def within(self, name: str, a: np.ndarray, lo: int | float | None, hi: int | float | None,
               what: str, at: Place = "", rows: np.ndarray | None = None) -> None:
        """Every value of ``a`` (where ``rows`` is true, if given: a mask over its first
        dimension) lies in ``lo..hi`` (None: no bound on that side)."""
        bad = np.zeros(a.shape, dtype=bool)
        if a.dtype.kind == "f":
            bad |= ~np.isfinite(a)
        if lo is not None:
            bad |= a < lo
        if hi is not None:
            bad |= a > hi
        if rows is not None:
            bad &= np.asarray(rows, dtype=bool).reshape((-1,) + (1,) * (a.ndim - 1))
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            value = a[index]
            self.fail(f"{name} holds {value.item()!r} at {where(at, index)}; "
                      f"{what} {span(lo, hi)}")

    def scalar(self, label: str, value: int | float, lo: int | float | None,
               hi: int | float | None, what: str) -> None:
        """One value (``label`` says which) lies in ``lo..hi``."""
        bad = (lo is not None and value < lo) or (hi is not None and value > hi) or (
            isinstance(value, float) and not math.isfinite(value))
        if bad:
            self.fail(f"{label} is {value!r}; {what} {span(lo, hi)}")

    def each(self, name: str, a: np.ndarray, bad: np.ndarray, rule: str, at: Place = "") -> None:
        """``bad`` (shaped like ``a``) marks the values of ``name`` that break ``rule``: fail
        at the first."""
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            self.fail(f"{name} holds {a[index].item()!r} at {where(at, index)}; {rule}")

    def occupancy(self, name: str, occupant: np.ndarray, live: np.ndarray,
                  position: tuple[np.ndarray, ...], who: str, at: Place) -> None:
        """Occupancy and positions agree: every living slot's cell (``position``: one array
        per dimension of ``occupant``, by slot) holds that slot, and every cell that holds a
        slot holds a living one that stands there."""
        slots = np.flatnonzero(live)
        cells = tuple(p[slots] for p in position)
        wrong = occupant[cells] != slots
        if wrong.any():
            k = int(np.flatnonzero(wrong)[0])
            cell = tuple(int(c[k]) for c in cells)
            self.fail(f"{name} holds {occupant[cell].item()} at {where(at, cell)}, where the "
                      f"{who} in slot {int(slots[k])} stands")
        held = np.argwhere(occupant >= 0)
        o = occupant[tuple(held.T)]
        ok = live[o].astype(bool)
        for d, p in enumerate(position):
            ok &= p[o] == held[:, d]
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            cell = tuple(int(v) for v in held[k])
            self.fail(f"{name} holds {int(o[k])} at {where(at, cell)}; slot {int(o[k])} is "
                      f"not a living {who} there")


    def living_in_lineage(self, ids: np.ndarray, live: np.ndarray, born: np.ndarray,
                          lin_id: np.ndarray, origin: np.ndarray, died: np.ndarray,
                          who: str) -> None:
        """Every living organism (``ids`` and ``born`` by slot, ``live`` a mask) is in the
        lineage (``lin_id`` sorted, with ``origin`` and ``died`` -1 or a time of death),
        born when the lineage says and not dead."""
        slots = np.flatnonzero(live)
        if slots.size == 0:
            return
        if lin_id.size == 0:
            self.fail(f"lineage.id is empty, but slot {int(slots[0])} holds a living {who}")
        pos = np.minimum(np.searchsorted(lin_id, ids[slots]), lin_id.size - 1)
        for bad, rule in ((lin_id[pos] != ids[slots], "is not in the lineage"),
                          (origin[pos] != born[slots], "was born at another time than "
                                                       "lineage.origin says"),
                          (died[pos] != -1, "is alive, but lineage.destruction says it died")):
            if bad.any():
                i = int(slots[np.flatnonzero(bad)[0]])
                self.fail(f"the {who} in slot {i} (id {int(ids[i])}) {rule}")


def span(lo, hi) -> str:
    """``lo..hi`` in words for messages."""
    if lo is not None and hi is not None:
        return f"are {lo}..{hi}"
    if lo is not None:
        return f"are at least {lo}"
    if hi is not None:
        return f"are at most {hi}"
    return "are finite"
