"""Hidden-layer activations: forward and derivative, over 2-D arrays.

Activations are chosen by an integer code (``ACTIVATIONS[name]``) so that one compiled
kernel serves all of them; each branch is its own loop so that it vectorises.

=========== ================================ =====================================
name        f(z)                             f'(z), from z or from a = f(z)
=========== ================================ =====================================
identity    z                                1
logistic    1 / (1 + exp(-z))                a (1 - a)
tanh        tanh(z)                          1 - a**2
relu        max(z, 0)                        1 if a > 0 else 0
leaky_relu  z if z > 0 else 0.01 z           1 if a > 0 else 0.01
gelu        z Phi(z)  (exact, erf-based)     Phi(z) + z phi(z)   (needs z)
=========== ================================ =====================================
"""

import math

import numpy as np

from ._jit import inline, jit

IDENTITY, LOGISTIC, TANH, RELU, LEAKY_RELU, GELU = range(6)
ACTIVATIONS = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "gelu": GELU,
}
#: Activations whose derivative needs the pre-activation z, not only a = f(z).
NEEDS_PREACTIVATION = frozenset({GELU})
LEAKY_SLOPE = 0.01
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@inline
def logistic(z):
    """Numerically stable sigmoid of one scalar."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@inline
def row_logsumexp(z, i):
    """``log(sum_j exp(z[i, j]))`` of one row, shifted by its max: cannot overflow."""
    k = z.shape[1]
    zmax = z[i, 0]
    for j in range(1, k):
        zmax = max(zmax, z[i, j])
    total = 0.0
    for j in range(k):
        total += math.exp(z[i, j] - zmax)
    return zmax + math.log(total)


@jit
def activation_forward(z, code, out):
    """Apply activation ``code`` to ``z``, writing ``out`` (may be ``z`` itself).

    Shapes: z, out (n, m).
    """
    # the loops read and write ``out`` only: with two names for one array
    # (out is z) LLVM cannot prove they do not overlap and does not vectorise (3x
    # slower here); a separate out gets a copy of z first
    n, m = out.shape
    if out.ctypes.data != z.ctypes.data:
        # a loop, not ``out[...] = z``: Numba's array-to-array assignment costs
        # seconds of compiling in a fresh process (measured 3.7-5.2 s here)
        for i in range(n):
            for j in range(m):
                out[i, j] = z[i, j]
    zero = out.dtype.type(0)
    slope = out.dtype.type(LEAKY_SLOPE)
    if code == LOGISTIC:
        for i in range(n):
            for j in range(m):
                out[i, j] = logistic(out[i, j])
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                out[i, j] = np.tanh(out[i, j])
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                v = out[i, j]
                out[i, j] = zero if v <= zero else v  # a NaN stays NaN
    elif code == LEAKY_RELU:
        for i in range(n):
            for j in range(m):
                v = out[i, j]
                out[i, j] = v if v > zero else slope * v
    elif code == GELU:
        for i in range(n):
            for j in range(m):
                v = out[i, j]
                out[i, j] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


@jit
def activation_backward(z, a, code, d):
    """Turn the gradient w.r.t. the output ``a`` into that w.r.t. ``z``, in place.

    ``d *= f'(z)``. Shapes: z, a, d (n, m); ``z`` is read only by gelu, so callers may
    pass ``a`` for it otherwise.
    """
    n, m = d.shape
    slope = d.dtype.type(LEAKY_SLOPE)
    if code == IDENTITY:
        return
    if code == LOGISTIC:
        for i in range(n):
            for j in range(m):
                d[i, j] *= a[i, j] * (1 - a[i, j])
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                d[i, j] *= 1 - a[i, j] * a[i, j]
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                if a[i, j] <= 0:
                    d[i, j] = 0
    elif code == LEAKY_RELU:
        for i in range(n):
            for j in range(m):
                if a[i, j] <= 0:
                    d[i, j] *= slope
    else:  # GELU
        for i in range(n):
            for j in range(m):
                v = z[i, j]
                cdf = 0.5 * (1.0 + math.erf(v * _INV_SQRT2))
                pdf = _INV_SQRT_2PI * math.exp(-0.5 * v * v)
                d[i, j] *= cdf + v * pdf
