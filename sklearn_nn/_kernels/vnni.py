"""An int8 GEMM on the CPU's VNNI dot-product instruction (``vpdpbusd``).

``vpdpbusd`` multiplies 4 uint8 activations by 4 int8 weights and adds the sum to an
int32 lane, 64 multiply-adds per instruction on 512-bit registers. LLVM does not
form it from plain loops (Numba also widens integer products to int64), so the
microkernel emits it explicitly through a Numba intrinsic. It exists where the CPU
has ``avx512_vnni`` (``HAS_VNNI``); elsewhere callers keep to float32.

Layouts: activations ``xq`` (n, Kp) uint8, Kp a multiple of 4, rows a multiple of
``ROWS``; packed weights ``wp`` (Mp / LANES, Kp / 4, LANES, 4) int8 (``pack_weights``),
so one 64-byte load gives 16 output columns x 4 k; output (n, Mp) int32.
"""

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

from ._jit import inline, jit

#: rows and 16-column vectors of one register tile (8 x 2 accumulators of 16 lanes)
ROWS, TILE_VECTORS, LANES = 8, 2, 16


def _target_has_vnni():
    # the CPU Numba compiles for: NUMBA_CPU_NAME / NUMBA_CPU_FEATURES (portable
    # caches, containers) override the host, and LLVM aborts the process on an
    # instruction its target lacks
    if config.CPU_FEATURES is not None:
        features = config.CPU_FEATURES
    elif config.CPU_NAME not in (None, "host"):
        return False  # a named CPU: its features are not known here, so no VNNI
    else:
        features = llvm.get_host_cpu_features().flatten()
    return "+avx512vnni" in features.split(",")


#: whether the int8 kernels can run (else int8 models predict in float32)
HAS_VNNI = _target_has_vnni()

_I8, _I32, _I64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)


def _make_tile(n_vectors):
    """An intrinsic ``tile(x, x_off, x_stride, w, w_off, w_stride, n_k4, out, o_off,
    o_stride)``: ``ROWS`` rows x ``n_vectors`` x 16 columns of ``out`` (int32) =
    x (uint8) @ packed w (int8), over ``n_k4`` >= 1 groups of 4 k, all offsets in
    elements of the flat arrays."""
    vector = ir.VectorType(_I32, LANES)

    @intrinsic
    def tile(typingctx, x, xoff, xstride, w, woff, wstride, n_k4, out, ooff, ostride):
        sig = types.void(x, xoff, xstride, w, woff, wstride, n_k4, out, ooff, ostride)

        def codegen(context, builder, signature, args):
            xa, xoff, xs, wa, woff, ws, n_k4, oa, ooff, os_ = args
            arrays = (signature.args[0], signature.args[3], signature.args[7])
            xptr, wptr, optr = (
                context.make_array(ty)(context, builder, value).data
                for ty, value in zip(arrays, (xa, wa, oa), strict=True)
            )
            xptr = builder.bitcast(xptr, _I8.as_pointer())
            wptr = builder.bitcast(wptr, _I8.as_pointer())
            optr = builder.bitcast(optr, _I32.as_pointer())
            fn = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(vector, [vector, vector, vector]),
                "llvm.x86.avx512.vpdpbusd.512",
            )

            def const(value):
                return ir.Constant(_I64, value)

            zero = ir.Constant(vector, None)
            entry = builder.block
            loop = builder.append_basic_block("vnni_loop")
            done = builder.append_basic_block("vnni_done")
            builder.branch(loop)
            builder.position_at_end(loop)
            k4 = builder.phi(_I64)
            k4.add_incoming(const(0), entry)
            accs = []
            for _ in range(ROWS * n_vectors):
                acc = builder.phi(vector)
                acc.add_incoming(zero, entry)
                accs.append(acc)
            weights = []
            for c in range(n_vectors):
                off = builder.add(
                    builder.add(woff, builder.mul(ws, const(c))),
                    builder.mul(k4, const(4 * LANES)),
                )
                ptr = builder.bitcast(builder.gep(wptr, [off]), vector.as_pointer())
                weights.append(builder.load(ptr, align=1))
            new = []
            for r in range(ROWS):
                off = builder.add(
                    builder.add(xoff, builder.mul(xs, const(r))),
                    builder.mul(k4, const(4)),
                )
                ptr = builder.bitcast(builder.gep(xptr, [off]), _I32.as_pointer())
                four = builder.load(ptr, align=1)  # 4 uint8 as one int32, broadcast
                one = builder.insert_element(
                    ir.Constant(vector, ir.Undefined), four, ir.Constant(_I32, 0)
                )
                broadcast = builder.shuffle_vector(
                    one, ir.Constant(vector, ir.Undefined), ir.Constant(vector, None)
                )
                for c in range(n_vectors):
                    acc = accs[r * n_vectors + c]
                    new.append(builder.call(fn, [acc, broadcast, weights[c]]))
            following = builder.add(k4, const(1))
            k4.add_incoming(following, loop)
            end = builder.block
            for acc, value in zip(accs, new, strict=True):
                acc.add_incoming(value, end)
            builder.cbranch(builder.icmp_signed("<", following, n_k4), loop, done)
            builder.position_at_end(done)
            for r in range(ROWS):
                for c in range(n_vectors):
                    off = builder.add(
                        builder.add(ooff, builder.mul(os_, const(r))),
                        const(c * LANES),
                    )
                    ptr = builder.bitcast(builder.gep(optr, [off]), vector.as_pointer())
                    builder.store(new[r * n_vectors + c], ptr, align=4)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile = _make_tile(TILE_VECTORS)
_tile_1 = _make_tile(1)


def pack_weights(wq):
    """int8 (K, M) weights -> the packed (Mp / 16, Kp / 4, 16, 4) layout, zero-padded
    to Kp (a multiple of 4) and Mp (a multiple of 16)."""
    k, m = wq.shape
    kp, mp = -(-k // 4) * 4, -(-m // LANES) * LANES
    padded = np.zeros((kp, mp), np.int8)
    padded[:k, :m] = wq
    packed = padded.reshape(kp // 4, 4, mp // LANES, LANES).transpose(2, 0, 3, 1)
    return np.ascontiguousarray(packed)


@inline
def _int8_gemm_rows(xq, wp, out, lo, hi):
    kp = xq.shape[1]
    n_blocks, n_k4 = wp.shape[0], wp.shape[1]
    mp = out.shape[1]
    xf, wf, of = xq.ravel(), wp.ravel(), out.ravel()
    stride = n_k4 * LANES * 4
    for i in range(lo, hi, ROWS):
        x_at, out_at = i * kp, i * mp
        jb = 0
        while jb + TILE_VECTORS <= n_blocks:
            w_at = jb * stride
            _tile(xf, x_at, kp, wf, w_at, stride, n_k4, of, out_at + jb * LANES, mp)
            jb += TILE_VECTORS
        while jb < n_blocks:
            w_at = jb * stride
            _tile_1(xf, x_at, kp, wf, w_at, stride, n_k4, of, out_at + jb * LANES, mp)
            jb += 1


@jit
def int8_gemm(xq, wp, out):
    """``out = xq @ w`` in int32 (exact), for the int8 ``w`` that ``wp`` packs.

    Shapes: xq (n, Kp) uint8 with n a multiple of ``ROWS``; wp (Mp / 16, Kp / 4, 16,
    4); out (n, Mp) int32. The caller checks the shapes (the tile reads and writes
    whole blocks through raw pointers).
    """
    _int8_gemm_rows(xq, wp, out, 0, xq.shape[0])
