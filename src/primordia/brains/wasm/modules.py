"""Hand-written organisms: a WebAssembly module that keeps the ABI (``check.py``), run in its
own wasmtime Store under hard budgets, so that whatever a hostile module does costs only
itself (docs/brains/wasm.md, "Hand-written modules").

- **Context.** Before each step the host writes the context at address 0 of the module's
  memory (``ctx_ptr = 0``, ``Layout.bytes`` long) and calls ``step(0)``; after it the
  context stays in memory for the host to read back (``context()``).
- **Budgets.** wasmtime fuel, which is deterministic: ``init(seed)`` runs once at birth
  under ``INIT_FUEL``; each ``step`` runs with fuel equal to the step's gas budget. Each
  ABI call costs ``IMPORT_FUEL`` on top of the wasm instructions (a call whose fuel is
  short ends the step before it acts). The stack is small (``check.MAX_WASM_STACK``), so
  runaway recursion traps within a millisecond.
- **Failure.** A trap or running out of fuel in ``step`` loses that step: action code 0,
  and what the step wrote before (memory, actions, the action record) stands, as for IR
  organisms that run out of gas. A module that cannot be instantiated, or traps or runs
  out of fuel in ``init``, is *broken*: every later step is lost (code 0) without running.
  Nothing the module does raises out of this class.
- **Memory.** Exactly one page (64 KiB), all the module's: the check demands a minimum of
  one page and the Store's limiter stops growth past it (``memory.grow`` returns -1), so
  the memory never moves or changes size.
- **ABI calls** are Python callbacks that act on the module's memory with the IR's rules:
  ``env_read`` reads the context's view (-1 outside the radius), ``sense_neighbor`` writes
  its 4 words at ``(buf + 4i) & (65536 - 4)`` (the IR's word mask, with the page as the
  organism's memory: never out of bounds), ``get_energy``/``get_age`` read header words,
  and the action calls check their arguments, OR their flag into the record and set its
  fields (1 if recorded, 0 if refused). The neighbour count is read from the context,
  clamped to 0..8.
"""

from __future__ import annotations

import ctypes
import itertools
import struct
from dataclasses import dataclass
from typing import NamedTuple

import wasmtime
# Internals of the wasmtime package (pinned): its C API bindings, for the ABI calls' own
# trampoline and the step call, and enter_wasm, which turns a returned trap into a Trap.
from wasmtime import _ffi as ffi
from wasmtime._func import enter_wasm

from primordia.brains.wasm.check import (
    ABI_EXPORTS, ABI_IMPORTS, MAX_TABLE_ELEMENTS, MAX_TABLES, PAGE, _first_line, _functype,
    check_module, compiled, engine, load_module_bytes,
)
from primordia.brains.wasm.layout import (
    F_ATTACK, F_EAT, F_MOVE, F_REPRODUCE, F_SIGNAL, H_AGE, H_ENERGY, H_NEIGHBORS, MAX_NEIGHBORS,
    MAX_PAYLOAD, NEIGHBOR_WORDS, R_ATTACK_AMOUNT, R_ATTACK_SLOT, R_FLAGS, R_MOVE_DX, R_MOVE_DY,
    R_REPRO_LEN, R_REPRO_PTR, R_SIGNAL_CHANNEL, R_SIGNAL_VALUE, Layout,
)
from primordia.core.errors import ConfigError, GenomeError

INIT_FUEL = 100_000
"""Fuel for instantiation and for ``init(seed)`` (each gets this much)."""
IMPORT_FUEL = 10
"""Fuel one ABI call costs besides the wasm instructions around it: a Python crossing costs
tens of microseconds, so a step's calls are bounded by its budget too."""
MAX_FUEL = (1 << 63) - 1

_WORD = struct.Struct("<i")


# ---- the genome -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModuleGenome:
    """A hand-written organism: the module's wasm bytes, checked against the ABI when made
    (GenomeError naming the first violation and how many more). Its canonical bytes are the
    wasm bytes themselves; ``parse`` also takes WAT."""

    wasm: bytes

    def __post_init__(self) -> None:
        wasm = bytes(self.wasm)
        object.__setattr__(self, "wasm", wasm)
        if wasm[:4] != b"\0asm":
            raise GenomeError("a module genome is wasm bytes (starting \\0asm); give WAT "
                              "text to modules.parse")
        problems = check_module(wasm)
        if problems:
            more = len(problems) - 1
            raise GenomeError(f"module breaks the ABI: {problems[0]}"
                              + (f" (and {more} more)" if more else ""))

    def __len__(self) -> int:
        return len(self.wasm)


