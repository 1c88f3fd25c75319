"""Embedding lookup: a gather of table rows by token id, and its scatter-add backward.

Token ids arrive as floats (the network's X is float64 or float32): an id is valid
when it is an integer in ``[0, input_dim)``. float32 holds every integer up to 2**24
exactly, so float32 ids are exact for any vocabulary below 16.7 million tokens. The
kernels never index the table with an invalid id (negative, too large, fractional,
NaN, infinite): they skip it and return how many they met, and the caller raises.
"""

from ._jit import inline, jit


@inline
def _valid(v, n_tokens):
    # NaN fails both comparisons; a finite v in range is safe to truncate
    return v >= 0 and v < n_tokens and int(v) == v


@jit
def embedding_forward(ids, table, out):
    """Gather ``out[i, t, :] = table[ids[i, t], :]``; returns the number of bad ids.

    Shapes: ids (n, timesteps), table (input_dim, output_dim), out (n, timesteps,
    output_dim). The output row of a bad id is set to zero; the table is never read
    at it.
    """
    n, steps = ids.shape
    n_tokens, dim = table.shape
    bad = 0
    for i in range(n):
        for t in range(steps):
            v = ids[i, t]
            if _valid(v, n_tokens):
                k = int(v)
                for j in range(dim):
                    out[i, t, j] = table[k, j]
            else:
                bad += 1
                for j in range(dim):
                    out[i, t, j] = 0
    return bad


@jit
def embedding_backward(ids, d_out, d_table):
    """Scatter-add ``d_table[ids[i, t], :] += d_out[i, t, :]`` (from zero); returns
    the number of bad ids.

    Shapes: ids (n, timesteps), d_out (n, timesteps, output_dim), d_table
    (input_dim, output_dim). Repeated ids accumulate; bad ids are skipped.
    """
    n, steps = ids.shape
    n_tokens, dim = d_table.shape
    d_table[:] = 0
    bad = 0
    for i in range(n):
        for t in range(steps):
            v = ids[i, t]
            if _valid(v, n_tokens):
                k = int(v)
                for j in range(dim):
                    d_table[k, j] += d_out[i, t, j]
            else:
                bad += 1
    return bad


@jit
def embedding_mask(ids, mask):
    """Padding mask ``mask[i, t] = 1.0 if ids[i, t] != 0 else 0.0``.

    Shapes: ids (n, timesteps), mask (n, timesteps).
    """
    n, steps = ids.shape
    for i in range(n):
        for t in range(steps):
            mask[i, t] = 1.0 if ids[i, t] != 0 else 0.0


@jit
def count_bad_ids(ids, n_tokens):
    """Counts of the ids that are NaN, negative, ``>= n_tokens`` and fractional.

    Shapes: ids (n, timesteps). Returns a tuple ``(n_nan, n_negative, n_too_large,
    n_fractional)``; -inf counts as negative, +inf as too large.
    """
    n, steps = ids.shape
    n_nan = n_negative = n_too_large = n_fractional = 0
    for i in range(n):
        for t in range(steps):
            v = ids[i, t]
            if v != v:
                n_nan += 1
            elif v < 0:
                n_negative += 1
            elif v >= n_tokens:
                n_too_large += 1
            elif int(v) != v:
                n_fractional += 1
    return n_nan, n_negative, n_too_large, n_fractional
