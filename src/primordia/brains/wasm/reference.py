"""The reference interpreter of the wasm brain's IR in plain Python: the oracle the compiled
modules must match (docs/brains/wasm.md, "The IR").

``run_step`` runs function 0 (``step``) over one organism's memory, with the context already
written at offset 0, and reports the action code and the gas spent. Values are Python ints
kept as signed i32. Written for reading, not speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import ir
from .ir import BLOCK, ELSE, END, IF, LOOP, Function, Instr, WasmGenome
from .layout import (F_ATTACK, F_EAT, F_MOVE, F_REPRODUCE, F_SIGNAL, H_AGE, H_ENERGY,
                     H_NEIGHBORS, MAX_NEIGHBORS, MAX_PAYLOAD, NEIGHBOR_WORDS, R_ATTACK_AMOUNT,
                     R_ATTACK_SLOT, R_FLAGS, R_MOVE_DX, R_MOVE_DY, R_REPRO_LEN, R_REPRO_PTR,
                     R_SIGNAL_CHANNEL, R_SIGNAL_VALUE, Layout)

MASK32 = 0xFFFF_FFFF


def i32(v: int) -> int:
    """Wrap an integer to signed 32 bits, as every value written to a local is."""
    return ((v + 0x8000_0000) & MASK32) - 0x8000_0000


def u32(v: int) -> int:
    """The unsigned reading of an i32's bits."""
    return v & MASK32


def _div_s(x: int, y: int) -> int:
    """Signed division rounding toward zero (Python's // rounds down); by 0 gives 0."""
    if y == 0:
        return 0
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


def _rem_s(x: int, y: int) -> int:
    """The remainder with the dividend's sign, so x == y * div_s(x, y) + rem_s(x, y)."""
    return 0 if y == 0 else x - y * _div_s(x, y)


def _rotl(x: int, n: int) -> int:
    bits, n = u32(x), n % 32
    return (bits << n) | (bits >> (32 - n))


def _ctz(x: int) -> int:
    bits = u32(x)
    return 32 if bits == 0 else (bits & -bits).bit_length() - 1


# The results are wrapped by i32 afterwards, so these may overflow freely.
BINARY: dict[str, Callable[[int, int], int]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div_s": _div_s,
    "div_u": lambda x, y: u32(x) // u32(y) if y else 0,
    "rem_s": _rem_s,
    "rem_u": lambda x, y: u32(x) % u32(y) if y else 0,
    "and": lambda x, y: x & y,
    "or": lambda x, y: x | y,
    "xor": lambda x, y: x ^ y,
    "shl": lambda x, y: x << (y % 32),
    "shr_s": lambda x, y: x >> (y % 32),
    "shr_u": lambda x, y: u32(x) >> (y % 32),
    "rotl": lambda x, y: _rotl(x, y),
    "rotr": lambda x, y: _rotl(x, 32 - y % 32),
    "eq": lambda x, y: int(x == y),
    "ne": lambda x, y: int(x != y),
    "lt_s": lambda x, y: int(x < y),
    "lt_u": lambda x, y: int(u32(x) < u32(y)),
    "gt_s": lambda x, y: int(x > y),
    "gt_u": lambda x, y: int(u32(x) > u32(y)),
    "le_s": lambda x, y: int(x <= y),
    "le_u": lambda x, y: int(u32(x) <= u32(y)),
    "ge_s": lambda x, y: int(x >= y),
    "ge_u": lambda x, y: int(u32(x) >= u32(y)),
    "min_s": min,
    "max_s": max,
}
UNARY: dict[str, Callable[[int], int]] = {
    "mov": lambda x: x,
    "eqz": lambda x: int(x == 0),
    "clz": lambda x: 32 - u32(x).bit_length(),
    "ctz": _ctz,
    "popcnt": lambda x: bin(u32(x)).count("1"),
    "neg": lambda x: -x,
    "not": lambda x: x ^ -1,
    "abs": abs,             # abs(-2**31) is 2**31, which wraps back to -2**31
}


@dataclass(frozen=True)
class StepOutcome:
    """What one step came to."""

    code: int
    """The action code ``step`` returned (0 if the step ended early)."""
    gas_used: int
    """The budget minus the gas left."""
    halted: bool
    """True if the step ended early: out of gas, or a call too deep."""


class _Halt(Exception):
    """The step ends early; everything it did so far stands."""


