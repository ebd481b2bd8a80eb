"""The wasm brain's genome: a small typed register IR, its caps, checks and canonical bytes.

Every value is an i32 held in a function's locals; an instruction names the locals it reads
and writes, so any sequence of instructions is well typed and variation only has to keep
the structure (blocks matched, branch depths, local and function indices, call arities)
valid. docs/brains/wasm.md is the reference: what each instruction does, what it costs, and
the binary and text forms. The table ``OPS`` is the one source of truth for the assembler,
the compiler, the oracle and the variation operators.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from primordia.core.errors import GenomeError

# ---- caps ------------------------------------------------------------------------------------

MAX_FUNCS = 16
"""Functions in a genome; function 0 is ``step``."""
MAX_PARAMS = 4
"""Parameters of one function."""
MAX_LOCALS = 32
"""Locals of one function, parameters included."""
MAX_INSTRS = 4096
"""Instructions in a whole genome."""
MAX_NESTING = 16
"""Blocks, loops and ifs open at once in one function."""
MAX_CALL_DEPTH = 32
"""Calls active at once (step's own frame not counted); a deeper call ends the step."""
MAGIC = b"PWIR"
VERSION = 1
MAX_GENOME_BYTES = len(MAGIC) + 2 + MAX_FUNCS * 5 + MAX_INSTRS * 8
"""The longest canonical encoding (8 bytes is the widest instruction)."""

# ---- operand kinds ---------------------------------------------------------------------------
# L a local (u8), I a 32-bit constant (i32 LE), O a memory offset (u16 LE), D a branch depth
# (u8), F a function index (u8), K a sensor or action index (u8).
_WIDTH = {"L": 1, "I": 4, "O": 2, "D": 1, "F": 1, "K": 1}


class Op(NamedTuple):
    """One instruction kind: opcode byte, mnemonic, operand kinds, and its group."""

    code: int
    name: str
    operands: str
    group: str
    """``bin`` / ``un`` (arithmetic on locals), ``const``, ``mem``, ``control``, ``call``,
    ``io`` (sense/act), ``abi`` (the ABI calls)."""
    writes: bool
    """True if the first operand is a local the instruction writes."""


_TABLE = [
    # i32 arithmetic, bit operations and comparisons: dst, x, y
    *[(0x01 + i, name, "LLL", "bin", True) for i, name in enumerate((
        "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl",
        "shr_s", "shr_u", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s",
        "le_u", "ge_s", "ge_u", "min_s", "max_s"))],
    # dst, x
    *[(0x20 + i, name, "LL", "un", True) for i, name in enumerate((
        "mov", "eqz", "clz", "ctz", "popcnt", "neg", "not", "abs"))],
    (0x30, "const", "LI", "const", True),
    (0x31, "load", "LLO", "mem", True),
    (0x32, "load8", "LLO", "mem", True),
    (0x33, "store", "LLO", "mem", False),
    (0x34, "store8", "LLO", "mem", False),
    (0x40, "block", "", "control", False),
    (0x41, "loop", "", "control", False),
    (0x42, "if", "L", "control", False),
    (0x43, "else", "", "control", False),
    (0x44, "end", "", "control", False),
    (0x45, "br", "D", "control", False),
    (0x46, "br_if", "DL", "control", False),
    (0x47, "return", "L", "control", False),
    (0x48, "call", "FLL", "call", False),
    (0x50, "sense", "LK", "io", True),
    (0x51, "act", "KL", "io", False),
    (0x60, "env_read", "LLL", "abi", True),
    (0x61, "sense_neighbor", "LLL", "abi", True),
    (0x62, "get_energy", "L", "abi", True),
    (0x63, "get_age", "L", "abi", True),
    (0x64, "move_dir", "LLL", "abi", True),
    (0x65, "eat", "L", "abi", True),
    (0x66, "attack", "LLL", "abi", True),
    (0x67, "try_reproduce", "LLL", "abi", True),
    (0x68, "emit_signal", "LL", "abi", False),
]
OPS: dict[int, Op] = {code: Op(code, name, operands, group, writes)
                      for code, name, operands, group, writes in _TABLE}
"""Every instruction kind by opcode byte."""
BY_NAME: dict[str, Op] = {op.name: op for op in OPS.values()}
"""Every instruction kind by mnemonic."""
CODE = {op.name: op.code for op in OPS.values()}
"""Opcode byte by mnemonic (``CODE["add"]``)."""

BLOCK, LOOP, IF, ELSE, END = (CODE[n] for n in ("block", "loop", "if", "else", "end"))
BR, BR_IF, RETURN, CALL = CODE["br"], CODE["br_if"], CODE["return"], CODE["call"]
OPENERS = frozenset((BLOCK, LOOP, IF))
CONTROL = frozenset(op.code for op in OPS.values() if op.group in ("control", "call"))
"""Instructions that end a straight-line segment (docs/brains/wasm.md, "Gas")."""


class Instr(NamedTuple):
    """One instruction: opcode byte and up to three operands (unused ones are 0)."""

    op: int
    a: int = 0
    b: int = 0
    c: int = 0

    @property
    def spec(self) -> Op:
        return OPS[self.op]


@dataclass(frozen=True)
class Function:
    """A function: ``params`` i32 parameters (locals 0..params-1), ``results`` (0 or 1),
    ``locals`` locals in all (parameters included, all starting at 0 but the parameters),
    and its body."""

    params: int
    results: int
    locals: int
    body: tuple[Instr, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.body, tuple):
            object.__setattr__(self, "body", tuple(self.body))


@dataclass(frozen=True)
class WasmGenome:
    """An immutable IR program; ``functions[0]`` is ``step`` (no parameters, one result:
    the action code). Construct through ``make_genome`` or ``decode`` to have it checked."""

    functions: tuple[Function, ...]

    def __len__(self) -> int:
        return sum(len(f.body) for f in self.functions)

    def __post_init__(self) -> None:
        if not isinstance(self.functions, tuple):
            object.__setattr__(self, "functions", tuple(self.functions))


def make_genome(functions) -> WasmGenome:
    """A checked genome (GenomeError naming the first problem)."""
    genome = WasmGenome(tuple(functions))
    validate(genome)
    return genome


# ---- checks ----------------------------------------------------------------------------------

def _operand_ok(kind: str, value: int) -> bool:
    if kind == "I":
        return -(1 << 31) <= value < (1 << 31)
    if kind == "O":
        return 0 <= value < (1 << 16)
    return 0 <= value < 256


def validate(genome: WasmGenome) -> None:
    """Raise GenomeError unless ``genome`` is within the caps and well formed: every block
    closed, ``else`` only inside an ``if``, branch depths within the open blocks (a depth
    equal to the number open leaves the function), locals, functions and call arities in
    range, and unused operands 0 (one meaning per byte string)."""
    funcs = genome.functions
    if not 1 <= len(funcs) <= MAX_FUNCS:
        raise GenomeError(f"a genome has 1..{MAX_FUNCS} functions, not {len(funcs)}")
    total = sum(len(f.body) for f in funcs)
    if total > MAX_INSTRS:
        raise GenomeError(f"{total} instructions; the limit is {MAX_INSTRS}")
    if funcs[0].params != 0 or funcs[0].results != 1:
        raise GenomeError("function 0 (step) takes no parameters and returns one value")
    for fi, fn in enumerate(funcs):
        where = f"function {fi}"
        if not all(type(v) is int for v in (fn.params, fn.results, fn.locals)):
            raise GenomeError(f"{where}: params, results and locals must be integers")
        if not 0 <= fn.params <= MAX_PARAMS:
            raise GenomeError(f"{where}: {fn.params} parameters; the limit is {MAX_PARAMS}")
        if fn.results not in (0, 1):
            raise GenomeError(f"{where}: results must be 0 or 1, not {fn.results}")
        if not max(fn.params, 1) <= fn.locals <= MAX_LOCALS:
            raise GenomeError(f"{where}: {fn.locals} locals; a function has "
                              f"max(params, 1)..{MAX_LOCALS}")
    shapes = tuple((f.params, f.results) for f in funcs)
    for fi, fn in enumerate(funcs):
        known = _VALID_BODIES.get((fn, shapes))
        if known is fn or (known is not None and _all_int(fn)):
            continue
        if not _body_ok(fn, funcs):
            _check_body(fn, funcs, f"function {fi}")    # raises, naming the first problem
            raise AssertionError(f"function {fi}: _body_ok and _check_body disagree")
        if len(_VALID_BODIES) >= _VALID_BODIES_MAX:
            _VALID_BODIES.clear()
        _VALID_BODIES[(fn, shapes)] = fn


def _all_int(fn: Function) -> bool:
    """Every operand an ``int`` (not a float or a bool that compares equal to one): a body
    equal to a checked one is that body only then."""
    return all(type(v) is int for ins in fn.body for v in ins)


_VALID_BODIES: dict[tuple, Function] = {}
"""Function bodies that passed, with the signatures of the functions beside them (all a
body's calls can see): a child shares most of its functions with its parent, so most of a
new genome's bodies were checked before. The value is the function checked: the very same
object passes at once; an equal one only when its operands are all ints (``1.0 == 1``)."""
_VALID_BODIES_MAX = 1 << 16


_INT32 = (-(1 << 31), (1 << 31) - 1)
_OPERAND_RANGE = {"I": _INT32, "O": (0, (1 << 16) - 1)}
_BOUNDS: dict[int, tuple[tuple[int, int, bool] | None, ...]] = {
    op.code: tuple((*_OPERAND_RANGE.get(kind, (0, 255)), kind == "L")
                   for kind in op.operands) + (None,) * (3 - len(op.operands))
    for op in OPS.values()}
"""Per opcode, for each of the three operands: its lowest and highest value and whether it
names a local (unused operands must be 0) -- ``_check_body``'s operand rules as a table."""


def _body_ok(fn: Function, funcs: tuple[Function, ...]) -> bool:
    """Whether ``_check_body`` would pass ``fn``, without building a message per
    instruction: genomes are validated whenever they join a brain, so this is hot."""
    depth = 0
    kinds: list[int] = []
    top = fn.locals - 1
    bounds_of = _BOUNDS.get
    for ins in fn.body:
        op, a, b, c = ins
        bounds = bounds_of(op)
        if bounds is None:
            return False
        for value, bound in zip((a, b, c), bounds):
            if bound is None:               # an unused operand
                if value != 0:
                    return False
                continue
            lo, hi, local = bound
            if not isinstance(value, int) or not lo <= value <= hi or (local and value > top):
                return False
        if op in OPENERS:
            kinds.append(op)
            depth += 1
            if depth > MAX_NESTING:
                return False
        elif op == ELSE:
            if not depth or kinds[-1] != IF:
                return False
            kinds[-1] = ELSE
        elif op == END:
            if not depth:
                return False
            kinds.pop()
            depth -= 1
        elif op == BR or op == BR_IF:
            if a > depth:
                return False
        elif op == RETURN:
            if fn.results == 0 and a != 0:
                return False
        elif op == CALL:
            if a >= len(funcs):
                return False
            callee = funcs[a]
            if ((callee.results == 0 and b != 0) or (callee.params == 0 and c != 0)
                    or c + callee.params > fn.locals):
                return False
    return depth == 0


def _check_body(fn: Function, funcs: tuple[Function, ...], where: str) -> None:
    """Raise GenomeError naming the first problem of ``fn`` (the rules ``_body_ok`` checks
    fast)."""
    open_kinds: list[int] = []  # opcode of each open block; ELSE replaces IF once seen
    for pc, ins in enumerate(fn.body):
        at = f"{where}, instruction {pc}"
        spec = OPS.get(ins.op)
        if spec is None:
            raise GenomeError(f"{at}: unknown opcode 0x{ins.op:02x}")
        values = (ins.a, ins.b, ins.c)
        for i, value in enumerate(values):
            if i >= len(spec.operands):
                if value != 0:
                    raise GenomeError(f"{at}: {spec.name} takes {len(spec.operands)} "
                                      "operands; the others must be 0")
                continue
            kind = spec.operands[i]
            if not isinstance(value, int) or not _operand_ok(kind, value):
                raise GenomeError(f"{at}: operand {i} of {spec.name} is out of range")
            if kind == "L" and value >= fn.locals:
                raise GenomeError(f"{at}: local {value} does not exist ({fn.locals} locals)")
        op = ins.op
        if op in OPENERS:
            open_kinds.append(op)
            if len(open_kinds) > MAX_NESTING:
                raise GenomeError(f"{at}: more than {MAX_NESTING} blocks open")
        elif op == ELSE:
            if not open_kinds or open_kinds[-1] != IF:
                raise GenomeError(f"{at}: else outside an if (or a second else)")
            open_kinds[-1] = ELSE
        elif op == END:
            if not open_kinds:
                raise GenomeError(f"{at}: end with no open block")
            open_kinds.pop()
        elif op in (BR, BR_IF):
            if ins.a > len(open_kinds):
                raise GenomeError(f"{at}: branch depth {ins.a} but {len(open_kinds)} "
                                  "blocks are open")
        elif op == RETURN:
            if fn.results == 0 and ins.a != 0:
                raise GenomeError(f"{at}: return in a function without a result names "
                                  "local 0")
        elif op == CALL:
            if ins.a >= len(funcs):
                raise GenomeError(f"{at}: call to function {ins.a}, which does not exist")
            callee = funcs[ins.a]
            if callee.results == 0 and ins.b != 0:
                raise GenomeError(f"{at}: the callee returns nothing; dst must be 0")
            if callee.params == 0 and ins.c != 0:
                raise GenomeError(f"{at}: the callee takes no arguments; first must be 0")
            if ins.c + callee.params > fn.locals:
                raise GenomeError(f"{at}: arguments {ins.c}..{ins.c + callee.params - 1} "
                                  f"run past the {fn.locals} locals")
    if open_kinds:
        raise GenomeError(f"{where}: {len(open_kinds)} blocks are not closed")


# ---- canonical bytes -------------------------------------------------------------------------

_INSTR_BYTES: dict[Instr, bytes] = {}
"""Each instruction's bytes, written once: populations repeat instructions, and this is most
of ``encode``'s time (the runtime encodes every genome to key its compile cache)."""
_INSTR_BYTES_MAX = 200_000


def _instr_bytes(ins: Instr) -> bytes:
    out = bytearray((ins.op,))
    for kind, value in zip(OPS[ins.op].operands, ins[1:]):
        if kind == "I":
            out += struct.pack("<i", value)
        elif kind == "O":
            out += struct.pack("<H", value)
        else:
            out.append(value)
    if len(_INSTR_BYTES) >= _INSTR_BYTES_MAX:
        _INSTR_BYTES.clear()
    _INSTR_BYTES[ins] = data = bytes(out)
    return data


def encode(genome: WasmGenome) -> bytes:
    """Canonical bytes: ``PWIR``, version, function count; per function params, results,
    locals and instruction count (u16 LE); per instruction its opcode and operands. A
    genome is immutable, so its bytes are kept on it once written."""
    done = genome.__dict__.get("_bytes")
    if done is not None:
        return done
    parts = [MAGIC, bytes((VERSION, len(genome.functions)))]
    known = _INSTR_BYTES
    for fn in genome.functions:
        parts.append(struct.pack("<BBBH", fn.params, fn.results, fn.locals, len(fn.body)))
        parts.extend(known.get(ins) or _instr_bytes(ins) for ins in fn.body)
    data = b"".join(parts)
    object.__setattr__(genome, "_bytes", data)
    return data


def decode(data: bytes) -> WasmGenome:
    """The genome of canonical bytes; GenomeError if they are truncated, trail, or do not
    make a valid genome."""
    data = bytes(data)
    if len(data) > MAX_GENOME_BYTES:
        raise GenomeError(f"{len(data)} bytes; the longest genome is {MAX_GENOME_BYTES}")
    if data[:4] != MAGIC:
        raise GenomeError("not a wasm IR genome (it does not start with PWIR)")
    if len(data) < 6 or data[4] != VERSION:
        raise GenomeError(f"unknown IR version (this reads version {VERSION})")
    n_funcs, pos = data[5], 6
    funcs = []
    total = 0
    try:
        for _ in range(n_funcs):
            params, results, n_locals = data[pos], data[pos + 1], data[pos + 2]
            (count,) = struct.unpack_from("<H", data, pos + 3)
            pos += 5
            total += count
            if total > MAX_INSTRS:
                raise GenomeError(f"more than {MAX_INSTRS} instructions")
            body = []
            for _ in range(count):
                spec = OPS.get(data[pos])
                if spec is None:
                    raise GenomeError(f"unknown opcode 0x{data[pos]:02x} at byte {pos}")
                pos += 1
                args = []
                for kind in spec.operands:
                    if kind == "I":
                        args.append(struct.unpack_from("<i", data, pos)[0])
                    elif kind == "O":
                        args.append(struct.unpack_from("<H", data, pos)[0])
                    else:
                        args.append(data[pos])
                    pos += _WIDTH[kind]
                body.append(Instr(spec.code, *args))
            funcs.append(Function(params, results, n_locals, tuple(body)))
    except (IndexError, struct.error):
        raise GenomeError(f"truncated: {len(data)} bytes end inside function "
                          f"{len(funcs)}") from None
    if pos != len(data):
        raise GenomeError(f"{len(data) - pos} bytes after the last function")
    genome = WasmGenome(tuple(funcs))
    validate(genome)
    return genome


def segments(fn: Function) -> list[tuple[int, int]]:
    """The function's straight-line segments as (first instruction, cost): a segment runs
    from the start or just after a control instruction up to and including the next one.
    Gas is charged a whole segment at a time as it is entered (docs/brains/wasm.md)."""
    out = []
    start = 0
    for pc, ins in enumerate(fn.body):
        if ins.op in CONTROL:
            out.append((start, pc + 1 - start))
            start = pc + 1
    if start < len(fn.body):
        out.append((start, len(fn.body) - start))
    return out
