"""A tick's action rounds in one kernel: sense, think, act, again for those that yielded.

Late in a run most NPCs yield several times per think, and a tick has a dozen rounds or
more, most of them for a handful of NPCs: as Python calls, the rounds cost more between
kernels than in them. Brains that offer a kernel round state (``primordia.brains.rounds``)
have all rounds run here; others go round by round through ``Brain.step`` in ``world.py``.
Both give the same world.
"""

from __future__ import annotations

from numba import njit

from primordia.brains.rounds import brain_round

from .actions import act
from .sensors import sense
from .tile_index import index_tiles


@njit(cache=True, nogil=True)
def action_rounds(s, active, n, round_no, tick, seed, base_gas, pool, off, length,
                  pool_version, index, list_max, cache, reach, sensors, actions, brain, more,
                  teach_from, teach_to):
    """Run rounds for the NPCs in ``active[:n]`` (slots in id order) until none acts again,
    or until another round could overflow the teach lists. ``active`` is rewritten to hold
    the NPCs still to act. Returns (NPCs still to act, next round number, teachings listed).
    """
    n_teach = 0
    while n > 0 and n_teach + n <= teach_from.shape[0]:
        slots = active[:n]
        index_tiles(s.tile, index)                     # actions change tiles
        sense(s, slots, tick, round_no, seed, base_gas, pool, off, length, pool_version,
              index, list_max, cache, reach, sensors)
        for j in range(n):
            actions[slots[j], :] = 0
        brain_round(brain, slots, n, sensors, actions, more)
        n_teach += act(s, slots, actions, tick, round_no, seed, teach_from[n_teach:],
                       teach_to[n_teach:])
        m = 0
        for j in range(n):
            i = active[j]
            if more[i] and s.health[i] > 0 and s.alive[i] != 0:
                active[m] = i
                m += 1
        n = m
        round_no += 1
    return n, round_no, n_teach
