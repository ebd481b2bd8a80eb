"""wasm IR text <-> genome: the ``.wir`` assembler and a disassembler that round-trips.

Syntax (docs/brains/wasm.md, "Text form")::

    ; a comment runs to the end of the line; blank lines are fine
    func step params=0 results=1 locals=4    a header starts a function (keys in any order)
      sense r0 2                             one instruction a line: mnemonic, then operands
      call helper r1 r0                      functions as fN or by the name in their header
    func helper params=1 results=1           defaults: params=0, results=1 for function 0
      return r0                              and 0 for the rest, locals=max(params, 1)

Operands are written by kind: locals ``rN``; functions ``fN`` or a header's name; constants,
offsets, branch depths and sensor/action indices as numbers (decimal or ``0x`` hex, with an
optional sign). Unused operands are left out (``block``, ``end``), but ``call`` always takes
its three and ``return`` its one (a bare ``return`` in a function without a result means
``return r0``). Mnemonics, ``func``, header keys and the ``r``/``f`` prefixes ignore case;
names do not. Commas may separate operands. Every error is an AssemblyError naming the line
and the token. ``disassemble`` writes the canonical text (functions ``f0``, ``f1``, ...,
every header key, two spaces of indent per open block), and
``assemble(disassemble(g)) == g`` for every valid genome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from primordia.core.errors import AssemblyError, GenomeError

from .ir import (BY_NAME, ELSE, END, MAX_FUNCS, MAX_INSTRS, MAX_LOCALS, MAX_PARAMS,
                 OPENERS, RETURN, Function, Instr, WasmGenome, validate)

MAX_TEXT = 1 << 20
"""Longest text ``assemble`` reads, in characters (1 MiB): a genome at every cap, one
instruction a line with a comment on each, fits well within it."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_REGISTER = re.compile(r"^[rR]([0-9]+)$")
_FUNC_INDEX = re.compile(r"^[fF]([0-9]+)$")
_NUMBER = re.compile(r"^[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)$")
_MAX_NUMBER_TEXT = 24
"""A numeric token longer than this is out of every range; it is refused unparsed."""

_KIND_WORDS = {"L": "a local (rN)", "I": "a constant", "O": "an offset (0..65535)",
               "D": "a branch depth", "F": "a function (fN or its name)",
               "K": "a sensor or action index (0..255)"}
_HEADER_KEYS = ("params", "results", "locals")
_GENOME_ERROR_AT = re.compile(r"^function (\d+)(?:, instruction (\d+))?: (.*)$", re.S)


# --- parsed text --------------------------------------------------------------------------------

@dataclass
class _Line:
    number: int
    tokens: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass
class _Func:
    header: _Line
    name: str | None
    params: int
    results: int
    locals: int
    lines: list[_Line] = field(default_factory=list)


def _error(message: str, line: int | None, token: str | None, source: str | None
           ) -> AssemblyError:
    return AssemblyError(message, line=line, token=token, source=source)


# --- assembler ----------------------------------------------------------------------------------

def assemble(text: str, source: str | None = None) -> WasmGenome:
    """Assemble ``.wir`` text into a checked genome; ``source`` (a file name) prefixes error
    messages."""
    if len(text) > MAX_TEXT:
        raise _error(f"the text is {len(text)} characters; the limit is {MAX_TEXT} (1 MiB)",
                     None, None, source)
    funcs = _parse(text, source)
    names = {f.name: i for i, f in enumerate(funcs) if f.name is not None}
    built = []
    for fi, f in enumerate(funcs):
        body = tuple(_instruction(ln, f, fi, funcs, names, source) for ln in f.lines)
        built.append(Function(f.params, f.results, f.locals, body))
    genome = WasmGenome(tuple(built))
    try:
        validate(genome)
    except GenomeError as e:
        raise _placed(str(e), funcs, source) from None
    return genome


def _parse(text: str, source: str | None) -> list[_Func]:
    """Lines -> functions: headers parsed, instruction lines tokenized and counted."""
    funcs: list[_Func] = []
    total = 0
    for number, raw in enumerate(text.split("\n"), start=1):    # numbered as editors do
        tokens = raw.split(";", 1)[0].replace(",", " ").split()
        if not tokens:
            continue
        line = _Line(number, tokens)
        if tokens[0].lower() == "func":
            if len(funcs) == MAX_FUNCS:
                raise _error(f"more than {MAX_FUNCS} functions", number, tokens[0], source)
            funcs.append(_header(line, len(funcs), funcs, source))
        elif not funcs:
            raise _error("an instruction before the first function header (start with "
                         "'func step params=0 results=1 locals=N')", number, tokens[0], source)
        else:
            total += 1
            if total > MAX_INSTRS:
                raise _error(f"more than {MAX_INSTRS} instructions in the genome", number,
                             tokens[0], source)
            funcs[-1].lines.append(line)
    if not funcs:
        raise _error("no functions: a genome starts with a header such as "
                     "'func step params=0 results=1 locals=4'", None, None, source)
    return funcs


