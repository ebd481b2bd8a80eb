"""A cache prefetch hint usable inside numba kernels.

Kernels that walk a large population touch a few cache lines in each organism's rows; at
100,000 organisms those rows are far apart in memory and each first touch waits on RAM.
Asking for the rows of an organism a few places ahead hides that wait. The hint never
changes results: a prefetch of any address (even one outside the array) cannot fault.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, array, index):
    """Hint that ``array.flat[index]`` (a C-contiguous 1-D array) will be read soon."""
    if not (isinstance(array, types.Array) and array.ndim == 1
            and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), (i8p, i32, i32, i32)),
            "llvm.prefetch")
        # read access, high temporal locality, data cache
        builder.call(fn, (builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)))
        return context.get_dummy_value()

    return types.void(array, index), codegen
