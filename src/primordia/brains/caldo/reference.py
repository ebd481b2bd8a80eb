"""The Caldo machine in plain Python: a cell's genes and the processors running them, one
step at a time (docs/brains/caldo.md, "The machine"). Written to be read; the oracle that
faster versions are held to.

A cell holds genes in slots (a gene's handle is its slot, stable until it leaves the cell)
and processors; a processor runs one gene with its own data stack and call stack. Values
are triplets (24 bits) and arithmetic wraps. A failed instruction loses what it popped,
pushes nothing and counts a failure. What a cell does to the world around it -- cells,
copies, transfers, messages, barriers, chemistry -- the machine hands to a ``Host`` with the
values popped for it, and pushes what the host answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

from .isa import FALSE, MASK, OPCODE, OPS, TRUE, distance2, opcode_of
from .phenotype import END_EXITS, NUMBER, Instruction, compile_gene


_N = {op.name: k for k, op in enumerate(OPS)}


@dataclass(frozen=True)
class Limits:
    """The machine's caps (the soup's config carries them)."""

    max_stack: int = 1000
    max_call_stack: int = 1000
    max_genes: int = 64
    max_gene_length: int = 1000
    max_processors: int = 4
    """Processors started on one gene at most (PROC_START)."""
    max_activation: int = 16
    match_threshold: int = 3 * 16 * 16
    """MATCH: two triplets match when their squared distance is at most this."""
    find_radius: int = 3 * 255 * 255
    """FIND: genes whose first triplet is this near the first key are candidates."""


@dataclass
class Gene:
    words: list[int]
    serial: int = 0
    """Unique in its cell: a handle names a slot, and a slot can be emptied and filled
    again, so whatever remembers a gene (a processor, a return address, the gene slot)
    keeps its handle and serial, and finds it gone when they no longer match."""
    activation: int = 1
    slot: tuple[int, int] | None = None
    """The gene last found by this gene's LOOKUP or FIND (handle, serial): what ACT_UP,
    ACT_DOWN and ACTIVATION act on (the gene itself when there is none, or it is gone)."""
    _code: tuple[Instruction, ...] | None = None

    @property
    def code(self) -> tuple[Instruction, ...]:
        """The phenotype, compiled on first use and again after the words change."""
        if self._code is None:
            self._code = compile_gene(self.words)
        return self._code

    @property
    def name(self) -> list[int]:
        """The triplets LOOKUP and FIND match: the gene's words, less a leading QUOTE (a
        gene that starts by pushing a number is known by that number, as a reference gene
        is known by its first word)."""
        if len(self.words) > 1 and opcode_of(self.words[0]) == _N["QUOTE"]:
            return self.words[1:]
        return self.words

    def append(self, word: int) -> None:
        self.words.append(word & MASK)
        self._code = None


@dataclass
class Processor:
    home: int
    """The gene it was started on (handle; ``home_serial`` its serial): its activation sets
    how many steps the processor takes per tick, and ``max_processors`` counts by it."""
    home_serial: int = 0
    gene: int = -1
    """The gene it is in now (home, or one it called), and that gene's serial."""
    serial: int = -1
    pc: int = 0
    stack: list[int] = field(default_factory=list)
    calls: list[tuple[int, int, int]] = field(default_factory=list)
    """(gene handle, serial, return pc) of each call not yet returned from."""
    failures: int = 0
    done: bool = False

    def __post_init__(self) -> None:
        if self.gene < 0:
            self.gene, self.serial = self.home, self.home_serial

    def restart(self) -> None:
        """Back to the start of its home gene, with no calls pending."""
        self.gene, self.serial, self.pc = self.home, self.home_serial, 0
        self.calls.clear()


@dataclass
class Cell:
    genes: list[Gene | None] = field(default_factory=list)
    processors: list[Processor] = field(default_factory=list)
    next_serial: int = 0

    def gene(self, handle: int) -> Gene | None:
        return self.genes[handle] if 0 <= handle < len(self.genes) else None

    def live(self, handle: int, serial: int) -> Gene | None:
        """The gene in slot ``handle`` if it is still the one with ``serial``."""
        gene = self.gene(handle)
        return gene if gene is not None and gene.serial == serial else None

    def start(self, handle: int) -> Processor:
        """A new processor on gene ``handle`` (which must exist), run after the others."""
        proc = Processor(handle, self.genes[handle].serial)
        self.processors.append(proc)
        return proc

    def add_gene(self, words: Sequence[int]) -> int:
        """Put a gene in the lowest free slot; returns its handle."""
        gene = Gene([w & MASK for w in words], serial=self.next_serial)
        self.next_serial += 1
        for k, g in enumerate(self.genes):
            if g is None:
                self.genes[k] = gene
                return k
        self.genes.append(gene)
        return len(self.genes) - 1

    def remove_gene(self, handle: int) -> Gene:
        """Take the gene out of its slot (processors on it stop at their next step)."""
        gene = self.genes[handle]
        self.genes[handle] = None
        return gene

    def gene_count(self) -> int:
        return sum(g is not None for g in self.genes)


