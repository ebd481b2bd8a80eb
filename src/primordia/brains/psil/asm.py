r"""micro-PSIL text <-> bytes: the ``.mpsil`` assembler and a disassembler that round-trips.

Syntax (one instruction per line; the reference sandbox's assembler plus Primordia's additions)::

    ; comment, % comment          tokens split on whitespace or commas; mnemonics ignore case
    top:  r0@ food_dir           labels ``name:`` alone or before an instruction
          10                     numbers 0..31 -> 1 byte, 32..255 -> push.b, int16 -> push.w
          <                      aliases from opcodes.ALIASES (+ - * / = < > i times @ ! ...)
          jz top                 jumps take a number or a label (relative to the next pc)
          'health  health  sym.7 symbols push their slot number
          [3]  [fact]            quotation refs; names come from QUOT blocks
          "hi"  string "hi"      E0 len bytes (escapes \\ \" \n \t \r \0 \xHH)
          db 0x9c, 7             raw bytes: reserved opcodes, truncated code, anything else
    INLINE ... ENDINLINE         an E3 block, assembled in place (its labels are its own)
    QUOT name [index] ... ENDQUOT   a quotation body (also DEFINE ... ENDDEF), anywhere

Operands are checked strictly (u8 0..255, locals 0..15, s16 -32768..32767); every error is an
AssemblyError naming the line and the token. ``disassemble`` writes the canonical form of each
instruction and ``db`` for anything else, so assembling its output gives back the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from primordia.core.errors import AssemblyError

from . import opcodes as op
from .genome import PsilGenome
from .opcodes import OPCODES, Form, form_of

MAX_DATA = 255
"""Largest string or inline block: its length is one byte."""

# --- mnemonic tables, derived from opcodes.py ------------------------------------------------

_MNEMONICS: dict[str, int] = {info.mnemonic.lower(): info.code for info in OPCODES if info.mnemonic}
_MNEMONICS.update({alias.lower(): code for alias, code in op.ALIASES.items()})
for _i, _name in enumerate(op.SYMBOL_NAMES):
    _MNEMONICS.setdefault(_name, op.SYMBOL_BASE + _i)           # bare symbol: health
for _i in range(32):
    _MNEMONICS.setdefault(f"sym.{_i}", op.SYMBOL_BASE + _i)      # any symbol slot: sym.7
    _MNEMONICS.setdefault(f"'sym.{_i}", op.SYMBOL_BASE + _i)

_ACT_OPTIONAL = frozenset(c for c in op.ACTIONS if c != op.ACT_MOVE)   # operand defaults to 0
_LOCAL_OPS = frozenset((op.LOCAL, op.LOCAL_SET))
_SHORT_JUMPS = frozenset((op.JMP, op.JMP_BACK, op.JZ, op.JNZ))
_FAR_JUMPS = frozenset((op.JMP_FAR, op.JZ_FAR, op.CALL_FAR))
_SLOT_NAMES = {op.R0_READ: op.RING0_NAMES, op.R1_READ: op.RING1_NAMES,
               op.R1_WRITE: op.RING1_NAMES}

_QUOT_OPEN = ("quot", "define")
_QUOT_CLOSE = ("endquot", "enddef")
_INLINE_OPEN, _INLINE_CLOSE = "inline", "endinline"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_NUMBER_START = re.compile(r"^[+-]?[0-9]")
_BASES = {"0x": 16, "0o": 8, "0b": 2}
_ESCAPES = {"\\": 0x5C, '"': 0x22, "n": 0x0A, "t": 0x09, "r": 0x0D, "0": 0x00}


# --- tokens and statements --------------------------------------------------------------------

class _Token(NamedTuple):
    """One token as written; ``data`` holds the bytes of a ``"string"`` token, else None."""

    text: str
    data: bytes | None = None


@dataclass
class _Instr:
    line: int
    tokens: list[_Token]


@dataclass
class _Label:
    line: int
    token: _Token


@dataclass
class _Inline:
    line: int
    word: str                 # the keyword as written, for messages
    body: list = field(default_factory=list)


@dataclass
class _Quot:
    line: int
    word: str
    name: str
    index: int | None
    body: list = field(default_factory=list)


@dataclass
class _Fixup:
    """A label operand resolved once the block's labels are known."""

    at: int           # offset of the instruction in the block
    size: int         # 2 or 3
    opcode: int
    mnemonic: str
    label: _Token
    line: int


