"""Variation of wasm IR genomes (docs/brains/wasm.md, "The IR"): random genomes, point and
structural mutation, function and segment crossover, and the brain-size cost.

Every result passes ``ir.validate`` and holds at most ``max_instrs`` instructions (and never
more than the caps): an instruction is only ever drawn for the point it goes to (locals of
its function, branch depths within the blocks open there, calls to functions that exist with
arguments in range, unused operands 0), and code only moves in *balanced* ranges (every
block opened in the range ends in it), whose branches that reach outside are re-aimed when
the blocks around them change. All randomness comes from the DrawStream given, so the same
draws give the same genome. Inputs are taken to be valid genomes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from primordia.core.rng import DrawStream

from .ir import (
    BLOCK, BR, BR_IF, CALL, CODE, ELSE, END, IF, LOOP, MAX_FUNCS, MAX_INSTRS,
    MAX_LOCALS, MAX_NESTING, MAX_PARAMS, OPENERS, OPS, RETURN, Function, Instr, WasmGenome,
)

POINT_RATE = 0.04
"""Chance that ``mutate`` point-mutates each instruction."""
STRUCTURAL_RATE = 0.35
"""Chance of a structural mutation; after one, the chance of another (at most
MAX_STRUCTURAL in one ``mutate``)."""
MAX_STRUCTURAL = 4
FUNCTION_CROSSOVER = 0.35
"""Share of crossovers that exchange whole functions (the rest splice a segment)."""
CONTROL_CHANCE = 0.14
"""Chance that a statement of a random body is a block, loop or if (divided by 1 + the
nesting there, so deep nests are rare)."""
NOP = Instr(CODE["mov"], 0, 0, 0)
"""``mov r0 r0``: what a call that cannot be kept becomes."""
SIMPLE_WEIGHTS = (("sense", 16), ("bin", 22), ("un", 6), ("const", 14), ("act", 10),
                  ("mem", 6), ("abi", 8), ("call", 5), ("br_if", 5), ("br", 1),
                  ("return", 2))
"""Weights of the kinds of a random non-structural instruction (kinds that cannot be drawn
at a point, such as branches outside any block, drop out)."""
STRUCTURAL_WEIGHTS = (("insert", 30), ("delete", 24), ("wrap", 12), ("add_call", 8),
                      ("unwrap", 6), ("cut_block", 5), ("add_local", 5), ("copy_segment", 4),
                      ("duplicate_function", 4), ("remove_function", 2))
"""Weights of the structural mutations (see ``mutate``)."""

_BY_GROUP: dict[tuple[str, str], tuple[int, ...]] = {}
for _op in OPS.values():
    _BY_GROUP.setdefault((_op.group, _op.operands), ())
    _BY_GROUP[(_op.group, _op.operands)] += (_op.code,)
_STRUCTURE = frozenset((BLOCK, LOOP, IF, ELSE, END))
_SENSE, _ACT, _CONST = CODE["sense"], CODE["act"], CODE["const"]


# ---- a mutable draft of a genome -------------------------------------------------------------

@dataclass
class _Fn:
    params: int
    results: int
    locals: int
    body: list[Instr]

    def sig(self) -> tuple[int, int]:
        return self.params, self.results


def _thaw(genome: WasmGenome) -> list[_Fn]:
    return [_Fn(f.params, f.results, f.locals, list(f.body)) for f in genome.functions]


def _freeze(funcs: list[_Fn]) -> WasmGenome:
    return WasmGenome(tuple(Function(f.params, f.results, f.locals, tuple(f.body))
                            for f in funcs))


def _total(funcs: Sequence[_Fn]) -> int:
    return sum(len(f.body) for f in funcs)


def _cap(max_instrs: int) -> int:
    return max(0, min(int(max_instrs), MAX_INSTRS))


# ---- structure of a body ---------------------------------------------------------------------

def open_blocks(body: Sequence[Instr]) -> list[int]:
    """Blocks open before each instruction, then after the last (``len(body) + 1`` entries):
    a branch at ``k`` may have depths ``0..open_blocks(body)[k]``, the last leaving the
    function; code inserted at ``p`` sits inside ``open_blocks(body)[p]`` blocks."""
    out, d = [], 0
    for ins in body:
        out.append(d)
        if ins.op in OPENERS:
            d += 1
        elif ins.op == END:
            d -= 1
    out.append(d)
    return out


def balanced_ends(body: Sequence[Instr], start: int) -> list[tuple[int, int]]:
    """The ends ``e`` (``start`` included) for which ``body[start:e]`` is balanced -- every
    block opened in it ends in it, and no ``else`` or ``end`` in it belongs to a block opened
    before it -- each with the most blocks the range holds open at once."""
    out = [(start, 0)]
    rel = most = 0
    for k in range(start, len(body)):
        op = body[k].op
        if op in OPENERS:
            rel += 1
            most = max(most, rel)
        elif op == ELSE and rel == 0:
            break
        elif op == END:
            if rel == 0:
                break
            rel -= 1
        if rel == 0:
            out.append((k + 1, most))
    return out


def partners(body: Sequence[Instr]) -> dict[int, tuple[int | None, int]]:
    """For each block, loop and if (by position): the position of its ``else`` (or None)
    and of its ``end``."""
    out: dict[int, tuple[int | None, int]] = {}
    stack: list[list] = []
    for k, ins in enumerate(body):
        if ins.op in OPENERS:
            stack.append([k, None])
        elif ins.op == ELSE:
            stack[-1][1] = k
        elif ins.op == END:
            opener, els = stack.pop()
            out[opener] = (els, k)
    return out


def remap_escapes(seg: Sequence[Instr], escape: Callable[[int], int]) -> list[Instr]:
    """``seg`` (balanced) with every branch that leaves it re-aimed: a branch ``e`` levels
    past the segment's own blocks gets depth (its blocks in the segment) + ``escape(e)``.
    Branches to blocks inside the segment keep their depth."""
    out, rel = [], 0
    for ins in seg:
        if ins.op in (BR, BR_IF) and ins.a >= rel:
            ins = ins._replace(a=rel + escape(ins.a - rel))
        out.append(ins)
        if ins.op in OPENERS:
            rel += 1
        elif ins.op == END:
            rel -= 1
    return out


def wrap(body: Sequence[Instr], start: int, end: int, head: Sequence[Instr],
         tail: Sequence[Instr] = (Instr(END),)) -> list[Instr]:
    """Wrap the balanced range ``body[start:end]`` as ``head + range + tail`` (``head`` opens
    one block; ``tail`` ends it, perhaps after a ``br_if 0 c``): branches in the range that
    reached past it now have one more block to leave, so their depths grow by 1."""
    seg = remap_escapes(body[start:end], lambda e: e + 1)
    return [*body[:start], *head, *seg, *tail, *body[end:]]


def unwrap(body: Sequence[Instr], opener: int, keep_else: bool = False) -> list[Instr]:
    """Remove the block, loop or if at ``opener``, keeping its body (for an if with an else,
    the then-part, or the else-part if ``keep_else``): branches in the kept part that left
    the removed block have one block fewer to leave (a branch to the block itself now aims
    at the next one out)."""
    els, end = partners(body)[opener]
    if els is None:
        lo, hi = opener + 1, end
    else:
        lo, hi = (els + 1, end) if keep_else else (opener + 1, els)
    seg = remap_escapes(body[lo:hi], lambda e: max(e - 1, 0))
    return [*body[:opener], *seg, *body[end + 1:]]


def _splice_escape(src_depth: int, dst_depth: int) -> Callable[[int], int]:
    """Escapes of a segment moved from inside ``src_depth`` blocks to inside ``dst_depth``:
    leaving the function stays leaving it; a branch to an enclosing block aims at the same
    level if there is one, else at the outermost block there (or, with none, leaves)."""
    return lambda e: dst_depth if e >= src_depth else min(e, max(dst_depth - 1, 0))


def _top_statement_starts(body: Sequence[Instr]) -> list[int]:
    """Where each statement at nesting 0 starts (a whole block counts as one)."""
    out, d = [], 0
    for k, ins in enumerate(body):
        if d == 0:
            out.append(k)
        if ins.op in OPENERS:
            d += 1
        elif ins.op == END:
            d -= 1
    return out


def _trim(funcs: list[_Fn], cap: int) -> None:
    """Drop the last whole statement of the longest function until the genome fits."""
    total = _total(funcs)
    while total > cap:
        fn = max(funcs, key=lambda f: len(f.body))
        cut = _top_statement_starts(fn.body)[-1]
        total -= len(fn.body) - cut
        del fn.body[cut:]


# ---- random instructions and code ------------------------------------------------------------

def _weighted(draws: DrawStream, items: Sequence[tuple[str, int]]) -> str:
    x = draws.integer(0, sum(w for _, w in items))
    for name, w in items:
        if x < w:
            return name
        x -= w
    raise AssertionError("unreachable")


def random_const(draws: DrawStream) -> int:
    """Mostly -8..8, sometimes 0..255, now and then any i32."""
    r = draws.random()
    if r < 0.8:
        return draws.integer(-8, 9)
    if r < 0.92:
        return draws.integer(0, 256)
    return draws.integer(-(1 << 31), 1 << 31)


def _random_offset(draws: DrawStream) -> int:
    return draws.integer(0, 64) * 4 if draws.chance(0.9) else draws.integer(0, 1 << 16)


def _random_index(draws: DrawStream, small: int) -> int:
    """A sensor or action index: mostly below ``small``."""
    return draws.integer(0, small) if draws.chance(0.85) else draws.integer(0, 256)


def _callees(funcs: Sequence[_Fn], fi: int) -> list[int]:
    """Helpers ``fi`` may get a new call to: not step, not itself (recursion only ends when
    the call depth runs out), and their arguments fit its locals."""
    return [j for j, f in enumerate(funcs)
            if j not in (0, fi) and f.params <= funcs[fi].locals]


def _random_call(draws: DrawStream, funcs: Sequence[_Fn], fi: int, target: int) -> Instr:
    fn, callee = funcs[fi], funcs[target]
    dst = draws.integer(0, fn.locals) if callee.results else 0
    first = draws.integer(0, fn.locals - callee.params + 1) if callee.params else 0
    return Instr(CALL, target, dst, first)


def random_instruction(draws: DrawStream, funcs: Sequence[_Fn], fi: int, depth: int) -> Instr:
    """A random non-structural instruction valid in function ``fi`` inside ``depth`` blocks."""
    fn = funcs[fi]
    callees = _callees(funcs, fi)
    kinds = [(k, w) for k, w in SIMPLE_WEIGHTS
             if not (k in ("br", "br_if") and depth == 0) and not (k == "call" and not callees)]
    kind = _weighted(draws, kinds)

    def local() -> int:
        return draws.integer(0, fn.locals)

    if kind == "sense":
        return Instr(_SENSE, local(), _random_index(draws, 16))
    if kind == "act":
        return Instr(_ACT, _random_index(draws, 4), local())
    if kind == "const":
        return Instr(_CONST, local(), random_const(draws))
    if kind == "call":
        return _random_call(draws, funcs, fi, draws.choice(callees))
    if kind == "br":
        return Instr(BR, draws.integer(0, depth + 1))
    if kind == "br_if":
        return Instr(BR_IF, draws.integer(0, depth + 1), local())
    if kind == "return":
        return Instr(RETURN, local() if fn.results else 0)
    if kind == "abi":
        op = OPS[draws.choice([c for c in OPS if OPS[c].group == "abi"])]
    else:
        op = OPS[draws.choice(_BY_GROUP[(kind, {"bin": "LLL", "un": "LL", "mem": "LLO"}[kind])])]
    args = [local() if k == "L" else _random_offset(draws) for k in op.operands]
    return Instr(op.code, *args)


def _random_statements(draws: DrawStream, funcs: Sequence[_Fn], fi: int, budget: int,
                       depth: int) -> list[list[Instr]]:
    """Statements of exactly ``budget`` instructions in all, inside ``depth`` blocks."""
    out: list[list[Instr]] = []
    used = 0
    while used < budget:
        room = budget - used
        if (room >= 3 and depth < MAX_NESTING
                and draws.chance(CONTROL_CHANCE / (1 + depth))):
            st = _random_control(draws, funcs, fi, room, depth)
        else:
            st = [random_instruction(draws, funcs, fi, depth)]
        out.append(st)
        used += len(st)
    return out


def _flat(statements: list[list[Instr]]) -> list[Instr]:
    return [ins for st in statements for ins in st]


def _random_control(draws: DrawStream, funcs: Sequence[_Fn], fi: int, room: int,
                    depth: int) -> list[Instr]:
    """A block with a ``br_if`` exit, an if (perhaps with an else), or -- rarely, since a
    loop burns gas -- a loop repeated by a ``br_if 0`` at its end; ``room`` >= 3."""
    fn = funcs[fi]
    r = draws.random()
    inner = depth + 1
    if r < 0.45:
        n_then = draws.integer(1, min(room - 2, 6) + 1)
        then = _flat(_random_statements(draws, funcs, fi, n_then, inner))
        out = [Instr(IF, draws.integer(0, fn.locals)), *then]
        left = room - 2 - n_then
        if left >= 2 and draws.chance(0.3):
            n_else = draws.integer(1, min(left - 1, 4) + 1)
            out += [Instr(ELSE), *_flat(_random_statements(draws, funcs, fi, n_else, inner))]
        return [*out, Instr(END)]
    exit_ = Instr(BR_IF, 0, draws.integer(0, fn.locals))
    n = draws.integer(0, min(room - 3, 8) + 1)
    body = _random_statements(draws, funcs, fi, n, inner)
    if r < 0.88:
        body.insert(draws.integer(0, len(body) + 1), [exit_])
        return [Instr(BLOCK), *_flat(body), Instr(END)]
    return [Instr(LOOP), *_flat(body), exit_, Instr(END)]


def random_genome(draws: DrawStream, max_instrs: int) -> WasmGenome:
    """A random valid genome of ``max_instrs`` / 2 to ``max_instrs`` instructions: step
    (reading a sensor first, most of the time, and returning a local at the end) and
    sometimes one or two helpers it may call; constants mostly small."""
    cap = _cap(max_instrs)
    target = draws.integer((cap + 1) // 2, cap + 1)
    funcs = [_Fn(0, 1, draws.integer(2, 9), [])]
    budgets = [0]
    if target >= 12 and draws.chance(0.35):
        for _ in range(1 + draws.chance(0.3)):
            params = draws.choice((0, 1, 1, 2, 2, 3, MAX_PARAMS))
            funcs.append(_Fn(params, int(draws.chance(0.75)), params + draws.integer(1, 5), []))
            budgets.append(draws.integer(1, target // 4 + 1))
    budgets[0] = target - sum(budgets)
    for fi, fn in enumerate(funcs):
        n = budgets[fi]
        ret = fn.results and n >= 1
        head = []
        if fi == 0 and n - ret >= 1 and draws.chance(0.7):
            head = [Instr(_SENSE, draws.integer(0, fn.locals), _random_index(draws, 16))]
        n -= ret + len(head)
        fn.body = head + _flat(_random_statements(draws, funcs, fi, n, 0))
        if ret:
            fn.body.append(Instr(RETURN, draws.integer(0, fn.locals)))
    return _freeze(funcs)


# ---- point mutations -------------------------------------------------------------------------

def _other(draws: DrawStream, n: int, current: int) -> int:
    """A value in 0..n-1 other than ``current`` (n >= 2)."""
    x = draws.integer(0, n - 1)
    return x + 1 if x >= current else x


def _wrap_i32(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def _point(draws: DrawStream, funcs: list[_Fn], fi: int, k: int, depth: int) -> bool:
    """Change one thing of instruction ``k`` of function ``fi`` (``depth`` blocks open
    there): its opcode to one of the same operand shape, or one operand within its range.
    False if the instruction has nothing to change."""
    fn = funcs[fi]
    ins = fn.body[k]
    spec = ins.spec
    choices: list[object] = []
    if ins.op in (BLOCK, LOOP, BR, BR_IF):
        choices.append("op")
    elif ins.op not in _STRUCTURE and spec.group not in ("control", "call"):
        if len(_BY_GROUP[(spec.group, spec.operands)]) > 1:
            choices.append("op")
    callee = funcs[ins.a] if ins.op == CALL else None
    for i, kind in enumerate(spec.operands):
        if kind == "L":
            if ins.op == RETURN and not fn.results:
                continue
            if callee is not None:
                n = ((fn.locals if callee.results else 1) if i == 1
                     else (fn.locals - callee.params + 1 if callee.params else 1))
                if n < 2:
                    continue
            elif fn.locals < 2:
                continue
        elif kind == "D" and depth == 0:
            continue
        elif kind == "F" and not _compatible(funcs, callee.sig(), exclude=ins.a):
            continue
        choices.append(i)
    if not choices:
        return False
    what = draws.choice(choices)
    if what == "op":
        fn.body[k] = _other_opcode(draws, ins, fn)
        return True
    i = int(what)
    value = ins[1 + i]
    kind = spec.operands[i]
    if kind == "L":
        n = fn.locals
        if callee is not None and i == 2:
            n = fn.locals - callee.params + 1
        value = _other(draws, n, value)
    elif kind == "I":
        r = draws.random()
        if r < 0.5:
            step = draws.integer(1, 5)
            value = _wrap_i32(value + (step if draws.chance(0.5) else -step))
        else:
            value = random_const(draws)
    elif kind == "O":
        if draws.chance(0.6):
            value = (value + draws.choice((-4, -1, 1, 4))) % (1 << 16)
        else:
            value = _random_offset(draws)
    elif kind == "K":
        if draws.chance(0.6):
            value = (value + draws.choice((-1, 1))) % 256
        else:
            value = _random_index(draws, 16)
    elif kind == "D":
        value = _other(draws, depth + 1, value)
    elif kind == "F":
        value = draws.choice(_compatible(funcs, callee.sig(), exclude=ins.a))
    fn.body[k] = ins._replace(**{"abc"[i]: value})
    return fn.body[k] != ins


def _other_opcode(draws: DrawStream, ins: Instr, fn: _Fn) -> Instr:
    """The same operands under another opcode of the same shape; br and br_if trade
    places (br_if gains a condition)."""
    if ins.op in (BLOCK, LOOP):
        return Instr(LOOP if ins.op == BLOCK else BLOCK)
    if ins.op == BR:
        return Instr(BR_IF, ins.a, draws.integer(0, fn.locals))
    if ins.op == BR_IF:
        return Instr(BR, ins.a)
    same = _BY_GROUP[(ins.spec.group, ins.spec.operands)]
    return ins._replace(op=same[_other(draws, len(same), same.index(ins.op))])


def _compatible(funcs: Sequence[_Fn], sig: tuple[int, int], exclude: int = -1) -> list[int]:
    return [j for j, f in enumerate(funcs) if f.sig() == sig and j != exclude]


# ---- structural mutations --------------------------------------------------------------------
# Each takes the draft, the draws and the instruction cap, and returns whether it changed
# anything (it does nothing when it cannot apply).

def _pick_function(draws: DrawStream, funcs: Sequence[_Fn],
                   ok: Callable[[_Fn], bool] = lambda f: True) -> int | None:
    """A function passing ``ok``, chosen in proportion to its length + 2."""
    cands = [j for j, f in enumerate(funcs) if ok(f)]
    if not cands:
        return None
    x = draws.integer(0, sum(len(funcs[j].body) + 2 for j in cands))
    for j in cands:
        x -= len(funcs[j].body) + 2
        if x < 0:
            return j
    raise AssertionError("unreachable")


def _insert(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Insert a random instruction at a random point."""
    if _total(funcs) >= cap:
        return False
    fi = _pick_function(draws, funcs)
    body = funcs[fi].body
    p = draws.integer(0, len(body) + 1)
    body.insert(p, random_instruction(draws, funcs, fi, open_blocks(body)[p]))
    return True


