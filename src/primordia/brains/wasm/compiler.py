"""IR genome -> wasm bytes, deterministically, with the safety rules of docs/brains/wasm.md
built into the code: gas charged per straight-line segment, every address masked into the
organism's memory, guarded division, a call-depth limit. The output cannot trap, so many
organisms can run in one wasm call.

Two targets share one code generator:

- ``organisms_module``: organisms for the population runtime. It imports the shared
  memory and two globals (``gas``, ``depth``) and exports each ``step(base) -> i32``; ``base`` is
  the byte address of its memory slice, and the ABI calls are lowered to reads of the
  context and writes of its action record (no call leaves wasm).
- ``standalone_module``: an ABI module (docs/brains/wasm.md, "The ABI") with its own one
  page of memory, ``init``, ``step(ctx_ptr)`` (``ctx_ptr`` is the base), the ABI calls as
  imports from ``env``, and the budget read from the context's gas word.

Halting: a segment that does not fit sets the ``gas`` global to ``~gas_left`` (negative)
and leaves the function; every caller leaves too when it sees ``gas < 0`` after a call.
"""

from __future__ import annotations

from . import check, ir
from . import encoder as wasm
from . import layout as lay
from .encoder import I32, I64, OP, Code
from .layout import Layout

INT_MIN = -(1 << 31)

_VALTYPE = {"i32": I32, "i64": I64}
ABI_IMPORTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    name: (tuple(_VALTYPE[t] for t in params), tuple(_VALTYPE[t] for t in results))
    for name, (params, results) in check.ABI_IMPORTS.items()}
"""The ABI's imports (``check.ABI_IMPORTS``, module ``env``) with their wasm value types."""

_BIN_DIRECT = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr",
               "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
               "rem_s"}
"""Binary IR operations that are one wasm instruction (rem_s traps only on 0, guarded)."""


class _Target:
    """What differs between the two targets: where gas and depth live, how ABI calls go."""

    def __init__(self, gas: int, depth: int, imports: dict[str, int] | None) -> None:
        self.gas = gas
        self.depth = depth
        self.imports = imports  # ABI name -> function index, or None: lowered
        self.key = (gas, depth, None if imports is None else tuple(sorted(imports.items())))


_SNIPPETS: dict[tuple, dict[tuple, tuple[bytes, int]]] = {}
"""Per setting (layout, target, the function's locals and results), the code of one
instruction or gas charge at a number of open blocks, and how it changes the open blocks:
evolved populations repeat instructions, and writing them once is most of the compiler's
Python time."""
_SNIPPETS_MAX = 200_000