@dataclass(frozen=True)
class _Shape:
    """What the interpreter needs to know about a function's body beforehand."""

    cost: dict[int, int]
    """Segment start -> its length, the gas charged on entering it."""
    end_of: dict[int, int]
    """The ``end`` matching each ``block``, ``loop``, ``if`` and ``else``."""
    else_of: dict[int, int]
    """The ``else`` of each ``if`` that has one."""


def _shape(fn: Function) -> _Shape:
    end_of: dict[int, int] = {}
    else_of: dict[int, int] = {}
    open_at: list[int] = []
    for pc, ins in enumerate(fn.body):
        if ins.op in ir.OPENERS:
            open_at.append(pc)
        elif ins.op == ELSE:
            else_of[open_at[-1]] = pc
        elif ins.op == END:
            opener = open_at.pop()
            end_of[opener] = pc
            if opener in else_of:
                end_of[else_of[opener]] = pc
    return _Shape(dict(ir.segments(fn)), end_of, else_of)


def run_step(genome: WasmGenome, memory: bytearray, layout: Layout, budget: int,
             trace: list[tuple[int, int]] | None = None) -> StepOutcome:
    """Run ``step`` over ``memory`` (the organism's whole memory, context at 0), changing it in
    place; the action code, the gas used, and whether the step ended early. ``trace``, if
    given, receives (function, instruction) of every instruction run, in order (the
    dashboard's view of a step)."""
    if len(memory) != layout.memory:
        raise ValueError(f"memory is {len(memory)} bytes; the layout says {layout.memory}")
    machine = _Machine(genome, memory, layout, budget)
    machine.trace = trace
    try:
        code = machine.call(0, [], depth=0)
    except _Halt:
        return StepOutcome(0, budget - machine.gas, True)
    return StepOutcome(code, budget - machine.gas, False)