class Host(Protocol):
    """The world around a cell: carries out a host instruction (``isa.Op.host``) with the
    values popped for it (deepest first) and returns the values to push (``Op.pushes`` of
    them; success is TRUE, failure FALSE)."""

    def do(self, name: str, cell: Cell, proc: Processor, args: list[int]) -> list[int]: ...

    def grow(self, cell: Cell, triplets: int) -> bool:
        """May ``cell``'s genes grow by ``triplets`` (GENE_WRITE, GENE_CREATE)? A world whose
        genes are made of matter takes it here; False fails the instruction."""
        ...


class Alone:
    """A host for a cell with no world: every host instruction fails (pushes FALSE, or
    FALSE three times for OBSERVE: no neighbour); genes grow for free."""

    def do(self, name: str, cell: Cell, proc: Processor, args: list[int]) -> list[int]:
        return [FALSE] * OPS[OPCODE[name]].pushes

    def grow(self, cell: Cell, triplets: int) -> bool:
        return True


def _flag(v: bool) -> int:
    return TRUE if v else FALSE


def _pop(proc: Processor, n: int) -> list[int] | None:
    """The top ``n`` values, deepest first; None (and the stack emptied) when fewer: what
    was popped is lost either way."""
    if len(proc.stack) < n:
        proc.stack.clear()
        return None
    if n == 0:
        return []
    out = proc.stack[-n:]
    del proc.stack[-n:]
    return out


