"""The fast micro-PSIL VM: numba kernels that run a whole population in one call.

Each organism owns rows of the state arrays (stack, memory, locals, registers, frames). A call
runs every active organism until it yields, halts, errs or spends its gas; the next call resumes
organisms that yielded. ``reference.py`` is the readable twin; tests hold the two equal.

Code layout: ``code`` is one flat byte array; organism ``i``'s blob starts at ``org[i, START]``
and holds its main code (``org[i, MAIN_LEN]`` bytes) followed by its quotation bodies, which
``quots[org[i, Q_FIRST] : + org[i, Q_COUNT]]`` lists as (index, offset in blob, length).
The VM runs on ``pdec``, the same layout with each byte position pre-decoded into one word
(``predecode``): the executable phenotype. The bytes stay the genome.

Speed notes: one load of a pre-decoded word gives the group, kind, length and operand of an
instruction, and the dispatch on the group is one jump table; the main program's pc lives in ``regs`` and ``frames`` is touched
only by nested quotations and inline blocks; rows are indexed in place (``mem[i, x]``) because
taking row views costs a reference-count update each. With many organisms the rows of each one
are far apart and a think is shorter than a trip to RAM, so ``run_span`` prefetches the rows of
organisms ``AHEAD`` places further on, and ``run_thinks_*`` loop the rounds inside numba.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ...core.prefetch import prefetch
from . import opcodes as op

# org columns
START, MAIN_LEN, Q_FIRST, Q_COUNT = 0, 1, 2, 3
ORG_COLS = 4
# quots columns
Q_INDEX, Q_OFFSET, Q_LENGTH = 0, 1, 2
# regs columns: the main program's pc is PC; nested blocks keep theirs in frames
SP, GAS, STATUS, ERRC, DEPTH, YIELDS, PC = 0, 1, 2, 3, 4, 5, 6
REG_COLS = 8
# status values
RUNNING, YIELDED, HALTED, FAILED = 0, 1, 2, 3
# frame columns (frames[i, d] describes nesting level d >= 1) and kinds
F_START, F_LEN, F_PC, F_KIND, F_SAVED, F_REMAIN = 0, 1, 2, 3, 4, 5
FRAME_COLS = 6
K_EXEC, K_DIP, K_LOOP, K_INLINE = 1, 2, 3, 4

MAX_STACK = op.MAX_STACK
MEMORY = op.MEMORY_SLOTS
MAX_FRAMES = op.MAX_FRAMES
RING1 = op.RING1_BASE
AHEAD = 12            # run_span prefetches the rows of the organism this many places ahead

# ---- decode tables -----------------------------------------------------------------------
# FORM: how many operand bytes follow (0, 1, 2) or 3 for [len][data]
# KIND: a dense id per behaviour, so the dispatch below compiles to one jump table
(X_NOP, X_LIT, X_DUP, X_DROP, X_SWAP, X_OVER, X_ROT, X_ADD, X_SUB, X_MUL, X_DIV, X_MOD, X_EQ,
 X_LT, X_GT, X_AND, X_OR, X_NOT, X_NEG, X_EXEC, X_IFTE, X_DIP, X_LOOP, X_RET, X_LOAD, X_STORE,
 X_PRINT, X_INC, X_DEC, X_DUP2, X_DEPTH, X_CLEAR, X_PUSH_ARG, X_MEM_ARG, X_QUOT_ARG, X_LOCAL,
 X_LOCAL_SET, X_JMP, X_JMP_BACK, X_JZ, X_JNZ, X_CALL, X_R1_READ, X_R1_WRITE, X_INSPECT, X_GAS,
 X_PICK_N, X_LOOP_N, X_ACT_MOVE, X_ACT, X_PUSH_W, X_SYM_W, X_QUOT_W, X_JMP_FAR, X_JZ_FAR,
 X_CALL_FAR, X_STRING, X_INLINE, X_HALT, X_YIELD, X_ERROR, X_CLEAR_ERROR,
 X_CHECK_ERROR) = range(63)


# GROUP: behaviours that share their stack handling; the top-level dispatch is on the group
(G_NOP, G_PUSH, G_BINARY, G_UNARY, G_POP1, G_JUMP, G_YIELD, G_ACT, G_HALT, G_STACK, G_COMB,
 G_MISC) = range(12)
_GROUP_OF_KIND = {
    G_PUSH: (X_LIT, X_PUSH_ARG, X_MEM_ARG, X_R1_READ, X_PUSH_W, X_SYM_W, X_QUOT_ARG, X_QUOT_W,
             X_INSPECT, X_DEPTH, X_STRING, X_CHECK_ERROR, X_LOCAL),
    G_BINARY: (X_ADD, X_SUB, X_MUL, X_DIV, X_MOD, X_EQ, X_LT, X_GT, X_AND, X_OR),
    G_UNARY: (X_NOT, X_NEG, X_INC, X_DEC, X_LOAD, X_PRINT),
    G_POP1: (X_R1_WRITE, X_JZ, X_JNZ, X_JZ_FAR, X_LOCAL_SET),
    G_JUMP: (X_JMP, X_JMP_BACK, X_JMP_FAR, X_CALL_FAR),
    G_YIELD: (X_YIELD,),
    G_ACT: (X_ACT_MOVE, X_ACT),
    G_HALT: (X_HALT, X_RET),
    G_STACK: (X_DUP, X_OVER, X_DROP, X_SWAP, X_ROT, X_DUP2, X_STORE, X_CLEAR),
    G_COMB: (X_EXEC, X_IFTE, X_DIP, X_LOOP, X_LOOP_N),
    G_MISC: (X_CALL, X_GAS, X_PICK_N, X_INLINE, X_ERROR, X_CLEAR_ERROR),
}


def _decode_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    form = np.zeros(256, dtype=np.int32)
    kind = np.full(256, X_NOP, dtype=np.int32)
    lit = np.zeros(256, dtype=np.int32)      # literal value, or action code for act.* ops
    tgt = np.zeros(256, dtype=np.int32)      # act.*: 1 if it writes the target slot
    one = [X_NOP, X_DUP, X_DROP, X_SWAP, X_OVER, X_ROT, X_ADD, X_SUB, X_MUL, X_DIV, X_MOD,
           X_EQ, X_LT, X_GT, X_AND, X_OR, X_NOT, X_NEG, X_EXEC, X_IFTE, X_DIP, X_LOOP, X_RET,
           X_LOAD, X_STORE, X_PRINT, X_INC, X_DEC, X_DUP2, X_NOP, X_DEPTH, X_CLEAR]
    kind[:0x20] = one
    for o in range(0x20, 0x80):
        kind[o] = X_LIT
        if o < 0x40:
            lit[o] = o - 0x20
        elif o < 0x60:
            lit[o] = o - 0x40
        else:
            lit[o] = ((o - 0x60) | 0x8000) - 0x10000
    form[0x80:0xC0] = 1
    two = {op.PUSH_B: X_PUSH_ARG, op.STR: X_PUSH_ARG, op.SYM_X: X_MEM_ARG,
           op.R0_READ: X_MEM_ARG, op.QUOT_X: X_QUOT_ARG, op.LOCAL: X_LOCAL,
           op.LOCAL_SET: X_LOCAL_SET, op.JMP: X_JMP, op.JMP_BACK: X_JMP_BACK, op.JZ: X_JZ,
           op.JNZ: X_JNZ, op.CALL: X_CALL, op.R1_READ: X_R1_READ, op.R1_WRITE: X_R1_WRITE,
           op.INSPECT: X_INSPECT, op.GAS: X_GAS, op.PICK_N: X_PICK_N, op.LOOP_N: X_LOOP_N,
           op.ACT_MOVE: X_ACT_MOVE}
    for o, x in two.items():
        kind[o] = x
    for o, (action, targeted) in op.ACTIONS.items():
        if o != op.ACT_MOVE:
            kind[o] = X_ACT
            lit[o] = action
            tgt[o] = 1 if targeted else 0
    form[0xC0:0xE0] = 2
    three = {op.PUSH_W: X_PUSH_W, op.SYM_W: X_SYM_W, op.QUOT_W: X_QUOT_W,
             op.JMP_FAR: X_JMP_FAR, op.JZ_FAR: X_JZ_FAR, op.CALL_FAR: X_CALL_FAR}
    for o, x in three.items():
        kind[o] = x
    form[0xE0:0xF0] = 3
    kind[op.STRING] = X_STRING
    kind[op.INLINE] = X_INLINE
    special = {op.HALT: X_HALT, op.END: X_HALT, op.YIELD: X_YIELD, op.ERROR: X_ERROR,
               op.CLEAR_ERROR: X_CLEAR_ERROR, op.CHECK_ERROR: X_CHECK_ERROR}
    for o, x in special.items():
        kind[o] = x
    group = np.full(256, G_NOP, dtype=np.int32)
    for g, kinds in _GROUP_OF_KIND.items():
        for x in kinds:
            group[kind == x] = g
    return form, kind, group, lit, tgt


FORM, KIND, GROUP, LIT, TARGETED = _decode_tables()


@njit(cache=True, nogil=True)
def predecode_regions(code, starts, lengths, out):
    """``predecode`` each region (start, length) in one call."""
    for r in range(starts.shape[0]):
        predecode(code, starts[r], lengths[r], out)


@njit(cache=True, nogil=True)
def predecode(code, start, length, out):
    """Decode every byte position of the region code[start:start+length] into one int64 word.

    Jumps may land inside an instruction, so each position is decoded as if an instruction
    began there. Word layout: bits 0-5 group, bit 6 set for [len][data] forms, bits 8-15
    kind, bits 16-31 instruction length (operands included), bits 32-63 the signed operand:
    the u8 or int16 argument, the data length, a literal's value, or an action code (with
    256 added when the action writes the target slot). Operands are read only inside the
    region; an instruction running past its end keeps its full length, so the VM sees it
    is truncated.
    """
    end = start + length
    for p in range(start, end):
        o = code[p]
        f = FORM[o]
        x = KIND[o]
        var = 0
        arg = np.int64(0)
        if f == 0:
            ln = 1
            if x == X_LIT:
                arg = np.int64(LIT[o])
        elif f == 1:
            ln = 2
            if x == X_ACT:
                arg = np.int64(LIT[o] + 256 * TARGETED[o])
            elif p + 1 < end:
                arg = np.int64(code[p + 1])
        elif f == 2:
            ln = 3
            if p + 2 < end:
                arg = np.int64(_wrap16((np.int32(code[p + 1]) << 8) | np.int32(code[p + 2])))
        else:
            var = 1
            if p + 1 < end:
                arg = np.int64(code[p + 1])
                ln = 2 + code[p + 1]
            else:
                ln = 2
        g = GROUP[o]
        if x == X_PUSH_ARG or x == X_PUSH_W or x == X_STRING:
            x = X_LIT                   # all push a constant: the operand
        elif (x == X_LOCAL or x == X_LOCAL_SET) and arg >= 16:
            x = X_NOP                   # locals 16.. do not exist: the reference skips them
            g = G_NOP
        out[p] = np.int64(g) | (var << 6) | (np.int64(x) << 8) | (np.int64(ln) << 16) \
            | (arg << 32)


@njit(cache=True, nogil=True, inline="always")
def _wrap16(v):
    """Wrap to signed 16 bits."""
    return np.int32(((np.int64(v) + 0x8000) & 0xFFFF) - 0x8000)


@njit(cache=True, nogil=True, inline="always")
def _find_quotation(quots, first, count, index):
    """Row of quotation ``index`` in this organism's table, or -1."""
    for r in range(first, first + count):
        if quots[r, Q_INDEX] == index:
            return r
    return -1


