"""Compiled IR organisms stepped as a population: one wasm call per round, not per organism.

Organisms are compiled into modules (``compiler.organisms_module``; the organisms added
together share one) instantiated into one wasmtime store. They share one memory -- slot ``s`` owns bytes ``[s*M, (s+1)*M)``, and a host
area after the slices holds the round's slot list, budgets and results -- one funcref table
(slot ``s`` holds its ``step``) and two globals (gas, call depth). A driver module loops over
the listed slots and ``call_indirect``s each, so a round crosses from Python into wasm once.
Compiled code is cached by genome (clones cost no compiling), and since a store
never frees instances, the store is rebuilt from the living organisms once dead ones
outnumber them.
"""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import wasmtime

from primordia.core.errors import ConfigError

from . import encoder as wasm
from . import ir
from .compiler import organisms_module
from .encoder import I32, OP, Code
from .layout import Layout

PAGE = 65536
MAX_PAGES = 65536
_HOST_ARRAYS = 5  # slot list, budget, code, gas left, halted
_CACHE_SIZE = 4096
_BATCH = 1024
"""Organisms compiled into one module at most (wasmtime refuses a million functions)."""
_ENGINE: wasmtime.Engine | None = None
_MODULES: OrderedDict[tuple[bytes, Layout], tuple[wasmtime.Module, str]] = OrderedDict()
_LOCK = threading.Lock()
"""Worlds may step in threads (the server's sessions): the engine and the cache are shared."""


def engine() -> wasmtime.Engine:
    """The process's engine for compiled IR (no fuel: the code counts its own gas)."""
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            config = wasmtime.Config()
            config.cranelift_opt_level = "speed"
            _ENGINE = wasmtime.Engine(config)
        return _ENGINE


def compiled(genomes: list[ir.WasmGenome], layout: Layout
             ) -> list[tuple[wasmtime.Module, str]]:
    """Where each genome's ``step`` is: a (module, export) pair. Genomes not seen before are
    compiled together, up to ``_BATCH`` to a module (Cranelift's cost per module is large
    next to its cost per function); the pairs are cached, least recently used out first."""
    keys = [(ir.encode(g), layout) for g in genomes]
    known: dict[tuple[bytes, Layout], tuple[wasmtime.Module, str]] = {}
    fresh: dict[tuple[bytes, Layout], ir.WasmGenome] = {}
    with _LOCK:  # what is cached now stays usable even if another thread evicts it
        for key, genome in zip(keys, genomes):
            if key in _MODULES:
                known[key] = _MODULES[key]
            else:
                fresh[key] = genome
    made: dict[tuple[bytes, Layout], tuple[wasmtime.Module, str]] = {}
    batch = list(fresh.items())
    for at in range(0, len(batch), _BATCH):
        part = batch[at:at + _BATCH]
        module = wasmtime.Module(engine(), organisms_module([g for _, g in part], layout))
        made.update((key, (module, f"o{k}")) for k, (key, _) in enumerate(part))
    with _LOCK:
        out = [made.get(key) or known[key] for key in keys]
        for key, where in zip(keys, out):
            _MODULES[key] = where
            _MODULES.move_to_end(key)
        while len(_MODULES) > _CACHE_SIZE:
            _MODULES.popitem(last=False)
    return out


