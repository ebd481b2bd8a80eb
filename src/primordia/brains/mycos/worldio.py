"""Sensors in, actions out: how a Mycos network decides in a world, in plain Python. This is
the oracle the brain's kernel (``brain_kernels.py``) is tested against, bit for bit.

A decision is one tick of the network (``reference.run_tick``): chunk 0's input bits are
written from the sensors, the rounds run (at most ``rounds``), and chunk 0's output bits are
read as actions. Bits persist between decisions, so an input that did not change fires
nothing; a network reacts to changes of what it senses, and its internal bits are its memory.

- Input bit i reads channel ``i mod C``: the S sensors, then (with ``clock``) a clock. A
  sensor's input is on when the sensor is at least threshold ``(i div C) mod sensor_bits``
  of 1, 2, 3, 4, 8, 16, ... (a thermometer code: small categories exactly, magnitudes by
  their order). So the first S inputs say which sensors are positive, and a network with
  fewer inputs than sensors x thresholds still sees every sensor; the layout does not depend
  on the network, so genomes need no world to be made. A clock input inverts itself every
  decision: a network reacts only to edges, and without one an organism whose senses do not
  change could never act differently.
- Output bit j is code bit ``(j div A) mod action_bits`` of action ``j mod A``; outputs that
  land on the same code bit are XORed. An action's value is its code modulo its levels; the
  action named ``confidence`` takes the code as a fraction of 1 in 16.16 fixed point.
"""

from __future__ import annotations

from typing import Sequence

from primordia.brains.base import BrainIO

from .genome import INPUT, INTERNAL, OUTPUT, MycosGenome
from .reference import Guards, Metrics, Network, run_tick

CONFIDENCE = "confidence"
LINEAR_THRESHOLDS = 4
"""Thresholds 1..4 count up by one (small codes such as directions and tiles stay distinct);
after them each doubles."""


def threshold(k: int) -> int:
    """The k-th sensor threshold: 1, 2, 3, 4, 8, 16, ..."""
    return k + 1 if k < LINEAR_THRESHOLDS else 1 << (k - 1)


def input_bits(sensors: Sequence[int], ni: int, sensor_bits: int, clock: bool,
               previous: Sequence[int]) -> list[int]:
    """Chunk 0's ``ni`` input bits for one organism's sensor values (``previous``: the
    inputs of its last decision, which the clock inverts)."""
    s = len(sensors)
    channels = s + (1 if clock else 0)
    out = []
    for i in range(ni):
        if channels == 0:
            out.append(0)
        elif i % channels == s:
            out.append(1 - previous[i])
        else:
            level = threshold((i // channels) % sensor_bits)
            out.append(1 if sensors[i % channels] >= level else 0)
    return out


def action_values(outputs: Sequence[int], io: BrainIO, action_bits: int) -> list[int]:
    """The world's action values from chunk 0's output bits."""
    a = io.n_actions
    codes = [0] * a
    for j, bit in enumerate(outputs):
        if bit and a:
            codes[j % a] ^= 1 << ((j // a) % action_bits)
    return [(code << 16) >> action_bits if io.actions[k] == CONFIDENCE
            else code % io.levels(k) for k, code in enumerate(codes)]


class Organism:
    """One network's bits between decisions, and its decisions."""

    def __init__(self, genome: MycosGenome, guards: Guards) -> None:
        self.net = Network(genome)
        self.guards = guards
        self.cur = self.net.initial_state()
        self.last = [[list(bits) for bits in chunk] for chunk in self.cur]
        self.metrics = Metrics()
        self.ni = self.net.sizes[0][0]

    def decide(self, sensors: Sequence[int], io: BrainIO, sensor_bits: int,
               action_bits: int, clock: bool) -> list[int]:
        """One decision: write the inputs, run the tick, read the actions."""
        bits = input_bits(sensors, self.ni, sensor_bits, clock, self.cur[0][INPUT])
        writes = [(0, i, v) for i, v in enumerate(bits)]
        run_tick(self.net, self.cur, self.last, writes, self.guards, self.metrics)
        return action_values(self.cur[0][OUTPUT], io, action_bits)

    def bits(self) -> list[int]:
        """Every bit in the spec's global numbering: per chunk inputs, internals, outputs."""
        return [b for chunk in self.cur for sec in (INPUT, INTERNAL, OUTPUT)
                for b in chunk[sec]]

