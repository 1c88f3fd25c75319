"""Dense (fully connected) layer: ``a = f(x @ w + b)``, forward and backward.

Weights ``w`` have shape (n_in, n_out), as scikit-learn's ``coefs_``. The GEMM goes to
BLAS through ``np.dot``; bias and activation are fused in one pass over the output.
Sparse inputs use the CSR variants, which read only the rows named in ``rows``, so a
shuffled mini-batch never copies X.
"""

import numpy as np

from ._jit import jit
from .activations import IDENTITY, activation_backward, activation_forward


@jit
def _add_bias(z, b):
    n, m = z.shape
    for i in range(n):
        for j in range(m):
            z[i, j] += b[j]


@jit
def _bias_gradient(d_z, d_b):
    n, m = d_z.shape
    d_b[:] = 0
    for i in range(n):
        for j in range(m):
            d_b[j] += d_z[i, j]


@jit
def dense_forward(x, w, b, code, z, a):
    """Forward pass ``z = x @ w + b``, ``a = f(z)``.

    Shapes: x (n, n_in), w (n_in, n_out), b (n_out,), z and a (n, n_out). ``a`` may be
    ``z`` when the activation's derivative does not need z, and must be ``z`` for the
    identity.
    """
    np.dot(x, w, z)
    _add_bias(z, b)
    if code != IDENTITY:
        activation_forward(z, code, a)


@jit
def dense_backward(x, w, z, a, code, d_a, d_w, d_b, d_x, want_d_x):
    """Backward pass: gradients for weights, bias and (if ``want_d_x``) the input.

    ``d_a`` (n, n_out) holds the gradient w.r.t. the output and is overwritten with the
    gradient w.r.t. z. Writes d_w (n_in, n_out), d_b (n_out,), d_x (n, n_in).
    """
    activation_backward(z, a, code, d_a)
    np.dot(x.T, d_a, d_w)
    _bias_gradient(d_a, d_b)
    if want_d_x:
        np.dot(d_a, w.T, d_x)


@jit
def csr_dense_forward(data, indices, indptr, rows, w, b, code, z, a):
    """Forward pass for a CSR input restricted to ``rows``: ``z = X[rows] @ w + b``.

    Shapes: rows (n,), w (n_features, n_out), z and a (n, n_out).
    """
    n, m = z.shape
    for r in range(n):
        row = rows[r]
        for j in range(m):
            z[r, j] = b[j]
        for p in range(indptr[row], indptr[row + 1]):
            value = data[p]
            col = indices[p]
            for j in range(m):
                z[r, j] += value * w[col, j]
    if code != IDENTITY:
        activation_forward(z, code, a)


@jit
def csr_dense_backward(data, indices, indptr, rows, z, a, code, d_a, d_w, d_b):
    """Weight and bias gradients for a CSR input restricted to ``rows``.

    ``d_w = X[rows].T @ d_z``; ``d_a`` (n, n_out) is overwritten with d_z. The input
    gradient is never needed: a sparse X is always the first layer's input.
    """
    activation_backward(z, a, code, d_a)
    n, m = d_a.shape
    d_w[:] = 0
    for r in range(n):
        row = rows[r]
        for p in range(indptr[row], indptr[row + 1]):
            value = data[p]
            col = indices[p]
            for j in range(m):
                d_w[col, j] += value * d_a[r, j]
    _bias_gradient(d_a, d_b)
