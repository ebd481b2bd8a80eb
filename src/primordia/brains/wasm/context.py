"""The host side of the context (docs/brains/wasm.md, "The context"): writing it into many
organisms' memories before a step and reading their actions and action records after it.

A population's memory is one uint8 array ``mem`` of shape (N, M), a row per slot; every
function here works on the rows ``slots`` at once, through a little-endian int32 view.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
from numba import njit

from .layout import (H_ACTIONS, H_AGE, H_ENERGY, H_GAS, H_ID, H_LAST_RESULT, H_MEMORY,
                     H_NEIGHBORS, H_RADIUS, H_RAND, H_SENSORS, H_TICK, MAX_NEIGHBORS,
                     MAX_RADIUS, NEIGHBOR_WORDS, RECORD_WORDS, Layout)


def _words(mem: np.ndarray, layout: Layout) -> np.ndarray:
    """``mem`` seen as little-endian i32 words, shape (N, M / 4); writes go through."""
    if mem.dtype != np.uint8 or mem.ndim != 2 or mem.shape[1] != layout.memory:
        raise ValueError(f"mem must be uint8 of shape (N, {layout.memory}), not "
                         f"{mem.dtype} {mem.shape}")
    return mem.view("<i4")


def _column(values, n: int, default: int = 0) -> np.ndarray:
    """A per-slot int32 column from a scalar, an array of n values or None (``default``);
    integers wrap to their low 32 bits (so uint32 and uint64 random words are fine)."""
    if values is None:
        values = default
    return np.broadcast_to(_i32(values), (n,))


def _i32(values) -> np.ndarray:
    """Integers as int32, each wrapped to its low 32 bits."""
    return np.asarray(values).astype(np.int32)


def write_contexts_reference(mem: np.ndarray, layout: Layout, slots, sensors, *, tick, ids, rand,
                   budget, energy=None, age=None, last_result=None, view=None,
                   neighbors=None, n_neighbors=None) -> None:
    """Write the context at offset 0 of each row in ``slots``: the header, the sensors
    (int32 [len(slots), S]), zeroed actions and action record, the tile view ([len(slots),
    (2r+1)**2] or [len(slots), 2r+1, 2r+1]) and the neighbour records ([len(slots), 8, 4]
    or [len(slots), 32]); what is not given is 0. ``tick`` is one number; the others are a
    number or one value per slot. The rest of each memory is left as it is. (The plain
    numpy version: ``write_contexts`` does the same in one pass, and tests hold them
    equal.)"""
    slots = np.asarray(slots, dtype=np.int64)
    n = len(slots)
    block = np.zeros((n, layout.words), dtype=np.int32)
    header = {
        H_TICK: tick, H_ID: ids, H_RAND: rand, H_ENERGY: energy, H_AGE: age,
        H_SENSORS: layout.sensors, H_ACTIONS: layout.actions, H_RADIUS: layout.radius,
        H_NEIGHBORS: None if n_neighbors is None else np.clip(n_neighbors, 0, MAX_NEIGHBORS),
        H_LAST_RESULT: last_result, H_GAS: budget, H_MEMORY: layout.memory,
    }
    for word, values in header.items():
        block[:, word] = _column(values, n)
    parts = [(layout.sensor_at, layout.sensors, sensors),
             (layout.view_at, layout.view_side ** 2, view),
             (layout.neighbor_at, MAX_NEIGHBORS * NEIGHBOR_WORDS, neighbors)]
    for at, width, values in parts:
        if values is not None and width:
            block[:, at:at + width] = _i32(values).reshape(n, width)
    _words(mem, layout)[slots, :layout.words] = block


@njit(cache=True, nogil=True)
def _write_rows(words, slots, header, sensors, sensor_at, zero_at, view, view_at, neighbors,
                neighbor_at, end):
    """Per slot: the header words, the sensors, zeros from ``zero_at`` to ``end``, then the
    view and neighbour words where given (empty arrays: none)."""
    for i in range(slots.shape[0]):
        row = words[slots[i]]
        for k in range(header.shape[1]):
            row[k] = header[i, k]
        for k in range(sensors.shape[1]):
            row[sensor_at + k] = sensors[i, k]
        for k in range(zero_at, end):
            row[k] = 0
        if view.shape[0]:
            for k in range(view.shape[1]):
                row[view_at + k] = view[i, k]
        if neighbors.shape[0]:
            for k in range(neighbors.shape[1]):
                row[neighbor_at + k] = neighbors[i, k]


def write_contexts(mem: np.ndarray, layout: Layout, slots, sensors, *, tick, ids, rand,
                   budget, energy=None, age=None, last_result=None, view=None,
                   neighbors=None, n_neighbors=None) -> None:
    """Write the context at offset 0 of each row in ``slots``, as
    ``write_contexts_reference`` says, in one pass over the rows."""
    slots = np.asarray(slots, dtype=np.int64)
    n = len(slots)
    header = np.zeros((n, 16), dtype=np.int32)
    values = {
        H_TICK: tick, H_ID: ids, H_RAND: rand, H_ENERGY: energy, H_AGE: age,
        H_SENSORS: layout.sensors, H_ACTIONS: layout.actions, H_RADIUS: layout.radius,
        H_NEIGHBORS: None if n_neighbors is None else np.clip(n_neighbors, 0, MAX_NEIGHBORS),
        H_LAST_RESULT: last_result, H_GAS: budget, H_MEMORY: layout.memory,
    }
    for word, value in values.items():
        if value is not None:
            header[:, word] = _column(value, n)
    width_v, width_n = layout.view_side ** 2, MAX_NEIGHBORS * NEIGHBOR_WORDS
    view = np.zeros((0, 0), np.int32) if view is None or not width_v \
        else np.ascontiguousarray(_i32(view).reshape(n, width_v))
    neighbors = np.zeros((0, 0), np.int32) if neighbors is None \
        else np.ascontiguousarray(_i32(neighbors).reshape(n, width_n))
    sensors = np.ascontiguousarray(_i32(sensors).reshape(n, layout.sensors))
    _write_rows(_words(mem, layout), slots, header, sensors, layout.sensor_at,
                layout.action_at, view, layout.view_at, neighbors, layout.neighbor_at,
                layout.words)


@njit(cache=True, nogil=True)
def _write_rows_from_sensors(words, slots, header, sensors, sensor_at, zero_at, view_cols,
                             view_at, nb_cols, neighbor_at, end):
    """``_write_rows``, with each slot's sensors, view and records read straight from its
    row of the world's sensor matrix (``view_cols``, ``nb_cols``: its columns, -1 for 0)."""
    for i in range(slots.shape[0]):
        slot = slots[i]
        row = words[slot]
        src = sensors[slot]
        for k in range(header.shape[1]):
            row[k] = header[i, k]
        for k in range(sensors.shape[1]):
            row[sensor_at + k] = src[k]
        for k in range(zero_at, end):
            row[k] = 0
        for k in range(view_cols.shape[0]):
            row[view_at + k] = src[view_cols[k]]
        for k in range(nb_cols.shape[0]):
            c = nb_cols[k]
            row[neighbor_at + k] = src[c] if c >= 0 else 0