class _Context:
    """What every block of one assembly shares: the source name and the quotation indices."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.quotation_index: dict[str, int] = {}

    def error(self, message: str, line: int | None, token: str | None = None) -> AssemblyError:
        return AssemblyError(message, line=line, token=token, source=self.source)


# --- assembler ----------------------------------------------------------------------------------

def assemble(text: str, source: str | None = None) -> PsilGenome:
    """Assemble ``.mpsil`` text; ``source`` (a file name) prefixes error messages."""
    ctx = _Context(source)
    main, quots, first_seen = _parse(text, ctx)
    ctx.quotation_index = _number_quotations(quots, first_seen, ctx)
    code = _assemble_block(main, ctx)
    bodies = tuple((ctx.quotation_index[q.name], _assemble_block(q.body, ctx)) for q in quots)
    return PsilGenome(code, bodies)


def _parse(text: str, ctx: _Context) -> tuple[list, list[_Quot], list[str]]:
    """Lines -> statement trees: main code, QUOT blocks, quotation names by first appearance."""
    main: list = []
    quots: list[_Quot] = []
    first_seen: list[str] = []
    open_blocks: list[_Inline | _Quot] = []      # innermost last
    for number, line in enumerate(text.split("\n"), start=1):   # numbered as editors do
        tokens = _tokenize(line, number, ctx)
        target = open_blocks[-1].body if open_blocks else main
        while tokens and tokens[0].data is None and tokens[0].text.endswith(":"):
            name = tokens[0].text[:-1]
            if not _NAME.match(name):
                raise ctx.error("bad label name (letters, digits, _ and .)", number,
                                tokens[0].text)
            target.append(_Label(number, _Token(name)))
            tokens = tokens[1:]
        if not tokens:
            continue
        head = tokens[0].text.lower() if tokens[0].data is None else ""
        if head in _QUOT_OPEN:
            if open_blocks:
                raise ctx.error(f"{tokens[0].text} inside a block: close it first", number,
                                tokens[0].text)
            if target and isinstance(target[-1], _Label) and target[-1].line == number:
                raise ctx.error("a label cannot stand on a QUOT line", number,
                                target[-1].token.text + ":")
            quot = _quot_header(tokens, number, ctx)
            if any(q.name == quot.name for q in quots):
                raise ctx.error("quotation defined twice", number, tokens[1].text)
            _note_name(quot.name, first_seen)
            quots.append(quot)
            open_blocks.append(quot)
        elif head in _QUOT_CLOSE or head == _INLINE_CLOSE:
            want = _Quot if head in _QUOT_CLOSE else _Inline
            if not open_blocks or not isinstance(open_blocks[-1], want):
                raise ctx.error(f"{tokens[0].text} without a matching "
                                f"{'QUOT' if want is _Quot else 'INLINE'}", number,
                                tokens[0].text)
            _no_operands(tokens, number, ctx)
            open_blocks.pop()
        elif head == _INLINE_OPEN:
            _no_operands(tokens, number, ctx)
            block = _Inline(number, tokens[0].text)
            target.append(block)
            open_blocks.append(block)
        else:
            for tok in tokens:
                ref = _quotation_ref(tok)
                if ref is not None and not _NUMBER_START.match(ref):
                    _note_name(ref.lower(), first_seen)
            target.append(_Instr(number, tokens))
    if open_blocks:
        block = open_blocks[-1]
        kind = ("QUOT block (no ENDQUOT)" if isinstance(block, _Quot)
                else "INLINE block (no ENDINLINE)")
        raise ctx.error(f"unterminated {kind}", block.line, block.word)
    return main, quots, first_seen


def _tokenize(line: str, number: int, ctx: _Context) -> list[_Token]:
    """Split one line: whitespace and commas separate; ; and % start a comment outside strings."""
    tokens: list[_Token] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace() or c == ",":
            i += 1
        elif c in ";%":
            break
        elif c == '"':
            start = i
            data, i = _read_string(line, i + 1, number, ctx)
            tokens.append(_Token(line[start:i], data))
        else:
            start = i
            while i < n and not (line[i].isspace() or line[i] in ',;%"'):
                i += 1
            tokens.append(_Token(line[start:i]))
    return tokens


def _read_string(line: str, i: int, number: int, ctx: _Context) -> tuple[bytes, int]:
    """Bytes of a string literal starting after its opening quote; returns (data, end)."""
    start = i - 1
    out = bytearray()
    while True:
        if i >= len(line):
            raise ctx.error("unterminated string", number, line[start:])
        c = line[i]
        if c == '"':
            return bytes(out), i + 1
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        esc = line[i + 1:i + 2]
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        elif esc == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", line[i + 2:i + 4]):
            out.append(int(line[i + 2:i + 4], 16))
            i += 4
        else:
            raise ctx.error("bad escape in string (\\\\ \\\" \\n \\t \\r \\0 \\xHH)", number,
                            line[i:i + 4])


def _quot_header(tokens: list[_Token], number: int, ctx: _Context) -> _Quot:
    """``QUOT name [index]`` (or ``QUOT index``)."""
    if len(tokens) < 2:
        raise ctx.error("missing quotation name after", number, tokens[0].text)
    if len(tokens) > 3:
        raise ctx.error("unexpected token after QUOT name and index", number, tokens[3].text)
    name_tok = tokens[1]
    index_tok = tokens[2] if len(tokens) == 3 else None
    if index_tok is None and _NUMBER_START.match(name_tok.text):
        index_tok = name_tok                     # QUOT 3: an unnamed quotation at index 3
    elif name_tok.data is not None or not _NAME.match(name_tok.text):
        raise ctx.error("bad quotation name (letters, digits, _ and .)", number, name_tok.text)
    index = None
    if index_tok is not None:
        index = _number(index_tok, number, ctx)
        if not 0 <= index < op.QUOTATION_TABLE:
            raise ctx.error(f"quotation index out of range 0..{op.QUOTATION_TABLE - 1}", number,
                            index_tok.text)
    name = f"#{index}" if index_tok is name_tok else name_tok.text.lower()
    return _Quot(number, tokens[0].text, name, index)


def _note_name(name: str, first_seen: list[str]) -> None:
    if name not in first_seen:
        first_seen.append(name)


def _no_operands(tokens: list[_Token], number: int, ctx: _Context) -> None:
    if len(tokens) > 1:
        raise ctx.error(f"unexpected operand after {tokens[0].text}", number, tokens[1].text)


def _number_quotations(quots: list[_Quot], first_seen: list[str],
                       ctx: _Context) -> dict[str, int]:
    """Explicit indices first; the rest take the lowest free index in order of first appearance."""
    index: dict[str, int] = {}
    owner: dict[int, _Quot] = {}
    for q in quots:
        if q.index is not None:
            if q.index in owner:
                raise ctx.error(f"quotation index {q.index} already used on line "
                                f"{owner[q.index].line}", q.line, str(q.index))
            owner[q.index] = q
            index[q.name] = q.index
    defined = {q.name: q for q in quots}
    free = (i for i in range(op.QUOTATION_TABLE) if i not in owner)
    for name in first_seen:
        q = defined.get(name)
        if q is not None and q.index is None:
            i = next(free, None)
            if i is None:
                raise ctx.error(f"more than {op.QUOTATION_TABLE} quotations", q.line, name)
            index[name] = i
    return index


def _assemble_block(stmts: list, ctx: _Context) -> bytes:
    """Encode one block (main code, a quotation body or an inline body); labels are local."""
    out = bytearray()
    labels: dict[str, tuple[int, int]] = {}      # name -> (offset, line)
    fixups: list[_Fixup] = []
    for st in stmts:
        if isinstance(st, _Label):
            key = st.token.text.lower()
            if key in labels:
                raise ctx.error(f"duplicate label (first defined on line {labels[key][1]})",
                                st.line, st.token.text)
            labels[key] = (len(out), st.line)
        elif isinstance(st, _Inline):
            body = _assemble_block(st.body, ctx)
            if len(body) > MAX_DATA:
                raise ctx.error(f"inline block is {len(body)} bytes; the limit is {MAX_DATA}",
                                st.line, st.word)
            out += bytes((op.INLINE, len(body))) + body
        else:
            encoded = _encode(st, len(out), ctx)
            if isinstance(encoded, _Fixup):
                fixups.append(encoded)
                out += bytes(encoded.size)
            else:
                out += encoded
    for fx in fixups:
        out[fx.at:fx.at + fx.size] = _resolve(fx, labels, ctx)
    return bytes(out)


def _encode(st: _Instr, at: int, ctx: _Context) -> bytes | _Fixup:
    """Bytes of one instruction line, or a fixup when its operand is a label."""
    head, rest, line = st.tokens[0], st.tokens[1:], st.line
    if head.data is not None:                    # "text"
        _extra(rest, 0, line, ctx)
        return _string(head, line, ctx)
    word = head.text.lower()
    if word == "db":
        if not rest:
            raise ctx.error("missing operand for db (bytes 0..255)", line, head.text)
        return bytes(_ranged(t, 0, 255, line, ctx, "db byte") for t in rest)
    code = _MNEMONICS.get(word)
    if code is None:
        ref = _quotation_ref(head)
        if ref is not None:
            _extra(rest, 0, line, ctx)
            return _quotation(head, ref, line, ctx)
        if _NUMBER_START.match(word):
            _extra(rest, 0, line, ctx)
            return _push_number(_number(head, line, ctx), head, line, ctx)
        raise ctx.error("unknown mnemonic", line, head.text)
    form = form_of(code)
    if form is Form.ONE:
        _extra(rest, 0, line, ctx)
        return bytes((code,))
    if form is Form.VAR:                         # string; INLINE lines never get here
        if not rest:
            raise ctx.error('missing operand for string (a "text" literal)', line, head.text)
        _extra(rest, 1, line, ctx)
        if rest[0].data is None:
            raise ctx.error('string needs a "text" literal', line, rest[0].text)
        return _string(rest[0], line, ctx)
    if not rest:
        if code in _ACT_OPTIONAL:
            return bytes((code, 0))
        raise ctx.error(f"missing operand for {word} ({_operand_hint(code)})", line, head.text)
    _extra(rest, 1, line, ctx)
    arg = rest[0]
    if arg.data is not None:
        raise ctx.error(f"{word} takes a number, not a string", line, arg.text)
    if (code in _SHORT_JUMPS or code in _FAR_JUMPS) and not _NUMBER_START.match(arg.text):
        if not _NAME.match(arg.text):
            raise ctx.error("bad label name", line, arg.text)
        return _Fixup(at, 2 if form is Form.TWO else 3, code, word, arg, line)
    if form is Form.THREE:
        value = _ranged(arg, -32768, 32767, line, ctx, f"{word} operand",
                        hint=" (int16; write -1 for 0xffff)")
        return bytes((code, (value >> 8) & 0xFF, value & 0xFF))
    names = _SLOT_NAMES.get(code, ())
    if arg.text.lower() in names:
        return bytes((code, names.index(arg.text.lower())))
    if names and not _NUMBER_START.match(arg.text):
        ring = "Ring0" if code == op.R0_READ else "Ring1"
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        raise ctx.error(f"{word} takes 0..255 or a {ring} slot name ({shown})", line, arg.text)
    if code == op.JMP:                           # jmp -5 is jmp- 5
        value = _ranged(arg, -255, 255, line, ctx, "jmp offset")
        return bytes((op.JMP, value) if value >= 0 else (op.JMP_BACK, -value))
    top = op.LOCALS - 1 if code in _LOCAL_OPS else 255
    return bytes((code, _ranged(arg, 0, top, line, ctx, f"{word} operand")))


def _operand_hint(code: int) -> str:
    if code in _LOCAL_OPS:
        return f"0..{op.LOCALS - 1}"
    if code in _SHORT_JUMPS:
        return "a number or a label"
    if code in _FAR_JUMPS:
        return "-32768..32767 or a label"
    if form_of(code) is Form.THREE:
        return "-32768..32767"
    if code in _SLOT_NAMES:
        return "0..255 or a slot name"
    return "0..255"


def _resolve(fx: _Fixup, labels: dict[str, tuple[int, int]], ctx: _Context) -> bytes:
    """Bytes of a jump to a label; short jumps must reach, far ones must fit int16."""
    key = fx.label.text.lower()
    if key not in labels:
        raise ctx.error("undefined label", fx.line, fx.label.text)
    target = labels[key][0]
    if fx.opcode == op.CALL_FAR:                 # absolute address
        value = target
    else:
        value = target - (fx.at + fx.size)       # relative to the pc after the operand
    if fx.size == 3:
        if not -32768 <= value <= 32767:
            raise ctx.error(f"{fx.mnemonic} to label is {value} bytes away; beyond int16",
                            fx.line, fx.label.text)
        return bytes((fx.opcode, (value >> 8) & 0xFF, value & 0xFF))
    if fx.opcode == op.JMP and -255 <= value <= 255:
        return bytes((op.JMP, value) if value >= 0 else (op.JMP_BACK, -value))
    if fx.opcode == op.JMP_BACK and -255 <= value <= 0:
        return bytes((op.JMP_BACK, -value))
    if fx.opcode in (op.JZ, op.JNZ) and 0 <= value <= 255:
        return bytes((fx.opcode, value))
    reach = {op.JMP: "-255..255", op.JMP_BACK: "0..255 backward"}.get(fx.opcode, "0..255 forward")
    far = {op.JZ: "jz.far", op.JNZ: "not, then jz.far"}.get(fx.opcode, "jmp.far")
    raise ctx.error(f"{fx.mnemonic} to label is {value} bytes away; {fx.mnemonic} reaches "
                    f"{reach} (use {far})", fx.line, fx.label.text)


def _extra(rest: list[_Token], allowed: int, line: int, ctx: _Context) -> None:
    if len(rest) > allowed:
        raise ctx.error("unexpected operand (one instruction per line)", line,
                        rest[allowed].text)


def _number(tok: _Token, line: int, ctx: _Context) -> int:
    """Parse 12, -7, +3, 0x1f, 0o17, 0b101 (any case); anything else is a bad number."""
    body = tok.text.lower()
    sign = 1
    if body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base = _BASES.get(body[:2], 10)
    digits = body[2:] if base != 10 else body
    try:
        if tok.data is not None or not digits.isascii() or not digits[:1].isalnum():
            raise ValueError
        return sign * int(digits, base)
    except ValueError:
        raise ctx.error("bad number", line, tok.text) from None


def _ranged(tok: _Token, low: int, high: int, line: int, ctx: _Context, what: str,
            hint: str = "") -> int:
    value = _number(tok, line, ctx)
    if not low <= value <= high:
        raise ctx.error(f"{what} out of range {low}..{high}{hint}", line, tok.text)
    return value


def _push_number(value: int, tok: _Token, line: int, ctx: _Context) -> bytes:
    """The shortest push of a number: 1 byte for 0..31, push.b for 32..255, else push.w."""
    if 0 <= value < 32:
        return bytes((op.SMALL_NUM_BASE + value,))
    if 32 <= value <= 255:
        return bytes((op.PUSH_B, value))
    if -32768 <= value <= 32767:
        return bytes((op.PUSH_W, (value >> 8) & 0xFF, value & 0xFF))
    raise ctx.error("number out of range -32768..32767 (int16)", line, tok.text)


def _string(tok: _Token, line: int, ctx: _Context) -> bytes:
    data = tok.data or b""
    if len(data) > MAX_DATA:
        short = tok.text if len(tok.text) <= 24 else tok.text[:20] + '..."'
        raise ctx.error(f"string is {len(data)} bytes; the limit is {MAX_DATA}", line, short)
    return bytes((op.STRING, len(data))) + data


def _quotation_ref(tok: _Token) -> str | None:
    """The inside of a ``[ref]`` token, or None if the token is not one."""
    t = tok.text
    if tok.data is None and len(t) >= 2 and t[0] == "[" and t[-1] == "]":
        return t[1:-1]
    return None


def _quotation(tok: _Token, ref: str, line: int, ctx: _Context) -> bytes:
    """``[n]`` -> 0x60+n for n < 32, else quot.x n; ``[name]`` -> the name's index."""
    if _NUMBER_START.match(ref):
        index = _number(_Token(ref), line, ctx)
        if not 0 <= index < op.QUOTATION_TABLE:
            raise ctx.error(f"quotation index out of range 0..{op.QUOTATION_TABLE - 1}", line,
                            tok.text)
    else:
        index = ctx.quotation_index.get(ref.lower(), -1)
        if index < 0:
            raise ctx.error("undefined quotation (define it with QUOT name ... ENDQUOT)", line,
                            tok.text)
    return bytes((op.QUOTE_BASE + index,)) if index < 32 else bytes((op.QUOT_X, index))