def parse(source: bytes | str) -> ModuleGenome:
    """The genome of a module given as wasm bytes or WAT text."""
    return ModuleGenome(load_module_bytes(source))


def encode(genome: ModuleGenome) -> bytes:
    """Canonical bytes: the wasm module itself."""
    return genome.wasm


def decode(data: bytes) -> ModuleGenome:
    """The genome of canonical bytes (a wasm module); GenomeError if it breaks the ABI."""
    return ModuleGenome(bytes(data))


# ---- the ABI calls --------------------------------------------------------------------------

_FUEL_TRAP = "primordia: out of fuel in an ABI call"
"""The message of the trap an ABI call raises when the step's fuel cannot pay for it."""
_HOST_TRAP = "primordia: host error in an ABI call"

_HOST: dict[int, tuple[object, int, int]] = {}
"""The ABI callbacks alive, by handle: (callback, params, results). A Store's finalizer
drops its own when the Store goes."""
_handles = itertools.count(1)  # never 0: the C side hands back a null env as 0


def _trap(message: str) -> int:
    return ctypes.cast(wasmtime.Trap(message)._consume(), ctypes.c_void_p).value


@ffi.wasmtime_func_unchecked_callback_t
def _trampoline(env, caller, values, count):  # noqa: ARG001 (count: wasmtime's, unused)
    """Every ABI call enters here: it takes IMPORT_FUEL from the calling store (or traps
    with ``_FUEL_TRAP`` before acting), then runs the callback on raw i32 values. wasmtime's
    own ``Func`` trampoline converts each value through typed wrappers and costs several
    times more per call. Nothing may escape a ctypes callback: any error is a trap."""
    try:
        callback, params, results = _HOST[env or 0]
        context = ffi.wasmtime_caller_context(caller)
        left = ctypes.c_uint64()
        ffi.wasmtime_context_get_fuel(context, ctypes.byref(left))
        if left.value < IMPORT_FUEL:
            ffi.wasmtime_context_set_fuel(context, 0)
            return _trap(_FUEL_TRAP)
        ffi.wasmtime_context_set_fuel(context, left.value - IMPORT_FUEL)
        value = callback(*[values[i].i32 for i in range(params)])
        if results:
            values[0].i32 = value
        return 0
    except BaseException:  # a bug of ours; the step is lost, the host goes on
        return _trap(_HOST_TRAP)


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _finalize(env) -> None:
    _HOST.pop(env or 0, None)


def _valtype(t: str) -> wasmtime.ValType:
    return wasmtime.ValType.i32() if t == "i32" else wasmtime.ValType.i64()


_FUNC_TYPES = {name: wasmtime.FuncType([_valtype(t) for t in params],
                                       [_valtype(t) for t in results])
               for name, (params, results) in ABI_IMPORTS.items()}


