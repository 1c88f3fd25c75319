"""Vectorisable tanh, sigmoid and exp for float32 kernels; exact ones for float64.

Without Intel's SVML, Numba calls libm once per element for ``math.tanh`` and
``math.exp`` (about 20 ns each here), and the loops around them do not vectorise: the
gates of an LSTM step then cost 15x its recurrent GEMM. In float32 these functions are
pure multiply-add arithmetic instead, which LLVM vectorises (8 lanes with AVX2):

- ``tanh``: Eigen's rational approximation (odd degree-13 numerator, even degree-6
  denominator) on [-9, 9], clamped outside; error within a few float32 ulps;
- ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``: absolute error about 6e-8;
- ``exp`` for ``x <= 0`` (softmax after subtracting the max), 0 below -80 (so no
  subnormal numbers downstream): Cody-Waite reduction
  to ``2^k e^r``, |r| <= ln2/2, a degree-6 polynomial (relative error about 2e-7), and
  ``2^k`` as the float whose exponent bits are ``k + 127`` (an LLVM bitcast: no
  libm call, no table lookup).

float64 keeps libm's exact functions, so the float64 paths (and the finite-difference
tests that check them) are unchanged. Chosen per argument type with ``overload``.
"""

import math

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic, overload

from ._jit import inline

__all__ = ["exp_nonpositive", "sigmoid", "tanh"]

_f = np.float32
_CLAMP = _f(9.0)
_A = tuple(
    _f(a)
    for a in (
        -2.76076847742355e-16,
        2.00018790482477e-13,
        -8.60467152213735e-11,
        5.12229709037114e-08,
        1.48572235717979e-05,
        6.37261928875436e-04,
        4.89352455891786e-03,
    )
)
_B = tuple(
    _f(b)
    for b in (
        1.19825839466702e-06,
        1.18534705686654e-04,
        2.26843463243900e-03,
        4.89352518554385e-03,
    )
)
_HALF = _f(0.5)
_ONE = _f(1.0)
_LOG2E = _f(1.4426950408889634)
_LN2_HI = _f(0.693359375)
_LN2_LO = _f(-2.12194440e-4)
_EXP_FLOOR = _f(-80.0)  # e^-80 ~ 1.8e-35: normal float32 even divided by 1000
_P = tuple(
    _f(p)
    for p in (
        1.9875691500e-4,
        1.3981999507e-3,
        8.3334519073e-3,
        4.1665795894e-2,
        1.6666665459e-1,
        5.0000001201e-1,
    )
)


@intrinsic
def _bits_as_float32(typingctx, bits):
    """The float32 with the bit pattern of the int32 ``bits``."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


def tanh(z):
    """tanh of one scalar (fast in float32, exact in float64)."""
    return math.tanh(z)


def sigmoid(z):
    """1 / (1 + exp(-z)) of one scalar (fast in float32, exact in float64)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def exp_nonpositive(x):
    """exp(x) of one scalar x <= 0 (fast in float32, exact in float64)."""
    return math.exp(x)


@inline
def _tanh32(z):
    x = min(max(z, -_CLAMP), _CLAMP)
    x2 = x * x
    p = _A[0]
    p = x2 * p + _A[1]
    p = x2 * p + _A[2]
    p = x2 * p + _A[3]
    p = x2 * p + _A[4]
    p = x2 * p + _A[5]
    p = x2 * p + _A[6]
    q = _B[0]
    q = x2 * q + _B[1]
    q = x2 * q + _B[2]
    q = x2 * q + _B[3]
    return x * p / q


def _is32(z):
    return z == types.float32


@overload(tanh, inline="always")
def _tanh_overload(z):
    if _is32(z):
        return lambda z: _tanh32(z)
    return lambda z: math.tanh(z)


@overload(sigmoid, inline="always")
def _sigmoid_overload(z):
    if _is32(z):
        return lambda z: _HALF + _HALF * _tanh32(_HALF * z)

    def exact(z):
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    return exact


@overload(exp_nonpositive, inline="always")
def _exp_overload(x):
    if not _is32(x):
        return lambda x: math.exp(x)

    def exp32(x):
        # below the floor: exactly 0 (no subnormal results, which cost ~100x per
        # operation downstream, e.g. in the GEMM of attention weights)
        zero = x < _EXP_FLOOR
        x = max(x, _EXP_FLOOR)
        # k = round(x log2 e) by truncating toward zero (x <= 0): math.floor would
        # be a libm call and stop the loop from vectorising
        n = np.int32(x * _LOG2E - _HALF)
        k = _f(n)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = _P[0]
        p = r * p + _P[1]
        p = r * p + _P[2]
        p = r * p + _P[3]
        p = r * p + _P[4]
        p = r * p + _P[5]
        e = (p * r + _ONE) * r + _ONE
        # 2^k, 0 >= k >= -126, as the float32 whose exponent bits are k + 127
        # (clamped: any x gives a valid bit pattern; a NaN x stays NaN via e)
        n = min(max(n, -126), 0)
        e = e * _bits_as_float32((n + 127) << 23)
        return _f(0.0) if zero else e

    return exp32
