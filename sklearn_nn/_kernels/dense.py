"""Dense (fully connected) layer: ``a = f(x @ w + b)``, forward and backward.

Weights ``w`` have shape (n_in, n_out), as scikit-learn's ``coefs_``. The GEMM goes to
BLAS through numpy's ``np.dot``, then the bias kernel and the activation's own kernel
(``activations.FORWARD_KERNELS``), all called from Python.
Sparse inputs use the CSR variants, which read only the rows named in ``rows``, so a
shuffled mini-batch never copies X.
"""

import numpy as np

from ._jit import jit
from .activations import BACKWARD_KERNELS, FORWARD_KERNELS, IDENTITY


def as_matrix(array, n_rows, n_cols):
    """``array`` as (n_rows, n_cols): a view, or a ValueError for a non-contiguous one.

    numpy's ``reshape`` would silently copy it, and what the kernels write into the
    copy would be lost (Numba raised for such an array when these were kernels).
    """
    if not array.flags.c_contiguous:
        raise ValueError("arrays the kernels reshape must be C-contiguous.")
    return array.reshape(n_rows, n_cols)


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


def affine_forward(x, w, b, z):
    """``z = x @ w + b``: numpy's GEMM, then the bias kernel.

    Python, with numpy's ``np.dot`` (BLAS, the GIL released) rather than Numba's
    inside a kernel: Numba compiles its ``np.dot`` once per layout of the operands,
    0.1-0.35 s each in a fresh process, and the kernel around it again. Shapes: x
    (n, n_in), w (n_in, n_out), b (n_out,), z (n, n_out), z C-contiguous.
    """
    np.dot(x, w, out=z)
    _add_bias(z, b)


def dense_forward(x, w, b, code, z, a):
    """Forward pass ``z = x @ w + b``, ``a = f(z)``.

    Python: ``affine_forward``, then the activation's own kernel, so that nothing
    compiles the six activations together (see ``activations``). Shapes: x (n,
    n_in), w (n_in, n_out), b (n_out,), z and a (n, n_out). ``a`` may be ``z`` when
    the activation's derivative does not need z, and must be ``z`` for the
    identity.
    """
    affine_forward(x, w, b, z)
    if code != IDENTITY:
        FORWARD_KERNELS[code](z, a)


def affine_backward(x, w, d_z, d_w, d_b, d_x, want_d_x):
    """Gradients of ``z = x @ w + b`` from ``d_z``: d_w, d_b and, if ``want_d_x``, d_x.

    Python over numpy's GEMMs and the bias kernel, as ``affine_forward``. Shapes: x
    (n, n_in), w and d_w (n_in, n_out), d_z (n, n_out), d_b (n_out,), d_x (n, n_in);
    d_w and d_x C-contiguous.
    """
    np.dot(x.T, d_z, out=d_w)
    _bias_gradient(d_z, d_b)
    if want_d_x:
        np.dot(d_z, w.T, out=d_x)


def dense_backward(x, w, z, a, code, d_a, d_w, d_b, d_x, want_d_x):
    """Backward pass: gradients for weights, bias and (if ``want_d_x``) the input.

    ``d_a`` (n, n_out) holds the gradient w.r.t. the output and is overwritten with the
    gradient w.r.t. z. Writes d_w (n_in, n_out), d_b (n_out,), d_x (n, n_in).
    """
    BACKWARD_KERNELS[code](z, a, d_a)
    affine_backward(x, w, d_a, d_w, d_b, d_x, want_d_x)


@jit
def csr_affine_forward(data, indices, indptr, rows, w, b, z):
    """``z = X[rows] @ w + b`` for a CSR ``X``. Shapes: rows (n,), w (n_features,
    n_out), b (n_out,), z (n, n_out)."""
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


def csr_dense_forward(data, indices, indptr, rows, w, b, code, z, a):
    """Forward pass for a CSR input restricted to ``rows``: ``z = X[rows] @ w + b``,
    ``a = f(z)``, as ``dense_forward``.

    Shapes: rows (n,), w (n_features, n_out), z and a (n, n_out).
    """
    csr_affine_forward(data, indices, indptr, rows, w, b, z)
    if code != IDENTITY:
        FORWARD_KERNELS[code](z, a)


@jit
def csr_affine_backward(data, indices, indptr, rows, d_z, d_w, d_b):
    """``d_w = X[rows].T @ d_z`` and ``d_b`` for a CSR ``X``. Shapes: d_z (n, n_out),
    d_w (n_features, n_out), d_b (n_out,)."""
    n, m = d_z.shape
    d_w[:] = 0
    for r in range(n):
        row = rows[r]
        for p in range(indptr[row], indptr[row + 1]):
            value = data[p]
            col = indices[p]
            for j in range(m):
                d_w[col, j] += value * d_z[r, j]
    _bias_gradient(d_z, d_b)


def csr_dense_backward(data, indices, indptr, rows, z, a, code, d_a, d_w, d_b):
    """Weight and bias gradients for a CSR input restricted to ``rows``.

    ``d_w = X[rows].T @ d_z``; ``d_a`` (n, n_out) is overwritten with d_z. The input
    gradient is never needed: a sparse X is always the first layer's input.
    """
    BACKWARD_KERNELS[code](z, a, d_a)
    csr_affine_backward(data, indices, indptr, rows, d_a, d_w, d_b)
