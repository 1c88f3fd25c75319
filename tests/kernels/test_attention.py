"""The self-attention kernels against numpy: weights, context, padding masks,
causal masks, float32 against float64; the backward pass against finite
differences of the kernel alone."""

import numpy as np
import pytest
from _reference import numeric_gradient
from numpy.testing import assert_allclose

from sklearn_nn._kernels.attention import attention_backward, attention_forward


def _reference(qkv, n, n_steps, heads, key_dim, mask, causal):
    """Context (n T, H K) by the textbook formula, in float64."""
    width = heads * key_dim
    parts = qkv.reshape(n, n_steps, 3, heads, key_dim).transpose(2, 0, 3, 1, 4)
    q, k, v = parts  # (n, H, T, K)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(key_dim)
    allowed = np.ones((n, 1, n_steps, n_steps), dtype=bool)
    allowed &= mask[:, None, None, :] != 0
    if causal:
        allowed &= np.tril(np.ones((n_steps, n_steps), dtype=bool))
    scores = np.where(allowed, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    weights = np.where(allowed, np.exp(scores - np.where(np.isinf(top), 0, top)), 0)
    total = weights.sum(axis=-1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    context = weights @ v  # (n, H, T, K)
    return weights, context.transpose(0, 2, 1, 3).reshape(n * n_steps, width)


def _buffers(n, n_steps, heads, key_dim, dtype):
    heads_shape = (n, heads, n_steps, key_dim)
    q, k, v, context_h = (np.empty(heads_shape, dtype) for _ in range(4))
    weights = np.empty((n, heads, n_steps, n_steps), dtype)
    context = np.empty((n * n_steps, heads * key_dim), dtype)
    return q, k, v, weights, context_h, context


def _forward(qkv, n, n_steps, heads, key_dim, mask, causal):
    q, k, v, weights, context_h, context = _buffers(
        n, n_steps, heads, key_dim, qkv.dtype
    )
    attention_forward(
        qkv, heads, key_dim, mask, True, causal, q, k, v, weights, context_h, context
    )
    return q, k, v, weights, context


def _problem(rng, n, n_steps, heads, key_dim):
    qkv = rng.normal(size=(n * n_steps, 3 * heads * key_dim))
    mask = np.ones((n, n_steps))
    mask[0, n_steps // 2 :] = 0  # post-padding
    mask[-1] = 0  # all padding: zero weights, zero context
    return qkv, mask


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n_steps, heads, key_dim", [(1, 1, 1), (5, 2, 3), (7, 3, 2)])
def test_attention_forward_matches_numpy(causal, n_steps, heads, key_dim):
    rng = np.random.default_rng(0)
    n = 3
    qkv, mask = _problem(rng, n, n_steps, heads, key_dim)
    weights_ref, context_ref = _reference(qkv, n, n_steps, heads, key_dim, mask, causal)
    _, _, _, weights, context = _forward(qkv, n, n_steps, heads, key_dim, mask, causal)
    assert_allclose(weights, weights_ref, rtol=1e-12, atol=1e-14)
    assert_allclose(context, context_ref, rtol=1e-12, atol=1e-14)
    assert not context[-n_steps:].any()  # the all-padding sequence
    *_, context32 = _forward(
        qkv.astype(np.float32),
        n,
        n_steps,
        heads,
        key_dim,
        mask.astype(np.float32),
        causal,
    )
    assert_allclose(context32, context_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_backward_matches_finite_differences(causal):
    rng = np.random.default_rng(1)
    n, n_steps, heads, key_dim = 2, 4, 2, 3
    qkv, mask = _problem(rng, n, n_steps, heads, key_dim)
    r = rng.normal(size=(n * n_steps, heads * key_dim))

    def loss():
        return float(
            (_forward(qkv, n, n_steps, heads, key_dim, mask, causal)[-1] * r).sum()
        )

    expected = numeric_gradient(loss, qkv)
    q, k, v, weights, _ = _forward(qkv, n, n_steps, heads, key_dim, mask, causal)
    scratch = [np.empty_like(q) for _ in range(4)]
    d_qkv = np.empty_like(qkv)
    attention_backward(
        r,
        heads,
        key_dim,
        q,
        k,
        v,
        weights,
        scratch[0],
        np.empty((n_steps, n_steps)),
        scratch[1],
        scratch[2],
        scratch[3],
        d_qkv,
    )
    assert_allclose(d_qkv, expected, rtol=1e-6, atol=1e-8)
