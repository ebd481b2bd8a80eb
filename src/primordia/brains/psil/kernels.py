"""The fast micro-PSIL VM: numba kernels that run a whole population in one call.

Each organism owns rows of the state arrays (stack, memory, locals, registers, frames). A call
runs every active organism until it yields, halts, errs or spends its gas; the next call resumes
organisms that yielded. ``reference.py`` is the readable twin; tests hold the two equal.

Code layout: ``code`` is one flat byte array; organism ``i``'s blob starts at ``org[i, START]``
and holds its main code (``org[i, MAIN_LEN]`` bytes) followed by its quotation bodies, which
``quots[org[i, Q_FIRST] : + org[i, Q_COUNT]]`` lists as (index, offset in blob, length).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import opcodes as op

# org columns
START, MAIN_LEN, Q_FIRST, Q_COUNT = 0, 1, 2, 3
ORG_COLS = 4
# quots columns
Q_INDEX, Q_OFFSET, Q_LENGTH = 0, 1, 2
# regs columns
SP, GAS, STATUS, ERRC, DEPTH, YIELDS = 0, 1, 2, 3, 4, 5
REG_COLS = 6
# status values
RUNNING, YIELDED, HALTED, FAILED = 0, 1, 2, 3
# frame columns and kinds
F_START, F_LEN, F_PC, F_KIND, F_SAVED, F_REMAIN = 0, 1, 2, 3, 4, 5
FRAME_COLS = 6
K_MAIN, K_EXEC, K_DIP, K_LOOP, K_INLINE = 0, 1, 2, 3, 4

MAX_STACK = op.MAX_STACK
MAX_FRAMES = op.MAX_FRAMES
RING1 = op.RING1_BASE


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


@njit(cache=True, nogil=True)
def run_one(i, code, org, quots, mem, stack, loc, regs, frames, steps):
    """Run organism ``i`` until it yields, halts, errs or runs out of gas."""
    status = regs[i, STATUS]
    if status == YIELDED:
        for k in range(4):
            mem[i, RING1 + k] = 0
        status = RUNNING
    elif status != RUNNING:
        return
    m = mem[i]
    stk = stack[i]
    lc = loc[i]
    fr = frames[i]
    base = org[i, START]
    qfirst = org[i, Q_FIRST]
    qcount = org[i, Q_COUNT]
    sp = regs[i, SP]
    gas = regs[i, GAS]
    depth = regs[i, DEPTH]
    errc = regs[i, ERRC]
    fs = fr[depth, F_START]
    fl = fr[depth, F_LEN]
    pc = fr[depth, F_PC]
    nsteps = np.int64(0)
    leave = False

    while True:
        # ---- a block ends when its pc leaves the code or it ran halt/ret/end ----------------
        if leave or pc < 0 or pc >= fl:
            leave = False
            if depth == 0:
                status = HALTED
                break
            kind = fr[depth, F_KIND] & 15
            qidx = fr[depth, F_KIND] >> 4
            saved = fr[depth, F_SAVED]
            rem = fr[depth, F_REMAIN]
            depth -= 1
            fs = fr[depth, F_START]
            fl = fr[depth, F_LEN]
            pc = fr[depth, F_PC]
            if kind == K_DIP:
                if sp >= MAX_STACK:
                    errc = op.ERR_OVERFLOW
                    status = FAILED
                    break
                stk[sp] = saved
                sp += 1
            elif kind == K_LOOP and rem > 0:
                r = _find_quotation(quots, qfirst, qcount, qidx)
                fr[depth, F_PC] = pc
                depth += 1
                fs = quots[r, Q_OFFSET]
                fl = quots[r, Q_LENGTH]
                pc = 0
                fr[depth, F_START] = fs
                fr[depth, F_LEN] = fl
                fr[depth, F_KIND] = K_LOOP | (qidx << 4)
                fr[depth, F_REMAIN] = rem - 1
            continue

        gas -= 1
        if gas <= 0:
            errc = op.ERR_GAS
            status = FAILED
            break
        nsteps += 1
        o = np.int32(code[base + fs + pc])
        pc += 1
        err = False          # error flag raised by this instruction
        call = -1            # quotation to enter after the instruction, if any
        call_kind = K_EXEC
        call_saved = 0
        call_rem = 0

        if o >= 0x20 and o < 0x80:
            # ---- literals: small numbers, symbol slots, quotation references --------------
            if sp >= MAX_STACK:
                errc = op.ERR_OVERFLOW
                status = FAILED
                break
            if o < 0x40:
                stk[sp] = o - 0x20
            elif o < 0x60:
                stk[sp] = o - 0x40
            else:
                stk[sp] = _wrap16((o - 0x60) | 0x8000)
            sp += 1
            continue

        if o < 0x20:
            # ---- 1-byte commands ---------------------------------------------------------
            if o == op.NOP or o == op.PICK:
                pass
            elif o == op.DUP:
                if sp == 0:
                    err = True
                    errc = op.ERR_UNDERFLOW
                elif sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = stk[sp - 1]
                    sp += 1
            elif o == op.DROP:
                if sp == 0:
                    err = True
                    errc = op.ERR_UNDERFLOW
                else:
                    sp -= 1
            elif o == op.SWAP:
                if sp < 2:
                    err = True
                    errc = op.ERR_UNDERFLOW
                else:
                    t = stk[sp - 1]
                    stk[sp - 1] = stk[sp - 2]
                    stk[sp - 2] = t
            elif o == op.OVER:
                if sp < 2:
                    err = True
                    errc = op.ERR_UNDERFLOW
                elif sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = stk[sp - 2]
                    sp += 1
            elif (o >= op.ADD and o <= op.NEG) or o == op.INC or o == op.DEC or o == op.LOAD \
                    or o == op.PRINT:
                # ---- pop one or two, push one (arithmetic, comparison, load) -------------
                if sp > 0:
                    sp -= 1
                    b = np.int32(stk[sp])
                else:
                    b = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                a = np.int32(0)
                unary = (o == op.NOT or o == op.NEG or o == op.INC or o == op.DEC
                         or o == op.LOAD or o == op.PRINT)
                if not unary:
                    if sp > 0:
                        sp -= 1
                        a = np.int32(stk[sp])
                    else:
                        err = True
                        errc = op.ERR_UNDERFLOW
                push = True
                v = np.int32(0)
                if o == op.ADD:
                    v = a + b
                elif o == op.SUB:
                    v = a - b
                elif o == op.MUL:
                    v = a * b
                elif o == op.DIV or o == op.MOD:
                    if b == 0:
                        err = True
                        errc = op.ERR_DIV_ZERO
                        v = 0
                    else:
                        q = abs(a) // abs(b)
                        if (a < 0) != (b < 0):
                            q = -q
                        v = q if o == op.DIV else a - b * q
                elif o == op.EQ:
                    v = 1 if a == b else 0
                elif o == op.LT:
                    v = 1 if a < b else 0
                elif o == op.GT:
                    v = 1 if a > b else 0
                elif o == op.AND:
                    v = a & b
                elif o == op.OR:
                    v = a | b
                elif o == op.NOT:
                    v = 1 if b == 0 else 0
                elif o == op.NEG:
                    v = -b
                elif o == op.INC:
                    v = b + 1
                elif o == op.DEC:
                    v = b - 1
                elif o == op.LOAD:
                    v = np.int32(m[b & 0xFF])
                else:  # PRINT: output is muted
                    push = False
                if push:
                    if sp >= MAX_STACK:
                        err = True
                        errc = op.ERR_OVERFLOW
                    else:
                        stk[sp] = _wrap16(v)
                        sp += 1
            elif o == op.ROT or o == op.DUP2:
                # pop up to three, push them back rearranged (zeros stand in on underflow)
                n_pop = 3 if o == op.ROT else 2
                z = np.int32(0)
                y = np.int32(0)
                x = np.int32(0)
                for k in range(n_pop):
                    if sp > 0:
                        sp -= 1
                        t = np.int32(stk[sp])
                    else:
                        t = np.int32(0)
                        err = True
                        errc = op.ERR_UNDERFLOW
                    if k == 0:
                        z = t
                    elif k == 1:
                        y = t
                    else:
                        x = t
                # rot: x y z -> y z x ; dup2: y z -> y z y z
                n_push = 3 if o == op.ROT else 4
                for k in range(n_push):
                    if o == op.ROT:
                        t = y if k == 0 else (z if k == 1 else x)
                    else:
                        t = y if (k & 1) == 0 else z
                    if sp >= MAX_STACK:
                        err = True
                        errc = op.ERR_OVERFLOW
                    else:
                        stk[sp] = t
                        sp += 1
            elif o == op.STORE:
                if sp > 0:
                    sp -= 1
                    slot = np.int32(stk[sp]) & 0xFF
                else:
                    slot = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if sp > 0:
                    sp -= 1
                    m[slot] = stk[sp]
                else:
                    m[slot] = 0
                    err = True
                    errc = op.ERR_UNDERFLOW
            elif o == op.DEPTH:
                if sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = (3 * sp) // 2
                    sp += 1
            elif o == op.CLEAR:
                sp = 0
            elif o == op.RET:
                if depth == 0:
                    status = HALTED
                    break
                leave = True
            else:
                # ---- combinators: exec ifte dip loop --------------------------------------
                n_pop = 1
                if o == op.IFTE:
                    n_pop = 3
                elif o == op.DIP or o == op.LOOP:
                    n_pop = 2
                v0 = np.int32(0)
                v1 = np.int32(0)
                v2 = np.int32(0)
                for k in range(n_pop):
                    if sp > 0:
                        sp -= 1
                        t = np.int32(stk[sp])
                    else:
                        t = np.int32(0)
                        err = True
                        errc = op.ERR_UNDERFLOW
                    if k == 0:
                        v0 = t
                    elif k == 1:
                        v1 = t
                    else:
                        v2 = t
                if o == op.EXEC:
                    call = v0 & 0x7FFF
                elif o == op.IFTE:
                    call = (v1 & 0x7FFF) if v2 != 0 else (v0 & 0x7FFF)
                elif o == op.DIP:
                    call = v0 & 0x7FFF
                    call_kind = K_DIP
                    call_saved = v1
                else:  # LOOP: n [q]; an error above cancels it
                    if v1 > 0 and not err:
                        call = v0 & 0x7FFF
                        call_kind = K_LOOP
                        call_rem = v1 - 1
        elif o < 0xC0:
            # ---- 2-byte ops --------------------------------------------------------------
            if pc >= fl:
                status = FAILED      # truncated instruction: the flag without a code
                break
            arg = np.int32(code[base + fs + pc])
            pc += 1
            if o == op.R0_READ or o == op.SYM_X or o == op.PUSH_B or o == op.STR \
                    or o == op.R1_READ or o == op.QUOT_X or o == op.INSPECT \
                    or (o == op.LOCAL and arg < 16):
                if o == op.R0_READ or o == op.SYM_X:
                    v = np.int32(m[arg])
                elif o == op.R1_READ:
                    v = np.int32(m[(RING1 + arg) & 0xFF])
                elif o == op.QUOT_X:
                    v = _wrap16(arg | 0x8000)
                elif o == op.INSPECT:
                    v = 3 * sp
                elif o == op.LOCAL:
                    v = np.int32(lc[arg])
                else:
                    v = arg
                if sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = v
                    sp += 1
            elif o == op.R1_WRITE or o == op.JZ or o == op.JNZ or o == op.LOOP_N \
                    or (o == op.LOCAL_SET and arg < 16):
                if sp > 0:
                    sp -= 1
                    v = np.int32(stk[sp])
                else:
                    v = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if o == op.R1_WRITE:
                    m[(RING1 + arg) & 0xFF] = v
                elif o == op.JZ:
                    if v == 0:
                        pc += arg
                elif o == op.JNZ:
                    if v != 0:
                        pc += arg
                elif o == op.LOCAL_SET:
                    lc[arg] = v
                else:  # LOOP_N
                    if arg > 0 and not err:
                        call = v & 0x7FFF
                        call_kind = K_LOOP
                        call_rem = arg - 1
            elif o == op.JMP:
                pc += arg
            elif o == op.JMP_BACK:
                pc -= arg
            elif o >= op.ACT_MOVE and o <= op.ACT_CRAFT:
                # ---- action opcodes: write Ring1, then yield -----------------------------
                if o == op.ACT_MOVE:
                    if arg == 5:
                        m[RING1] = m[13]
                    elif arg == 6:
                        m[RING1] = m[18]
                    elif arg == 7:
                        m[RING1] = m[19]
                    else:
                        m[RING1] = arg
                else:
                    if o == op.ACT_ATTACK:
                        m[RING1 + 1] = 2
                    elif o == op.ACT_HEAL:
                        m[RING1 + 1] = 7
                    elif o == op.ACT_EAT:
                        m[RING1 + 1] = 1
                    elif o == op.ACT_HARVEST:
                        m[RING1 + 1] = 8
                    elif o == op.ACT_TERRAFORM:
                        m[RING1 + 1] = 9
                    elif o == op.ACT_SHARE:
                        m[RING1 + 1] = 3
                    elif o == op.ACT_TRADE:
                        m[RING1 + 1] = 4
                    else:
                        m[RING1 + 1] = 5
                    if o == op.ACT_ATTACK or o == op.ACT_HEAL or o == op.ACT_SHARE \
                            or o == op.ACT_TRADE:
                        m[RING1 + 2] = m[op.RING0_NEAR_ID]
                status = YIELDED
                break
            elif o == op.CALL:
                if arg == 2:
                    if sp > 0:
                        sp -= 1
                    else:
                        err = True
                        errc = op.ERR_UNDERFLOW
                elif arg >= 3 and arg <= 5:
                    if sp > 0:
                        sp -= 1
                        b = np.int32(stk[sp])
                    else:
                        b = np.int32(0)
                        err = True
                        errc = op.ERR_UNDERFLOW
                    if arg == 3:
                        v = abs(b)
                    else:
                        if sp > 0:
                            sp -= 1
                            a = np.int32(stk[sp])
                        else:
                            a = np.int32(0)
                            err = True
                            errc = op.ERR_UNDERFLOW
                        if arg == 4:
                            v = a if a < b else b
                        else:
                            v = a if a > b else b
                    if sp >= MAX_STACK:
                        err = True
                        errc = op.ERR_OVERFLOW
                    else:
                        stk[sp] = _wrap16(v)
                        sp += 1
            elif o == op.GAS:
                gas -= arg
                if gas < 0:
                    err = True
                    errc = op.ERR_GAS
            elif o == op.PICK_N:
                if arg > sp:
                    err = True
                elif arg < sp:
                    if sp >= MAX_STACK:
                        err = True
                        errc = op.ERR_OVERFLOW
                    else:
                        stk[sp] = stk[sp - 1 - arg]
                        sp += 1
            # everything else (roll.n, reserved 0x9C-0xBF, local n >= 16) is a no-op
        elif o < 0xE0:
            # ---- 3-byte ops --------------------------------------------------------------
            if pc + 1 >= fl:
                status = FAILED      # truncated instruction: the flag without a code
                break
            val = _wrap16((np.int32(code[base + fs + pc]) << 8) | code[base + fs + pc + 1])
            pc += 2
            if o == op.PUSH_W or o == op.SYM_W or o == op.QUOT_W:
                if o == op.PUSH_W:
                    v = val
                elif o == op.SYM_W:
                    v = np.int32(m[val & 0xFF])
                else:
                    v = _wrap16(val | 0x8000)
                if sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = v
                    sp += 1
            elif o == op.JMP_FAR:
                pc += val
            elif o == op.JZ_FAR:
                if sp > 0:
                    sp -= 1
                    v = np.int32(stk[sp])
                else:
                    v = np.int32(0)
                    err = True
                    errc = op.ERR_UNDERFLOW
                if v == 0:
                    pc += val
            elif o == op.CALL_FAR:
                pc = val
        elif o < 0xF0:
            # ---- variable length: [op][len][data] ----------------------------------------
            if pc >= fl:
                status = FAILED
                break
            length = np.int32(code[base + fs + pc])
            pc += 1
            if pc + length > fl:
                status = FAILED
                break
            data = pc
            pc += length
            if o == op.STRING:
                if sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = length
                    sp += 1
            elif o == op.INLINE:
                if depth + 1 >= MAX_FRAMES:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    fr[depth, F_PC] = pc
                    depth += 1
                    fs = fs + data
                    fl = length
                    pc = 0
                    fr[depth, F_START] = fs
                    fr[depth, F_LEN] = fl
                    fr[depth, F_KIND] = K_INLINE
        else:
            # ---- special ------------------------------------------------------------------
            if o == op.HALT or o == op.END:
                if depth == 0:
                    status = HALTED
                    break
                leave = True
            elif o == op.YIELD:
                status = YIELDED
                break
            elif o == op.ERROR:
                err = True
            elif o == op.CLEAR_ERROR:
                errc = 0
            elif o == op.CHECK_ERROR:
                if sp >= MAX_STACK:
                    err = True
                    errc = op.ERR_OVERFLOW
                else:
                    stk[sp] = 0      # the flag is never set while code runs
                    sp += 1

        if call >= 0 and not err:
            r = _find_quotation(quots, qfirst, qcount, call)
            if r < 0:
                err = True
                errc = op.ERR_QUOTATION
            elif depth + 1 >= MAX_FRAMES:
                err = True
                errc = op.ERR_OVERFLOW
            else:
                fr[depth, F_PC] = pc
                depth += 1
                fs = quots[r, Q_OFFSET]
                fl = quots[r, Q_LENGTH]
                pc = 0
                fr[depth, F_START] = fs
                fr[depth, F_LEN] = fl
                fr[depth, F_KIND] = call_kind | (call << 4)
                fr[depth, F_SAVED] = call_saved
                fr[depth, F_REMAIN] = call_rem
        elif call >= 0:
            # an underflow while popping the reference does not stop the call in the
            # reference VM: the bad (zero) index is still looked up
            r = _find_quotation(quots, qfirst, qcount, call)
            if r < 0:
                errc = op.ERR_QUOTATION
        if err:
            status = FAILED
            break

    if status == YIELDED:
        regs[i, YIELDS] += 1
    fr[depth, F_PC] = pc
    regs[i, SP] = sp
    regs[i, GAS] = gas
    regs[i, STATUS] = status
    regs[i, ERRC] = errc
    regs[i, DEPTH] = depth
    steps[i] += nsteps


@njit(cache=True, nogil=True)
def run_round_serial(active, code, org, quots, mem, stack, loc, regs, frames, steps):
    """Run every active organism once, one after another."""
    for i in range(active.shape[0]):
        if active[i]:
            run_one(i, code, org, quots, mem, stack, loc, regs, frames, steps)


@njit(cache=True, nogil=True, parallel=True)
def run_round_parallel(active, code, org, quots, mem, stack, loc, regs, frames, steps):
    """Run every active organism once, spread over numba's threads (same results)."""
    for i in prange(active.shape[0]):
        if active[i]:
            run_one(i, code, org, quots, mem, stack, loc, regs, frames, steps)


@njit(cache=True, nogil=True)
def begin_think(active, org, gas, regs, frames, mem):
    """Start a new think for active organisms: empty stack, pc 0, clear flags and Ring1."""
    for i in range(active.shape[0]):
        if not active[i]:
            continue
        regs[i, SP] = 0
        regs[i, GAS] = gas[i]
        regs[i, STATUS] = RUNNING
        regs[i, ERRC] = 0
        regs[i, DEPTH] = 0
        regs[i, YIELDS] = 0
        frames[i, 0, F_START] = 0
        frames[i, 0, F_LEN] = org[i, MAIN_LEN]
        frames[i, 0, F_PC] = 0
        frames[i, 0, F_KIND] = K_MAIN
        for k in range(4):
            mem[i, RING1 + k] = 0
