"""What a hand-written WebAssembly module must be to live in a Primordia world, and the check
that says where one falls short (docs/brains/wasm.md, "The ABI" and "Hand-written modules").

A module must:

- export ``memory``: one page (64 KiB) from the start (minimum exactly 1; a declared maximum
  is allowed, but the host's limiter stops growth past 1 page, so ``memory.grow`` returns
  -1). The host writes the context at address 0 (``ctx_ptr = 0``), ``Layout.bytes`` long;
  the module keeps its own data above it (C/Rust: link with a global base past it, an
  initial and maximum memory of 65536 and a small stack). Active data segments that land on
  the context, or past the page, are refused;
- export ``init: (i64) -> ()`` and ``step: (i32) -> i32``;
- import only functions, only from module ``env``, only the nine ABI calls with exactly the
  ABI's types (``ABI_IMPORTS``): no WASI, no imported memories, tables or globals;
- have no start function (nothing runs before ``init``, which runs under a fuel budget);
- be at most ``MAX_MODULE_BYTES`` (1 MiB) and have at most 1 table of at most 1024 elements.

``engine()`` is the one wasmtime Engine that checks and runs modules (fuel on, a small
stack, proposals that could allocate outside the module's one page switched off), and
``compiled()`` its bounded cache of compiled modules.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache

import wasmtime

from primordia.brains.wasm.layout import Layout
from primordia.core.errors import GenomeError

MAX_MODULE_BYTES = 1 << 20
"""The largest module, in wasm bytes."""
MAX_WAT_BYTES = 4 << 20
"""The largest WAT text ``load_module_bytes`` reads (text is wordier than the binary)."""
PAGE = 65536
"""One wasm page: a module's whole memory."""
MAX_TABLES = 1
MAX_TABLE_ELEMENTS = 1024
MAX_WASM_STACK = 256 << 10
"""wasmtime's stack limit for a module's call: runaway recursion traps within about a
millisecond."""
MAX_COMPILED = 64
"""Compiled modules ``compiled()`` keeps, least recently used dropped first."""
_LOCK = threading.Lock()
"""The cache is shared by worlds that step in threads (the server's sessions)."""

_I32, _I64 = "i32", "i64"
ABI_IMPORTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "env_read": ((_I32, _I32), (_I32,)),
    "sense_neighbor": ((_I32, _I32), (_I32,)),
    "get_energy": ((), (_I32,)),
    "get_age": ((), (_I32,)),
    "move_dir": ((_I32, _I32), (_I32,)),
    "eat": ((), (_I32,)),
    "attack": ((_I32, _I32), (_I32,)),
    "try_reproduce": ((_I32, _I32), (_I32,)),
    "emit_signal": ((_I32, _I32), ()),
}
"""The functions a module may import from ``env``: name -> (params, results)."""
ABI_EXPORTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "init": ((_I64,), ()),
    "step": ((_I32,), (_I32,)),
}
"""The functions a module must export, besides ``memory``."""

_START, _TABLE, _DATA = 8, 4, 11
"""Binary section ids the check reads itself (wasmtime's API does not show them)."""


@cache
def engine() -> wasmtime.Engine:
    """The shared Engine: deterministic fuel, a small stack, and only the proposals a module
    confined to its one page needs (no GC heap, threads, 64-bit or many memories,
    exceptions, stack switching, components). Each memory reserves only its page, so
    thousands of organisms fit in the address space, and never moves (the host keeps a view
    of it)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.max_wasm_stack = MAX_WASM_STACK
    for feature in ("wasm_gc", "wasm_function_references", "wasm_threads", "wasm_memory64",
                    "wasm_multi_memory", "wasm_exceptions", "wasm_custom_page_sizes",
                    "wasm_stack_switching", "wasm_component_model"):
        setattr(config, feature, False)
    config.wasm_relaxed_simd_deterministic = True
    config.cranelift_nan_canonicalization = True  # NaN bits are the one float nondeterminism
    config.memory_reservation = PAGE
    config.memory_reservation_for_growth = 0
    config.memory_guard_size = 0
    config.memory_may_move = False
    config.parallel_compilation = False  # the machine's cores belong to the world
    return wasmtime.Engine(config)


_compiled: OrderedDict[bytes, wasmtime.Module] = OrderedDict()


def compiled(wasm: bytes) -> wasmtime.Module:
    """The module compiled on ``engine()``, from a bounded LRU cache keyed by its bytes
    (a population shares a few modules). WasmtimeError if it does not compile."""
    with _LOCK:
        module = _compiled.get(wasm)
        if module is not None:
            _compiled.move_to_end(wasm)
            return module
    module = wasmtime.Module(engine(), wasm)
    with _LOCK:
        _compiled[wasm] = module
        if len(_compiled) > MAX_COMPILED:
            _compiled.popitem(last=False)
    return module


def _first_line(error: Exception) -> str:
    """wasmtime's message in one line: the first line, or the innermost cause when the first
    is only a heading ("failed to parse WebAssembly module")."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    if not lines:
        return type(error).__name__
    if "Caused by:" in lines:
        cause = lines[-1]
        return cause.split(": ", 1)[1] if cause[:1].isdigit() and ": " in cause else cause
    return lines[0]