class _Abi:
    """The ABI calls of one organism, working on its memory. It holds a view of the memory
    and the layout, never the Store: wasmtime keeps the callbacks until the Store goes, so
    a reference back would keep the Store alive forever."""

    def __init__(self, layout: Layout) -> None:
        self.mem: memoryview | None = None
        self.radius = layout.radius
        self.side = layout.view_side
        self.view = 4 * layout.view_at
        self.neighbors = 4 * layout.neighbor_at
        self.record = 4 * layout.record_at

    def func(self, store: wasmtime.Store, name: str) -> wasmtime.Func:
        """The ABI call ``name`` as a host function of ``store``."""
        params, results = ABI_IMPORTS[name]
        handle = next(_handles)
        _HOST[handle] = (getattr(self, name), len(params), len(results))
        func = ffi.wasmtime_func_t()
        ffi.wasmtime_func_new_unchecked(store._context(), _FUNC_TYPES[name].ptr(), _trampoline,
                                        handle, _finalize, ctypes.byref(func))
        return wasmtime.Func._from_raw(func)

    def _word(self, at: int) -> int:
        return _WORD.unpack_from(self.mem, at)[0]

    def _set(self, field: int, value: int) -> None:
        _WORD.pack_into(self.mem, self.record + 4 * field, value)

    def _flag(self, flag: int) -> None:
        self._set(R_FLAGS, self._word(self.record + 4 * R_FLAGS) | flag)

    def _count(self) -> int:
        return min(max(self._word(4 * H_NEIGHBORS), 0), MAX_NEIGHBORS)

    # Each call has paid its fuel (``_trampoline``). Before the memory is attached (a start
    # function, when the check was bypassed) the calls read -1/0 and record nothing.

    def env_read(self, x: int, y: int) -> int:
        r = self.radius
        if self.mem is None or not (-r <= x <= r and -r <= y <= r):
            return -1
        return self._word(self.view + 4 * ((y + r) * self.side + (x + r)))

    def sense_neighbor(self, slot: int, buf: int) -> int:
        if self.mem is None or not 0 <= slot < self._count():
            return 0
        at = self.neighbors + 4 * NEIGHBOR_WORDS * slot
        mask = len(self.mem) - 4
        words = [self._word(at + 4 * i) for i in range(NEIGHBOR_WORDS)]
        for i, value in enumerate(words):  # all read before any is written, as in the IR
            _WORD.pack_into(self.mem, (buf + 4 * i) & mask, value)
        return 1

    def get_energy(self) -> int:
        return 0 if self.mem is None else self._word(4 * H_ENERGY)

    def get_age(self) -> int:
        return 0 if self.mem is None else self._word(4 * H_AGE)

    def move_dir(self, dx: int, dy: int) -> int:
        if self.mem is None or not (-1 <= dx <= 1 and -1 <= dy <= 1):
            return 0
        self._flag(F_MOVE)
        self._set(R_MOVE_DX, dx)
        self._set(R_MOVE_DY, dy)
        return 1

    def eat(self) -> int:
        if self.mem is None:
            return 0
        self._flag(F_EAT)
        return 1

    def attack(self, slot: int, amount: int) -> int:
        """Refused unless ``slot`` holds a neighbour this step and ``amount`` > 0."""
        if self.mem is None or amount <= 0 or not 0 <= slot < self._count():
            return 0
        self._flag(F_ATTACK)
        self._set(R_ATTACK_SLOT, slot)
        self._set(R_ATTACK_AMOUNT, amount)
        return 1

    def try_reproduce(self, ptr: int, length: int) -> int:
        """Records the payload's address masked into the memory (``ptr & 65535``; the world
        reads byte i at ``(ptr + i) & 65535``) and its length, 0..MAX_PAYLOAD."""
        if self.mem is None or not 0 <= length <= MAX_PAYLOAD:
            return 0
        self._flag(F_REPRODUCE)
        self._set(R_REPRO_PTR, ptr & (len(self.mem) - 1))
        self._set(R_REPRO_LEN, length)
        return 1

    def emit_signal(self, channel: int, value: int) -> None:
        if self.mem is None:
            return
        self._flag(F_SIGNAL)
        self._set(R_SIGNAL_CHANNEL, channel)
        self._set(R_SIGNAL_VALUE, value)


# ---- the organism ---------------------------------------------------------------------------

class StepResult(NamedTuple):
    """What one step came to: the action code (0 if the step was lost), the fuel it used,
    and why it was lost (None if it returned)."""

    code: int
    fuel_used: int
    fault: str | None


def _trap_text(trap: wasmtime.Trap) -> str:
    code = trap.trap_code
    if code is None and _FUEL_TRAP in trap.message:
        return "out of fuel"
    if code is not None:
        return code.name.lower().replace("_", " ")  # "out of fuel", "stack overflow", ...
    return _first_line(trap)


def _i64(seed: int) -> int:
    return (int(seed) + (1 << 63)) % (1 << 64) - (1 << 63)