# --- disassembler ------------------------------------------------------------------------------

def disassemble_lines(code: bytes | bytearray) -> list[tuple[int, bytes, str]]:
    """``(address, instruction bytes, text)`` per instruction; the texts reassemble to ``code``."""
    return [(pc, raw, instruction_text(raw)) for pc, raw in op.instructions(bytes(code))]


def instruction_text(raw: bytes) -> str:
    """Assembly text of one instruction's bytes (``db`` when there is no exact mnemonic form)."""
    c = raw[0]
    info = OPCODES[c]
    form = info.form
    full = {Form.ONE: 1, Form.TWO: 2, Form.THREE: 3}.get(form) or 2 + (raw[1] if len(raw) > 1
                                                                        else 0)
    if info.mnemonic is None or len(raw) < full:
        return _db(raw)
    if form is Form.ONE:
        return info.mnemonic
    if form is Form.TWO:
        arg = raw[1]
        if c in _LOCAL_OPS and arg >= op.LOCALS:
            return _db(raw)
        if c in _ACT_OPTIONAL and arg == 0:
            return info.mnemonic
        return f"{info.mnemonic} {arg}"
    if form is Form.THREE:
        return f"{info.mnemonic} {_s16(raw[1], raw[2])}"
    data = raw[2:]
    if c == op.STRING and all(0x20 <= b < 0x7F and b not in b'";%\\' for b in data):
        return f'"{data.decode("ascii")}"'
    return _db(raw)