@njit(cache=True, nogil=True, inline="always")
def _enter_block(regs, frames, i, depth, pc, start, length, kind_q, saved, remaining):
    """Save the running level's pc and describe the block entered one level deeper (the
    caller then moves its own registers there)."""
    if depth == 0:
        regs[i, PC] = pc
    else:
        frames[i, depth, F_PC] = pc
    d = depth + 1
    frames[i, d, F_START] = start
    frames[i, d, F_LEN] = length
    frames[i, d, F_KIND] = kind_q
    frames[i, d, F_SAVED] = saved
    frames[i, d, F_REMAIN] = remaining


@njit(cache=True, nogil=True)
def run_span(lo, hi, slots, pdec, org, quots, mem, stack, loc, regs, frames, steps):
    """Run organisms slots[lo:hi], each until it yields, halts, errs or runs out of gas."""
    # one call handles many organisms: a call per organism would cost a reference-count
    # update per array argument, more than a short think itself
    # flat views with the row length as a constant, indexed unsigned: fewer live values in
    # the loop than 2-D indexing (strides, negative-index fix-ups)
    stk = stack.reshape(stack.size)
    mm = mem.reshape(mem.size)
    rg = regs.reshape(regs.size)
    og = org.reshape(org.size)
    for j in range(lo, hi):
        # ask for the rows of organisms further on: with many organisms they are far apart in
        # memory, and a think is often shorter than the wait for RAM
        if j + 2 * AHEAD < hi:
            f = slots[j + 2 * AHEAD]
            prefetch(og, f * ORG_COLS)
            prefetch(rg, f * REG_COLS)
        if j + AHEAD < hi:
            f = slots[j + AHEAD]
            prefetch(mm, f * MEMORY)
            prefetch(mm, f * MEMORY + RING1)
            prefetch(stk, f * MAX_STACK + 31)
            prefetch(pdec, og[f * ORG_COLS + START] + rg[f * REG_COLS + PC] + 8)
            prefetch(stk, f * MAX_STACK)
            prefetch(pdec, og[f * ORG_COLS + START] + rg[f * REG_COLS + PC])
            prefetch(steps, f)
        i = slots[j]
        sb = i * MAX_STACK
        mb = i * MEMORY
        status = regs[i, STATUS]
        if status == YIELDED:
            for r in range(4):
                mm[np.uint64(mb + (RING1 + r))] = 0
            status = RUNNING
        elif status != RUNNING:
            continue
        base = org[i, START]
        main_len = np.int64(org[i, MAIN_LEN])
        sp = np.int64(regs[i, SP])
        gas = np.int64(regs[i, GAS])
        depth = regs[i, DEPTH]
        errc = regs[i, ERRC]
        if depth == 0:
            fs = np.int64(0)
            cb = base + fs
            fl = main_len
            pc = np.int64(regs[i, PC])
        else:
            fs = np.int64(frames[i, depth, F_START])
            cb = base + fs
            fl = np.int64(frames[i, depth, F_LEN])
            pc = np.int64(frames[i, depth, F_PC])
        gas_in = gas
        extra = np.int64(0)      # gas spent on other things than executing instructions

        while True:
            # ---- a block ends when its pc leaves the code (halt/ret/end inside a block move
            # the pc to its end); one unsigned compare covers pc < 0 and pc >= fl -----------
            if np.uint64(pc) >= np.uint64(fl):
                if depth == 0:
                    status = HALTED
                    break
                kind = frames[i, depth, F_KIND] & 15
                qidx = frames[i, depth, F_KIND] >> 4
                saved = frames[i, depth, F_SAVED]
                rem = frames[i, depth, F_REMAIN]
                depth -= 1
                if depth == 0:
                    fs = np.int64(0)
                    cb = base + fs
                    fl = main_len
                    pc = np.int64(regs[i, PC])
                else:
                    fs = np.int64(frames[i, depth, F_START])
                    cb = base + fs
                    fl = np.int64(frames[i, depth, F_LEN])
                    pc = np.int64(frames[i, depth, F_PC])
                if kind == K_DIP:
                    if sp >= MAX_STACK:
                        errc = op.ERR_OVERFLOW
                        status = FAILED
                        break
                    stk[np.uint64(sb + (sp))] = saved
                    sp += 1
                elif kind == K_LOOP and rem > 0:
                    gas -= 1                # each further iteration costs one gas
                    extra += 1
                    if gas <= 0:
                        errc = op.ERR_GAS
                        status = FAILED
                        break
                    r = _find_quotation(quots, org[i, Q_FIRST], org[i, Q_COUNT], qidx)
                    fs = np.int64(quots[r, Q_OFFSET])
                    fl = np.int64(quots[r, Q_LENGTH])
                    _enter_block(regs, frames, i, depth, pc, fs, fl, K_LOOP | (qidx << 4), 0,
                                 rem - 1)
                    depth += 1
                    cb = base + fs
                    pc = np.int64(0)
                continue

            gas -= 1
            if gas <= 0:
                extra += 1
                errc = op.ERR_GAS
                status = FAILED
                break
            w = pdec[np.uint64(cb + pc)]     # cb = base + fs; pc >= 0 here, and an
            # unsigned index skips numba's negative-index fix-up
            ln = (w >> 16) & 0xFFFF
            if pc + ln > fl:
                # truncated: an operand (or the data of a [len] block) lies past the end; the
                # pc stops after the bytes that could be read, as in the reference
                if (w >> 6) & 1 == 0 or pc + 1 >= fl:
                    pc += 1
                else:
                    pc += 2
                status = FAILED              # the error flag without a code
                break
            pc += ln
            arg = np.int32(w >> 32)
            x = (w >> 8) & 0xFF
            g = w & 0x3F
            err = False          # error flag raised by this instruction
            # every branch below completes its operation; underflow pops 0 and flags error 2
            if g == G_PUSH:
                # ---- pushes ------------------------------------------------------------------
                if x == X_LIT:          # every constant push (predecode folds them into X_LIT)
                    v = arg
                elif x == X_MEM_ARG:
                    v = np.int32(mm[np.uint64(mb + (arg))])
                elif x == X_R1_READ:
                    v = np.int32(mm[np.uint64(mb + ((RING1 + arg) & 0xFF))])
                elif x == X_SYM_W:
                    v = np.int32(mm[np.uint64(mb + (arg & 0xFF))])
                elif x == X_QUOT_ARG or x == X_QUOT_W:
                    v = _wrap16(arg | 0x8000)
                elif x == X_INSPECT:
                    v = np.int32(3 * sp)
                elif x == X_DEPTH:
                    v = np.int32((3 * sp) // 2)
                elif x == X_LOCAL:
                    v = np.int32(loc[i, arg])
                else:   # X_CHECK_ERROR: the flag is never set while code runs
                    v = np.int32(0)
                if sp >= MAX_STACK:
                    errc = op.ERR_OVERFLOW
                    status = FAILED
                    break
                stk[np.uint64(sb + (sp))] = v
                sp += 1
                continue
            elif g == G_BINARY:
                # ---- binary: pop b, pop a, push a op b --------------------------------------
                if sp > 0:
                    sp -= 1
                    b = np.int32(stk[np.uint64(sb + (sp))])
                else:
                    b = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if sp > 0:
                    sp -= 1
                    a = np.int32(stk[np.uint64(sb + (sp))])
                else:
                    a = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if x == X_ADD:
                    v = a + b
                elif x == X_SUB:
                    v = a - b
                elif x == X_MUL:
                    v = a * b
                elif x == X_EQ:
                    v = np.int32(1) if a == b else np.int32(0)
                elif x == X_LT:
                    v = np.int32(1) if a < b else np.int32(0)
                elif x == X_GT:
                    v = np.int32(1) if a > b else np.int32(0)
                elif x == X_AND:
                    v = a & b
                elif x == X_OR:
                    v = a | b
                elif b == 0:    # X_DIV, X_MOD by zero
                    err = True
                    errc = op.ERR_DIV_ZERO
                    v = np.int32(0)
                else:
                    q = abs(a) // abs(b)
                    if (a < 0) != (b < 0):
                        q = -q
                    v = q if x == X_DIV else a - b * q
                stk[np.uint64(sb + (sp))] = _wrap16(v)       # two popped, so there is room
                sp += 1
            elif g == G_UNARY:
                # ---- unary: pop a, push f(a) ------------------------------------------------
                if sp > 0:
                    sp -= 1
                    a = np.int32(stk[np.uint64(sb + (sp))])
                else:
                    a = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if x != X_PRINT:                # print's output is muted
                    if x == X_NOT:
                        v = np.int32(1) if a == 0 else np.int32(0)
                    elif x == X_NEG:
                        v = -a
                    elif x == X_INC:
                        v = a + 1
                    elif x == X_DEC:
                        v = a - 1
                    else:
                        v = np.int32(mm[np.uint64(mb + (a & 0xFF))])
                    stk[np.uint64(sb + (sp))] = _wrap16(v)
                    sp += 1
            elif g == G_POP1:
                # ---- pop one and use it -----------------------------------------------------
                if sp > 0:
                    sp -= 1
                    v = np.int32(stk[np.uint64(sb + (sp))])
                else:
                    v = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if x == X_R1_WRITE:
                    mm[np.uint64(mb + ((RING1 + arg) & 0xFF))] = v
                elif x == X_JZ or x == X_JZ_FAR:
                    if v == 0:
                        pc += arg
                elif x == X_JNZ:
                    if v != 0:
                        pc += arg
                else:
                    loc[i, arg] = v
            elif g == G_JUMP:
                if x == X_JMP_BACK:
                    pc -= arg
                elif x == X_CALL_FAR:
                    pc = np.int64(arg)       # no return: ret halts, so this is a far jump
                else:
                    pc += arg
            elif g == G_YIELD:
                status = YIELDED
                break
            elif g == G_ACT:
                # ---- action opcodes: write Ring1, then yield --------------------------------
                if x == X_ACT_MOVE:
                    if arg == 5:
                        mm[np.uint64(mb + (RING1))] = mm[np.uint64(mb + (13))]
                    elif arg == 6:
                        mm[np.uint64(mb + (RING1))] = mm[np.uint64(mb + (18))]
                    elif arg == 7:
                        mm[np.uint64(mb + (RING1))] = mm[np.uint64(mb + (19))]
                    else:
                        mm[np.uint64(mb + (RING1))] = arg
                else:
                    mm[np.uint64(mb + (RING1 + 1))] = arg & 0xFF
                    if arg >> 8 != 0:
                        mm[np.uint64(mb + (RING1 + 2))] = mm[np.uint64(mb + (op.RING0_NEAR_ID))]
                status = YIELDED
                break
            elif g == G_HALT:
                if depth == 0:
                    status = HALTED
                    break
                pc = fl                 # inside a block: return from it
            elif g == G_STACK:
                if x == X_DUP or x == X_OVER:
                    need = 1 if x == X_DUP else 2
                    if sp < need:
                        err = True
                        errc = op.ERR_UNDERFLOW
                    elif sp >= MAX_STACK:
                        err = True
                        errc = op.ERR_OVERFLOW
                    else:
                        stk[np.uint64(sb + (sp))] = stk[np.uint64(sb + (sp - need))]
                        sp += 1
                elif x == X_DROP:
                    if sp == 0:
                        err = True
                        errc = op.ERR_UNDERFLOW
                    else:
                        sp -= 1
                elif x == X_SWAP:
                    if sp < 2:
                        err = True
                        errc = op.ERR_UNDERFLOW
                    else:
                        t = stk[np.uint64(sb + (sp - 1))]
                        stk[np.uint64(sb + (sp - 1))] = stk[np.uint64(sb + (sp - 2))]
                        stk[np.uint64(sb + (sp - 2))] = t
                elif x == X_ROT or x == X_DUP2:
                    # pop up to three (zeros stand in on underflow), push back rearranged:
                    # rot: a b c -> b c a ; dup2: a b -> a b a b
                    n_pop = 3 if x == X_ROT else 2
                    c = np.int32(0)
                    b = np.int32(0)
                    a = np.int32(0)
                    for r in range(n_pop):
                        if sp > 0:
                            sp -= 1
                            t = np.int32(stk[np.uint64(sb + (sp))])
                        else:
                            t = np.int32(0)
                            err = True
                            errc = op.ERR_UNDERFLOW
                        if r == 0:
                            c = t
                        elif r == 1:
                            b = t
                        else:
                            a = t
                    n_push = 3 if x == X_ROT else 4
                    for r in range(n_push):
                        if x == X_ROT:
                            t = b if r == 0 else (c if r == 1 else a)
                        else:
                            t = b if (r & 1) == 0 else c
                        if sp >= MAX_STACK:
                            err = True
                            errc = op.ERR_OVERFLOW
                        else:
                            stk[np.uint64(sb + (sp))] = t
                            sp += 1
                elif x == X_STORE:
                    if sp > 0:
                        sp -= 1
                        slot = np.int32(stk[np.uint64(sb + (sp))]) & 0xFF
                    else:
                        slot = np.int32(0)
                        err = True
                        errc = op.ERR_UNDERFLOW
                    if sp > 0:
                        sp -= 1
                        mm[np.uint64(mb + (slot))] = stk[np.uint64(sb + (sp))]
                    else:
                        mm[np.uint64(mb + (slot))] = 0
                        err = True
                        errc = op.ERR_UNDERFLOW
                elif x == X_CLEAR:
                    sp = 0
            elif g == G_COMB:
                call = -1            # the quotation to enter, if any
                call_kind = K_EXEC
                call_saved = np.int32(0)
                call_rem = np.int32(0)
                # ---- combinators: pop the quotation reference(s) and arguments ---------------
                n_pop = 1
                if x == X_IFTE:
                    n_pop = 3
                elif x == X_DIP or x == X_LOOP:
                    n_pop = 2
                v0 = np.int32(0)
                v1 = np.int32(0)
                v2 = np.int32(0)
                for r in range(n_pop):
                    if sp > 0:
                        sp -= 1
                        t = np.int32(stk[np.uint64(sb + (sp))])
                    else:
                        t = np.int32(0)
                        err = True
                        errc = op.ERR_UNDERFLOW
                    if r == 0:
                        v0 = t
                    elif r == 1:
                        v1 = t
                    else:
                        v2 = t
                if x == X_EXEC:
                    call = v0 & 0x7FFF
                elif x == X_IFTE:
                    call = (v1 & 0x7FFF) if v2 != 0 else (v0 & 0x7FFF)
                elif x == X_DIP:
                    call = v0 & 0x7FFF
                    call_kind = K_DIP
                    call_saved = v1
                elif x == X_LOOP:           # n [q]: an underflow above cancels the loop
                    if v1 > 0 and not err:
                        call = v0 & 0x7FFF
                        call_kind = K_LOOP
                        call_rem = v1 - 1
                else:                       # loop.n: [q] loop.n n
                    if arg > 0 and not err:
                        call = v0 & 0x7FFF
                        call_kind = K_LOOP
                        call_rem = arg - 1
                if call >= 0:
                    r = _find_quotation(quots, org[i, Q_FIRST], org[i, Q_COUNT], call)
                    if r < 0:
                        err = True
                        errc = op.ERR_QUOTATION
                    elif not err:
                        # (after an underflow the reference still looks the index up: a missing
                        # quotation then reports error 6, a present one is not entered)
                        if depth + 1 >= MAX_FRAMES:
                            err = True
                            errc = op.ERR_OVERFLOW
                        else:
                            fs = np.int64(quots[r, Q_OFFSET])
                            fl = np.int64(quots[r, Q_LENGTH])
                            _enter_block(regs, frames, i, depth, pc, fs, fl,
                                         call_kind | (call << 4), call_saved, call_rem)
                            depth += 1
                            cb = base + fs
                            pc = np.int64(0)
            elif g == G_MISC:
                if x == X_CALL:
                    if arg == 2:                # emit: output is muted
                        if sp > 0:
                            sp -= 1
                        else:
                            err = True
                            errc = op.ERR_UNDERFLOW
                    elif arg >= 3 and arg <= 5:
                        if sp > 0:
                            sp -= 1
                            b = np.int32(stk[np.uint64(sb + (sp))])
                        else:
                            b = np.int32(0)
                            err = True
                            errc = op.ERR_UNDERFLOW
                        if arg == 3:
                            v = abs(b)
                        else:
                            if sp > 0:
                                sp -= 1
                                a = np.int32(stk[np.uint64(sb + (sp))])
                            else:
                                a = np.int32(0)
                                err = True
                                errc = op.ERR_UNDERFLOW
                            if arg == 4:
                                v = a if a < b else b
                            else:
                                v = a if a > b else b
                        stk[np.uint64(sb + (sp))] = _wrap16(v)
                        sp += 1
                elif x == X_GAS:
                    gas -= arg
                    extra += arg
                    if gas < 0:
                        err = True
                        errc = op.ERR_GAS
                elif x == X_PICK_N:
                    if arg > sp:
                        err = True
                    elif arg < sp:
                        if sp >= MAX_STACK:
                            err = True
                            errc = op.ERR_OVERFLOW
                        else:
                            stk[np.uint64(sb + (sp))] = stk[np.uint64(sb + (sp - 1 - arg))]
                            sp += 1
                elif x == X_INLINE:
                    if depth + 1 >= MAX_FRAMES:
                        err = True
                        errc = op.ERR_OVERFLOW
                    else:
                        fs = fs + pc - arg          # the data just skipped is the block
                        fl = np.int64(arg)
                        _enter_block(regs, frames, i, depth, pc, fs, fl, K_INLINE, 0, 0)
                        depth += 1
                        cb = base + fs
                        pc = np.int64(0)
                elif x == X_ERROR:
                    err = True
                elif x == X_CLEAR_ERROR:
                    errc = 0
            # X_NOP and everything not listed (reserved opcodes, local n >= 16) does nothing

            if err:
                status = FAILED
                break

        if status == YIELDED:
            regs[i, YIELDS] += 1
        if depth == 0:
            regs[i, PC] = pc
        else:
            frames[i, depth, F_PC] = pc
        regs[i, SP] = sp
        regs[i, GAS] = gas
        regs[i, STATUS] = status
        regs[i, ERRC] = errc
        regs[i, DEPTH] = depth
        steps[i] += gas_in - gas - extra


@njit(cache=True, nogil=True)
def run_round_serial(slots, pdec, org, quots, mem, stack, loc, regs, frames, steps):
    """Run each organism in ``slots`` once (to its next yield or end), one after another."""
    run_span(0, slots.shape[0], slots, pdec, org, quots, mem, stack, loc, regs, frames, steps)


@njit(cache=True, nogil=True, parallel=True)
def run_round_parallel(spans, slots, pdec, org, quots, mem, stack, loc, regs, frames, steps):
    """Run each organism in ``slots`` once, in ``spans`` slices spread over numba's threads.

    Results equal the serial run's: organisms never touch each other's rows (slots must not
    repeat).
    """
    n = slots.shape[0]
    spans = max(1, min(n, spans))
    size = (n + spans - 1) // spans
    for s in prange(spans):
        run_span(s * size, min(n, (s + 1) * size), slots, pdec, org, quots, mem, stack, loc,
                 regs, frames, steps)


@njit(cache=True, nogil=True)
def keep_yielded(slots, n, regs):
    """Move the slots among slots[:n] that yielded to the front, in order; returns how many."""
    m = 0
    for j in range(n):
        if regs[slots[j], STATUS] == YIELDED:
            slots[m] = slots[j]
            m += 1
    return m


@njit(cache=True, nogil=True)
def run_thinks_serial(slots, pdec, org, quots, mem, stack, loc, regs, frames, steps):
    """Run each organism in ``slots`` round after round, resuming after every yield, until all
    have halted, erred or spent their gas. ``slots`` is used as scratch space."""
    n = slots.shape[0]
    while n > 0:
        run_span(0, n, slots, pdec, org, quots, mem, stack, loc, regs, frames, steps)
        n = keep_yielded(slots, n, regs)


@njit(cache=True, nogil=True, parallel=True)
def run_thinks_parallel(spans, slots, pdec, org, quots, mem, stack, loc, regs, frames, steps):
    """``run_thinks_serial`` with each round spread over numba's threads."""
    n = slots.shape[0]
    while n > 0:
        parts = max(1, min(n, spans))
        size = (n + parts - 1) // parts
        for s in prange(parts):
            run_span(s * size, min(n, (s + 1) * size), slots, pdec, org, quots, mem, stack,
                     loc, regs, frames, steps)
        n = keep_yielded(slots, n, regs)


PARALLEL_MIN = 256
"""Organisms in a round below which ``action_round`` does not spread it over threads."""

# ``action_round`` calls the parallel kernel, and so does any world kernel that calls it:
# linking or loading such code needs the symbols of numba's threading layer, which exist only
# once the layer is started. Start it now rather than crash later ("allocate_sched").
numba.get_num_threads()


@njit(cache=True, nogil=True)
def action_round(spans, slots, n, alive, sensors, actions, more, run, pdec, org, quots, mem,
                 stack, loc, regs, frames, steps):
    """One action round of a world for ``slots[:n]``: the sensors go to Ring0 of those still
    thinking, each runs to its next yield (over ``spans`` thread slices when above 1), Ring1
    goes to ``actions``, and ``more`` marks the slots that yielded and act again. ``run`` is
    scratch space; other rows of ``more`` are left alone. Rounds of fewer than PARALLEL_MIN
    organisms run on one thread: waking the others would cost more than it saves."""
    m = 0
    ns = sensors.shape[1]
    for j in range(n):
        i = slots[j]
        more[i] = False
        st = regs[i, STATUS]
        if alive[i] and (st == RUNNING or st == YIELDED):
            run[m] = i
            m += 1
            for q in range(ns):
                mem[i, q] = np.int16(sensors[i, q])       # wraps to int16, as the VM stores
    if spans > 1 and m >= PARALLEL_MIN:
        run_round_parallel(spans, run[:m], pdec, org, quots, mem, stack, loc, regs, frames,
                           steps)
    else:
        run_round_serial(run[:m], pdec, org, quots, mem, stack, loc, regs, frames, steps)
    na = actions.shape[1]
    for j in range(m):
        i = run[j]
        for q in range(na):
            actions[i, q] = mem[i, RING1 + q]
        more[i] = regs[i, STATUS] == YIELDED


@njit(cache=True, nogil=True, inline="always")
def _start(i, gas, regs, mem):
    regs[i, SP] = 0
    regs[i, GAS] = gas
    regs[i, STATUS] = RUNNING
    regs[i, ERRC] = 0
    regs[i, DEPTH] = 0
    regs[i, YIELDS] = 0
    regs[i, PC] = 0
    for r in range(4):
        mem[i, RING1 + r] = 0


@njit(cache=True, nogil=True)
def begin_think(slots, gas, regs, mem):
    """Start a new think for organisms in ``slots``: empty stack, pc 0, clear flags and Ring1."""
    for j in range(slots.shape[0]):
        _start(slots[j], gas[j], regs, mem)


@njit(cache=True, nogil=True)
def begin_tick(active, budget, regs, mem):
    """``begin_think`` for each slot with ``active`` set, its gas ``budget[slot]`` clipped to
    1..GAS_CAP (one call per tick, no masks or slot lists built in Python)."""
    for i in range(active.shape[0]):
        if active[i]:
            _start(i, min(max(np.int64(budget[i]), 1), op.GAS_CAP), regs, mem)