class ModuleOrganism:
    """One organism running a hand-written module in its own Store on the shared Engine.

    Construction instantiates the module with the ABI calls and runs ``init(seed)``; it
    never raises for what the module does (see ``broken`` and ``fault``). To restore one
    from a checkpoint, build it again with the same genome, layout and seed (``init`` is
    deterministic under fuel) and ``load_memory`` the saved image."""

    def __init__(self, genome: ModuleGenome, layout: Layout, seed: int) -> None:
        self.genome = genome
        self.layout = layout
        self.seed = seed
        self.broken = False
        """True if the module could not start; every step is then lost without running."""
        self.fault: str | None = None
        """Why the organism is broken (None if it is not)."""
        self._abi = _Abi(layout)
        self._store = wasmtime.Store(engine())
        self._store.set_limits(memory_size=PAGE, table_elements=MAX_TABLE_ELEMENTS,
                               instances=1, tables=MAX_TABLES, memories=1)
        self._mem: memoryview | None = None
        self._step: wasmtime.Func | None = None
        self._args = (ffi.wasmtime_val_t * 1)()
        self._args[0].kind = ffi.WASMTIME_I32.value
        self._args[0].of.i32 = 0  # ctx_ptr
        self._results = (ffi.wasmtime_val_t * 1)()
        self._last_ctx = bytes(layout.bytes)
        self._start(seed)

    def _break(self, fault: str) -> None:
        self.broken = True
        self.fault = fault

    def _start(self, seed: int) -> None:
        store = self._store
        try:
            module = compiled(self.genome.wasm)
        except wasmtime.WasmtimeError as e:
            return self._break(f"does not compile: {_first_line(e)}")
        imports = []
        for imp in module.imports:
            if imp.module != "env" or imp.name not in ABI_IMPORTS:
                return self._break(f"imports `{imp.module}.{imp.name}`, which the host "
                                   f"does not give")
            imports.append(self._abi.func(store, imp.name))
        stage = "instantiation"
        try:
            store.set_fuel(INIT_FUEL)  # a start function (check bypassed) cannot hang
            exports = wasmtime.Instance(store, module, imports).exports(store)
            memory, init, step = (exports.get(name) for name in ("memory", "init", "step"))
            if not isinstance(memory, wasmtime.Memory) or memory.data_len(store) != PAGE:
                return self._break("its memory is not one 64 KiB page")
            for name, func in (("init", init), ("step", step)):
                if not isinstance(func, wasmtime.Func) or \
                        _functype(func.type(store)) != ABI_EXPORTS[name]:
                    return self._break(f"`{name}` is missing or mistyped")
            # The memory cannot grow or move (limiter, engine config): a view stays valid.
            self._mem = memoryview(memory.get_buffer_ptr(store)).cast("B")
            self._abi.mem = self._mem
            self._step = step
            stage = "init"
            store.set_fuel(INIT_FUEL)
            init(store, _i64(seed))
        except wasmtime.Trap as e:
            self._break(f"{stage}: {_trap_text(e)}")
        except wasmtime.WasmtimeError as e:
            self._break(f"{stage}: {_first_line(e)}")

    def step(self, ctx: bytes, budget: int) -> StepResult:
        """Writes ``ctx`` (``Layout.bytes`` bytes) at address 0, runs ``step(0)`` with fuel
        ``budget``, and leaves the context in memory. A trap or running out of fuel loses
        the step (code 0); what the step wrote before stands."""
        n = self.layout.bytes
        if len(ctx) != n:
            raise ValueError(f"context is {len(ctx)} bytes; the layout's is {n}")
        if self.broken:
            self._last_ctx = bytes(ctx)
            return StepResult(0, 0, "broken")
        self._mem[:n] = ctx
        fuel = min(max(int(budget), 0), MAX_FUEL)
        store = self._store
        store.set_fuel(fuel)
        try:
            code, fault = self._call_step(), None
        except wasmtime.Trap as e:
            code, fault = 0, _trap_text(e)
        except wasmtime.WasmtimeError as e:
            code, fault = 0, _first_line(e)
        return StepResult(code, fuel - store.get_fuel(), fault)

    def _call_step(self) -> int:
        """``step(0)`` through the C API with arguments and results allocated once: the
        same call as ``Func.__call__`` (traps and callback exceptions raise the same way),
        without its per-call type lookups and value conversions (about 5x faster)."""
        store = self._store
        with enter_wasm(store) as trap:
            error = ffi.wasmtime_func_call(store._context(), ctypes.byref(self._step._func),
                                           self._args, 1, self._results, 1, trap)
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
        return self._results[0].of.i32

    def context(self) -> bytes:
        """The context after the step (``Layout.bytes`` bytes from address 0), for the host
        to read the actions and the record; a broken organism's is the context it was
        given, untouched."""
        if self.broken or self._mem is None:
            return self._last_ctx
        return bytes(self._mem[:self.layout.bytes])

    def memory(self) -> bytes:
        """The whole memory (64 KiB), for checkpoints; empty if the module never started."""
        return b"" if self._mem is None else bytes(self._mem)

    def load_memory(self, data: bytes) -> None:
        """Replaces the whole memory with a checkpoint's image; ConfigError if its size is
        not the memory's."""
        size = 0 if self._mem is None else len(self._mem)
        if len(data) != size:
            raise ConfigError(f"wasm memory image: {len(data)} bytes; this organism's "
                              f"memory holds {size}")
        if size:
            self._mem[:] = data
