"""Denormal floats flushed to zero inside a kernel: the x86 MXCSR's FTZ and DAZ bits.

Denormals (magnitudes below 1.2e-38 in float32) cost the CPU a microcode assist per
operation: a loop over them ran 60x slower here (3286 against 52 us). They appear
in training on their own: the Adam moments and the weight-decayed weights of dead
ReLU units decay geometrically towards 0, and a 235k-parameter Adam step went from
0.19 to 1 ms once they had. A kernel calls ``flush_denormals()`` first and
``restore_fp_state(old)`` last; only its own thread's state changes, and only while
it runs. Values that small move no weight: results change by less than 1e-38.

Off x86 both are no-ops (the kernels still run, at the CPU's denormal speed).
"""

import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: MXCSR bits: flush-to-zero (results) and denormals-are-zero (inputs)
_FTZ_DAZ = 0x8040
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def _mxcsr(builder, name, slot):
    i8p = ir.IntType(8).as_pointer()
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8p]), name
    )
    builder.call(fn, [builder.bitcast(slot, i8p)])


@intrinsic
def flush_denormals(typingctx):
    """Set FTZ and DAZ for this thread; returns the previous state (an int32)."""

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        if not _X86:
            return ir.Constant(i32, 0)
        slot = cgutils.alloca_once(builder, i32)
        _mxcsr(builder, "llvm.x86.sse.stmxcsr", slot)
        old = builder.load(slot)
        builder.store(builder.or_(old, ir.Constant(i32, _FTZ_DAZ)), slot)
        _mxcsr(builder, "llvm.x86.sse.ldmxcsr", slot)
        return old

    return types.int32(), codegen


@intrinsic
def restore_fp_state(typingctx, old):
    """Put back the state ``flush_denormals`` returned."""

    def codegen(context, builder, signature, args):
        if _X86:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            _mxcsr(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.void(types.int32), codegen
