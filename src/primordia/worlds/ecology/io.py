"""What an ecology organism senses and can do, as a ``BrainIO`` for a sensing radius
(docs/worlds/ecology.md, "Sensors and actions")."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from primordia.brains.base import AbiActions, BrainIO

from .state import CHANNELS, DIR_DX, DIR_DY, MAX_NEIGHBORS

S_ENERGY, S_AGE, S_TILE, S_NEIGHBORS = range(4)
S_SIGNAL = 4
S_VIEW = S_SIGNAL + CHANNELS
"""The view's first sensor; the neighbour records follow the view."""

ACTIONS = ("move", "eat", "interact", "reproduce")
LEVELS = (9, 2, 1 + MAX_NEIGHBORS + CHANNELS, 2)
A_MOVE, A_EAT, A_INTERACT, A_REPRODUCE = range(len(ACTIONS))
"""Four actions, so brains with four action slots (micro-PSIL) fit: ``interact`` is an attack
on neighbour record k - 1 (k = 1..8) or a signal on channel k - 9 (k = 9..12)."""


@lru_cache(maxsize=None)
def ecology_io(radius: int, records: int = MAX_NEIGHBORS) -> BrainIO:
    """The sensors and actions at sensing radius ``radius`` with ``records`` neighbour
    records."""
    side = 2 * radius + 1
    sensors = ["energy", "age", "tile", "neighbors"]
    sensors += [f"signal_{c}" for c in range(CHANNELS)]
    sensors += [f"view_{k}" for k in range(side * side)]
    sensors += [f"nb{k}_{f}" for k in range(records) for f in ("dx", "dy", "energy", "kin")]
    return BrainIO(sensors=tuple(sensors), actions=ACTIONS, action_levels=LEVELS)


def io_of(config) -> BrainIO:
    """The ``BrainIO`` of an ``EcologyConfig``."""
    return ecology_io(config.radius, config.neighbor_records)


def neighbor_at(radius: int) -> int:
    """Index of the first neighbour-record sensor for ``radius``."""
    return S_VIEW + (2 * radius + 1) ** 2


class Intents(NamedTuple):
    """What each slot asked for this tick, decoded from its actions (or from the wasm ABI's
    action record), all int64[N]: ``move`` 0..8, ``eat`` 0/1, ``attack`` 0 or neighbour
    record + 1, ``amount`` (> 0), ``reproduce`` 0/1, ``rounds`` asked (clipped later),
    ``channel`` -1 or 0..3 and ``value``."""

    move: np.ndarray
    eat: np.ndarray
    attack: np.ndarray
    amount: np.ndarray
    reproduce: np.ndarray
    rounds: np.ndarray
    channel: np.ndarray
    value: np.ndarray


def no_intents(capacity: int) -> Intents:
    """Intents arrays for ``capacity`` slots (to be filled)."""
    return Intents(*(np.zeros(capacity, dtype=np.int64) for _ in Intents._fields))


@njit(cache=True, nogil=True)
def _leveled(actions, attack_amount, mutation_rounds, move, eat, attack, amount, reproduce,
             rounds, channel, value):
    for i in range(actions.shape[0]):
        m, e, k, r = (actions[i, A_MOVE], actions[i, A_EAT], actions[i, A_INTERACT],
                      actions[i, A_REPRODUCE])
        move[i] = m if 0 <= m < LEVELS[A_MOVE] else 0
        eat[i] = e if 0 <= e < LEVELS[A_EAT] else 0
        reproduce[i] = r if 0 <= r < LEVELS[A_REPRODUCE] else 0
        k = k if 0 <= k < LEVELS[A_INTERACT] else 0
        attack[i] = k if k <= MAX_NEIGHBORS else 0
        channel[i] = k - MAX_NEIGHBORS - 1 if k > MAX_NEIGHBORS else -1
    amount[:] = attack_amount
    rounds[:] = mutation_rounds
    value[:] = 1


def intents_from_actions(actions: np.ndarray, attack_amount: int, mutation_rounds: int,
                         into: Intents | None = None) -> Intents:
    """Leveled actions (int[N, 4]) as intents: a value outside its action's levels is
    "none"; attacks take ``attack_amount``, births ask for ``mutation_rounds``, signals carry
    value 1. ``into``: arrays to fill (a world's, reused every tick) instead of fresh ones."""
    out = into if into is not None and into.move.shape[0] == actions.shape[0] \
        else no_intents(actions.shape[0])
    _leveled(np.asarray(actions), attack_amount, mutation_rounds, *out)
    return out


_DIRECTION = np.zeros(9, dtype=np.int64)
for _code in range(1, 9):
    _DIRECTION[(int(DIR_DY[_code]) + 1) * 3 + int(DIR_DX[_code]) + 1] = _code
"""The move code of a step (dx, dy) in -1..1, at ``(dy + 1) * 3 + dx + 1`` (0: stay)."""


def intents_from_abi(acts: AbiActions, slots: np.ndarray, capacity: int,
                     mutation_rounds: int) -> Intents:
    """The intents of organisms that act through the wasm ABI (``acts`` for ``slots``; other
    slots ask for nothing): a recorded move_dir is a step, attack names a neighbour record
    and an amount, try_reproduce asks for as many rounds as its payload's first byte (the
    default when the payload is empty), emit_signal's channel is taken modulo 4."""
    def full(values, fill=0):
        out = np.full(capacity, fill, dtype=np.int64)
        out[slots] = values
        return out

    step = _DIRECTION[(np.clip(acts.dy, -1, 1) + 1) * 3 + np.clip(acts.dx, -1, 1) + 1]
    return Intents(move=full(np.where(acts.move == 1, step, 0)), eat=full(acts.eat),
                   attack=full(np.where(acts.attack == 1, acts.slot + 1, 0)),
                   amount=full(acts.amount),
                   reproduce=full(acts.reproduce),
                   rounds=full(np.where(acts.payload >= 0, acts.payload, mutation_rounds)),
                   channel=full(np.where(acts.signal == 1, acts.channel & (CHANNELS - 1), -1),
                                -1),
                   value=full(acts.value))