class _Machine:
    """One step's state: the genome, the memory it works on and the gas left."""

    def __init__(self, genome: WasmGenome, memory: bytearray, layout: Layout,
                 gas: int) -> None:
        self.genome = genome
        self.memory = memory
        self.layout = layout
        self.gas = gas
        self.shapes = [_shape(fn) for fn in genome.functions]
        self.trace: list[tuple[int, int]] | None = None

    # ---- memory ------------------------------------------------------------------------------
    def load(self, a: int) -> int:
        """The little-endian word at byte ``a`` masked into memory (word aligned)."""
        a &= self.layout.memory - 4
        return int.from_bytes(self.memory[a:a + 4], "little", signed=True)

    def store(self, a: int, value: int) -> None:
        a &= self.layout.memory - 4
        self.memory[a:a + 4] = u32(value).to_bytes(4, "little")

    def word(self, index: int) -> int:
        """Context word ``index`` as it is in memory now (the organism may have changed it)."""
        return self.load(4 * index)

    def set_word(self, index: int, value: int) -> None:
        self.store(4 * index, value)

    def record(self, flag: int, fields: dict[int, int] | None = None) -> None:
        """Set ``flag`` in the action record and write its fields (``R_*`` -> value)."""
        at = self.layout.record_at
        self.set_word(at + R_FLAGS, self.word(at + R_FLAGS) | flag)
        for field, value in (fields or {}).items():
            self.set_word(at + field, value)

    def neighbors(self) -> int:
        return min(max(self.word(H_NEIGHBORS), 0), MAX_NEIGHBORS)

    # ---- running -----------------------------------------------------------------------------
    def charge(self, cost: int) -> None:
        if self.gas < cost:
            raise _Halt
        self.gas -= cost

    def call(self, index: int, args: list[int], depth: int) -> int:
        """Run function ``index`` with ``args`` at call ``depth`` (step is 0); its result,
        or 0 if it has none or falls off its end."""
        fn = self.genome.functions[index]
        shape = self.shapes[index]
        regs = list(args) + [0] * (fn.locals - len(args))
        open_at: list[int] = []   # the block, loop or if of each open block, innermost last
        pc = 0
        while pc < len(fn.body):
            if pc in shape.cost:
                self.charge(shape.cost[pc])
            ins = fn.body[pc]
            spec = ins.spec
            if self.trace is not None:
                self.trace.append((index, pc))
            at, pc = pc, pc + 1
            if spec.group == "bin":
                regs[ins.a] = i32(BINARY[spec.name](regs[ins.b], regs[ins.c]))
            elif spec.group == "un":
                regs[ins.a] = i32(UNARY[spec.name](regs[ins.b]))
            elif spec.group == "const":
                regs[ins.a] = ins.b
            elif spec.group == "mem":
                self.memory_op(spec.name, ins, regs)
            elif spec.group in ("io", "abi"):
                self.io(spec.name, ins, regs)
            elif spec.group == "call":
                callee = self.genome.functions[ins.a]
                if depth >= ir.MAX_CALL_DEPTH:
                    raise _Halt
                result = self.call(ins.a, regs[ins.c:ins.c + callee.params], depth + 1)
                if callee.results:
                    regs[ins.b] = result
            elif ins.op in (BLOCK, LOOP):
                open_at.append(at)
            elif ins.op == IF:
                if regs[ins.a] != 0:
                    open_at.append(at)
                elif at in shape.else_of:
                    open_at.append(at)
                    pc = shape.else_of[at] + 1
                else:
                    pc = shape.end_of[at] + 1
            elif ins.op == ELSE:          # the then-part is done: skip the else-part
                pc = shape.end_of[open_at.pop()] + 1
            elif ins.op == END:
                open_at.pop()
            elif spec.name == "return":
                return regs[ins.a] if fn.results else 0
            else:                         # br d, br_if d c
                if spec.name == "br_if" and regs[ins.b] == 0:
                    continue
                if ins.a == len(open_at):
                    return 0
                target = open_at[-1 - ins.a]
                del open_at[len(open_at) - ins.a:]
                if fn.body[target].op == LOOP:
                    pc = target + 1       # again, the loop still open
                else:
                    pc = shape.end_of[target] + 1
                    open_at.pop()
        return 0

    def memory_op(self, name: str, ins: Instr, regs: list[int]) -> None:
        """load dst addr off, load8 dst addr off, store addr val off, store8 addr val off."""
        if name == "load":
            regs[ins.a] = self.load(regs[ins.b] + ins.c)
        elif name == "load8":
            regs[ins.a] = self.memory[(regs[ins.b] + ins.c) & (self.layout.memory - 1)]
        elif name == "store":
            self.store(regs[ins.a] + ins.c, regs[ins.b])
        else:
            self.memory[(regs[ins.a] + ins.c) & (self.layout.memory - 1)] = regs[ins.b] & 0xFF

    def io(self, name: str, ins: Instr, regs: list[int]) -> None:
        """sense, act and the ABI calls: reads and writes of the context in memory."""
        lay = self.layout
        a, b, c = ins.a, ins.b, ins.c
        if name == "sense":
            regs[a] = self.word(lay.sensor_at + b % lay.sensors) if lay.sensors else 0
        elif name == "act":
            if lay.actions:
                self.set_word(lay.action_at + a % lay.actions, regs[b])
        elif name == "env_read":
            x, y, r = regs[b], regs[c], lay.radius
            inside = -r <= x <= r and -r <= y <= r
            regs[a] = self.word(lay.view_at + (y + r) * lay.view_side + x + r) if inside else -1
        elif name == "sense_neighbor":
            slot, buf = regs[b], regs[c]
            if 0 <= slot < self.neighbors():
                first = lay.neighbor_at + NEIGHBOR_WORDS * slot
                words = [self.word(first + i) for i in range(NEIGHBOR_WORDS)]
                for i, value in enumerate(words):   # all read before any is written
                    self.store(buf + 4 * i, value)
                regs[a] = 1
            else:
                regs[a] = 0
        elif name == "get_energy":
            regs[a] = self.word(H_ENERGY)
        elif name == "get_age":
            regs[a] = self.word(H_AGE)
        elif name == "move_dir":
            dx, dy = regs[b], regs[c]
            ok = -1 <= dx <= 1 and -1 <= dy <= 1
            if ok:
                self.record(F_MOVE, {R_MOVE_DX: dx, R_MOVE_DY: dy})
            regs[a] = int(ok)
        elif name == "eat":
            self.record(F_EAT)
            regs[a] = 1
        elif name == "attack":
            slot, amount = regs[b], regs[c]
            ok = 0 <= slot < self.neighbors() and amount > 0
            if ok:
                self.record(F_ATTACK, {R_ATTACK_SLOT: slot, R_ATTACK_AMOUNT: amount})
            regs[a] = int(ok)
        elif name == "try_reproduce":
            ptr, length = regs[b], regs[c]
            ok = 0 <= length <= MAX_PAYLOAD
            if ok:
                self.record(F_REPRODUCE, {R_REPRO_PTR: ptr & (lay.memory - 1), R_REPRO_LEN: length})
            regs[a] = int(ok)
        elif name == "emit_signal":
            self.record(F_SIGNAL, {R_SIGNAL_CHANNEL: regs[a], R_SIGNAL_VALUE: regs[b]})
        else:
            raise AssertionError(f"no io instruction {name}")

