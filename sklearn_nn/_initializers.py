"""Weight initialisers: how each parameter array of a new network is drawn.

Every draw comes from the estimator's ``check_random_state(random_state)`` stream, layer
by layer and parameter by parameter in declaration order, so the same ``random_state``
gives the same weights. ``fan_in`` / ``fan_out`` are a layer's inputs and outputs per
unit (times the kernel area for convolutions, as Keras counts them).

================ ========================================== =========================
name             draw                                       variance
================ ========================================== =========================
glorot_uniform   U(-r, r), r = sqrt(f / (fan_in + fan_out))  r**2 / 3 (f = 6: 2 / sum)
glorot_normal    N(0, 2 / (fan_in + fan_out))               2 / (fan_in + fan_out)
he_uniform       U(-r, r), r = sqrt(6 / fan_in)             2 / fan_in
he_normal        N(0, 2 / fan_in)                           2 / fan_in
lecun_normal     N(0, 1 / fan_in)                           1 / fan_in
orthogonal       Q of the QR decomposition of a normal      1 / fan_out or 1 / rows
                 matrix (rows = prod(shape[:-1]))
================ ========================================== =========================

``glorot_uniform`` is scikit-learn's MLP draw: f = 6, or f = 2 for logistic networks
(the estimator passes ``glorot_factor``), and the bias is drawn from the same U(-r, r).
With every other initialiser biases start at zero, as in Keras. Normal draws are plain
(not truncated) normals, so the variance is exactly the one in the table.
"""

import numpy as np

__all__ = ["INITIALIZERS", "draw"]

#: the public choices of ``kernel_initializer`` and ``weight_init``
INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "orthogonal",
)


def _orthogonal(shape, random_state):
    rows = int(np.prod(shape[:-1]))
    cols = shape[-1]
    a = random_state.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a unique Q: uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return q.reshape(shape)


def draw(init, shape, fans, random_state, glorot_factor=6.0):
    """One parameter array, in float64.

    Parameters
    ----------
    init : str
        A name of ``INITIALIZERS``, "zeros", "ones", "uniform" (U(-0.05, 0.05),
        an Embedding's default), "unit_forget_bias" (an
        LSTM's bias: zeros, the forget gate's quarter ones), or "bias" (drawn as
        ``glorot_uniform`` with the kernel's fans; see the module docstring: the
        caller passes "zeros" for the biases of other initialisers).
    shape : tuple of int
    fans : tuple of (int, int)
        (fan_in, fan_out).
    random_state : numpy.random.RandomState
    glorot_factor : float, default=6.0
        ``f`` of ``glorot_uniform``.

    Returns
    -------
    ndarray of shape ``shape``
    """
    fan_in, fan_out = fans
    if init == "zeros":
        return np.zeros(shape)
    if init == "ones":
        return np.ones(shape)
    if init == "uniform":  # Keras's Embedding default
        return random_state.uniform(-0.05, 0.05, shape)
    if init == "unit_forget_bias":  # an LSTM's bias: gates i, f, c, o; f at 1
        bias = np.zeros(shape)
        units = shape[0] // 4
        bias[units : 2 * units] = 1.0
        return bias
    if init in ("glorot_uniform", "bias"):
        bound = np.sqrt(glorot_factor / (fan_in + fan_out))
        return random_state.uniform(-bound, bound, shape)
    if init == "glorot_normal":
        return random_state.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)
    if init == "he_uniform":
        bound = np.sqrt(6.0 / fan_in)
        return random_state.uniform(-bound, bound, shape)
    if init == "he_normal":
        return random_state.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if init == "lecun_normal":
        return random_state.normal(0.0, np.sqrt(1.0 / fan_in), shape)
    if init == "orthogonal":
        return _orthogonal(shape, random_state)
    raise ValueError(
        f"Unknown initializer {init!r}; choose one of {', '.join(INITIALIZERS)}."
    )


def check_initializer(value, what):
    """``value`` if it names an initialiser (or is None), else a ValueError."""
    if value is not None and value not in INITIALIZERS:
        raise ValueError(
            f"{what} must be one of {', '.join(INITIALIZERS)} or None, got {value!r}."
        )
    return value