def _driver(pages: int, host: int, capacity: int, memory: int) -> bytes:
    """``run(start, count)``: step the slots listed at ``host`` from index ``start``; for each
    write its action code, gas left and whether it halted."""
    module = wasm.Module()
    module.import_memory("env", "memory", pages)
    module.import_table("env", "table", capacity)
    gas = module.import_global("env", "gas")
    depth = module.import_global("env", "depth")
    step_type = module.type((I32,), (I32,))
    progress_at = host + 4 * _HOST_ARRAYS * capacity
    list_at, budget_at, code_at, left_at, halt_at = (host + 4 * k * capacity
                                                     for k in range(_HOST_ARRAYS))
    start, count, i, s, code, g = range(6)
    c = Code()
    c.get(start).set(i)
    c.block().loop()
    c.get(i).get(count).op(OP["ge_u"]).br_if(1)
    c.i32(0).get(i).store(progress_at)
    c.get(i).i32(2).op(OP["shl"]).load(list_at).set(s)
    c.get(s).i32(2).op(OP["shl"]).load(budget_at).global_set(gas)
    c.i32(0).global_set(depth)
    c.get(s).i32(memory).op(OP["mul"]).get(s).call_indirect(step_type).set(code)
    c.global_get(gas).set(g)
    c.get(s).i32(2).op(OP["shl"])
    c.i32(0).get(code).get(g).i32(0).op(OP["lt_s"]).op(OP["select"]).store(code_at)
    c.get(s).i32(2).op(OP["shl"])
    c.get(g).i32(-1).op(OP["xor"]).get(g).get(g).i32(0).op(OP["lt_s"]).op(OP["select"])
    c.store(left_at)
    c.get(s).i32(2).op(OP["shl"]).get(g).i32(0).op(OP["lt_s"]).store(halt_at)
    c.get(i).i32(1).op(OP["add"]).set(i)
    c.br(0).end().end()
    run = module.add_function(module.type((I32, I32), ()), [(4, I32)], bytes(c.buf))
    module.export("run", wasm.EXPORT_FUNC, run)
    return module.encode()


