"""A genome never touches the Ring0 slots outside its reach: giving those slots any other
values changes nothing it does, and it never writes them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.psil import opcodes as op
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reach import ALL, reach_of_bytes_py, reach_of_code, ring0_reach
from primordia.brains.psil.reference import Machine
from primordia.brains.psil.variation import random_genome
from primordia.core.rng import DrawStream, Rng


def _touchy(rng) -> bytes:
    """Instructions that name memory: sensor and Ring1 reads and writes, actions (act.move
    toward food, NPC or item), branches and arithmetic, never a computed address."""
    out = bytearray()
    for _ in range(int(rng.integers(4, 30))):
        pick = int(rng.integers(0, 8))
        if pick == 0:
            out += bytes([op.R0_READ, int(rng.integers(0, 40))])
        elif pick == 1:
            out += bytes([int(rng.choice([op.R1_READ, op.R1_WRITE])), int(rng.integers(0, 256))])
        elif pick == 2:
            out += bytes([int(rng.integers(op.ACT_MOVE, op.ACT_CRAFT + 1)), int(rng.integers(0, 9))])
        elif pick == 3:
            out += bytes([op.SYM_X, int(rng.integers(0, 40))])
        elif pick == 4:
            out += bytes([op.SYM_W, int(rng.integers(0, 40)), int(rng.integers(0, 3))])
        elif pick == 5:
            out += bytes([int(rng.integers(0x06, 0x11))])            # arithmetic, compare
        elif pick == 6:
            out += bytes([int(rng.choice([op.JZ, op.JNZ])), int(rng.integers(0, 6))])
        else:
            out += bytes([int(rng.integers(0x20, 0x40))])            # small numbers
    return bytes(out) + bytes([op.YIELD])


def _genomes(seed: int, count: int):
    """Random bytes (some with a quotation table), GA-style random genomes (some with their
    ``@`` and ``!`` replaced by dup and drop) and programs that name memory everywhere."""
    rng = np.random.default_rng(seed)             # test data only
    for k in range(count):
        if k % 4 == 3:
            yield PsilGenome(_touchy(rng))
            continue
        if k % 3:
            code = random_genome(DrawStream(Rng(seed), 7, k, 0), 128)
            if k % 3 == 2:             # without computed addresses, so the reach is partial
                code = code.replace(bytes([op.LOAD]), b"\x01").replace(bytes([op.STORE]), b"\x02")
            yield PsilGenome(code)
            continue
        code = bytes(rng.integers(0, 256, int(rng.integers(1, 60))).astype(np.uint8))
        quots = []
        if rng.random() < 0.3:
            quots = [(int(i), bytes(rng.integers(0, 256, int(rng.integers(1, 20)))
                                    .astype(np.uint8)))
                     for i in rng.choice(32, int(rng.integers(1, 4)), replace=False)]
        yield PsilGenome(code, tuple(quots))


def _observe(m: Machine, reach: int) -> tuple:
    inside = [v for s, v in enumerate(m.memory) if s >= op.RING0_SLOTS or reach >> s & 1]
    return (m.ring1, list(m.stack), inside, list(m.locals), m.pc, m.gas, m.error,
            m.error_code, m.halted, m.yields, m.steps)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_slots_outside_the_reach_neither_matter_nor_change(seed):
    rng = np.random.default_rng(100 + seed)
    partial = 0
    for genome in _genomes(seed, 600):
        reach = ring0_reach(genome)
        partial += reach != ALL
        a, b = Machine(genome, gas=120), Machine(genome, gas=120)
        for _ in range(4):                                  # a few action rounds
            sensors = rng.integers(-300, 300, op.RING0_SLOTS)
            other = np.where([reach >> s & 1 for s in range(op.RING0_SLOTS)], sensors,
                             rng.integers(-300, 300, op.RING0_SLOTS))
            a.set_sensors(sensors.tolist())
            b.set_sensors(other.tolist())
            a.run()
            b.run()
            assert _observe(a, reach) == _observe(b, reach), genome
            for s in range(op.RING0_SLOTS):
                if not reach >> s & 1:                      # never written either
                    assert a.memory[s] == sensors[s] and b.memory[s] == other[s]
            if a.done:
                break
    assert partial > 100                                    # most genomes reach only some


def test_reach_names_the_slots_a_program_uses():
    assert ring0_reach(PsilGenome(bytes([op.R0_READ, 5, op.HALT]))) == 1 << 5
    assert ring0_reach(PsilGenome(bytes([op.ACT_ATTACK, 0]))) == 1 << op.RING0_NEAR_ID
    assert ring0_reach(PsilGenome(bytes([0x20, op.LOAD]))) == ALL    # a computed address
    assert ring0_reach(PsilGenome(bytes([op.HALT]), ((3, bytes([op.STORE])),))) == ALL
    assert ring0_reach(PsilGenome(bytes([op.R1_WRITE, 200]))) == 1 << 8   # (64 + 200) & 255


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80), st.sampled_from([op.R0_READ, op.SYM_W, op.R1_WRITE, op.ACT_MOVE,
                                                op.ACT_HEAL, op.LOAD]))
def test_kernel_reach_equals_the_reference(code, salt):
    """The numba walk and the plain one agree on any bytes, operands cut off at the end
    included (``salt`` makes memory-naming bytes common)."""
    for c in (code, code + bytes([salt]), bytes([salt]) + code):
        assert reach_of_code(np.frombuffer(c, dtype=np.uint8)) == reach_of_bytes_py(c)
