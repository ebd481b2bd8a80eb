"""The reference micro-PSIL VM in plain Python: short and readable, the oracle for the fast VM.

One ``Machine`` is one organism's VM: its own stack, 256-slot memory (Ring0 sensors in slots
0-30, Ring1 actions in 64-67), 16 locals, gas and flags. ``run()`` executes until the program
yields, halts, errs or spends its gas; calling it again after a yield resumes where it stopped.

Semantics follow the reference sandbox (oisee/psil; docs/brains/psil.md) and the conformance
vectors; where Primordia chooses (nested quotations, errors inside them), the choice is written
next to the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from . import opcodes as op
from .genome import PsilGenome

# Why a run() call returned.
RUNNING, YIELDED, HALTED, FAILED = "running", "yielded", "halted", "failed"


def to_i16(v: int) -> int:
    """Wrap an integer to signed 16 bits, as every value pushed or stored is."""
    return ((v + 0x8000) & 0xFFFF) - 0x8000


def trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero (Python's // rounds down)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def trunc_mod(a: int, b: int) -> int:
    """Remainder with the sign of the dividend, so a == b * trunc_div(a, b) + trunc_mod(a, b)."""
    return a - b * trunc_div(a, b)


@dataclass
class Frame:
    """A running block of code: the main program, a quotation body or an inline (0xE3) block."""

    code: bytes
    pc: int = 0
    kind: str = "main"     # main | exec | dip | loop | inline
    saved: int = 0         # dip: the value to push back when the body returns
    remaining: int = 0     # loop: runs of the body still to start after this one
    quotation: int = 0     # loop: the body's index, to start it again


@dataclass
class Machine:
    """One organism's VM state; ``run()`` advances it to its next yield or end."""

    genome: PsilGenome
    gas: int = 200
    memory: list[int] = field(default_factory=lambda: [0] * op.MEMORY_SLOTS)
    locals: list[int] = field(default_factory=lambda: [0] * op.LOCALS)
    stack: list[int] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    error: bool = False
    error_code: int = 0
    halted: bool = False
    yielded: bool = False
    yields: int = 0
    steps: int = 0
    trace: list[TraceStep] | None = None

    def __post_init__(self) -> None:
        if not self.frames:
            self.frames = [Frame(self.genome.code)]
        self._quotations = self.genome.quotation_map

    # --- set-up ---------------------------------------------------------------------------
    def set_sensors(self, values: Iterable[int]) -> None:
        """Write Ring0: sensor values into memory slots 0, 1, 2, ..."""
        for slot, v in enumerate(values):
            self.memory[slot] = to_i16(int(v))

    @property
    def pc(self) -> int:
        """The main program's counter (nested blocks report through their caller)."""
        return self.frames[0].pc

    @property
    def ring1(self) -> list[int]:
        """Ring1 outputs: move, action, target, emotion."""
        return self.memory[op.RING1_BASE:op.RING1_BASE + op.RING1_SLOTS]

    @property
    def done(self) -> bool:
        """True once the think is over: halted, failed, or no gas left to go on."""
        return self.halted or self.error or self.gas <= 0

    # --- stack ----------------------------------------------------------------------------
    def fail(self, code: int | None) -> None:
        """Raise the error flag; ``code`` None keeps the previous code (bare error flag)."""
        self.error = True
        if code is not None:
            self.error_code = code

    def push(self, v: int) -> None:
        if len(self.stack) >= op.MAX_STACK:
            self.fail(op.ERR_OVERFLOW)
            return
        self.stack.append(to_i16(v))

    def pop(self) -> int:
        """Pop the top value; on an empty stack flag underflow and give 0 so the op completes."""
        if not self.stack:
            self.fail(op.ERR_UNDERFLOW)
            return 0
        return self.stack.pop()

    # --- running --------------------------------------------------------------------------
    def resume(self) -> None:
        """Start the next action round after a yield: Ring1 is cleared for new outputs."""
        if self.yielded:
            for i in range(op.RING1_SLOTS):
                self.memory[op.RING1_BASE + i] = 0
            self.yielded = False

    def run(self) -> str:
        """Execute until yield, halt, error or gas runs out; returns why it stopped."""
        self.resume()
        while not (self.halted or self.error or self.yielded):
            self.step()
        if self.yielded:
            return YIELDED
        return FAILED if self.error else HALTED

    def step(self) -> None:
        """Execute one instruction (or finish a block whose pc has left its code)."""
        frame = self.frames[-1]
        code = frame.code
        if not 0 <= frame.pc < len(code):
            self._leave_block()
            return
        self.gas -= 1
        if self.gas <= 0:
            self.fail(op.ERR_GAS)
            return
        pc = frame.pc
        opcode = code[pc]
        self.steps += 1
        if self.trace is not None:
            self.trace.append(self._trace_line(frame, pc))
        frame.pc = pc + 1
        if opcode < 0x80:
            if opcode < 0x20:
                self._command(opcode)
            elif opcode < 0x40:
                self.push(opcode - op.SMALL_NUM_BASE)
            elif opcode < 0x60:
                self.push(opcode - op.SYMBOL_BASE)
            else:
                self.push((opcode - op.QUOTE_BASE) | 0x8000)
        elif opcode < 0xC0:
            if pc + 1 >= len(code):
                self.fail(None)                  # truncated instruction
                return
            frame.pc = pc + 2
            self._two_byte(opcode, code[pc + 1])
        elif opcode < 0xE0:
            if pc + 2 >= len(code):
                self.fail(None)
                return
            frame.pc = pc + 3
            self._three_byte(opcode, to_i16((code[pc + 1] << 8) | code[pc + 2]))
        elif opcode < 0xF0:
            if pc + 1 >= len(code):
                self.fail(None)
                return
            length = code[pc + 1]
            frame.pc = pc + 2
            if pc + 2 + length > len(code):
                self.fail(None)                  # data runs past the end
                return
            frame.pc = pc + 2 + length
            if opcode == op.STRING:
                self.push(length)
            elif opcode == op.INLINE:
                self._enter(Frame(code[pc + 2:pc + 2 + length], kind="inline"))
        else:
            self._special(opcode)

    def _special(self, opcode: int) -> None:
        if opcode in (op.HALT, op.END):
            self._halt()
        elif opcode == op.YIELD:
            self._yield()
        elif opcode == op.ERROR:
            self.fail(None)
        elif opcode == op.CLEAR_ERROR:
            self.error = False
            self.error_code = 0
        elif opcode == op.CHECK_ERROR:
            self.push(1 if self.error else 0)

    def _yield(self) -> None:
        self.yielded = True
        self.yields += 1

    def _halt(self) -> None:
        """halt/end/ret: stop the think at top level; inside a block, return from it."""
        if len(self.frames) == 1:
            self.halted = True
        else:
            self._leave_block()

    # --- blocks: quotations and inline code -----------------------------------------------
    def _enter(self, frame: Frame) -> None:
        # Primordia bounds nesting (the reference recursed without limit): deeper is overflow.
        if len(self.frames) >= op.MAX_FRAMES:
            self.fail(op.ERR_OVERFLOW)
            return
        self.frames.append(frame)

    def _call(self, index: int, kind: str = "exec", **extra: int) -> None:
        body = self._quotations.get(index)
        if body is None:
            self.fail(op.ERR_QUOTATION)
            return
        self._enter(Frame(body, kind=kind, quotation=index, **extra))

    def _leave_block(self) -> None:
        """A block ended (its pc left the code, or it ran halt/ret/end)."""
        if len(self.frames) == 1:
            self.halted = True
            return
        frame = self.frames.pop()
        if frame.kind == "dip":
            self.push(frame.saved)
        elif frame.kind == "loop" and frame.remaining > 0:
            # Primordia charges one gas per further iteration, so that a loop over an empty
            # body cannot run 32,767 times for free (the reference charged nothing).
            self.gas -= 1
            if self.gas <= 0:
                self.fail(op.ERR_GAS)
                return
            self._call(frame.quotation, "loop", remaining=frame.remaining - 1)

    # --- instruction groups ---------------------------------------------------------------
    def _command(self, c: int) -> None:
        pop, push = self.pop, self.push
        if c == op.NOP or c == op.PICK:
            pass
        elif c == op.DUP:
            if not self.stack:
                self.fail(op.ERR_UNDERFLOW)
            else:
                push(self.stack[-1])
        elif c == op.DROP:
            if not self.stack:
                self.fail(op.ERR_UNDERFLOW)
            else:
                self.stack.pop()
        elif c in (op.SWAP, op.OVER):
            # The reference checks for two entries first and leaves the stack alone if short.
            if len(self.stack) < 2:
                self.fail(op.ERR_UNDERFLOW)
            elif c == op.SWAP:
                self.stack[-1], self.stack[-2] = self.stack[-2], self.stack[-1]
            else:
                push(self.stack[-2])
        elif c == op.ROT:
            z, y, x = pop(), pop(), pop()
            push(y), push(z), push(x)
        elif c in _BINARY:
            b, a = pop(), pop()
            if c in (op.DIV, op.MOD) and b == 0:
                self.fail(op.ERR_DIV_ZERO)
                push(0)
            else:
                push(_BINARY[c](a, b))
        elif c == op.NOT:
            push(1 if pop() == 0 else 0)
        elif c == op.NEG:
            push(-pop())
        elif c == op.INC:
            push(pop() + 1)
        elif c == op.DEC:
            push(pop() - 1)
        elif c == op.EXEC:
            self._call(pop() & 0x7FFF)
        elif c == op.IFTE:
            else_q, then_q = pop() & 0x7FFF, pop() & 0x7FFF
            self._call(then_q if pop() != 0 else else_q)
        elif c == op.DIP:
            q = pop() & 0x7FFF
            x = pop()
            self._call(q, "dip", saved=x)
        elif c == op.LOOP:
            q = pop() & 0x7FFF
            n = pop()
            if n > 0 and not self.error:         # an underflow above cancels the loop
                self._call(q, "loop", remaining=n - 1)
        elif c == op.RET:
            self._halt()
        elif c == op.LOAD:
            push(self.memory[pop() & 0xFF])
        elif c == op.STORE:
            slot = pop() & 0xFF
            self.memory[slot] = pop()
        elif c == op.PRINT:
            pop()                                # output is muted in brains
        elif c == op.DUP2:
            b, a = pop(), pop()
            push(a), push(b), push(a), push(b)
        elif c == op.DEPTH:
            push(3 * len(self.stack) // 2)       # the reference counts bytes / 2
        elif c == op.CLEAR:
            self.stack.clear()

    def _two_byte(self, c: int, arg: int) -> None:
        frame = self.frames[-1]
        if c == op.PUSH_B or c == op.STR:
            self.push(arg)
        elif c in (op.SYM_X, op.R0_READ):
            self.push(self.memory[arg])
        elif c == op.QUOT_X:
            self.push(arg | 0x8000)
        elif c == op.LOCAL:
            if arg < op.LOCALS:
                self.push(self.locals[arg])
        elif c == op.LOCAL_SET:
            if arg < op.LOCALS:
                self.locals[arg] = self.pop()
        elif c == op.JMP:
            frame.pc += arg
        elif c == op.JMP_BACK:
            frame.pc -= arg
        elif c == op.JZ:
            if self.pop() == 0:
                frame.pc += arg
        elif c == op.JNZ:
            if self.pop() != 0:
                frame.pc += arg
        elif c == op.CALL:
            self._builtin(arg)
        elif c == op.R1_READ:
            self.push(self.memory[(op.RING1_BASE + arg) & 0xFF])
        elif c == op.R1_WRITE:
            self.memory[(op.RING1_BASE + arg) & 0xFF] = self.pop()
        elif c == op.INSPECT:
            self.push(3 * len(self.stack))       # the reference's stack pointer in bytes
        elif c == op.GAS:
            self.gas -= arg
            if self.gas < 0:
                self.fail(op.ERR_GAS)
        elif c == op.PICK_N:
            n = len(self.stack)
            if arg > n:
                self.fail(None)
            elif arg < n:
                self.push(self.stack[n - 1 - arg])
        elif c == op.LOOP_N:
            q = self.pop() & 0x7FFF
            if arg > 0 and not self.error:
                self._call(q, "loop", remaining=arg - 1)
        elif op.ACT_MOVE <= c <= op.ACT_CRAFT:
            self._act(c, arg)

    def _act(self, c: int, arg: int) -> None:
        """Action opcodes write Ring1 and yield, so one instruction is one action."""
        mem = self.memory
        if c == op.ACT_MOVE:
            slot = op.MOVE_TOWARD_SLOT.get(arg)
            mem[op.RING1_BASE + op.RING1_MOVE] = mem[slot] if slot is not None else arg
        else:
            action, targeted = op.ACTIONS[c]
            mem[op.RING1_BASE + op.RING1_ACTION] = action
            if targeted:
                mem[op.RING1_BASE + op.RING1_TARGET] = mem[op.RING0_NEAR_ID]
        self._yield()

    def _three_byte(self, c: int, val: int) -> None:
        frame = self.frames[-1]
        if c == op.PUSH_W:
            self.push(val)
        elif c == op.SYM_W:
            self.push(self.memory[val & 0xFF])
        elif c == op.QUOT_W:
            self.push(val | 0x8000)
        elif c == op.JMP_FAR:
            frame.pc += val
        elif c == op.JZ_FAR:
            if self.pop() == 0:
                frame.pc += val
        elif c == op.CALL_FAR:
            frame.pc = val                       # no return: ret halts, so this is a far jump

    def _builtin(self, n: int) -> None:
        if n == 2:
            self.pop()                           # emit: output is muted
        elif n == 3:
            self.push(abs(self.pop()))
        elif n in (4, 5):
            b, a = self.pop(), self.pop()
            self.push(min(a, b) if n == 4 else max(a, b))

    def _trace_line(self, frame: Frame, pc: int) -> TraceStep:
        raw = frame.code[pc:pc + op.instruction_length(frame.code, pc)]
        return TraceStep(len(self.frames) - 1, frame.kind, pc, raw, self.gas,
                         tuple(self.stack))


class TraceStep(NamedTuple):
    """One executed instruction as ``--trace`` shows it: where, its bytes, gas left, stack
    before it ran."""

    depth: int
    block: str
    pc: int
    raw: bytes
    gas: int
    stack: tuple[int, ...]


_BINARY = {
    op.ADD: lambda a, b: a + b,
    op.SUB: lambda a, b: a - b,
    op.MUL: lambda a, b: a * b,
    op.DIV: trunc_div,
    op.MOD: trunc_mod,
    op.EQ: lambda a, b: int(a == b),
    op.LT: lambda a, b: int(a < b),
    op.GT: lambda a, b: int(a > b),
    op.AND: lambda a, b: a & b,
    op.OR: lambda a, b: a | b,
}


@dataclass
class ThinkResult:
    """Everything one think produced: outputs at each yield and the final machine state."""

    yields: list[list[int]]
    final: list[int]
    halted: bool
    error: int
    gas_left: int
    pc: int
    stack: list[int]
    memory: list[int]
    steps: int


def think(genome: PsilGenome, sensors: Iterable[int] = (), gas: int = 200,
          trace: list[TraceStep] | None = None) -> ThinkResult:
    """Run a fresh organism to the end of its think, resuming after every yield.

    Sensors stay as given between rounds (a world would re-sense and act in between); this is
    the procedure of the conformance vectors.
    """
    m = Machine(genome, gas=gas, trace=trace)
    m.set_sensors(sensors)
    outputs = []
    while True:
        why = m.run()
        if why != YIELDED:
            break
        outputs.append(m.ring1)
        m.resume()
        if m.gas <= 0:
            break
    return ThinkResult(
        yields=outputs, final=m.ring1, halted=m.halted,
        error=m.error_code if m.error else 0, gas_left=m.gas, pc=m.pc,
        stack=list(m.stack), memory=list(m.memory), steps=m.steps)