class Population:
    """Compiled organisms in slots ``0 .. capacity-1``, each with ``layout.memory`` bytes.

    ``memory[s]`` is slot ``s``'s memory as a writable numpy row (the context lives at its
    start); ``run`` steps a list of slots with their budgets."""

    def __init__(self, layout: Layout, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.layout = layout
        self.capacity = capacity
        self.host = capacity * layout.memory
        need = self.host + 4 * (_HOST_ARRAYS * capacity + 1)
        self.pages = -(-need // PAGE)
        if self.pages > MAX_PAGES:
            raise ConfigError(f"{capacity} organisms of {layout.memory} bytes of memory do "
                              "not fit in one wasm memory (4 GiB): give them less memory")
        self.genomes: list[ir.WasmGenome | None] = [None] * capacity
        self.living = 0
        """Slots holding a genome (kept by ``set`` and ``clear``, not counted: a count of a
        list of dataclasses compares every one with None)."""
        self.faults = 0
        """Rounds that trapped (never expected: compiled IR cannot trap) and were resumed."""
        self._build(None)

    # ---- the store -------------------------------------------------------------------------

    def _build(self, old: np.ndarray | None) -> None:
        store = wasmtime.Store(engine())
        store.set_limits(instances=2 * self.capacity + 4096, tables=4, memories=4,
                         table_elements=self.capacity)
        self._store = store
        self._memory = wasmtime.Memory(store, wasmtime.MemoryType(
            wasmtime.Limits(self.pages, self.pages)))
        self._table = wasmtime.Table(store, wasmtime.TableType(
            wasmtime.ValType.funcref(), wasmtime.Limits(self.capacity, self.capacity)), None)
        self._gas = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), True),
                                    wasmtime.Val.i32(0))
        self._depth = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), True),
                                      wasmtime.Val.i32(0))
        driver = wasmtime.Module(engine(), _driver(self.pages, self.host, self.capacity,
                                                   self.layout.memory))
        instance = wasmtime.Instance(store, driver, [self._memory, self._table, self._gas,
                                                     self._depth])
        self._run = instance.exports(store)["run"]
        size = self._memory.data_len(store)
        raw = ctypes.cast(self._memory.data_ptr(store), ctypes.POINTER(ctypes.c_ubyte))
        self._bytes = np.ctypeslib.as_array(raw, shape=(size,))
        self.memory = self._bytes[:self.host].reshape(self.capacity, self.layout.memory)
        words = self._bytes[self.host:self.host + 4 * _HOST_ARRAYS * self.capacity]
        self._host = words.view("<i4").reshape(_HOST_ARRAYS, self.capacity)
        self._instances = 0
        self._exports: dict[int, tuple[wasmtime.Module, Any]] = {}
        """This store's instance of each module, by ``id(module)`` (the module is kept, so
        its id is not reused): the modules hold no state of their own -- memory and globals
        are imported, the organism's place comes as ``base`` -- so the slots of every genome
        a module compiles call one instance's functions."""
        if old is not None:
            self.memory[:] = old
        self._instantiate([(slot, g) for slot, g in enumerate(self.genomes) if g is not None])

    def _instantiate(self, placed: list[tuple[int, ir.WasmGenome]]) -> None:
        """Put each genome's ``step`` into its slot of the table: one instance per module."""
        if not placed:
            return
        where = compiled([g for _, g in placed], self.layout)
        for (slot, _), (module, name) in zip(placed, where):
            known = self._exports.get(id(module))
            if known is None:
                instance = wasmtime.Instance(self._store, module, [self._memory, self._gas,
                                                                  self._depth])
                known = self._exports[id(module)] = (module, instance.exports(self._store))
                self._instances += 1
            self._table.set(self._store, slot, known[1][name])

    def _tidy(self) -> None:
        """Start a fresh store once dead instances outnumber the living ones (a store frees
        nothing until it is dropped)."""
        if self._instances > 2 * self.living + 1024:
            self._build(self.memory.copy())

    # ---- organisms --------------------------------------------------------------------------

    def set(self, slots, genomes: list[ir.WasmGenome]) -> None:
        """Place ``genomes`` in ``slots`` with zeroed memory (compiled together)."""
        placed = [(int(s), g) for s, g in zip(slots, genomes)]
        for slot, genome in placed:
            self.memory[slot] = 0
            self.living += self.genomes[slot] is None
            self.genomes[slot] = genome
        self._instantiate(placed)
        self._tidy()

    def clear(self, slot: int) -> None:
        """Empty ``slot`` (its memory is zeroed; its table entry is never called again)."""
        self.living -= self.genomes[slot] is not None
        self.genomes[slot] = None
        self.memory[slot] = 0

    def resized(self, capacity: int) -> Population:
        """A population with room for ``capacity`` organisms holding these, memories and all."""
        bigger = Population(self.layout, capacity)
        bigger.faults = self.faults
        keep = min(capacity, self.capacity)
        bigger.memory[:keep] = self.memory[:keep]
        bigger.genomes[:keep] = self.genomes[:keep]
        bigger.living = sum(g is not None for g in bigger.genomes)
        bigger._instantiate([(s, g) for s, g in enumerate(bigger.genomes) if g is not None])
        return bigger

    # ---- a round -----------------------------------------------------------------------------

    def run(self, slots: np.ndarray, budget: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step the organisms in ``slots`` (each must hold one) with their ``budget``s, in
        slot-list order. Returns per listed slot the action code (0 if it halted), the gas
        left, and whether it halted (out of gas, or too deep)."""
        slots = np.asarray(slots, dtype=np.int64)
        n = len(slots)
        host = self._host
        host[0, :n] = slots
        host[1, slots] = np.clip(budget, 0, (1 << 31) - 1)
        start = 0
        while start < n:
            try:
                self._run(self._store, start, n)
                start = n
            except wasmtime.Trap:  # a backstop: compiled IR has no trapping instruction
                i = int(self._bytes[self.host + 4 * _HOST_ARRAYS * self.capacity:][:4]
                        .view("<i4")[0])
                s = int(slots[i])
                host[2, s], host[3, s], host[4, s] = 0, 0, 1
                self.faults += 1
                start = i + 1
        return host[2, slots].copy(), host[3, slots].copy(), host[4, slots].astype(bool)
