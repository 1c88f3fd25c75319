"""Inverted dropout: zero units with probability ``rate``, scale the rest by 1/(1-rate).

The uniform draws ``u`` come from ``keyed_uniform`` (below: keyed by each row's content,
the fit's seed, the epoch and the layer) into a preallocated buffer, and are kept for
the backward pass: unit kept where u >= rate.
"""

import numpy as np

from ._jit import inline, jit


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


# ------------------------------------------------------ row-keyed random numbers
# Each sample's dropout draws come from a counter-based generator keyed by the
# sample's content (and the fit's seed, the epoch and the layer), not by its place in
# the data: identical rows draw identical masks within an epoch, so that a row of
# sample weight 2 trains exactly as the row twice (scikit-learn's
# check_sample_weight_equivalence), and the draws do not depend on the batch order.

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@inline
def splitmix64(z):
    """The splitmix64 finaliser: a bijective mix of one uint64."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@inline
def _value_term(bits, column):
    """One value's contribution to its row's key: its bits mixed with its column."""
    return splitmix64(np.uint64(bits) ^ splitmix64(np.uint64(column) + _GOLDEN))


@jit
def row_keys(bits, seed, keys):
    """One uint64 key per row: the sum (mod 2**64) over its non-zero values of
    their bit patterns mixed with their column, mixed with ``seed``. Shapes: bits
    (n, d) unsigned ints (a view of the float rows), keys (n,).

    Skipping zeros makes it the key of the same row stored sparse (CSR); the
    column in each term tells apart rows holding the same values elsewhere
    (one-hot rows).
    """
    n, d = bits.shape
    for i in range(n):
        h = np.uint64(0)
        for j in range(d):
            if bits[i, j] != 0:
                h += _value_term(bits[i, j], j)
        keys[i] = splitmix64(h ^ seed)


@jit
def csr_row_keys(data_bits, indices, indptr, rows, seed, keys):
    """``row_keys`` for the CSR rows ``rows``: the same key as the dense row."""
    for r in range(rows.shape[0]):
        h = np.uint64(0)
        for p in range(indptr[rows[r]], indptr[rows[r] + 1]):
            if data_bits[p] != 0:
                h += _value_term(data_bits[p], indices[p])
        keys[r] = splitmix64(h ^ seed)


@jit
def keyed_uniform(keys, stream, u):
    """``u[i, j]`` uniform on [0, 1) from (keys[i], stream, j): counter-based, so
    any row's draws are the same wherever it sits. Shapes: keys (n,), u (n, m)."""
    n, m = u.shape
    base = splitmix64(stream * _GOLDEN)
    if u.itemsize == 4:  # 24 random bits: every float32 in [0, 1) is exact
        scale = 1.0 / 16777216.0
        for i in range(n):
            row = keys[i] ^ base
            for j in range(m):
                h = splitmix64(row + np.uint64(j + 1) * _GOLDEN)
                u[i, j] = (h >> np.uint64(40)) * scale
    else:  # 53 bits for float64
        scale = 1.0 / 9007199254740992.0
        for i in range(n):
            row = keys[i] ^ base
            for j in range(m):
                h = splitmix64(row + np.uint64(j + 1) * _GOLDEN)
                u[i, j] = (h >> np.uint64(11)) * scale
