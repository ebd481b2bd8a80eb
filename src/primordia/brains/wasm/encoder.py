"""A small WebAssembly binary writer: just what the IR compiler emits, byte for byte the same
on every machine (no toolchain, no text round trip).

The module is built from parts (types, imports, functions with their code, exports) and
``Module.encode`` writes the sections in the order the binary format requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field

I32, I64 = 0x7F, 0x7E
FUNCREF = 0x70
VOID = 0x40


def uleb(n: int) -> bytes:
    """Unsigned LEB128."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(n: int) -> bytes:
    """Signed LEB128."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def name(text: str) -> bytes:
    raw = text.encode()
    return uleb(len(raw)) + raw


def vector(items) -> bytes:
    items = list(items)
    return uleb(len(items)) + b"".join(items)


class Code:
    """An instruction sequence being written (opcodes from the core specification)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def op(self, *codes: int) -> Code:
        self.buf += bytes(codes)
        return self

    def i32(self, value: int) -> Code:
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)
        self.buf.append(0x41)
        self.buf += sleb(value)
        return self

    def get(self, local: int) -> Code:
        self.buf.append(0x20)
        self.buf += uleb(local)
        return self

    def set(self, local: int) -> Code:
        self.buf.append(0x21)
        self.buf += uleb(local)
        return self

    def tee(self, local: int) -> Code:
        self.buf.append(0x22)
        self.buf += uleb(local)
        return self

    def global_get(self, index: int) -> Code:
        self.buf.append(0x23)
        self.buf += uleb(index)
        return self

    def global_set(self, index: int) -> Code:
        self.buf.append(0x24)
        self.buf += uleb(index)
        return self

    def load(self, offset: int = 0, align: int = 2) -> Code:
        self.buf.append(0x28)
        self.buf += uleb(align) + uleb(offset)
        return self

    def load8_u(self, offset: int = 0) -> Code:
        self.buf.append(0x2D)
        self.buf += uleb(0) + uleb(offset)
        return self

    def store(self, offset: int = 0, align: int = 2) -> Code:
        self.buf.append(0x36)
        self.buf += uleb(align) + uleb(offset)
        return self

    def store8(self, offset: int = 0) -> Code:
        self.buf.append(0x3A)
        self.buf += uleb(0) + uleb(offset)
        return self

    def block(self, result: int = VOID) -> Code:
        return self.op(0x02, result)

    def loop(self, result: int = VOID) -> Code:
        return self.op(0x03, result)

    def if_(self, result: int = VOID) -> Code:
        return self.op(0x04, result)

    def else_(self) -> Code:
        return self.op(0x05)

    def end(self) -> Code:
        return self.op(0x0B)

    def br(self, depth: int) -> Code:
        self.buf.append(0x0C)
        self.buf += uleb(depth)
        return self

    def br_if(self, depth: int) -> Code:
        self.buf.append(0x0D)
        self.buf += uleb(depth)
        return self

    def call(self, func: int) -> Code:
        self.buf.append(0x10)
        self.buf += uleb(func)
        return self

    def call_indirect(self, type_index: int, table: int = 0) -> Code:
        self.buf.append(0x11)
        self.buf += uleb(type_index) + uleb(table)
        return self


# numeric opcodes used by the compiler
OP = {
    "eqz": 0x45, "eq": 0x46, "ne": 0x47, "lt_s": 0x48, "lt_u": 0x49, "gt_s": 0x4A,
    "gt_u": 0x4B, "le_s": 0x4C, "le_u": 0x4D, "ge_s": 0x4E, "ge_u": 0x4F,
    "clz": 0x67, "ctz": 0x68, "popcnt": 0x69, "add": 0x6A, "sub": 0x6B, "mul": 0x6C,
    "div_s": 0x6D, "div_u": 0x6E, "rem_s": 0x6F, "rem_u": 0x70, "and": 0x71, "or": 0x72,
    "xor": 0x73, "shl": 0x74, "shr_s": 0x75, "shr_u": 0x76, "rotl": 0x77, "rotr": 0x78,
    "select": 0x1B, "drop": 0x1A,
}


@dataclass
class Function:
    type_index: int
    locals: list[tuple[int, int]]  # (count, value type) runs
    code: bytes


@dataclass
class Module:
    """A module under construction; indices follow the specification (imported functions
    and globals come first)."""

    types: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    imports: list[bytes] = field(default_factory=list)
    n_imported_funcs: int = 0
    n_imported_globals: int = 0
    functions: list[Function] = field(default_factory=list)
    memories: list[bytes] = field(default_factory=list)
    globals: list[bytes] = field(default_factory=list)
    exports: list[bytes] = field(default_factory=list)

    def type(self, params: tuple[int, ...], results: tuple[int, ...]) -> int:
        sig = (tuple(params), tuple(results))
        if sig not in self.types:
            self.types.append(sig)
        return self.types.index(sig)

    def import_func(self, module: str, field_name: str, type_index: int) -> int:
        self.imports.append(name(module) + name(field_name) + b"\x00" + uleb(type_index))
        self.n_imported_funcs += 1
        return self.n_imported_funcs - 1

    def import_memory(self, module: str, field_name: str, pages: int) -> None:
        self.imports.append(name(module) + name(field_name) + b"\x02\x00" + uleb(pages))

    def import_table(self, module: str, field_name: str, size: int) -> None:
        self.imports.append(name(module) + name(field_name) + bytes((0x01, FUNCREF, 0x00))
                            + uleb(size))

    def import_global(self, module: str, field_name: str, mutable: bool = True) -> int:
        self.imports.append(name(module) + name(field_name) + bytes((0x03, I32, int(mutable))))
        self.n_imported_globals += 1
        return self.n_imported_globals - 1

    def add_memory(self, pages: int, maximum: int | None = None) -> None:
        if maximum is None:
            self.memories.append(b"\x00" + uleb(pages))
        else:
            self.memories.append(b"\x01" + uleb(pages) + uleb(maximum))

    def add_global_i32(self, value: int = 0, mutable: bool = True) -> int:
        self.globals.append(bytes((I32, int(mutable))) + b"\x41" + sleb(value) + b"\x0b")
        return self.n_imported_globals + len(self.globals) - 1

    def add_function(self, type_index: int, locals: list[tuple[int, int]], code: bytes) -> int:
        self.functions.append(Function(type_index, locals, code))
        return self.n_imported_funcs + len(self.functions) - 1

    def export(self, field_name: str, kind: int, index: int) -> None:
        self.exports.append(name(field_name) + bytes((kind,)) + uleb(index))

    def encode(self) -> bytes:
        out = bytearray(b"\x00asm\x01\x00\x00\x00")

        def section(section_id: int, payload: bytes) -> None:
            out.append(section_id)
            out.extend(uleb(len(payload)) + payload)

        section(1, vector(b"\x60" + vector(bytes((t,)) for t in params)
                          + vector(bytes((t,)) for t in results)
                          for params, results in self.types))
        if self.imports:
            section(2, vector(self.imports))
        section(3, vector(uleb(f.type_index) for f in self.functions))
        if self.memories:
            section(5, vector(self.memories))
        if self.globals:
            section(6, vector(self.globals))
        if self.exports:
            section(7, vector(self.exports))
        bodies = []
        for f in self.functions:
            body = vector(uleb(count) + bytes((vtype,)) for count, vtype in f.locals)
            body += f.code + b"\x0b"
            bodies.append(uleb(len(body)) + body)
        section(10, vector(bodies))
        return bytes(out)


EXPORT_FUNC, EXPORT_MEMORY = 0, 2
