"""int8 Dense forward: ``a = f(dequant(quant(x) @ wq) + b)`` on the VNNI GEMM.

Weights are int8 with one symmetric scale per output column, ``w ~ wq * sw``; each
input row is quantised on the fly to uint8 with its own scale and zero point,
``x ~ (xq - zp) * sx`` (asymmetric, so that ReLU outputs use all 256 levels). The
product is exact in int32, ``acc = xq @ wq``, and
``z = (acc - zp * colsum(wq)) * sx * sw + b``.
"""

import numpy as np

from ._jit import inline, jit
from .activations import IDENTITY, activation_forward
from .vnni import LANES, ROWS, int8_gemm

#: largest n_inputs whose int32 accumulation cannot overflow: K * 255 * 127 < 2**31
MAX_INPUTS = (2**31 - 1) // (255 * 127)


@inline
def _float32_key(bits):
    # an int32 that orders as the float32 with these bits does (sign-magnitude to
    # two's complement); an integer min/max vectorises where a float one cannot
    return bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))


@inline
def _quantize_row(x, q, key_bits):
    """``q = clip(rint(x / s) + zp, 0, 255)`` over [min(x, 0), max(x, 0)]; returns
    (s, zp)."""
    bits = x.view(np.int32)
    lo, hi = np.int32(2**31 - 1), np.int32(-(2**31))
    for k in range(bits.size):
        key = _float32_key(bits[k])
        lo = key if key < lo else lo
        hi = key if key > hi else hi
    key_bits[0], key_bits[1] = _float32_key(lo), _float32_key(hi)  # back to floats
    low, high = key_bits.view(np.float32)[0], key_bits.view(np.float32)[1]
    zero = np.float32(0)
    low = low if low < zero else zero
    high = high if high > zero else zero
    scale = (high - low) / np.float32(255)
    if not scale > 0:  # an all-zero row (a NaN row stays NaN through the scale)
        scale = scale if scale != scale else np.float32(1)
    inverse = np.float32(1) / scale
    zero_point = np.int32(np.rint(-low * inverse))
    for k in range(x.size):
        v = np.int32(np.rint(x[k] * inverse)) + zero_point
        v = v if v > 0 else 0
        v = v if v < 255 else 255
        q[k] = np.uint8(v)
    return scale, zero_point


@jit
def quantize_rows(x, q, scales, zero_points):
    """Quantise each row of float32 ``x`` (n, K) into uint8 ``q[:, :K]``.

    Writes ``scales`` (n,) float32 and ``zero_points`` (n,) int32; columns of ``q``
    beyond K are left as they are (zero, so they add nothing).
    """
    key_bits = np.empty(2, np.int32)
    n, k = x.shape
    for i in range(n):
        scales[i], zero_points[i] = _quantize_row(x[i], q[i, :k], key_bits)


@jit
def quantized_dense_forward(x, wp, colsum, w_scales, b, code, xq, sx, zp, acc, z, a):
    """``a = f(z)``, ``z = dequant(quant(x) @ wq) + b`` for float32 ``x`` (n, K).

    Shapes: wp packed int8 weights (see ``vnni.pack_weights``) of M outputs;
    colsum (M,) int32 column sums of wq; w_scales, b (M,) float32; scratch xq
    (n_pad, Kp) uint8 with zero columns K..Kp, sx (n_pad,) float32, zp (n_pad,)
    int32, acc (n_pad, Mp) int32, n_pad >= n a multiple of ``ROWS``; z, a (n, M).
    """
    n, m = z.shape
    quantize_rows(x, xq[:n], sx[:n], zp[:n])
    n_pad = -(-n // ROWS) * ROWS
    for i in range(n, n_pad):  # rows of the last tile beyond n: any finite values
        xq[i, :] = 0
    # one tile of rows at a time: its int32 results are rescaled while in L1
    for lo in range(0, n_pad, ROWS):
        hi = min(lo + ROWS, n)
        int8_gemm(xq[lo : lo + ROWS], wp, acc[lo : lo + ROWS])
        for i in range(lo, hi):
            scale, offset = sx[i], zp[i]
            for j in range(m):
                v = np.float32(acc[i, j] - offset * colsum[j]) * (scale * w_scales[j])
                z[i, j] = v + b[j]
        if code != IDENTITY:
            activation_forward(z[lo:hi], code, a[lo:hi])


def int8_scratch(n_rows, n_inputs, n_packed_outputs, n_parts):
    """Scratch of ``quantized_dense_forward`` for batches of ``n_rows`` cut into up to
    ``n_parts`` parts: part k's rows start ``k * ROWS`` further on, so that parts,
    padded to whole tiles, never overlap."""
    rows = n_rows + n_parts * ROWS
    return {
        "xq": np.zeros((rows, -(-n_inputs // 4) * 4), np.uint8),
        "sx": np.empty(rows, np.float32),
        "zp": np.empty(rows, np.int32),
        "acc": np.empty((rows, n_packed_outputs * LANES), np.int32),
    }
