"""Tests of the inverted-dropout kernels against numpy."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.dropout import (
    csr_row_keys,
    dropout_backward,
    dropout_forward,
    keyed_uniform,
    row_keys,
)

DTYPES = [np.float32, np.float64]
RATES = [0.0, 0.25, 0.5, 0.9]


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-13}


def _ref_dropout(values, u, rate):
    """Kept where u >= rate (compared in float64), scaled by 1 / (1 - rate)."""
    keep = u.astype(np.float64) >= rate
    return np.where(keep, values.astype(np.float64) / (1.0 - rate), 0.0)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_forward_matches_numpy(dtype, rate):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(8, 6)).astype(dtype)
    u = rng.random(a.shape).astype(dtype)
    out = np.full_like(a, np.nan)
    dropout_forward(a, u, rate, out)
    expected = _ref_dropout(a, u, rate)
    assert out.dtype == dtype
    assert_allclose(out, expected, **_tol(dtype))
    assert_array_equal(out == 0, expected == 0)  # dropped units are exact zeros
    out64 = np.empty(a.shape)
    dropout_forward(a.astype(np.float64), u.astype(np.float64), rate, out64)
    assert_allclose(out, out64, **_tol(dtype))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_backward_matches_numpy(dtype, rate):
    rng = np.random.default_rng(0)
    d_out = rng.normal(size=(8, 6)).astype(dtype)
    u = rng.random(d_out.shape).astype(dtype)
    d_a = np.full_like(d_out, np.nan)
    dropout_backward(u, rate, d_out, d_a)
    assert d_a.dtype == dtype
    assert_allclose(d_a, _ref_dropout(d_out, u, rate), **_tol(dtype))
    d_a64 = np.empty(d_out.shape)
    dropout_backward(u.astype(np.float64), rate, d_out.astype(np.float64), d_a64)
    assert_allclose(d_a, d_a64, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_backward_in_place(dtype):
    # The layers pass d_out as d_a to save a buffer.
    rng = np.random.default_rng(0)
    d_out = rng.normal(size=(7, 5)).astype(dtype)
    u = rng.random(d_out.shape).astype(dtype)
    original = d_out.copy()
    expected = np.empty_like(d_out)
    dropout_backward(u, 0.3, d_out, expected)
    dropout_backward(u, 0.3, d_out, d_out)
    assert_array_equal(d_out, expected)
    assert_allclose(d_out, _ref_dropout(original, u, 0.3), **_tol(dtype))


def test_dropout_forward_keeps_unit_when_u_equals_rate():
    # The mask is u >= rate: a draw equal to the rate keeps the unit.
    a = np.ones((1, 3))
    u = np.array([[0.5, 0.25, 0.75]])
    out = np.empty_like(a)
    dropout_forward(a, u, 0.5, out)
    assert_array_equal(out, [[2.0, 0.0, 2.0]])
    d_a = np.empty_like(a)
    dropout_backward(u, 0.5, a, d_a)
    assert_array_equal(d_a, [[2.0, 0.0, 2.0]])


@pytest.mark.parametrize("rate", RATES)
def test_dropout_backward_matches_finite_differences(rate):
    # Element-wise op: one perturbation of every entry gives every partial derivative.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 4))
    u = rng.random(a.shape)
    r = rng.normal(size=a.shape)
    h = 1e-6

    def forward(values):
        out = np.empty_like(values)
        dropout_forward(values, u, rate, out)
        return out

    numeric = (forward(a + h) - forward(a - h)) * r / (2 * h)
    d_a = np.empty_like(a)
    dropout_backward(u, rate, r, d_a)
    assert_allclose(d_a, numeric, rtol=1e-6, atol=1e-9)


def test_dropout_forward_keeps_expected_fraction():
    # Inverted dropout keeps the mean: E[out] = a for uniform u.
    rng = np.random.default_rng(0)
    a = np.ones((200, 50))
    u = rng.random(a.shape)
    out = np.empty_like(a)
    dropout_forward(a, u, 0.4, out)
    assert abs(np.mean(out != 0) - 0.6) < 0.02
    assert abs(out.mean() - 1.0) < 0.04


# ------------------------------------------------------ row-keyed random numbers
MASK64 = (1 << 64) - 1


def _splitmix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _ref_row_key(bits_row, seed):
    golden = 0x9E3779B97F4A7C15
    h = sum(
        _splitmix64(int(b) ^ _splitmix64((j + golden) & MASK64))
        for j, b in enumerate(bits_row)
        if b
    )
    return _splitmix64((h & MASK64) ^ seed)


def _ref_uniform(key, stream, j, bits):
    golden = 0x9E3779B97F4A7C15
    base = _splitmix64((stream * golden) & MASK64)
    h = _splitmix64(((key ^ base) + (j + 1) * golden) & MASK64)
    return (h >> (64 - bits)) / 2.0**bits


@pytest.mark.parametrize(
    "dtype, uint", [(np.float32, np.uint32), (np.float64, np.uint64)]
)
def test_row_keys_and_keyed_uniform_match_python(dtype, uint):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(dtype)
    x[3] = x[1]  # a repeated row
    keys = np.empty(5, np.uint64)
    row_keys(x.view(uint), np.uint64(12345), keys)
    expected = [_ref_row_key(row, 12345) for row in x.view(uint)]
    assert [int(k) for k in keys] == expected
    assert keys[3] == keys[1] and len(set(keys.tolist())) == 4
    u = np.empty((5, 4), dtype)
    keyed_uniform(keys, np.uint64(7), u)
    bits = 24 if dtype == np.float32 else 53
    ref = [[_ref_uniform(int(k), 7, j, bits) for j in range(4)] for k in keys]
    assert_array_equal(u, np.array(ref, dtype=dtype))
    assert_array_equal(u[3], u[1])  # the same row draws the same numbers


def test_row_keys_tell_one_hot_rows_apart_and_ignore_storage():
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    one_hot = np.eye(10)[rng.randint(0, 10, (64, 3))].reshape(64, 30)
    keys = np.empty(64, np.uint64)
    row_keys(one_hot.view(np.uint64), np.uint64(1), keys)
    n_distinct_rows = len({row.tobytes() for row in one_hot})
    assert len(set(keys.tolist())) == n_distinct_rows  # equal keys = equal rows
    X = sp.csr_matrix(one_hot)
    sparse_keys = np.empty(64, np.uint64)
    csr_row_keys(
        X.data.view(np.uint64),
        X.indices,
        X.indptr,
        np.arange(64),
        np.uint64(1),
        sparse_keys,
    )
    assert_array_equal(sparse_keys, keys)  # a row keeps its key stored sparse


@pytest.mark.parametrize("dtype", DTYPES)
def test_keyed_uniform_is_uniform_and_streams_differ(dtype):
    keys = np.arange(2000, dtype=np.uint64)
    u = np.empty((2000, 500), dtype)
    keyed_uniform(keys, np.uint64(3), u)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 1e-3 and abs(u.var() - 1 / 12) < 1e-3
    other = np.empty_like(u)
    keyed_uniform(keys, np.uint64(4), other)
    assert abs(np.corrcoef(u.ravel(), other.ravel())[0, 1]) < 5e-3
    u64 = np.empty(u.shape)
    keyed_uniform(keys, np.uint64(3), u64)
    assert_allclose(u, u64, atol=2.0**-24)  # float32 keeps the top 24 bits
