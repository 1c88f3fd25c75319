"""Predicting with a network: its raw outputs for X, in chunks of rows.

A chunk holds as many rows as fit ``PREDICT_BUFFER_BYTES`` of layer buffers
(``rows_within``, which L-BFGS's full-batch objective uses for its own budget too);
C-ordered X is read by slices, other X copied row by row into one buffer
(``take_rows``, which the training data uses for its mini-batches).
"""

import weakref

import numpy as np

from ._threads import kernel_threads
from .layers.base import CSRRows

#: most rows per chunk when predicting
PREDICT_CHUNK = 4096
#: bytes of layer buffers per predict chunk (the reference CNN needs 0.9-1.2 MB a row
#: on 32x32x3 images, an MLP 784-256-128-10 5 kB)
PREDICT_BUFFER_BYTES = 64 * 2**20
#: fewest rows a quantised model's predict runs its int8 layers on threads for
OWN_THREADS_ROWS = 2048


def take_rows(X, rows, out):
    """Rows ``rows`` of X: a copy into ``out`` for dense X, a row-index view for CSR
    X, or a new array when ``out`` is None (one batch holds every sample)."""
    if isinstance(X, CSRRows):
        return CSRRows(X.data, X.indices, X.indptr, rows)
    if out is None:
        return X[rows]
    n = rows.shape[0]
    np.take(X, rows, axis=0, out=out[:n])
    return out[:n]


# (fixed, per-row) bytes of each network's layer buffers, per dtype: measuring
# allocates them twice, which was a fifth of a one-row predict
_BUFFER_BYTES = weakref.WeakKeyDictionary()


def rows_within(network, dtype, budget_bytes):
    """How many samples' layer buffers fit in ``budget_bytes`` (at least 1)."""
    sizes = _BUFFER_BYTES.setdefault(network, {})
    key = np.dtype(dtype).str
    if key not in sizes:
        sizes[key] = _buffer_bytes(network, dtype)
    fixed, per_row = sizes[key]
    return max(1, (budget_bytes - fixed) // max(per_row, 1))


def _buffer_bytes(network, dtype):
    """Bytes of the per-fit buffers (e.g. per-part gradients) and per sample."""

    def nbytes(n_rows):
        # composite layers keep their parts' buffers in nested dicts, some aliased:
        # count every underlying array once
        seen, total, stack = set(), 0, list(network.allocate(n_rows, dtype))
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, np.ndarray):
                base = value if value.base is None else value.base
                if id(base) not in seen:
                    seen.add(id(base))
                    total += base.nbytes
        return total

    one, two = nbytes(1), nbytes(2)
    return 2 * one - two, two - one


def predict_outputs(
    network, params, state, X, rows=None, n_threads=None, constants=None
):
    """Raw outputs (logits, or the regression output before its link) for X.

    Parameters
    ----------
    network : Network
    params, state : ndarray of shape (n_params,), (n_state,)
    X : ndarray of shape (n_samples, ...) or CSRRows
    rows : ndarray of int, default=None
        Only these rows of X (all rows if None).
    n_threads : int, default=None
        Threads for the image layers. None: from ``kernel_threads`` (BLAS pinned to
        one thread meanwhile) for a network with split layers or a quantised one
        on many rows, else 1 with BLAS on its own threads. An int means the caller
        set that up (a fit, inside its ``kernel_threads``).
    constants : list of dict, default=None
        A compressed model's per-layer arrays (see ``LayerArrays.constants``);
        its int8 kernels run on threads as split layers do.
    """
    if n_threads is None:
        # int8 layers run their own parts on threads only on batches large enough
        # to pay for handing parts to the pool
        n_rows = X.shape[0] if rows is None and not isinstance(X, CSRRows) else 0
        own_threads = constants is not None and n_rows >= OWN_THREADS_ROWS
        if not (network.splits_batch or own_threads):
            # a dense network predicts on BLAS's own threads: faster on large
            # batches, and pinning BLAS costs ~0.2 ms, most of a one-row predict
            # (outputs may then differ in the last bits between thread counts)
            return predict_outputs(network, params, state, X, rows, 1, constants)
        with kernel_threads() as n_threads:
            return predict_outputs(
                network, params, state, X, rows, n_threads, constants
            )
    # all rows of a C-ordered array go by slices (views); others are copied in
    by_slices = rows is None and isinstance(X, np.ndarray) and X.flags.c_contiguous
    if rows is None:
        n_total = len(X.indptr) - 1 if isinstance(X, CSRRows) else X.shape[0]
        rows = np.arange(n_total)
    n_total = rows.shape[0]
    chunk = min(PREDICT_CHUNK, rows_within(network, params.dtype, PREDICT_BUFFER_BYTES))
    chunk = max(1, min(chunk, n_total))
    bound = network.bind(params, state, chunk, n_threads=n_threads, constants=constants)
    x_buf = None
    if not (by_slices or isinstance(X, CSRRows)):
        x_buf = np.empty((chunk,) + X.shape[1:], X.dtype)
    out = np.empty((n_total,) + network.out_shape, dtype=params.dtype)
    for start in range(0, n_total, chunk):
        stop = min(start + chunk, n_total)
        if by_slices:
            x = X[start:stop]
        else:
            x = take_rows(X, rows[start:stop], x_buf)
        out[start:stop] = bound.forward(x, stop - start)
    return out