def _header(line: _Line, index: int, funcs: list[_Func], source: str | None) -> _Func:
    """``func [NAME] key=value ...`` with keys params, results, locals."""
    number = line.number
    rest = line.tokens[1:]
    name = None
    if rest and "=" not in rest[0]:
        name = rest.pop(0)
        if not _NAME.match(name):
            raise _error("bad function name (letters, digits, _ and .; not starting with "
                         "a digit)", number, name, source)
        own = _FUNC_INDEX.match(name)
        if _REGISTER.match(name) or (own and (len(own.group(1)) > 3
                                              or int(own.group(1)) != index)):
            raise _error(f"a function name cannot look like a local or another function "
                         f"(this is f{index})", number, name, source)
        if any(f.name == name for f in funcs):
            raise _error("function name defined twice", number, name, source)
    values: dict[str, int] = {}
    for tok in rest:
        key, sep, value = tok.partition("=")
        key = key.lower()
        if not sep or key not in _HEADER_KEYS:
            raise _error("expected params=N, results=N or locals=N", number, tok, source)
        if key in values:
            raise _error(f"{key} given twice", number, tok, source)
        n = _number(value)
        if n is None:
            raise _error(f"{key} needs a number", number, tok, source)
        limit = {"params": MAX_PARAMS, "results": 1, "locals": MAX_LOCALS}[key]
        if not (1 if key == "locals" else 0) <= n <= limit:
            raise _error(f"{key} must be in {1 if key == 'locals' else 0}..{limit}", number,
                         tok, source)
        values[key] = n
    params = values.get("params", 0)
    results = values.get("results", 1 if index == 0 else 0)
    n_locals = values.get("locals", max(params, 1))
    if index == 0 and (params, results) != (0, 1):
        raise _error("function 0 is step: it takes no parameters and returns the action "
                     "code (params=0 results=1)", number, line.tokens[0], source)
    if n_locals < params:
        raise _error(f"locals ({n_locals}) must count the {params} parameters too", number,
                     f"locals={n_locals}", source)
    return _Func(line, name, params, results, n_locals)


def _instruction(line: _Line, f: _Func, fi: int, funcs: list[_Func], names: dict[str, int],
                 source: str | None) -> Instr:
    """One instruction line -> Instr; operands checked for kind and range."""
    number = line.number
    head, args = line.tokens[0], line.tokens[1:]
    spec = BY_NAME.get(head.lower())
    if spec is None:
        raise _error("unknown mnemonic", number, head, source)
    kinds = spec.operands
    if spec.code == RETURN and not args and f.results == 0:
        return Instr(RETURN, 0)                   # a bare return: nothing to return
    if len(args) != len(kinds):
        want = ", ".join(_KIND_WORDS[k] for k in kinds) or "no operands"
        token = args[len(kinds)] if len(args) > len(kinds) else head
        raise _error(f"{spec.name} takes {len(kinds)} operand(s) ({want}), not {len(args)}"
                     + (f"; e.g. {_example(spec.name, kinds)}" if kinds else ""),
                     number, token, source)
    values = [_operand(kind, tok, number, f, fi, funcs, names, source)
              for kind, tok in zip(kinds, args)]
    return Instr(spec.code, *values)


def _example(name: str, kinds: str) -> str:
    sample = {"L": "r0", "I": "5", "O": "0", "D": "0", "F": "f1", "K": "0"}
    return " ".join([name, *(sample[k] for k in kinds)])


