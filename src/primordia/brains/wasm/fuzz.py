"""Arbitrary IR genomes and the check that compiled code agrees with the oracle: what the
tests and the fuzz campaign (benchmarks/fuzz_wasm.py) share.

``arbitrary_genome`` is not evolution's generator (variation.random_genome favours useful
programs): it draws every instruction kind evenly, with corner constants (0, -1, -2^31 ...),
any offsets, branches anywhere they are valid and loops that may never end, so that the
compiler's every path meets the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from primordia.core.rng import DrawStream

from . import ir
from .context import write_contexts
from .layout import Layout
from .reference import run_step
from .runtime import Population

CORNERS = (0, 1, -1, 2, 31, 32, 255, 4095, 65535, 65536, -(1 << 31), (1 << 31) - 1)
_STRAIGHT = [op for op in ir.OPS.values() if op.group in ("bin", "un", "const", "mem", "io",
                                                           "abi")]


def _int(draws: DrawStream, lo: int, hi: int) -> int:
    """An integer in lo..hi, both included."""
    return draws.integer(lo, hi + 1)


def _value(draws: DrawStream, kind: str, n_locals: int) -> int:
    if kind == "L":
        return _int(draws, 0, n_locals - 1)
    if kind == "I":
        pick = _int(draws, 0, 3)
        if pick == 0:
            return draws.choice(CORNERS)
        if pick == 1:
            return draws.integer(-(1 << 31), 1 << 31)
        return _int(draws, -8, 8)
    if kind == "O":
        return draws.choice((0, 4, _int(draws, 0, 64), _int(draws, 0, 65535)))
    return _int(draws, 0, 255)


def arbitrary_genome(draws: DrawStream, max_instrs: int = 64) -> ir.WasmGenome:
    """A valid genome of up to ``max_instrs`` instructions, every kind about as likely."""
    n_funcs = _int(draws, 1, 3)
    shapes = [(0, 1, _int(draws, 1, 8))]
    for _ in range(n_funcs - 1):
        params = _int(draws, 0, ir.MAX_PARAMS)
        shapes.append((params, _int(draws, 0, 1), _int(draws, max(params, 1), 8)))
    budget = max(1, max_instrs // n_funcs)
    functions = []
    for params, results, n_locals in shapes:
        body: list[ir.Instr] = []
        open_kinds: list[int] = []
        length = _int(draws, 0, budget)
        while len(body) + len(open_kinds) < length:
            roll = _int(draws, 0, 19)
            if roll < 12:
                op = draws.choice(_STRAIGHT)
                body.append(ir.Instr(op.code, *(_value(draws, k, n_locals)
                                                for k in op.operands)))
            elif roll < 14 and len(open_kinds) < ir.MAX_NESTING:
                opener = draws.choice((ir.BLOCK, ir.LOOP, ir.IF))
                body.append(ir.Instr(opener, _int(draws, 0, n_locals - 1))
                            if opener == ir.IF else ir.Instr(opener))
                open_kinds.append(opener)
            elif roll < 15 and open_kinds:
                if open_kinds[-1] == ir.IF and draws.chance(0.5):
                    body.append(ir.Instr(ir.ELSE))
                    open_kinds[-1] = ir.ELSE
                else:
                    body.append(ir.Instr(ir.END))
                    open_kinds.pop()
            elif roll < 17:
                depth = _int(draws, 0, len(open_kinds))
                cond = _int(draws, 0, n_locals - 1)
                body.append(ir.Instr(ir.BR_IF, depth, cond) if draws.chance(0.7)
                            else ir.Instr(ir.BR, depth))
            elif roll < 18:
                body.append(ir.Instr(ir.RETURN, _int(draws, 0, n_locals - 1) if results
                                     else 0))
            else:
                target = _int(draws, 0, n_funcs - 1)
                cp, cr, _ = shapes[target]
                if cp > n_locals:
                    continue
                body.append(ir.Instr(ir.CALL, target,
                                     _int(draws, 0, n_locals - 1) if cr else 0,
                                     _int(draws, 0, n_locals - cp) if cp else 0))
        body.extend(ir.Instr(ir.END) for _ in open_kinds)
        functions.append(ir.Function(params, results, n_locals, tuple(body)))
    return ir.make_genome(functions)


@dataclass(frozen=True)
class Disagreement:
    """A genome on which compiled code and the oracle differ, and how."""

    genome: ir.WasmGenome
    budget: int
    what: str


def compare(genomes: list[ir.WasmGenome], layout: Layout, draws: DrawStream,
            population: Population | None = None) -> list[Disagreement]:
    """Run each genome one step, compiled (all in one round) and in the oracle, from the
    same random memory, context and budget; every difference in action code, gas left,
    halting or any byte of memory."""
    n = len(genomes)
    pop = population if population is not None and population.capacity >= n \
        else Population(layout, n)
    slots = np.arange(n)
    pop.set(slots, genomes)
    seed = draws.u64()
    noise = np.random.default_rng(seed)  # memory contents only; all from the draw above
    pop.memory[:n] = noise.integers(0, 256, (n, layout.memory), dtype=np.uint8)
    sensors = noise.integers(-50, 50, (n, layout.sensors)).astype(np.int32)
    budgets = noise.choice([0, 1, 5, 20, 100, 1000, 5000], n).astype(np.int64)
    neighbors = noise.integers(-3, 12, n)
    write_contexts(pop.memory, layout, slots, sensors, tick=7, ids=slots,
                   rand=noise.integers(0, 1 << 32, n), budget=budgets,
                   energy=noise.integers(-5, 100, n), age=noise.integers(0, 100, n),
                   n_neighbors=np.clip(neighbors, 0, 8),
                   neighbors=noise.integers(-9, 9, (n, 8, 4)),
                   view=noise.integers(0, 5, (n, layout.view_side ** 2)))
    pop.memory.view("<i4")[:n, 8] = neighbors  # out-of-range counts too: the ABI clamps
    before = pop.memory[:n].copy()
    codes, left, halted = pop.run(slots, budgets)
    out = []
    for i, genome in enumerate(genomes):
        memory = bytearray(before[i].tobytes())
        want = run_step(genome, memory, layout, int(budgets[i]))
        got_left = int(left[i])
        problems = []
        if want.code != int(codes[i]):
            problems.append(f"code {int(codes[i])} != oracle {want.code}")
        if want.halted != bool(halted[i]):
            problems.append(f"halted {bool(halted[i])} != oracle {want.halted}")
        if max(int(budgets[i]), 0) - want.gas_used != got_left:
            problems.append(f"gas left {got_left} != oracle "
                            f"{max(int(budgets[i]), 0) - want.gas_used}")
        if bytes(memory) != pop.memory[i].tobytes():
            diff = np.flatnonzero(np.frombuffer(bytes(memory), np.uint8) != pop.memory[i])
            problems.append(f"memory differs at {len(diff)} bytes from {int(diff[0])}")
        if problems:
            out.append(Disagreement(genome, int(budgets[i]), "; ".join(problems)))
    return out