def disassemble(genome: PsilGenome | bytes | bytearray) -> str:
    """Readable text of a genome: main code, then a QUOT block per quotation body.

    Each line is ``text ; address: bytes`` (plus a jump target or slot name); assembling the
    result gives back exactly the same code and quotation table.
    """
    if not isinstance(genome, PsilGenome):
        genome = PsilGenome(bytes(genome))
    lines = _listing(genome.code, "")
    for index, body in genome.quotations:
        lines.append("")
        lines.append(f"QUOT q{index} {index}")
        lines.extend(_listing(body, "    "))
        lines.append("ENDQUOT")
    return "".join(line + "\n" for line in lines)


def _listing(code: bytes, indent: str) -> list[str]:
    lines = []
    for addr, raw, text in disassemble_lines(code):
        if text.startswith("db ") and len(raw) > 16:        # long data: 16 bytes a line
            for k in range(0, len(raw), 16):
                chunk = raw[k:k + 16]
                lines.append(_line(indent, _db(chunk), addr + k, chunk, ""))
            continue
        lines.append(_line(indent, text, addr, raw, _hint(addr, raw, text)))
    return lines


def _line(indent: str, text: str, addr: int, raw: bytes, hint: str) -> str:
    if text.startswith("db "):
        comment = f"; {addr:04x}"                   # the bytes are already on the line
    else:
        shown = raw.hex(" ") if len(raw) <= 8 else raw[:8].hex(" ") + " ..."
        comment = f"; {addr:04x}: {shown}" + (f"  {hint}" if hint else "")
    return f"{indent}{text:<{max(20 - len(indent), len(text) + 1)}}{comment}".rstrip()


def _hint(addr: int, raw: bytes, text: str) -> str:
    """A note for the comment: where a jump lands, which Ring slot an access names."""
    if text.startswith("db"):
        return ""
    c = raw[0]
    after = addr + len(raw)
    if c in (op.JMP, op.JZ, op.JNZ):
        return f"-> {_addr(after + raw[1])}"
    if c == op.JMP_BACK:
        return f"-> {_addr(after - raw[1])}"
    if c in (op.JMP_FAR, op.JZ_FAR):
        return f"-> {_addr(after + _s16(raw[1], raw[2]))}"
    if c == op.CALL_FAR:
        return f"-> {_addr(_s16(raw[1], raw[2]))}"
    names = _SLOT_NAMES.get(c)
    if names and raw[1] < len(names):
        return names[raw[1]]
    return ""


def _addr(a: int) -> str:
    return f"{a:04x}" if a >= 0 else str(a)


def _s16(hi: int, lo: int) -> int:
    v = (hi << 8) | lo
    return v - 0x10000 if v >= 0x8000 else v


def _db(raw: bytes) -> str:
    return "db " + ", ".join(f"0x{b:02x}" for b in raw)