class _FunctionCompiler:
    """Writes one IR function. wasm locals: 0 is ``base``, 1.. the IR locals, then ``ret``
    and the gas left (kept in a local, and in the global across calls), then scratch. An IR branch depth
    is the same wasm depth, and a depth equal to the open blocks leaves the function."""

    def __init__(self, genome: ir.WasmGenome, index: int, layout: Layout, target: _Target,
                 first_func: int) -> None:
        self.genome = genome
        self.fn = genome.functions[index]
        self.layout = layout
        self.target = target
        self.first_func = first_func
        self.ret = self.fn.locals + 1
        self.gas = self.fn.locals + 2
        self.scratch = self.fn.locals + 3  # NEIGHBOR_WORDS of them
        self.code = Code()
        self.open = 0  # IR blocks open at this point

    def local(self, i: int) -> int:
        return i + 1

    # ---- helpers --------------------------------------------------------------------------
    # The body sits in three blocks: ``$out`` (a callee halted: leave, gas already marked),
    # ``$halt`` (this function halts: mark gas as ~gas_left) and ``$body`` (a normal return).
    # From inside n open IR blocks they are at depths n + 2, n + 1 and n.

    def charge(self, cost: int) -> None:
        """Enter a segment: halt unless ``cost`` gas is left, else pay it."""
        g = self.gas
        self.code.get(g).i32(cost).op(OP["lt_s"]).br_if(self.open + 1)
        self.code.get(g).i32(cost).op(OP["sub"]).set(g)

    def address(self, addr: int, off: int, mask: int) -> None:
        """Push base + ((addr + off) & mask)."""
        c = self.code
        c.get(0).get(self.local(addr))
        if off:
            c.i32(off).op(OP["add"])
        c.i32(mask).op(OP["and"]).op(OP["add"])

    def ctx_load(self, word: int) -> None:
        self.code.get(0).load(4 * word)

    def record_store_local(self, field: int, local: int) -> None:
        self.code.get(0).get(self.local(local)).store(4 * (self.layout.record_at + field))

    def record_flag(self, flag: int) -> None:
        at = 4 * (self.layout.record_at + lay.R_FLAGS)
        self.code.get(0).get(0).load(at).i32(flag).op(OP["or"]).store(at)

    def neighbor_ok(self, slot: int) -> None:
        """Push 0 <= slot < min(8, max(0, n)) with n the context's neighbour word."""
        c = self.code
        c.get(self.local(slot)).i32(lay.MAX_NEIGHBORS).op(OP["lt_u"])
        c.get(self.local(slot))
        self.ctx_load(lay.H_NEIGHBORS)
        c.op(OP["lt_s"]).op(OP["and"])

    # ---- the body -------------------------------------------------------------------------

    def compile(self) -> bytes:
        c = self.code
        g, gas = self.gas, self.target.gas
        heads = dict(ir.segments(self.fn))
        c.global_get(gas).set(g)
        c.block().block().block()
        fn = self.fn
        shape = self.layout
        setting = (shape.sensors, shape.actions, shape.radius, shape.memory, self.target.key,
                   fn.locals, fn.results)
        if sum(map(len, _SNIPPETS.values())) >= _SNIPPETS_MAX:
            _SNIPPETS.clear()
        snippets = _SNIPPETS.get(setting)
        if snippets is None:
            snippets = _SNIPPETS[setting] = {}
        buf = c.buf
        for pc, ins in enumerate(fn.body):
            cost = heads.get(pc)
            if cost is not None:
                key = (cost, self.open)  # a charge: keyed by an int, an instruction by an Instr
                hit = snippets.get(key)
                if hit is None:
                    snippets[key] = self.written(self.charge, cost)
                else:
                    buf += hit[0]
            if ins.op == ir.CALL:  # its code names the callee's index in this module
                self.instruction(ins)
                continue
            key = (ins, self.open)
            hit = snippets.get(key)
            if hit is None:
                hit = snippets[key] = self.written(self.instruction, ins)
            else:
                buf += hit[0]
                self.open += hit[1]
        c.end()
        c.get(g).global_set(gas).get(self.ret).op(0x0F)  # return
        c.end()
        c.get(g).i32(-1).op(OP["xor"]).global_set(gas).i32(0).op(0x0F)
        c.end()
        c.i32(0)
        return bytes(c.buf)

    def written(self, write, arg) -> tuple[bytes, int]:
        """Write ``write(arg)``'s code; (its bytes, how it changed the open blocks)."""
        start, opened = len(self.code.buf), self.open
        write(arg)
        return bytes(self.code.buf[start:]), self.open - opened

    def instruction(self, ins: ir.Instr) -> None:
        spec = ir.OPS[ins.op]
        name = spec.name
        c = self.code
        L = self.local
        a, b, d = ins.a, ins.b, ins.c
        if spec.group == "bin":
            self.binary(name, L(a), L(b), L(d))
        elif spec.group == "un":
            self.unary(name, L(a), L(b))
        elif name == "const":
            c.i32(b).set(L(a))
        elif name in ("load", "load8"):
            if name == "load":
                self.address(b, d, self.layout.memory - 4)
                c.load()
            else:
                self.address(b, d, self.layout.memory - 1)
                c.load8_u()
            c.set(L(a))
        elif name in ("store", "store8"):
            if name == "store":
                self.address(a, d, self.layout.memory - 4)
                c.get(L(b)).store()
            else:
                self.address(a, d, self.layout.memory - 1)
                c.get(L(b)).store8()
        elif spec.group in ("control", "call"):
            self.control(name, ins)
        elif name == "sense":
            if self.layout.sensors:
                self.ctx_load(self.layout.sensor_at + b % self.layout.sensors)
            else:
                c.i32(0)
            c.set(L(a))
        elif name == "act":
            if self.layout.actions:
                c.get(0).get(L(b)).store(4 * (self.layout.action_at + a % self.layout.actions))
        else:
            self.abi(name, ins)

    def binary(self, name: str, dst: int, x: int, y: int) -> None:
        c = self.code
        if name in _BIN_DIRECT:
            if name == "rem_s":
                c.get(y).op(OP["eqz"]).if_(I32).i32(0).else_()
                c.get(x).get(y).op(OP["rem_s"]).end()
            else:
                c.get(x).get(y).op(OP[name])
        elif name in ("div_u", "rem_u"):
            c.get(y).op(OP["eqz"]).if_(I32).i32(0).else_()
            c.get(x).get(y).op(OP[name]).end()
        elif name == "div_s":
            c.get(y).op(OP["eqz"]).if_(I32).i32(0).else_()
            c.get(x).i32(INT_MIN).op(OP["eq"]).get(y).i32(-1).op(OP["eq"]).op(OP["and"])
            c.if_(I32).i32(INT_MIN).else_().get(x).get(y).op(OP["div_s"]).end()
            c.end()
        elif name in ("min_s", "max_s"):
            c.get(x).get(y).get(x).get(y).op(OP["lt_s"] if name == "min_s" else OP["gt_s"])
            c.op(OP["select"])
        else:
            raise AssertionError(name)
        c.set(dst)

    def unary(self, name: str, dst: int, x: int) -> None:
        c = self.code
        if name == "mov":
            c.get(x)
        elif name in ("eqz", "clz", "ctz", "popcnt"):
            c.get(x).op(OP[name])
        elif name == "neg":
            c.i32(0).get(x).op(OP["sub"])
        elif name == "not":
            c.get(x).i32(-1).op(OP["xor"])
        elif name == "abs":
            c.i32(0).get(x).op(OP["sub"]).get(x).get(x).i32(0).op(OP["lt_s"]).op(OP["select"])
        else:
            raise AssertionError(name)
        c.set(dst)

    def control(self, name: str, ins: ir.Instr) -> None:
        c = self.code
        if name == "block":
            c.block()
            self.open += 1
        elif name == "loop":
            c.loop()
            self.open += 1
        elif name == "if":
            c.get(self.local(ins.a)).if_()
            self.open += 1
        elif name == "else":
            c.else_()
        elif name == "end":
            c.end()
            self.open -= 1
        elif name == "br":
            c.br(ins.a)
        elif name == "br_if":
            c.get(self.local(ins.b)).br_if(ins.a)
        elif name == "return":
            if self.fn.results:
                c.get(self.local(ins.a)).set(self.ret)
            c.br(self.open)
        elif name == "call":
            self.call(ins)
        else:
            raise AssertionError(name)

    def call(self, ins: ir.Instr) -> None:
        c = self.code
        callee = self.genome.functions[ins.a]
        depth, gas = self.target.depth, self.target.gas
        c.global_get(depth).i32(ir.MAX_CALL_DEPTH).op(OP["ge_s"]).br_if(self.open + 1)
        c.global_get(depth).i32(1).op(OP["add"]).global_set(depth)
        c.get(self.gas).global_set(gas)
        c.get(0)
        for k in range(callee.params):
            c.get(self.local(ins.c + k))
        c.call(self.first_func + ins.a)
        if callee.results:
            c.set(self.local(ins.b))
        else:
            c.op(OP["drop"])
        c.global_get(depth).i32(1).op(OP["sub"]).global_set(depth)
        c.global_get(gas).tee(self.gas).i32(0).op(OP["lt_s"]).br_if(self.open + 2)

    # ---- the ABI ----------------------------------------------------------------------------

    def abi(self, name: str, ins: ir.Instr) -> None:
        if self.target.imports is not None:
            self.abi_import(name, ins)
            return
        c = self.code
        L = self.local
        lo = self.layout
        a, b, d = ins.a, ins.b, ins.c
        if name in ("get_energy", "get_age"):
            self.ctx_load(lay.H_ENERGY if name == "get_energy" else lay.H_AGE)
            c.set(L(a))
        elif name == "env_read":
            r, side = lo.radius, lo.view_side
            c.get(L(b)).i32(r).op(OP["add"]).i32(2 * r).op(OP["le_u"])
            c.get(L(d)).i32(r).op(OP["add"]).i32(2 * r).op(OP["le_u"]).op(OP["and"])
            c.if_(I32)
            c.get(0)
            c.get(L(d)).i32(r).op(OP["add"]).i32(side).op(OP["mul"])
            c.get(L(b)).op(OP["add"]).i32(r).op(OP["add"]).i32(2).op(OP["shl"]).op(OP["add"])
            c.load(4 * lo.view_at)
            c.else_().i32(-1).end()
            c.set(L(a))
        elif name == "sense_neighbor":
            self.neighbor_ok(b)
            c.if_()
            for i in range(lay.NEIGHBOR_WORDS):  # read the whole record, then write it
                c.get(0).get(L(b)).i32(4).op(OP["shl"]).op(OP["add"])
                c.load(4 * (lo.neighbor_at + i)).set(self.scratch + i)
            for i in range(lay.NEIGHBOR_WORDS):
                self.address(d, 4 * i, lo.memory - 4)
                c.get(self.scratch + i).store()
            c.i32(1).set(L(a)).else_().i32(0).set(L(a)).end()
        elif name == "move_dir":
            c.get(L(b)).i32(1).op(OP["add"]).i32(3).op(OP["lt_u"])
            c.get(L(d)).i32(1).op(OP["add"]).i32(3).op(OP["lt_u"]).op(OP["and"])
            c.if_()
            self.record_flag(lay.F_MOVE)
            self.record_store_local(lay.R_MOVE_DX, b)
            self.record_store_local(lay.R_MOVE_DY, d)
            c.i32(1).set(L(a)).else_().i32(0).set(L(a)).end()
        elif name == "eat":
            self.record_flag(lay.F_EAT)
            c.i32(1).set(L(a))
        elif name == "attack":
            self.neighbor_ok(b)
            c.get(L(d)).i32(0).op(OP["gt_s"]).op(OP["and"])
            c.if_()
            self.record_flag(lay.F_ATTACK)
            self.record_store_local(lay.R_ATTACK_SLOT, b)
            self.record_store_local(lay.R_ATTACK_AMOUNT, d)
            c.i32(1).set(L(a)).else_().i32(0).set(L(a)).end()
        elif name == "try_reproduce":
            c.get(L(d)).i32(lay.MAX_PAYLOAD + 1).op(OP["lt_u"])
            c.if_()
            self.record_flag(lay.F_REPRODUCE)
            c.get(0).get(L(b)).i32(lo.memory - 1).op(OP["and"])
            c.store(4 * (lo.record_at + lay.R_REPRO_PTR))
            self.record_store_local(lay.R_REPRO_LEN, d)
            c.i32(1).set(L(a)).else_().i32(0).set(L(a)).end()
        elif name == "emit_signal":
            self.record_flag(lay.F_SIGNAL)
            self.record_store_local(lay.R_SIGNAL_CHANNEL, a)
            self.record_store_local(lay.R_SIGNAL_VALUE, b)
        else:
            raise AssertionError(name)

    def abi_import(self, name: str, ins: ir.Instr) -> None:
        c = self.code
        params, results = ABI_IMPORTS[name]
        operands = (ins.a, ins.b, ins.c)
        args = operands[1:1 + len(params)] if results else operands[:len(params)]
        for arg in args:
            c.get(self.local(arg))
        c.call(self.target.imports[name])
        if results:
            c.set(self.local(ins.a))