def load_module_bytes(data: bytes | bytearray | str) -> bytes:
    """The wasm bytes of a module given as a binary (starting ``\\0asm``) or as WAT text;
    GenomeError in one line if it is neither, does not parse, or is too big. Only the size
    and the text are judged here: ``check_module`` says whether it keeps the ABI."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    data = bytes(data)
    if data[:4] == b"\0asm":
        if len(data) > MAX_MODULE_BYTES:
            raise GenomeError(f"module is {len(data)} bytes; at most {MAX_MODULE_BYTES} "
                              f"(1 MiB)")
        return data
    if len(data) > MAX_WAT_BYTES:
        raise GenomeError(f"not a wasm binary (no \\0asm header), and {len(data)} bytes is "
                          f"too long for WAT text (at most {MAX_WAT_BYTES})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GenomeError("neither a wasm binary (it does not start with \\0asm) nor WAT "
                          "text (it is not UTF-8)") from None
    if "\0" in text:
        raise GenomeError("neither a wasm binary (it does not start with \\0asm) nor WAT "
                          "text (it holds a NUL byte)")
    try:
        wasm = bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        where = next((ln[4:].strip() for ln in lines if ln.startswith("--> ")), "")
        where = where.removeprefix("<anon>:")
        raise GenomeError(f"WAT: {lines[0] if lines else 'does not parse'}"
                          + (f" (line {where})" if where else "")) from None
    if len(wasm) > MAX_MODULE_BYTES:
        raise GenomeError(f"module is {len(wasm)} bytes; at most {MAX_MODULE_BYTES} (1 MiB)")
    return wasm


# ---- a small binary reader: the sections wasmtime's API does not show -------------------------

class _Reader:
    """Reads LEB128 numbers and bytes from a slice; IndexError/ValueError past its end."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data, self.pos = data, pos
        self.end = len(data) if end is None else min(end, len(data))

    def byte(self) -> int:
        if self.pos >= self.end:
            raise IndexError("end of section")
        self.pos += 1
        return self.data[self.pos - 1]

    def uleb(self, bits: int = 32) -> int:
        value = shift = 0
        for _ in range((bits + 6) // 7):
            b = self.byte()
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value
        raise ValueError("LEB128 too long")

    def sleb(self, bits: int = 32) -> int:
        value = shift = 0
        for _ in range((bits + 6) // 7):
            b = self.byte()
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value - (1 << shift) if b & 0x40 else value
        raise ValueError("LEB128 too long")


def sections(wasm: bytes) -> list[tuple[int, int, int]]:
    """The module's sections as (id, start, end) of their contents. The walk is bounded (each
    section advances at least two bytes) and stops quietly at anything malformed: it runs on
    bytes wasmtime has already validated."""
    out = []
    r = _Reader(wasm, 8)
    try:
        while r.pos < r.end:
            sid = r.byte()
            size = r.uleb()
            if r.pos + size > r.end:
                break
            out.append((sid, r.pos, r.pos + size))
            r.pos += size
    except (IndexError, ValueError):
        pass
    return out


def _table_problems(wasm: bytes, start: int, end: int) -> list[str]:
    """Tables the module defines: at most ``MAX_TABLES``, each starting at no more than
    ``MAX_TABLE_ELEMENTS`` elements."""
    r = _Reader(wasm, start, end)
    try:
        count = r.uleb()
        if count > MAX_TABLES:
            return [f"defines {count} tables; the ABI allows {MAX_TABLES}"]
        problems = []
        for i in range(count):
            r.byte()  # element type: funcref or externref (typed references are off)
            flags = r.byte()
            minimum = r.uleb(64)
            if minimum > MAX_TABLE_ELEMENTS:
                problems.append(f"table {i} starts at {minimum} elements; the ABI allows "
                                f"{MAX_TABLE_ELEMENTS}")
            if flags & 1:
                r.uleb(64)
        return problems
    except (IndexError, ValueError):
        return []  # validated, but a form this reader does not know: the store's limits hold


def _data_problems(wasm: bytes, start: int, end: int, context_bytes: int) -> list[str]:
    """Active data segments with a constant offset must lie in the page, above the context
    (the host rewrites 0..context_bytes before every step). Segments placed by other
    expressions (``global.get``, extended constants) cannot be judged here and pass."""
    r = _Reader(wasm, start, end)
    problems = []
    try:
        for i in range(r.uleb()):
            flags = r.uleb()
            offset = None
            if flags in (0, 2):
                if flags == 2:
                    r.uleb()  # memory index
                offset = _const_offset(r)
            elif flags != 1:
                return problems  # not a form this reader knows; validation passed it
            size = r.uleb()
            r.pos += size
            if offset is None or size == 0:
                continue
            offset &= 0xFFFFFFFF
            if offset + size > PAGE:
                problems.append(f"data segment {i} (bytes {offset}..{offset + size}) lies "
                                f"past the 1-page memory")
            elif offset < context_bytes:
                problems.append(f"data segment {i} (bytes {offset}..{offset + size}) overlaps "
                                f"the context (bytes 0..{context_bytes}): keep data above it")
    except (IndexError, ValueError):
        pass  # validated, but a form this reader does not know
    return problems


def _const_offset(r: _Reader) -> int | None:
    """The value of a constant expression if it is ``i32.const N``; else None (the
    expression is skipped)."""
    op = r.byte()
    if op == 0x41:
        value = r.sleb()
        op = r.byte()
        if op == 0x0B:
            return value
    # any other expression: skip the i32 constant-expression ops up to its `end`
    while op != 0x0B:
        if op == 0x41:
            r.sleb()
        elif op == 0x23:
            r.uleb()
        elif op not in (0x6A, 0x6B, 0x6C):
            raise ValueError("unknown constant expression")
        op = r.byte()
    return None


# ---- the check ------------------------------------------------------------------------------

def _sig(params, results) -> str:
    res = ", ".join(results)
    return f"({', '.join(params)}) -> {res if len(results) == 1 else '(' + res + ')'}"


def _functype(ty) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if not isinstance(ty, wasmtime.FuncType):
        return None
    return tuple(str(t) for t in ty.params), tuple(str(t) for t in ty.results)


_KIND = {wasmtime.MemoryType: "a memory", wasmtime.TableType: "a table",
         wasmtime.GlobalType: "a global", wasmtime.FuncType: "a function"}


def _kind(ty) -> str:
    return _KIND.get(type(ty), "something other than a function")


def _import_problems(module: wasmtime.Module) -> list[str]:
    problems = []
    for imp in module.imports:
        mod, name, ty = imp.module, imp.name or "", imp.type
        where = f"`{mod}.{name}`"
        if mod.startswith("wasi"):
            problems.append(f"imports WASI {where}: a module may import only the `env` ABI "
                            f"calls")
        elif mod != "env":
            problems.append(f"imports {where} from outside `env`")
        elif not isinstance(ty, wasmtime.FuncType):
            problems.append(f"imports {_kind(ty)} {where}: only ABI functions may be "
                            f"imported (the module exports its own memory)")
        elif name not in ABI_IMPORTS:
            problems.append(f"imports {where}, which is not an ABI call")
        elif _functype(ty) != ABI_IMPORTS[name]:
            problems.append(f"imports {where} as {_sig(*_functype(ty))}; the ABI says "
                            f"{_sig(*ABI_IMPORTS[name])}")
    return problems


def _export_problems(module: wasmtime.Module) -> list[str]:
    exports = {exp.name: exp.type for exp in module.exports}
    problems = []
    memory = exports.get("memory")
    if memory is None:
        problems.append("does not export `memory` (one 64 KiB page)")
    elif not isinstance(memory, wasmtime.MemoryType):
        problems.append(f"exports `memory` as {_kind(memory)}, not a memory")
    else:
        if memory.is_64 or memory.is_shared:
            problems.append("`memory` must be a plain 32-bit, unshared memory")
        pages = memory.limits.min
        if pages > 1:
            problems.append(f"`memory` starts at {pages} pages; the ABI allows 1 page "
                            f"(64 KiB)")
        elif pages < 1:
            problems.append("`memory` starts at 0 pages; it must start at 1 page (the "
                            "context lives at address 0)")
    for name, sig in ABI_EXPORTS.items():
        ty = exports.get(name)
        if ty is None:
            problems.append(f"does not export `{name}` of type {_sig(*sig)}")
        elif _functype(ty) != sig:
            shown = _sig(*_functype(ty)) if isinstance(ty, wasmtime.FuncType) else _kind(ty)
            problems.append(f"exports `{name}` as {shown}; the ABI says {_sig(*sig)}")
    return problems


def check_module(data: bytes | bytearray | str, *, layout: Layout | None = None) -> list[str]:
    """Every way the module (wasm bytes or WAT text) breaks the ABI, one short line each;
    an empty list if it keeps it. Never raises for what the bytes hold. ``layout`` places
    the context for the data-segment check; without one, the smallest context any world
    gives (no sensors, actions or view) is assumed."""
    try:
        wasm = load_module_bytes(data)
    except GenomeError as e:
        return [str(e)]
    try:
        wasmtime.Module.validate(engine(), wasm)
    except wasmtime.WasmtimeError as e:
        return [f"invalid wasm: {_first_line(e)}"]
    context_bytes = (layout or Layout(0, 0)).bytes
    problems = []
    for sid, start, end in sections(wasm):
        if sid == _START:
            problems.append("has a start function: nothing may run before `init`")
        elif sid == _TABLE:
            problems += _table_problems(wasm, start, end)
        elif sid == _DATA:
            problems += _data_problems(wasm, start, end, context_bytes)
    try:
        module = compiled(wasm)
    except wasmtime.WasmtimeError as e:
        return problems + [f"does not compile: {_first_line(e)}"]
    return _import_problems(module) + _export_problems(module) + problems
