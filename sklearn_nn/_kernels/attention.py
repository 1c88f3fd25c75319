"""Scaled dot-product self-attention over heads: forward and backward.

The projections around it (``x @ W_qkv + b`` before, ``context @ W_o + b`` after)
are Dense kernels; these kernels take the projected rows ``qkv`` (n T, 3 H K): the
queries of every head side by side, then the keys, then the values (head ``j``'s
columns ``j K:(j + 1) K`` of each third). Inside, queries, keys and values are
head-major ``(n, H, T, K)``, so that each (sample, head) pair is two small GEMMs:
``S = Q K^T / sqrt(K)`` and ``O = softmax(S) V``.

Masks: ``mask`` (n, T), 1.0 for real timesteps, 0.0 for padding (read only when
``masked``): padded keys get no attention weight. ``causal``: a query at step t
attends to keys 0..t only. A query with no key left (a sequence of padding only)
gets zero weights, so a zero context.
"""

import math

import numpy as np

from ._jit import inline, jit
from .fastmath import exp_nonpositive


@jit
def _split_heads(qkv, n_heads, key_dim, q, k, v):
    """q, k, v (n, H, T, K) from the rows of qkv (n T, 3 H K)."""
    n, _, n_steps, _ = q.shape
    width = n_heads * key_dim
    for i in range(n):
        for t in range(n_steps):
            row = i * n_steps + t
            for j in range(n_heads):
                for c in range(key_dim):
                    col = j * key_dim + c
                    q[i, j, t, c] = qkv[row, col]
                    k[i, j, t, c] = qkv[row, width + col]
                    v[i, j, t, c] = qkv[row, 2 * width + col]


@jit
def _masked_softmax(s, mask, masked, causal, i):
    """Rows of the scores s (T, T) of sample i turned into attention weights.

    Simple loops (a max, an exp, a sum, a scale) that vectorise in float32; the
    masked-out keys are left out of the max and zeroed after the exp.
    """
    n_steps = s.shape[0]
    zero = s.dtype.type(0)
    for t in range(n_steps):
        row = s[t]
        last = t + 1 if causal else n_steps
        top = _masked_max(row[:last], mask[i, :last] if masked else row[:0])
        if top == -np.inf:  # no key to attend to
            row[:] = 0
            continue
        if top != top:  # a NaN score: NaN weights, for the divergence check
            row[:] = np.nan
            continue
        for u in range(n_steps):
            x = row[u] - top
            row[u] = exp_nonpositive(x if x < zero else zero)  # a select, not min()
        if masked:
            for u in range(n_steps):
                row[u] *= mask[i, u]
        row[last:] = 0
        inv = row.dtype.type(1) / _sum(row[:last])
        for u in range(last):
            row[u] *= inv


@inline
def _larger(v, top):
    # a select (vectorises, unlike max()) that keeps a NaN once it is seen
    return v if v > top or v != v else top


@jit
def _masked_max(a, mask):
    """max of a where mask != 0 (no mask when empty); -inf if none."""
    neg_inf = a.dtype.type(-np.inf)
    n = a.shape[0]
    if mask.size != 0:
        top = neg_inf
        for u in range(n):
            top = _larger(a[u] if mask[u] != 0 else neg_inf, top)
        return top
    # eight interleaved running maxima: one would be a chain of dependent compares
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = neg_inf
    n8 = n - n % 8
    for u in range(0, n8, 8):
        m0 = _larger(a[u], m0)
        m1 = _larger(a[u + 1], m1)
        m2 = _larger(a[u + 2], m2)
        m3 = _larger(a[u + 3], m3)
        m4 = _larger(a[u + 4], m4)
        m5 = _larger(a[u + 5], m5)
        m6 = _larger(a[u + 6], m6)
        m7 = _larger(a[u + 7], m7)
    for u in range(n8, n):
        m0 = _larger(a[u], m0)
    m0, m2 = _larger(m1, m0), _larger(m3, m2)
    m4, m6 = _larger(m5, m4), _larger(m7, m6)
    return _larger(_larger(m2, m0), _larger(m6, m4))


@jit
def _sum(a):
    """Sum of a 1-D array with four interleaved partial sums (a shorter dependency
    chain than one running sum; the same order every time)."""
    s0 = s1 = s2 = s3 = a.dtype.type(0)
    n = a.shape[0]
    n4 = n - n % 4
    for u in range(0, n4, 4):
        s0 += a[u]
        s1 += a[u + 1]
        s2 += a[u + 2]
        s3 += a[u + 3]
    for u in range(n4, n):
        s0 += a[u]
    return (s0 + s1) + (s2 + s3)


@jit
def attention_forward(
    qkv, n_heads, key_dim, mask, masked, causal, q, k, v, p, context_h, context
):
    """Attention of every head: weights ``p`` (n, H, T, T) kept for backward, and
    the heads' outputs side by side in ``context`` (n T, H K).

    Scratch: q, k, v and context_h (n, H, T, K).
    """
    n, _, n_steps, _ = q.shape
    scale = 1.0 / math.sqrt(key_dim)
    _split_heads(qkv, n_heads, key_dim, q, k, v)
    for i in range(n):
        for j in range(n_heads):
            s = p[i, j]
            np.dot(q[i, j], k[i, j].T, s)
            s *= scale
            _masked_softmax(s, mask, masked, causal, i)
            np.dot(s, v[i, j], context_h[i, j])
    for i in range(n):
        for t in range(n_steps):
            for j in range(n_heads):
                for c in range(key_dim):
                    context[i * n_steps + t, j * key_dim + c] = context_h[i, j, t, c]


@jit
def attention_backward(
    d_context, n_heads, key_dim, q, k, v, p, d_context_h, d_p, d_q, d_k, d_v, d_qkv
):
    """Gradient w.r.t. qkv (n T, 3 H K) from that w.r.t. context (n T, H K).

    Scratch: d_context_h, d_q, d_k, d_v (n, H, T, K) and d_p (T, T). Padded keys
    and the causal future have zero weight, hence zero gradient.
    """
    n, _, n_steps, _ = q.shape
    scale = 1.0 / math.sqrt(key_dim)
    width = n_heads * key_dim
    for i in range(n):
        for t in range(n_steps):
            for j in range(n_heads):
                for c in range(key_dim):
                    d_context_h[i, j, t, c] = d_context[
                        i * n_steps + t, j * key_dim + c
                    ]
    for i in range(n):
        for j in range(n_heads):
            weights = p[i, j]
            # dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(P dP)) / sqrt(K)
            np.dot(weights.T, d_context_h[i, j], d_v[i, j])
            np.dot(d_context_h[i, j], v[i, j].T, d_p)
            for t in range(n_steps):
                dot = 0.0
                for u in range(n_steps):
                    dot += weights[t, u] * d_p[t, u]
                for u in range(n_steps):
                    d_p[t, u] = weights[t, u] * (d_p[t, u] - dot) * scale
            np.dot(d_p, k[i, j], d_q[i, j])
            np.dot(d_p.T, q[i, j], d_k[i, j])
    for i in range(n):
        for t in range(n_steps):
            row = i * n_steps + t
            for j in range(n_heads):
                for c in range(key_dim):
                    col = j * key_dim + c
                    d_qkv[row, col] = d_q[i, j, t, c]
                    d_qkv[row, width + col] = d_k[i, j, t, c]
                    d_qkv[row, 2 * width + col] = d_v[i, j, t, c]