def _drop_bottom(items: list, limit: int) -> bool:
    """Over ``limit``: drop the bottom ``limit // 2`` entries (the reference's rule; at
    least one), again while still over (an instruction may push three)."""
    dropped = False
    while len(items) > limit:
        del items[:max(1, limit // 2)]
        dropped = True
    return dropped


def step(cell: Cell, proc: Processor, limits: Limits, host: Host) -> None:
    """One step of ``proc``: fetch, advance, execute; at the end of its gene return to the
    caller or wrap to the start; then the stack cap. A processor whose home gene has left
    the cell ends; one whose current gene has left counts a failure and starts its home
    gene over."""
    if proc.done or cell.live(proc.home, proc.home_serial) is None:
        proc.done = True
        return
    gene = cell.live(proc.gene, proc.serial)
    if gene is None:
        proc.failures += 1
        proc.restart()
        gene = cell.genes[proc.home]
    code = gene.code
    if proc.pc >= len(code):           # an empty gene: return, or idle until it grows
        _end_of_gene(cell, proc)
        return
    ins = code[proc.pc]
    proc.pc += 1
    if not _execute(cell, proc, gene, ins, limits, host):
        proc.failures += 1
    _end_of_gene(cell, proc)
    if _drop_bottom(proc.stack, limits.max_stack):
        proc.failures += 1


def _end_of_gene(cell: Cell, proc: Processor) -> None:
    gene = cell.live(proc.gene, proc.serial)
    while gene is not None and proc.pc >= len(gene.code):
        if not proc.calls:
            proc.pc = 0
            return
        handle, serial, pc = proc.calls.pop()
        gene = cell.live(handle, serial)
        if gene is None:                 # the caller left the cell: start home over
            proc.failures += 1
            proc.restart()
            return
        proc.gene, proc.serial, proc.pc = handle, serial, pc


def _binary(proc: Processor, fn) -> bool:
    ab = _pop(proc, 2)
    if ab is None:
        return False
    v = fn(*ab)
    if v is None:
        return False
    proc.stack.append(v & MASK)
    return True


def _jump(proc: Processor, code_len: int, forward: bool) -> bool:
    args = _pop(proc, 2)
    if args is None:
        return False
    cond, n = args
    if cond == 0 or n == 0:
        return True
    target = proc.pc + n if forward else proc.pc - 1 - n
    if not 0 <= target < code_len:
        return False
    proc.pc = target
    return True


def _execute(cell: Cell, proc: Processor, gene: Gene, ins: Instruction, limits: Limits,
             host: Host) -> bool:
    """Run one instruction; False when it fails."""
    s = proc.stack
    if ins.op == NUMBER:
        s.append(ins.arg)
        return True
    op = OPS[ins.op]
    name = op.name
    if op.host:
        args = _pop(proc, op.pops)
        if args is None:
            return False
        out = host.do(name, cell, proc, args)
        s.extend(v & MASK for v in out)
        return True
    if name == "NOP":
        return True
    # ---- arithmetic (wrapping), comparison, logic
    if name in _ARITH:
        return _binary(proc, _ARITH[name])
    if name == "NOT":
        a = _pop(proc, 1)
        if a is None:
            return False
        s.append(_flag(a[0] == 0))
        return True
    if name == "MATCH":
        return _binary(proc, lambda a, b: _flag(distance2(a, b) <= limits.match_threshold))
    # ---- stack words
    if name in _SHUFFLE:
        pops, order = _SHUFFLE[name]
        got = _pop(proc, pops)
        if got is None:
            return False
        s.extend(got[k] for k in order)
        return True
    if name == "CLEAR":
        s.clear()
        return True
    # ---- conditionals and jumps
    if name == "IF_GT":
        ab = _pop(proc, 2)
        if ab is None:
            return False
        if not ab[1] > ab[0]:
            proc.pc += 1                   # skip the next instruction
        return True
    if name == "IF":
        c = _pop(proc, 1)
        if c is None:
            return False
        if c[0] == 0:
            proc.pc = ins.arg
        return True
    if name == "ELSE":
        proc.pc = ins.arg
        return True
    if name == "END":
        if ins.arg != END_EXITS:
            return True
        c = _pop(proc, 1)
        if c is None:
            return False
        if c[0] == 0:
            proc.pc = len(gene.code)
        return True
    if name in ("JMPF", "JMPB"):
        return _jump(proc, len(gene.code), name == "JMPF")
    # ---- genes
    if name == "CALL":
        h = _pop(proc, 1)
        callee = cell.gene(h[0]) if h is not None else None
        if callee is None:
            return False
        ret = proc.pc if proc.pc < len(gene.code) else 0
        proc.calls.append((proc.gene, proc.serial, ret))
        if _drop_bottom(proc.calls, limits.max_call_stack):
            proc.failures += 1
        proc.gene, proc.serial, proc.pc = h[0], callee.serial, 0
        return True
    if name == "LOOKUP":
        key = _pop(proc, 1)
        if key is None:
            return False
        return _found(cell, proc, gene, _nearest(cell, [key[0]], None))
    if name == "FIND":
        n = _pop(proc, 1)
        keys = _pop(proc, n[0]) if n is not None and n[0] > 0 else None
        if keys is None:
            return False
        return _found(cell, proc, gene, _nearest(cell, keys, limits.find_radius))
    if name == "SELF":
        s.append(proc.gene)
        return True
    if name == "GENE_EXISTS":
        h = _pop(proc, 1)
        if h is None:
            return False
        s.append(_flag(cell.gene(h[0]) is not None))
        return True
    if name == "GENE_LEN":
        h = _pop(proc, 1)
        if h is None or cell.gene(h[0]) is None:
            return False
        s.append(len(cell.gene(h[0]).words))
        return True
    if name == "GENE_READ":
        hi = _pop(proc, 2)
        if hi is None or cell.gene(hi[0]) is None or hi[1] >= len(cell.gene(hi[0]).words):
            return False
        s.append(cell.gene(hi[0]).words[hi[1]])
        return True
    if name == "GENE_WRITE":
        hv = _pop(proc, 2)
        target = cell.gene(hv[0]) if hv is not None else None
        if target is None or len(target.words) >= limits.max_gene_length \
                or not host.grow(cell, 1):
            return False
        target.append(hv[1])
        return True
    if name == "GENE_CREATE":
        n = _pop(proc, 1)
        if n is None or not 1 <= n[0] <= limits.max_gene_length \
                or cell.gene_count() >= limits.max_genes:
            return False
        words = _pop(proc, n[0])
        if words is None or not host.grow(cell, len(words)):
            return False
        s.append(cell.add_gene(words))
        return True
    if name in ("ACT_UP", "ACT_DOWN", "ACTIVATION"):
        target = (cell.live(*gene.slot) if gene.slot else None) or gene
        if name == "ACTIVATION":
            s.append(target.activation)
        elif name == "ACT_UP":
            target.activation = min(target.activation + 1, limits.max_activation)
        else:
            target.activation = max(target.activation - 1, 0)
        return True
    # ---- processors
    if name == "PROC_START":
        h = _pop(proc, 1)
        target = cell.gene(h[0]) if h is not None else None
        if target is None or len(_homed(cell, h[0], target)) >= limits.max_processors:
            return False
        cell.start(h[0])
        return True
    if name == "PROC_END":
        h = _pop(proc, 1)
        target = cell.gene(h[0]) if h is not None else None
        if target is None:
            return False
        for p in _homed(cell, h[0], target):
            p.done = True
        return True
    if name == "PROC_DONE":
        proc.done = True
        return True
    raise AssertionError(f"instruction {name} has no rule")   # the table and rules agree


_ARITH = {
    "ADD": lambda a, b: a + b,
    "SUB": lambda a, b: a - b,
    "MUL": lambda a, b: a * b,
    "DIV": lambda a, b: a // b if b else None,
    "MOD": lambda a, b: a % b if b else None,
    "GT": lambda a, b: _flag(a > b),
    "LT": lambda a, b: _flag(a < b),
    "EQ": lambda a, b: _flag(a == b),
    "NE": lambda a, b: _flag(a != b),
    "AND": lambda a, b: _flag(a != 0 and b != 0),
    "OR": lambda a, b: _flag(a != 0 or b != 0),
}
"""Two values popped (``a`` below ``b``), one pushed (wrapped to 24 bits); None fails."""

_SHUFFLE = {
    "DUP": (1, (0, 0)), "DROP": (1, ()), "SWAP": (2, (1, 0)), "OVER": (2, (0, 1, 0)),
    "ROT": (3, (1, 2, 0)), "NIP": (2, (1,)), "PICK": (3, (0, 1, 2, 0)),
    "2DUP": (2, (0, 1, 0, 1)), "2DROP": (2, ()), "2SWAP": (4, (2, 3, 0, 1)),
    "2OVER": (4, (0, 1, 2, 3, 0, 1)),
}
"""Stack words: how many values they take, and which of them (0: deepest) they put back."""


def _nearest(cell: Cell, keys: list[int], radius: int | None) -> int:
    """The gene FIND or LOOKUP names, by the triplets of its ``Gene.name``: among genes whose
    first is within ``radius`` of ``keys[0]`` (any, for None), those nearest ``keys[1]`` in
    their second, then ``keys[2]`` in their third, ...; a gene too short for a key drops
    out unless all do; what ties at the end goes to the one nearest ``keys[0]``, then the
    lowest handle. -1 when no gene qualifies."""
    cands = [(h, g.name) for h, g in enumerate(cell.genes) if g is not None and g.words]
    cands = [(h, n) for h, n in cands if radius is None or distance2(n[0], keys[0]) <= radius]
    for j, key in enumerate(keys[1:], start=1):
        long_enough = [(h, n) for h, n in cands if len(n) > j]
        if not long_enough:
            break
        best = min(distance2(n[j], key) for _, n in long_enough)
        cands = [(h, n) for h, n in long_enough if distance2(n[j], key) == best]
        if len(cands) == 1:
            break
    if not cands:
        return -1
    return min(cands, key=lambda hn: (distance2(hn[1][0], keys[0]), hn[0]))[0]


def _homed(cell: Cell, handle: int, gene: Gene) -> list[Processor]:
    """The running processors started on ``gene`` (in slot ``handle``)."""
    return [p for p in cell.processors
            if p.home == handle and p.home_serial == gene.serial and not p.done]


def _found(cell: Cell, proc: Processor, gene: Gene, handle: int) -> bool:
    """LOOKUP / FIND's result: the handle pushed and kept in the gene's slot."""
    if handle < 0:
        return False
    gene.slot = (handle, cell.genes[handle].serial)
    proc.stack.append(handle)
    return True


def run(cell: Cell, steps: int, limits: Limits | None = None, host: Host | None = None
        ) -> None:
    """``steps`` rounds: each running processor one step, in the order they were started
    (processors started during a round first run in the next)."""
    limits = limits or Limits()
    host = host or Alone()
    for _ in range(steps):
        for proc in list(cell.processors):
            if not proc.done:
                step(cell, proc, limits, host)
        cell.processors = [p for p in cell.processors if not p.done]