def _used_abi(genome: ir.WasmGenome) -> list[str]:
    used = {ir.OPS[ins.op].name for fn in genome.functions for ins in fn.body
            if ir.OPS[ins.op].group == "abi"}
    return [name for name in ABI_IMPORTS if name in used]


def _add_functions(module: wasm.Module, genome: ir.WasmGenome, layout: Layout,
                   target: _Target) -> int:
    """Compile every IR function into ``module``; the index of function 0."""
    first = module.n_imported_funcs + len(module.functions)
    for index, fn in enumerate(genome.functions):
        type_index = module.type((I32,) * (1 + fn.params), (I32,))
        # non-parameter IR locals, ret, gas left, scratch for a neighbour record
        extra = fn.locals - fn.params + 2 + lay.NEIGHBOR_WORDS
        body = _FunctionCompiler(genome, index, layout, target, first).compile()
        module.add_function(type_index, [(extra, I32)], body)
    return first


def organisms_module(genomes: list[ir.WasmGenome], layout: Layout) -> bytes:
    """One module holding organisms for the population runtime: it imports ``env.memory``
    (any size: the code does not depend on it), ``env.gas`` and ``env.depth``, and exports
    organism k's ``step(base) -> i32`` as ``o{k}``."""
    module = wasm.Module()
    module.import_memory("env", "memory", 1)
    gas = module.import_global("env", "gas")
    depth = module.import_global("env", "depth")
    for k, genome in enumerate(genomes):
        first = _add_functions(module, genome, layout, _Target(gas, depth, None))
        module.export(f"o{k}", wasm.EXPORT_FUNC, first)
    return module.encode()


