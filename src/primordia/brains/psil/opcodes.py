"""The micro-PSIL encoding as data: one source of truth for the assembler, disassembler, VMs and GA.

The first byte of an instruction fixes its length (UTF-8 style):
0x00-0x7F one byte, 0x80-0xBF two ``[op][arg]``, 0xC0-0xDF three ``[op][hi][lo]`` (big-endian
signed 16-bit operand), 0xE0-0xEF ``[op][len][len bytes]``, 0xF0-0xFF one byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

# --- 1-byte commands (0x00-0x1F) -------------------------------------------------------------
NOP, DUP, DROP, SWAP, OVER, ROT = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05
ADD, SUB, MUL, DIV, MOD = 0x06, 0x07, 0x08, 0x09, 0x0A
EQ, LT, GT, AND, OR, NOT, NEG = 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
EXEC, IFTE, DIP, LOOP, RET = 0x12, 0x13, 0x14, 0x15, 0x16
LOAD, STORE, PRINT, INC, DEC, DUP2, PICK, DEPTH, CLEAR = (
    0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F)

# --- 1-byte literals ---------------------------------------------------------------------------
SMALL_NUM_BASE = 0x20    # 0x20-0x3F push 0..31
SYMBOL_BASE = 0x40       # 0x40-0x5F push slot number 0..31
QUOTE_BASE = 0x60        # 0x60-0x7F push quotation index | 0x8000

# --- 2-byte ops (0x80-0xBF) --------------------------------------------------------------------
PUSH_B, SYM_X, QUOT_X, LOCAL, LOCAL_SET = 0x80, 0x81, 0x82, 0x83, 0x84
JMP, JMP_BACK, JZ, JNZ, CALL = 0x85, 0x86, 0x87, 0x88, 0x89
R0_READ, R1_READ, R1_WRITE, INSPECT, GAS = 0x8A, 0x8B, 0x8C, 0x8D, 0x8E
PICK_N, ROLL_N, LOOP_N, STR = 0x8F, 0x90, 0x91, 0x92
ACT_MOVE, ACT_ATTACK, ACT_HEAL, ACT_EAT, ACT_HARVEST = 0x93, 0x94, 0x95, 0x96, 0x97
ACT_TERRAFORM, ACT_SHARE, ACT_TRADE, ACT_CRAFT = 0x98, 0x99, 0x9A, 0x9B

# --- 3-byte ops (0xC0-0xDF) --------------------------------------------------------------------
PUSH_W, SYM_W, QUOT_W, JMP_FAR, JZ_FAR, CALL_FAR = 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5

# --- variable length (0xE0-0xEF) ---------------------------------------------------------------
STRING, INLINE = 0xE0, 0xE3

# --- special (0xF0-0xFF) -----------------------------------------------------------------------
HALT, YIELD, BREAK, DEBUG, ERROR, CLEAR_ERROR, CHECK_ERROR, END = (
    0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xFF)

# --- memory layout -----------------------------------------------------------------------------
MEMORY_SLOTS = 256
LOCALS = 16
RING0_SLOTS = 31          # sensors live in memory slots 0..30
RING1_BASE = 64           # actions live in memory slots 64..67
RING1_SLOTS = 4
RING1_MOVE, RING1_ACTION, RING1_TARGET, RING1_EMOTION = 0, 1, 2, 3
MAX_STACK = 341           # entries; the reference's 1,024-byte stack of 3-byte entries
QUOTATION_TABLE = 256     # quotation indices 0..255 can be defined
MAX_FRAMES = 64           # nesting depth of running quotations / inline blocks
GAS_CAP = 65535           # largest gas budget one think may be given

# --- errors ------------------------------------------------------------------------------------
ERR_NONE, ERR_OVERFLOW, ERR_UNDERFLOW, ERR_TYPE, ERR_DIV_ZERO, ERR_GAS, ERR_QUOTATION = range(7)
ERROR_NAMES = {
    ERR_NONE: "none", ERR_OVERFLOW: "stack overflow", ERR_UNDERFLOW: "stack underflow",
    ERR_TYPE: "type error", ERR_DIV_ZERO: "division by zero", ERR_GAS: "out of gas",
    ERR_QUOTATION: "bad quotation",
}

# --- Ring slot names ---------------------------------------------------------------------------
RING0_NAMES = (
    "self", "health", "energy", "hunger", "fear", "food_dist", "danger", "near_dist", "x", "y",
    "day", "unused", "near_id", "food_dir", "gold", "item", "item_dist", "trust", "near_dir",
    "item_dir", "rng", "stress", "gas", "on_forge", "age_left", "taught", "biome", "tile",
    "similarity", "tile_ahead", "cooldown",
)
RING1_NAMES = ("move", "action", "target", "emotion")

# Sensor slots that act.move reads for "toward" directions (operand 5, 6, 7).
MOVE_TOWARD_SLOT = {5: 13, 6: 18, 7: 19}
RING0_NEAR_ID = 12

# Symbol names of the inline symbol opcodes 0x40-0x59 (0x5A-0x5F are reserved).
SYMBOL_NAMES = (
    "nil", "true", "false", "self", "target", "health", "energy", "pos", "anger", "fear",
    "trust", "hunger", "enemy", "friend", "food", "danger", "safe", "near", "far", "day",
    "night", "result", "count", "temp", "x", "y",
)

# Action opcodes: (action code written to Ring1[1] or None, writes target from Ring0[12]).
ACTIONS = {
    ACT_MOVE: (None, False),
    ACT_ATTACK: (2, True),
    ACT_HEAL: (7, True),
    ACT_EAT: (1, False),
    ACT_HARVEST: (8, False),
    ACT_TERRAFORM: (9, False),
    ACT_SHARE: (3, True),
    ACT_TRADE: (4, True),
    ACT_CRAFT: (5, False),
}


class Form(Enum):
    """How an instruction is laid out in bytes."""

    ONE = 1        # [op]
    TWO = 2        # [op][arg]
    THREE = 3      # [op][hi][lo]
    VAR = 4        # [op][len][data...]


@dataclass(frozen=True)
class OpInfo:
    """One row of the opcode table: byte, canonical mnemonic, layout, and whether it does anything."""

    code: int
    mnemonic: str | None    # None: no mnemonic; the disassembler writes it as ``db``
    form: Form
    operand: str = ""       # "", "u8", "s16", "bytes"
    active: bool = True     # False: a reserved opcode the VM skips as a no-op


def form_of(op: int) -> Form:
    """Layout of an instruction from its first byte."""
    if op < 0x80 or op >= 0xF0:
        return Form.ONE
    if op < 0xC0:
        return Form.TWO
    if op < 0xE0:
        return Form.THREE
    return Form.VAR


_ONE_BYTE_COMMANDS = (
    "nop", "dup", "drop", "swap", "over", "rot", "add", "sub", "mul", "div", "mod", "eq", "lt",
    "gt", "and", "or", "not", "neg", "exec", "ifte", "dip", "loop", "ret", "load", "store",
    "print", "inc", "dec", "dup2", "pick", "depth", "clear",
)

_TWO_BYTE = {
    PUSH_B: "push.b", SYM_X: "sym.x", QUOT_X: "quot.x", LOCAL: "local", LOCAL_SET: "local!",
    JMP: "jmp", JMP_BACK: "jmp-", JZ: "jz", JNZ: "jnz", CALL: "call", R0_READ: "r0@",
    R1_READ: "r1@", R1_WRITE: "r1!", INSPECT: "inspect", GAS: "gas", PICK_N: "pick.n",
    ROLL_N: "roll.n", LOOP_N: "loop.n", STR: "str", ACT_MOVE: "act.move",
    ACT_ATTACK: "act.attack", ACT_HEAL: "act.heal", ACT_EAT: "act.eat",
    ACT_HARVEST: "act.harvest", ACT_TERRAFORM: "act.terraform", ACT_SHARE: "act.share",
    ACT_TRADE: "act.trade", ACT_CRAFT: "act.craft",
}

_THREE_BYTE = {
    PUSH_W: "push.w", SYM_W: "sym.w", QUOT_W: "quot.w", JMP_FAR: "jmp.far", JZ_FAR: "jz.far",
    CALL_FAR: "call.far",
}

_SPECIAL = {
    HALT: "halt", YIELD: "yield", BREAK: "break", DEBUG: "debug", ERROR: "error",
    CLEAR_ERROR: "clrerr", CHECK_ERROR: "err?", END: "end",
}


def _build_table() -> tuple[OpInfo, ...]:
    rows = []
    for op in range(256):
        form = form_of(op)
        if op < 0x20:
            rows.append(OpInfo(op, _ONE_BYTE_COMMANDS[op], form, active=op != PICK))
        elif op < 0x40:
            rows.append(OpInfo(op, str(op - SMALL_NUM_BASE), form))
        elif op < 0x60:
            idx = op - SYMBOL_BASE
            name = "'" + SYMBOL_NAMES[idx] if idx < len(SYMBOL_NAMES) else f"sym.{idx}"
            rows.append(OpInfo(op, name, form))
        elif op < 0x80:
            rows.append(OpInfo(op, f"[{op - QUOTE_BASE}]", form))
        elif op < 0xC0:
            name = _TWO_BYTE.get(op)
            rows.append(OpInfo(op, name, form, "u8", active=name is not None and op != ROLL_N))
        elif op < 0xE0:
            name = _THREE_BYTE.get(op)
            rows.append(OpInfo(op, name, form, "s16", active=name is not None))
        elif op < 0xF0:
            name = "string" if op == STRING else ("inline" if op == INLINE else None)
            rows.append(OpInfo(op, name, form, "bytes", active=name is not None))
        else:
            name = _SPECIAL.get(op)
            rows.append(OpInfo(op, name, form,
                               active=op in (HALT, YIELD, ERROR, CLEAR_ERROR, CHECK_ERROR, END)))
    return tuple(rows)


OPCODES: tuple[OpInfo, ...] = _build_table()
"""Row ``i`` describes opcode byte ``i``."""

# Assembler aliases -> opcode (canonical mnemonics are added from the table below).
ALIASES = {
    "+": ADD, "-": SUB, "*": MUL, "/": DIV, "=": EQ, "<": LT, ">": GT, "i": EXEC,
    "times": LOOP, "@": LOAD, "!": STORE, ".": PRINT, "1+": INC, "1-": DEC, "2dup": DUP2,
    "act.terra": ACT_TERRAFORM, "jump": JMP, "jumpz": JZ, "jumpnz": JNZ, "setlocal": LOCAL_SET,
    "ring0r": R0_READ, "ring1r": R1_READ, "ring1w": R1_WRITE, "pushb": PUSH_B, "pushw": PUSH_W,
}


def instruction_length(code: bytes | bytearray | np.ndarray, pc: int) -> int:
    """Bytes taken by the instruction at ``pc``, clipped to the end of ``code``."""
    n = len(code)
    op = int(code[pc])
    form = form_of(op)
    if form is Form.ONE:
        length = 1
    elif form is Form.TWO:
        length = 2
    elif form is Form.THREE:
        length = 3
    else:
        length = 2 + int(code[pc + 1]) if pc + 1 < n else 1
    return min(length, n - pc)


def instruction_starts(code: bytes | bytearray) -> list[int]:
    """Offsets where instructions begin, walking from 0 (the boundaries crossover and mutation use)."""
    starts = []
    pc = 0
    while pc < len(code):
        starts.append(pc)
        pc += instruction_length(code, pc)
    return starts


def instructions(code: bytes | bytearray) -> list[tuple[int, bytes]]:
    """Split code into ``(offset, instruction bytes)`` pairs."""
    return [(pc, bytes(code[pc:pc + instruction_length(code, pc)]))
            for pc in instruction_starts(code)]
