"""Hidden-layer activations: forward and derivative, over 2-D arrays.

Each activation has its own pair of kernels (``FORWARD_KERNELS[code]``,
``BACKWARD_KERNELS[code]``, keyed by the integer code ``ACTIVATIONS[name]``): a layer
calls its activation's kernels from Python, so a fit compiles only the activations it
uses. Kernels that apply an activation inside their own loops (recurrent, int8) call
the dispatchers ``activation_forward`` / ``activation_backward`` with the code
instead. (A fresh process's first MLP fit compiled all six activations twice, once
inlined into each dense kernel: 1.2 s of its 3.8 s here.)

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


@inline
def _copy_into(z, out):
    """``out[...] = z`` unless ``out`` is ``z``, as a loop.

    The activations then read and write ``out`` only: with two names for one array
    LLVM cannot prove they do not overlap and does not vectorise (3x slower here). A
    loop, not ``out[...] = z``: Numba's array-to-array assignment costs seconds of
    compiling in a fresh process (measured 3.7-5.2 s here).
    """
    if out.ctypes.data != z.ctypes.data:
        n, m = out.shape
        for i in range(n):
            for j in range(m):
                out[i, j] = z[i, j]


@jit
def identity_forward(z, out):
    """``out = z``. Shapes: z, out (n, m); ``out`` may be ``z``."""
    _copy_into(z, out)


@jit
def logistic_forward(z, out):
    """``out = 1 / (1 + exp(-z))``. Shapes: z, out (n, m); ``out`` may be ``z``."""
    _copy_into(z, out)
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = logistic(out[i, j])


@jit
def tanh_forward(z, out):
    """``out = tanh(z)``. Shapes: z, out (n, m); ``out`` may be ``z``."""
    _copy_into(z, out)
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = np.tanh(out[i, j])


@jit
def relu_forward(z, out):
    """``out = max(z, 0)``, a NaN staying NaN. Shapes: z, out (n, m); ``out`` may be
    ``z``."""
    _copy_into(z, out)
    n, m = out.shape
    zero = out.dtype.type(0)
    for i in range(n):
        for j in range(m):
            v = out[i, j]
            out[i, j] = zero if v <= zero else v


@jit
def leaky_relu_forward(z, out):
    """``out = z if z > 0 else 0.01 z``. Shapes: z, out (n, m); ``out`` may be ``z``."""
    _copy_into(z, out)
    n, m = out.shape
    zero, slope = out.dtype.type(0), out.dtype.type(LEAKY_SLOPE)
    for i in range(n):
        for j in range(m):
            v = out[i, j]
            out[i, j] = v if v > zero else slope * v


@jit
def gelu_forward(z, out):
    """``out = z Phi(z)`` (exact). Shapes: z, out (n, m); ``out`` may be ``z``."""
    _copy_into(z, out)
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            v = out[i, j]
            out[i, j] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


def identity_backward(z, a, d):
    """``d *= 1``: nothing to do (plain Python: no kernel to compile)."""


@jit
def logistic_backward(z, a, d):
    """``d *= a (1 - a)``. Shapes: z, a, d (n, m); z is not read."""
    n, m = d.shape
    for i in range(n):
        for j in range(m):
            d[i, j] *= a[i, j] * (1 - a[i, j])


@jit
def tanh_backward(z, a, d):
    """``d *= 1 - a**2``. Shapes: z, a, d (n, m); z is not read."""
    n, m = d.shape
    for i in range(n):
        for j in range(m):
            d[i, j] *= 1 - a[i, j] * a[i, j]


@jit
def relu_backward(z, a, d):
    """``d = 0 where a <= 0``. Shapes: z, a, d (n, m); z is not read."""
    n, m = d.shape
    for i in range(n):
        for j in range(m):
            if a[i, j] <= 0:
                d[i, j] = 0


@jit
def leaky_relu_backward(z, a, d):
    """``d *= 0.01 where a <= 0``. Shapes: z, a, d (n, m); z is not read."""
    n, m = d.shape
    slope = d.dtype.type(LEAKY_SLOPE)
    for i in range(n):
        for j in range(m):
            if a[i, j] <= 0:
                d[i, j] *= slope


@jit
def gelu_backward(z, a, d):
    """``d *= Phi(z) + z phi(z)``. Shapes: z, a, d (n, m); a is not read."""
    n, m = d.shape
    for i in range(n):
        for j in range(m):
            v = z[i, j]
            cdf = 0.5 * (1.0 + math.erf(v * _INV_SQRT2))
            pdf = _INV_SQRT_2PI * math.exp(-0.5 * v * v)
            d[i, j] *= cdf + v * pdf


#: ``FORWARD_KERNELS[code](z, out)``: the activation's forward kernel.
FORWARD_KERNELS = {
    IDENTITY: identity_forward,
    LOGISTIC: logistic_forward,
    TANH: tanh_forward,
    RELU: relu_forward,
    LEAKY_RELU: leaky_relu_forward,
    GELU: gelu_forward,
}
#: ``BACKWARD_KERNELS[code](z, a, d)``: ``d *= f'(z)`` in place.
BACKWARD_KERNELS = {
    IDENTITY: identity_backward,
    LOGISTIC: logistic_backward,
    TANH: tanh_backward,
    RELU: relu_backward,
    LEAKY_RELU: leaky_relu_backward,
    GELU: gelu_backward,
}


@jit
def activation_forward(z, code, out):
    """Apply activation ``code`` to ``z``, writing ``out`` (may be ``z`` itself).

    For kernels that apply an activation inside their own loops; from Python, call
    ``FORWARD_KERNELS[code]``, which compiles one activation, not six. Shapes: z,
    out (n, m).
    """
    if code == LOGISTIC:
        logistic_forward(z, out)
    elif code == TANH:
        tanh_forward(z, out)
    elif code == RELU:
        relu_forward(z, out)
    elif code == LEAKY_RELU:
        leaky_relu_forward(z, out)
    elif code == GELU:
        gelu_forward(z, out)
    else:
        identity_forward(z, out)


@jit
def activation_backward(z, a, code, d):
    """Turn the gradient w.r.t. the output ``a`` into that w.r.t. ``z``, in place.

    ``d *= f'(z)``; for kernels, as ``activation_forward``. Shapes: z, a, d (n, m);
    ``z`` is read only by gelu, so callers may pass ``a`` for it otherwise.
    """
    if code == LOGISTIC:
        logistic_backward(z, a, d)
    elif code == TANH:
        tanh_backward(z, a, d)
    elif code == RELU:
        relu_backward(z, a, d)
    elif code == LEAKY_RELU:
        leaky_relu_backward(z, a, d)
    elif code == GELU:
        gelu_backward(z, a, d)
