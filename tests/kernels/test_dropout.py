"""Tests of the inverted-dropout kernels against numpy."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.dropout import dropout_backward, dropout_forward

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