def standalone_module(genome: ir.WasmGenome, layout: Layout) -> bytes:
    """An ABI module of its own (docs/brains/wasm.md, "The ABI"): one page of memory, the
    ABI calls it uses imported from ``env``, ``init(seed)`` (which does nothing: the
    context brings fresh random bits every step) and ``step(ctx_ptr)``, whose budget is the
    context's gas word."""
    module = wasm.Module()
    imports = {name: module.import_func("env", name, module.type(*ABI_IMPORTS[name]))
               for name in _used_abi(genome)}
    module.add_memory(1, 1)
    gas = module.add_global_i32(0)
    depth = module.add_global_i32(0)
    first = _add_functions(module, genome, layout, _Target(gas, depth, imports))
    init = module.add_function(module.type((I64,), ()), [], b"")
    step = Code()
    step.get(0).load(4 * lay.H_GAS).global_set(gas).i32(0).global_set(depth)
    step.get(0).call(first).set(1)  # the action code, or 0 if the step halted
    step.i32(0).get(1).global_get(gas).i32(0).op(OP["lt_s"]).op(OP["select"])
    step_index = module.add_function(module.type((I32,), (I32,)), [(1, I32)], bytes(step.buf))
    module.export("memory", wasm.EXPORT_MEMORY, 0)
    module.export("init", wasm.EXPORT_FUNC, init)
    module.export("step", wasm.EXPORT_FUNC, step_index)
    return module.encode()
