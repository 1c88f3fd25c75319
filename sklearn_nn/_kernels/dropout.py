"""Inverted dropout: zero units with probability ``rate``, scale the rest by 1/(1-rate).

The uniform draws ``u`` come from the estimator's ``random_state`` (drawn in Python into
a preallocated buffer) and are kept for the backward pass: unit kept where u >= rate.
"""

from ._jit import jit


@jit
def dropout_forward(a, u, rate, out):
    """``out = a * (u >= rate) / (1 - rate)``; shapes (n, m)."""
    n, m = a.shape
    scale = a.dtype.type(1.0 / (1.0 - rate))
    for i in range(n):
        for j in range(m):
            out[i, j] = a[i, j] * scale if u[i, j] >= rate else 0


@jit
def dropout_backward(u, rate, d_out, d_a):
    """``d_a = d_out * (u >= rate) / (1 - rate)``; shapes (n, m); d_a may be d_out."""
    n, m = d_out.shape
    scale = d_out.dtype.type(1.0 / (1.0 - rate))
    for i in range(n):
        for j in range(m):
            d_a[i, j] = d_out[i, j] * scale if u[i, j] >= rate else 0
