"""Tests of the global 1-D pooling kernels (over time) against numpy."""

import numpy as np
import pytest
from _reference import numeric_gradient
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.pooling1d import (
    global_avg_pool1d_backward,
    global_avg_pool1d_forward,
    global_max_pool1d_backward,
    global_max_pool1d_forward,
)

DTYPES = [np.float32, np.float64]
# (n, timesteps, features)
SHAPES = [(3, 5, 4), (2, 1, 3), (4, 7, 1)]


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-13}


def _sequences(shape, dtype, seed=0):
    # distinct values: each max is unique, so its gradient is defined
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.prod(shape)).astype(np.float64)
    return (x / x.size - 0.5).reshape(shape).astype(dtype)


def _mask(shape, dtype, seed=0):
    """Random 0/1 masks: the first sample all padding, the second all real."""
    n, steps, _ = shape
    mask = (np.random.default_rng(seed).random((n, steps)) < 0.6).astype(dtype)
    mask[0] = 0
    if n > 1:
        mask[1] = 1
    return mask


def _ref_avg(x, mask):
    x = x.astype(np.float64)
    if mask is None:
        return x.mean(axis=1)
    mask = mask.astype(np.float64)
    total = np.einsum("nt,ntf->nf", mask, x)
    return total / np.maximum(mask.sum(axis=1), 1.0)[:, None]


def _avg(x, mask):
    out = np.full((x.shape[0], x.shape[2]), np.nan, dtype=x.dtype)
    global_avg_pool1d_forward(x, mask, out)
    return out


def _max(x):
    out = np.full((x.shape[0], x.shape[2]), np.nan, dtype=x.dtype)
    argmax = np.full(out.shape, -1, dtype=np.intp)
    global_max_pool1d_forward(x, out, argmax)
    return out, argmax


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_global_avg_pool1d_forward_matches_numpy(dtype, shape, masked):
    x = _sequences(shape, dtype)
    mask = _mask(shape, dtype) if masked else None
    out = _avg(x, mask)
    assert out.dtype == dtype
    assert_allclose(out, _ref_avg(x, mask), **_tol(dtype))
    if masked:
        assert_array_equal(out[0], 0)  # all padding: 0, not NaN


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_global_avg_pool1d_float32_matches_float64(shape, masked):
    x = _sequences(shape, np.float32)
    mask = _mask(shape, np.float32) if masked else None
    r = np.random.default_rng(1).normal(size=(shape[0], shape[2]))
    results = {}
    for dtype in DTYPES:
        m = None if mask is None else mask.astype(dtype)
        d_x = np.full(shape, np.nan, dtype=dtype)
        global_avg_pool1d_backward(r.astype(dtype), m, d_x)
        results[dtype] = (_avg(x.astype(dtype), m), d_x)
    for a32, a64 in zip(results[np.float32], results[np.float64], strict=True):
        assert a32.dtype == np.float32
        assert_allclose(a32, a64, rtol=1e-6, atol=1e-6)


def test_global_avg_pool1d_weights_and_mask_dtype():
    # the mask may be of another float dtype, and any non-negative weights
    x = _sequences((2, 4, 3), np.float64)
    mask = np.array([[0.5, 0.0, 2.0, 1.0], [0.25, 0.25, 0.0, 0.0]], dtype=np.float32)
    assert_allclose(_avg(x, mask), _ref_avg(x, mask), rtol=1e-12)


def test_global_avg_pool1d_padding_values_do_not_leak():
    x = _sequences((2, 4, 3), np.float64)
    mask = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]])
    x[mask == 0] = np.nan
    out = _avg(x, mask)
    assert np.all(np.isfinite(out))
    assert_allclose(out, _ref_avg(np.nan_to_num(x), mask), rtol=1e-12)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_global_avg_pool1d_backward_matches_finite_differences(shape, masked):
    x = _sequences(shape, np.float64)
    mask = _mask(shape, np.float64) if masked else None
    r = np.random.default_rng(1).normal(size=(shape[0], shape[2]))
    d_x = np.full_like(x, np.nan)
    global_avg_pool1d_backward(r, mask, d_x)
    numeric = numeric_gradient(lambda: float(np.sum(_avg(x, mask) * r)), x)
    assert_allclose(d_x, numeric, rtol=1e-6, atol=1e-8)
    if masked:
        assert_array_equal(d_x[mask == 0], 0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_global_max_pool1d_forward_matches_numpy(dtype, shape):
    x = _sequences(shape, dtype)
    out, argmax = _max(x)
    assert out.dtype == dtype
    assert_array_equal(out, x.max(axis=1))
    assert_array_equal(argmax, x.argmax(axis=1))


@pytest.mark.parametrize("shape", SHAPES)
def test_global_max_pool1d_backward_matches_finite_differences(shape):
    # distinct values at least 1/size apart: h = 1e-6 never changes the argmax
    x = _sequences(shape, np.float64)
    r = np.random.default_rng(1).normal(size=(shape[0], shape[2]))
    _, argmax = _max(x)
    d_x = np.full_like(x, np.nan)
    global_max_pool1d_backward(r, argmax, d_x)
    numeric = numeric_gradient(lambda: float(np.sum(_max(x)[0] * r)), x)
    assert_allclose(d_x, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", SHAPES)
def test_global_max_pool1d_float32_matches_float64(shape):
    x = _sequences(shape, np.float32)
    r = np.random.default_rng(1).normal(size=(shape[0], shape[2]))
    results = {}
    for dtype in DTYPES:
        out, argmax = _max(x.astype(dtype))
        d_x = np.full(shape, np.nan, dtype=dtype)
        global_max_pool1d_backward(r.astype(dtype), argmax, d_x)
        results[dtype] = (out, argmax, d_x)
    for a32, a64 in zip(results[np.float32], results[np.float64], strict=True):
        assert_allclose(a32, a64, rtol=1e-6, atol=1e-6)
    assert results[np.float32][2].dtype == np.float32


def test_global_max_pool1d_propagates_nan():
    x = np.zeros((1, 4, 2))
    x[0, 1, 0] = np.nan
    x[0, 2, 0] = 5.0
    out, argmax = _max(x)
    assert np.isnan(out[0, 0]) and argmax[0, 0] == 1
    assert out[0, 1] == 0