def write_contexts_from_sensors(mem: np.ndarray, layout: Layout, slots, sensors: np.ndarray,
                                where: "Surroundings", *, tick, ids, rand, budget,
                                energy: int | None = None, age: int | None = None) -> None:
    """``write_contexts`` for the organisms in ``slots`` from the world's whole sensor
    matrix (int32 [capacity, S], row = slot): the view and neighbour records come from the
    columns ``where`` names (``surroundings_sensors``), the header's energy and age from
    columns ``energy`` and ``age`` (None: 0) -- the same words as gathering the rows and
    calling ``write_contexts`` with ``surroundings_of``, without the copies (tests hold
    them equal)."""
    slots = np.asarray(slots, dtype=np.int64)
    sensors = np.ascontiguousarray(sensors, dtype=np.int32)
    if sensors.ndim != 2 or sensors.shape[1] != layout.sensors:
        raise ValueError(f"sensors must be (N, {layout.sensors}), not {sensors.shape}")
    n = len(slots)
    header = np.zeros((n, 16), dtype=np.int32)
    values = {
        H_TICK: tick, H_ID: ids, H_RAND: rand, H_SENSORS: layout.sensors,
        H_ACTIONS: layout.actions, H_RADIUS: layout.radius, H_GAS: budget,
        H_MEMORY: layout.memory,
        H_ENERGY: None if energy is None else sensors[slots, energy],
        H_AGE: None if age is None else sensors[slots, age],
        H_NEIGHBORS: None if where.count < 0
        else np.clip(sensors[slots, where.count], 0, MAX_NEIGHBORS),
    }
    for word, value in values.items():
        if value is not None:
            header[:, word] = _column(value, n)
    view = where.view if where.radius and layout.view_side ** 2 else np.zeros(0, np.int64)
    nb = where.neighbors if (where.neighbors >= 0).any() else np.zeros(0, np.int64)
    _write_rows_from_sensors(_words(mem, layout), slots, header, sensors, layout.sensor_at,
                             layout.action_at, np.ascontiguousarray(view, dtype=np.int64),
                             layout.view_at, np.ascontiguousarray(nb, dtype=np.int64),
                             layout.neighbor_at, layout.words)