def _delete(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Remove one instruction that opens, divides or ends no block."""
    fi = _pick_function(draws, funcs, lambda f: any(i.op not in _STRUCTURE for i in f.body))
    if fi is None:
        return False
    body = funcs[fi].body
    del body[draws.choice([k for k, i in enumerate(body) if i.op not in _STRUCTURE])]
    return True


def _wrap(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Wrap a balanced range in a new block (with a ``br_if 0`` exit, half the time), if
    (perhaps with an else of one instruction) or loop (repeated by ``br_if 0`` at its end)."""
    room = cap - _total(funcs)
    if room < 2:
        return False
    fi = _pick_function(draws, funcs)
    fn = funcs[fi]
    body = fn.body
    s = draws.integer(0, len(body) + 1)
    depth = open_blocks(body)[s]
    ends = [e for e, most in balanced_ends(body, s) if depth + 1 + most <= MAX_NESTING]
    if not ends:
        return False
    e = draws.choice(ends)
    cond = draws.integer(0, fn.locals)
    r = draws.random()
    if r < 0.4:
        tail = [Instr(END)]
        if room >= 3 and draws.chance(0.5):
            tail = [Instr(BR_IF, 0, cond), Instr(END)]
        fn.body = wrap(body, s, e, [Instr(BLOCK)], tail)
    elif r < 0.85 or room < 3:
        tail = [Instr(END)]
        if room >= 4 and draws.chance(0.25):
            other = random_instruction(draws, funcs, fi, depth + 1)
            tail = [Instr(ELSE), other, Instr(END)]
        fn.body = wrap(body, s, e, [Instr(IF, cond)], tail)
    else:
        fn.body = wrap(body, s, e, [Instr(LOOP)], [Instr(BR_IF, 0, cond), Instr(END)])
    return True


def _unwrap(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Remove a block, loop or if but keep its body (one branch of an if with an else)."""
    fi = _pick_function(draws, funcs, lambda f: any(i.op in OPENERS for i in f.body))
    if fi is None:
        return False
    fn = funcs[fi]
    opener = draws.choice([k for k, i in enumerate(fn.body) if i.op in OPENERS])
    fn.body = unwrap(fn.body, opener, keep_else=draws.chance(0.5))
    return True


def _cut_block(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Remove a block, loop or if with all it holds."""
    fi = _pick_function(draws, funcs, lambda f: any(i.op in OPENERS for i in f.body))
    if fi is None:
        return False
    fn = funcs[fi]
    opener = draws.choice([k for k, i in enumerate(fn.body) if i.op in OPENERS])
    end = partners(fn.body)[opener][1]
    del fn.body[opener:end + 1]
    return True


def _add_call(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Insert a call to a function whose arguments fit the caller's locals."""
    if _total(funcs) >= cap:
        return False
    fi = _pick_function(draws, funcs)
    callees = _callees(funcs, fi)
    if not callees:
        return False
    body = funcs[fi].body
    body.insert(draws.integer(0, len(body) + 1),
                _random_call(draws, funcs, fi, draws.choice(callees)))
    return True


def _add_local(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """One more local (it starts at 0) in a function below MAX_LOCALS."""
    fi = _pick_function(draws, funcs, lambda f: f.locals < MAX_LOCALS)
    if fi is None:
        return False
    funcs[fi].locals += 1
    return True


def _copy_segment(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Copy a balanced range of a function to another point of it."""
    room = cap - _total(funcs)
    fi = _pick_function(draws, funcs, lambda f: bool(f.body))
    if fi is None or room < 1:
        return False
    body = funcs[fi].body
    depths = open_blocks(body)
    s = draws.integer(0, len(body))
    p = draws.integer(0, len(body) + 1)
    ends = [e for e, most in balanced_ends(body, s)
            if 0 < e - s <= room and depths[p] + most <= MAX_NESTING]
    if not ends:
        return False
    e = draws.choice(ends)
    seg = remap_escapes(body[s:e], _splice_escape(depths[s], depths[p]))
    funcs[fi].body = [*body[:p], *seg, *body[p:]]
    return True


def _duplicate_function(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Append a point-mutated copy of a function; move one call of the original to it (or,
    with none, add a call to it somewhere)."""
    if len(funcs) >= MAX_FUNCS:
        return False
    room = cap - _total(funcs)
    fj = _pick_function(draws, funcs, lambda f: len(f.body) <= room)
    if fj is None:
        return False
    src = funcs[fj]
    copy = _Fn(src.params, src.results, src.locals, list(src.body))
    funcs.append(copy)
    new = len(funcs) - 1
    if copy.body:
        depths = open_blocks(copy.body)
        for _ in range(draws.integer(1, 4)):
            k = draws.integer(0, len(copy.body))
            _point(draws, funcs, new, k, depths[k])
    sites = [(i, k) for i, f in enumerate(funcs[:new]) for k, ins in enumerate(f.body)
             if ins.op == CALL and ins.a == fj]
    if sites:
        i, k = draws.choice(sites)
        funcs[i].body[k] = funcs[i].body[k]._replace(a=new)
    elif room - len(copy.body) >= 1:
        callers = [i for i in range(new) if funcs[i].locals >= copy.params]
        if callers:
            i = draws.choice(callers)
            body = funcs[i].body
            body.insert(draws.integer(0, len(body) + 1), _random_call(draws, funcs, i, new))
    return True


def _remove_function(draws: DrawStream, funcs: list[_Fn], cap: int) -> bool:
    """Remove a helper no other function calls; calls to later functions are renumbered."""
    called = {ins.a for i, f in enumerate(funcs) for ins in f.body
              if ins.op == CALL and ins.a != i}
    cands = [j for j in range(1, len(funcs)) if j not in called]
    if not cands:
        return False
    j = draws.choice(cands)
    del funcs[j]
    for f in funcs:
        f.body = [ins._replace(a=ins.a - 1) if ins.op == CALL and ins.a > j else ins
                  for ins in f.body]
    return True


STRUCTURAL: dict[str, Callable[[DrawStream, list[_Fn], int], bool]] = {
    "insert": _insert, "delete": _delete, "wrap": _wrap, "add_call": _add_call,
    "unwrap": _unwrap, "cut_block": _cut_block, "add_local": _add_local,
    "copy_segment": _copy_segment, "duplicate_function": _duplicate_function,
    "remove_function": _remove_function,
}


def _structural(draws: DrawStream, funcs: list[_Fn], cap: int, tries: int = 6) -> bool:
    """One structural mutation of a kind drawn by STRUCTURAL_WEIGHTS (a kind that cannot
    apply is redrawn, up to ``tries`` times)."""
    for _ in range(tries):
        if STRUCTURAL[_weighted(draws, STRUCTURAL_WEIGHTS)](draws, funcs, cap):
            return True
    return False


def mutate(genome: WasmGenome, draws: DrawStream, max_instrs: int, *,
           point_rate: float = POINT_RATE,
           structural_rate: float = STRUCTURAL_RATE) -> WasmGenome:
    """A mutated copy: each instruction is point-mutated with chance ``point_rate`` (opcode
    to one of the same shape, block <-> loop, br <-> br_if, or one operand: local, constant
    tweak or redraw, offset, depth within the open blocks, sensor/action index, call target
    of the same signature); then with chance ``structural_rate`` a structural mutation
    (STRUCTURAL_WEIGHTS), and after each another with the same chance. When nothing was
    drawn, one point or structural mutation is forced, so the result almost always differs.
    A genome over ``max_instrs`` is first cut back (``_trim``)."""
    cap = _cap(max_instrs)
    funcs = _thaw(genome)
    _trim(funcs, cap)
    changed = False
    for fi, fn in enumerate(funcs):
        if not fn.body:
            continue
        depths = open_blocks(fn.body)
        for k in range(len(fn.body)):
            if draws.chance(point_rate):
                changed = _point(draws, funcs, fi, k, depths[k]) or changed
    n = 0
    while n < MAX_STRUCTURAL and draws.chance(structural_rate):
        changed = _structural(draws, funcs, cap) or changed
        n += 1
    if not changed:
        fi = _pick_function(draws, funcs, lambda f: bool(f.body))
        if fi is not None and draws.chance(0.6):
            body = funcs[fi].body
            k = draws.integer(0, len(body))
            changed = _point(draws, funcs, fi, k, open_blocks(body)[k])
        if not changed:
            _structural(draws, funcs, cap, tries=12)
    return _freeze(funcs)


# ---- crossover -------------------------------------------------------------------------------

def _import_calls(draws: DrawStream, seg: Sequence[Instr], src: Sequence[Function],
                  dst: Sequence[_Fn], fn: _Fn, renumber: dict[int, int]) -> list[Instr]:
    """Calls of ``seg`` (code of parent ``src``, now in ``fn`` of ``dst``) kept valid: a
    target in ``renumber`` moves there; one whose number names a function of the same
    signature in ``dst`` stays; others go to a random function of that signature, or become
    ``mov r0 r0`` if there is none (or its arguments would not fit ``fn``'s locals)."""
    out = []
    for ins in seg:
        if ins.op == CALL:
            sig = (src[ins.a].params, src[ins.a].results)
            t = renumber.get(ins.a, ins.a)
            if not (t < len(dst) and dst[t].sig() == sig):
                same = _compatible(dst, sig)
                t = draws.choice(same) if same else -1
            if t < 0 or sig[0] > fn.locals:
                ins = NOP
            else:
                ins = Instr(CALL, t, ins.b, min(ins.c, fn.locals - sig[0]))
        out.append(ins)
    return out


def _fit_locals(seg: Sequence[Instr], fn: _Fn) -> list[Instr]:
    """Locals past ``fn``'s (after it has grown what it can) wrap into range; a ``return``
    in a function without a result names local 0."""
    out = []
    for ins in seg:
        kinds = ins.spec.operands
        vals = [v % fn.locals if i < len(kinds) and kinds[i] == "L" and v >= fn.locals else v
                for i, v in enumerate(ins[1:])]
        if ins.op == RETURN and not fn.results:
            vals[0] = 0
        out.append(Instr(ins.op, *vals))
    return out


def _crossover_function(draws: DrawStream, child: list[_Fn], b: WasmGenome, cap: int) -> bool:
    """Put one of b's functions into the child: in place of a function with its signature,
    or appended (then one call of that signature, if any, is moved to it)."""
    j = draws.integer(0, len(b.functions))
    fb = b.functions[j]
    total = _total(child)
    same = [i for i in _compatible(child, (fb.params, fb.results))
            if total - len(child[i].body) + len(fb.body) <= cap]
    append_ok = len(child) < MAX_FUNCS and total + len(fb.body) <= cap
    appended = False
    if same and (not append_ok or draws.chance(0.5)):
        at = draws.choice(same)
    elif append_ok:
        appended = True
        at = len(child)
        child.append(_Fn(fb.params, fb.results, fb.locals, []))
    else:
        return False
    new = _Fn(fb.params, fb.results, fb.locals, [])
    child[at] = new
    new.body = _import_calls(draws, fb.body, b.functions, child, new, {j: at})
    if appended:
        sites = [(i, k) for i, f in enumerate(child[:at]) for k, ins in enumerate(f.body)
                 if ins.op == CALL and child[ins.a].sig() == new.sig()]
        if sites:
            i, k = draws.choice(sites)
            child[i].body[k] = child[i].body[k]._replace(a=at)
    return True


def _crossover_segment(draws: DrawStream, child: list[_Fn], b: WasmGenome, cap: int) -> bool:
    """Replace a balanced range of one of the child's functions (perhaps an empty one: an
    insertion) by a balanced range of one of b's: escaping branches re-aimed, locals grown
    to fit (up to MAX_LOCALS) or wrapped into range, calls kept valid."""
    sources = [j for j, f in enumerate(b.functions) if f.body]
    if not sources:
        return False
    src = b.functions[draws.choice(sources)].body
    fi = draws.integer(0, len(child))
    fn = child[fi]
    body = fn.body
    p = draws.integer(0, len(body) + 1)
    q_ends = balanced_ends(body, p)
    q, _ = q_ends[0] if draws.chance(0.4) else draws.choice(q_ends)
    room = cap - _total(child) + (q - p)
    dst_depth = open_blocks(body)[p]
    s = draws.integer(0, len(src))
    ends = [e for e, most in balanced_ends(src, s)
            if 0 < e - s <= room and dst_depth + most <= MAX_NESTING]
    if not ends:
        return False
    e = draws.choice(ends)
    seg = remap_escapes(src[s:e], _splice_escape(open_blocks(src)[s], dst_depth))
    used = [v for ins in seg for kind, v in zip(ins.spec.operands, ins[1:]) if kind == "L"]
    fn.locals = min(MAX_LOCALS, max([fn.locals, *(v + 1 for v in used)]))
    seg = _import_calls(draws, _fit_locals(seg, fn), b.functions, child, fn, {})
    fn.body = [*body[:p], *seg, *body[q:]]
    return True


def crossover(a: WasmGenome, b: WasmGenome, draws: DrawStream, max_instrs: int) -> WasmGenome:
    """A child of ``a`` with material of ``b``: a whole function of b (FUNCTION_CROSSOVER of
    the time), else a balanced segment of one of b's functions spliced over a balanced range
    of one of a's. When the drawn splice cannot be made within the caps and ``max_instrs``
    (after a few tries), the child is a copy of a (cut back to ``max_instrs`` if need be)."""
    cap = _cap(max_instrs)
    base = _thaw(a)
    _trim(base, cap)
    for _ in range(4):
        child = [_Fn(f.params, f.results, f.locals, list(f.body)) for f in base]
        if draws.chance(FUNCTION_CROSSOVER):
            ok = _crossover_function(draws, child, b, cap)
        else:
            ok = _crossover_segment(draws, child, b, cap)
        if ok:
            return _freeze(child)
    return _freeze(base)


# ---- cost ------------------------------------------------------------------------------------

def brain_size(genome: WasmGenome) -> int:
    """The brain-size cost a world may charge per tick: instructions + 4 per function +
    (locals of all functions) // 8. Instructions dominate; a function costs a little for its
    frame, and locals a little for the memory they hold."""
    return (len(genome) + 4 * len(genome.functions)
            + sum(f.locals for f in genome.functions) // 8)