def _operand(kind: str, tok: str, number: int, f: _Func, fi: int, funcs: list[_Func],
             names: dict[str, int], source: str | None) -> int:
    if kind == "L":
        m = _REGISTER.match(tok)
        if m is None:
            raise _error("expected a local (rN)", number, tok, source)
        value = int(m.group(1)) if len(m.group(1)) <= 3 else MAX_LOCALS
        if value >= f.locals:
            raise _error(f"local {tok} does not exist: function f{fi} has {f.locals} "
                         f"locals (r0..r{f.locals - 1}); raise locals= in its header",
                         number, tok, source)
        return value
    if kind == "F":
        m = _FUNC_INDEX.match(tok)
        if m is not None:
            value = int(m.group(1)) if len(m.group(1)) <= 3 else MAX_FUNCS
            if value >= len(funcs):
                raise _error(f"function f{value} does not exist (the genome has "
                             f"{len(funcs)}: f0..f{len(funcs) - 1})", number, tok, source)
            return value
        if tok in names:
            return names[tok]
        if _NAME.match(tok):
            raise _error("undefined function name", number, tok, source)
        raise _error("expected a function (fN or its name)", number, tok, source)
    value = _number(tok)
    if value is None:
        raise _error(f"expected {_KIND_WORDS[kind]}, a number", number, tok, source)
    if kind == "I":
        # as in WAT, a constant may be written signed or as its 32 bits unsigned
        if not -(1 << 31) <= value < (1 << 32):
            raise _error("constant out of range (-2147483648..4294967295, taken as i32)",
                         number, tok, source)
        return value - (1 << 32) if value >= (1 << 31) else value
    top = 65535 if kind == "O" else 255
    if not 0 <= value <= top:
        what = {"O": "offset", "D": "branch depth", "K": "sensor/action index"}[kind]
        raise _error(f"{what} out of range (0..{top})", number, tok, source)
    return value


def _number(tok: str) -> int | None:
    """A decimal or 0x-hex integer with an optional sign; None if ``tok`` is not one. An
    overlong token gives a value outside every range rather than a long parse."""
    if not _NUMBER.match(tok):
        return None
    sign = -1 if tok[0] == "-" else 1
    digits = tok.lstrip("+-")
    if len(digits) > _MAX_NUMBER_TEXT:
        return sign * (1 << 64)
    if digits[:2].lower() == "0x":
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


def _placed(message: str, funcs: list[_Func], source: str | None) -> AssemblyError:
    """A GenomeError from ``validate`` as an AssemblyError on the line it is about."""
    m = _GENOME_ERROR_AT.match(message)
    if m is None or int(m.group(1)) >= len(funcs):
        return _error(message, None, None, source)
    fi = int(m.group(1))
    f = funcs[fi]
    where = f"function f{fi}" + (f" ({f.name})" if f.name and f.name != f"f{fi}" else "")
    if m.group(2) is not None and int(m.group(2)) < len(f.lines):
        line = f.lines[int(m.group(2))]
        return _error(f"{m.group(3)} (in {where})", line.number, line.text, source)
    if "not closed" in m.group(3):
        opener = _innermost_unclosed(f)
        if opener is not None:
            return _error(f"no end for this {opener.tokens[0].lower()} ({m.group(3)} in "
                          f"{where})", opener.number, opener.text, source)
    return _error(f"{where}: {m.group(3)}", f.header.number, f.header.text, source)


def _innermost_unclosed(f: _Func) -> _Line | None:
    stack: list[_Line] = []
    for line in f.lines:
        spec = BY_NAME.get(line.tokens[0].lower())
        if spec is not None and spec.code in OPENERS:
            stack.append(line)
        elif spec is not None and spec.code == END and stack:
            stack.pop()
    return stack[-1] if stack else None


# --- disassembler -------------------------------------------------------------------------------

def disassemble(genome: WasmGenome) -> str:
    """The canonical text of a valid genome (GenomeError if it is not one): a full header per
    function, named ``f0``, ``f1``, ...; a blank line between functions; instructions
    indented two spaces per open block, ``else`` and ``end`` level with their opener."""
    validate(genome)
    out: list[str] = []
    for fi, fn in enumerate(genome.functions):
        if fi:
            out.append("")
        out.append(f"func f{fi} params={fn.params} results={fn.results} locals={fn.locals}")
        depth = 1
        for ins in fn.body:
            if ins.op in (ELSE, END):
                depth -= 1
            out.append("  " * depth + instruction_text(ins))
            if ins.op in OPENERS or ins.op == ELSE:
                depth += 1
    return "\n".join(out) + "\n"


def instruction_text(ins: Instr) -> str:
    """One instruction in canonical text: ``add r0 r1 r2``, ``call f2 r0 r1``, ``block``."""
    spec = ins.spec
    parts = [spec.name]
    for kind, value in zip(spec.operands, (ins.a, ins.b, ins.c)):
        parts.append(f"r{value}" if kind == "L" else f"f{value}" if kind == "F" else str(value))
    return " ".join(parts)