def read_actions(mem: np.ndarray, layout: Layout, slots, codes) -> np.ndarray:
    """The action words of each row in ``slots`` (int32 [len(slots), A]), action 0 being
    the action code ``step`` returned (``codes``), not the word in memory."""
    at = layout.action_at
    actions = _words(mem, layout)[np.asarray(slots, dtype=np.int64), at:at + layout.actions]
    actions = actions.astype(np.int32)
    if layout.actions:
        actions[:, 0] = _column(codes, len(actions))
    return actions


def read_records(mem: np.ndarray, layout: Layout, slots) -> np.ndarray:
    """The action record of each row in ``slots`` (int32 [len(slots), RECORD_WORDS])."""
    at = layout.record_at
    return _words(mem, layout)[np.asarray(slots, dtype=np.int64),
                               at:at + RECORD_WORDS].astype(np.int32)


def energy_age_sensors(io_sensor_names: Sequence[str]) -> tuple[int | None, int | None]:
    """Which of a world's sensors feed the header's ``energy`` and ``age`` words (the
    sensors of those names; None where the world has none)."""
    names = list(io_sensor_names)
    return (names.index("energy") if "energy" in names else None,
            names.index("age") if "age" in names else None)


class Surroundings(NamedTuple):
    """Which of a world's sensors fill the context's tile view and neighbour records
    (``surroundings_sensors``): sensor columns, -1 where the world has none."""

    radius: int
    view: np.ndarray        # int64[(2r+1)^2]: the columns of view_0 .. view_{k-1}
    neighbors: np.ndarray   # int64[MAX_NEIGHBORS * NEIGHBOR_WORDS]: nb{j}_{dx,dy,energy,kin}
    count: int              # the column of ``neighbors``, or -1


NEIGHBOR_FIELDS = ("dx", "dy", "energy", "kin")


def surroundings_sensors(io_sensor_names: Sequence[str]) -> Surroundings:
    """The world's sensors named ``view_0`` .. ``view_{k-1}`` (k an odd square: a window of
    radius up to MAX_RADIUS) fill the tile view; ``nb{j}_dx``, ``nb{j}_dy``, ``nb{j}_energy``,
    ``nb{j}_kin`` (j < 8) the neighbour records; ``neighbors`` their count. A world without
    them has radius 0 and no records."""
    names = {name: k for k, name in enumerate(io_sensor_names)}
    k = 0
    while f"view_{k}" in names:
        k += 1
    side = math.isqrt(k)
    radius = (side - 1) // 2 if side * side == k and side % 2 == 1 else 0
    radius = radius if radius <= MAX_RADIUS else 0
    view = np.array([names[f"view_{i}"] for i in range((2 * radius + 1) ** 2)]
                    if radius else [], dtype=np.int64)
    nb = np.array([names.get(f"nb{j}_{f}", -1) for j in range(MAX_NEIGHBORS)
                   for f in NEIGHBOR_FIELDS], dtype=np.int64)
    return Surroundings(radius, view, nb, names.get("neighbors", -1))


def surroundings_of(sensors: np.ndarray, where: Surroundings
                    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(view, neighbour records, their count) for ``write_contexts`` from sensor rows
    (None where the world has none); records the world does not give are 0."""
    view = sensors[:, where.view] if where.radius else None
    neighbors = None
    if (where.neighbors >= 0).any():
        neighbors = np.where(where.neighbors >= 0, sensors[:, np.maximum(where.neighbors, 0)],
                             0)
    count = sensors[:, where.count] if where.count >= 0 else None
    return view, neighbors, count


def layout_of(io, memory: int) -> Layout:
    """The context layout of a world's organisms (its ``BrainIO``) with ``memory`` bytes each:
    its sensors and actions, and the view its sensors give (``surroundings_sensors``).
    ValueError if the context does not fit."""
    return Layout(io.n_sensors, io.n_actions, radius=surroundings_sensors(io.sensors).radius,
                  memory=memory)
