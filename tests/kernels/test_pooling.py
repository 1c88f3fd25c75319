"""Tests of the max / average pooling kernels (NHWC) against numpy."""

import numpy as np
import pytest
from _reference import numeric_gradient, window_geometry
from numpy.testing import assert_allclose, assert_array_equal

import sklearn_nn._kernels.pooling as pooling_kernels
from sklearn_nn._kernels.pooling import (
    _max_pool2d_backward_scatter,
    _max_pool2d_backward_tiles,
    argmax_dtype,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

DTYPES = [np.float32, np.float64]
# (height, width, channels, pool, strides, padding)
CASES = [
    (4, 4, 1, (2, 2), (2, 2), "valid"),  # windows tile the image
    (6, 4, 3, (3, 2), (3, 2), "same"),  # ... also with "same" padding
    (5, 5, 3, (2, 2), (2, 2), "valid"),  # the remainder row/column is dropped
    (5, 4, 2, (2, 2), (2, 2), "valid"),  # ... a row only
    (5, 5, 3, (2, 2), (2, 2), "same"),  # ... or pooled on its own
    (7, 6, 2, (3, 2), (2, 1), "valid"),  # overlapping windows
    (7, 6, 2, (3, 3), (2, 2), "same"),
    (1, 1, 2, (2, 2), (2, 2), "same"),
    (6, 5, 1, (2, 3), (3, 3), "same"),  # strides larger than the window
]


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-13}


def _problem(case, dtype, n=2, seed=0):
    height, width, channels, (ph, pw), (sh, sw), padding = case
    # distinct values: the max of every window is unique, so the gradient is defined
    rng = np.random.default_rng(seed)
    x = rng.permutation(n * height * width * channels).astype(dtype)
    x = (x / x.size - 0.5).reshape(n, height, width, channels)
    out_h, pad_top = window_geometry(height, ph, sh, padding)
    out_w, pad_left = window_geometry(width, pw, sw, padding)
    return x, (ph, pw, sh, sw, pad_top, pad_left), (n, out_h, out_w, channels)


def _windows(x, geometry, out_shape):
    """For each output cell, the slice of x its window covers (padding excluded)."""
    ph, pw, sh, sw, pad_top, pad_left = geometry
    for oh in range(out_shape[1]):
        h0 = oh * sh - pad_top
        for ow in range(out_shape[2]):
            w0 = ow * sw - pad_left
            window = (
                slice(None),
                slice(max(h0, 0), min(h0 + ph, x.shape[1])),
                slice(max(w0, 0), min(w0 + pw, x.shape[2])),
            )
            yield oh, ow, window


def _ref_pool(x, geometry, out_shape, reduce):
    out = np.empty(out_shape)
    for oh, ow, window in _windows(x, geometry, out_shape):
        out[:, oh, ow, :] = reduce(x[window].astype(np.float64), axis=(1, 2))
    return out


def _max_pool(x, geometry, out_shape, index_dtype=np.intp):
    out = np.full(out_shape, np.nan, dtype=x.dtype)
    argmax = np.full(out_shape, -1, dtype=index_dtype)
    max_pool2d_forward(x, *geometry, out, argmax)
    return out, argmax


def _avg_pool(x, geometry, out_shape):
    out = np.full(out_shape, np.nan, dtype=x.dtype)
    avg_pool2d_forward(x, *geometry, out)
    return out


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_forward_matches_numpy(dtype, case):
    x, geometry, out_shape = _problem(case, dtype)
    out, _ = _max_pool(x, geometry, out_shape)
    assert out.dtype == dtype
    assert_array_equal(out, _ref_pool(x, geometry, out_shape, np.max))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_forward_matches_numpy(dtype, case):
    x, geometry, out_shape = _problem(case, dtype)
    out = _avg_pool(x, geometry, out_shape)
    assert out.dtype == dtype
    assert_allclose(out, _ref_pool(x, geometry, out_shape, np.mean), **_tol(dtype))
    assert_allclose(
        out, _avg_pool(x.astype(np.float64), geometry, out_shape), **_tol(dtype)
    )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("index_dtype", [np.intp, np.int32])
def test_max_pool2d_backward_matches_finite_differences(case, index_dtype):
    # distinct values at least 1/size apart: h = 1e-6 never changes the argmax
    x, geometry, out_shape = _problem(case, np.float64)
    r = np.random.default_rng(1).normal(size=out_shape)
    _, argmax = _max_pool(x, geometry, out_shape, index_dtype)
    d_x = np.full_like(x, np.nan)
    max_pool2d_backward(r, argmax, *geometry, d_x)
    numeric = numeric_gradient(
        lambda: float(np.sum(_max_pool(x, geometry, out_shape)[0] * r)), x
    )
    assert_allclose(d_x, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", CASES)
def test_avg_pool2d_backward_matches_finite_differences(case):
    x, geometry, out_shape = _problem(case, np.float64)
    r = np.random.default_rng(1).normal(size=out_shape)
    d_x = np.full_like(x, np.nan)
    avg_pool2d_backward(r, *geometry, d_x)
    numeric = numeric_gradient(
        lambda: float(np.sum(_avg_pool(x, geometry, out_shape) * r)), x
    )
    assert_allclose(d_x, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", CASES)
def test_pool2d_backward_float32_matches_float64(case):
    x, geometry, out_shape = _problem(case, np.float32)
    r = np.random.default_rng(1).normal(size=out_shape)
    _, argmax = _max_pool(x, geometry, out_shape)
    for dtype in (np.float32, np.float64):
        d_max, d_avg = np.empty(x.shape, dtype), np.empty(x.shape, dtype)
        max_pool2d_backward(r.astype(dtype), argmax, *geometry, d_max)
        avg_pool2d_backward(r.astype(dtype), *geometry, d_avg)
        if dtype == np.float32:
            d_max32, d_avg32 = d_max, d_avg
    assert d_max32.dtype == d_avg32.dtype == np.float32
    assert_allclose(d_max32, d_max, rtol=1e-6, atol=1e-6)
    assert_allclose(d_avg32, d_avg, rtol=1e-6, atol=1e-6)


def test_max_pool2d_propagates_nan():
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = np.nan
    out, _ = _max_pool(x, (2, 2, 2, 2, 0, 0), (1, 1, 1, 1))
    assert np.isnan(out[0, 0, 0, 0])


def test_argmax_dtype_is_int32_while_the_flat_index_fits():
    assert argmax_dtype(32, 32) == np.int32
    assert argmax_dtype(2**16, 2**15 - 1) == np.int32
    assert argmax_dtype(2**16, 2**15) == np.intp


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[3] == c[4] and c[5] == "valid"], ids=str
)
def test_max_pool2d_backward_tiles_match_scatter(case):
    # the disjoint-window kernel writes each cell once and zeroes the remainder
    # rows and columns; the scatter kernel zeroes everything, then adds
    x, geometry, out_shape = _problem(case, np.float32)
    r = np.random.default_rng(1).normal(size=out_shape).astype(np.float32)
    _, argmax = _max_pool(x, geometry, out_shape, np.int32)
    tiles, scatter = np.full_like(x, np.nan), np.full_like(x, np.nan)
    _max_pool2d_backward_tiles(r, argmax, geometry[0], geometry[1], tiles)
    _max_pool2d_backward_scatter(r, argmax, scatter)
    assert_array_equal(tiles, scatter)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[3] == c[4] and c[5] == "valid"], ids=str
)
def test_max_pool2d_backward_routes_disjoint_windows_to_the_tiles_kernel(
    case, monkeypatch
):
    # every disjoint "valid" geometry, remainders included, writes each cell once
    def scatter(*args):
        raise AssertionError("the scatter kernel ran")

    monkeypatch.setattr(pooling_kernels, "_max_pool2d_backward_scatter", scatter)
    x, geometry, out_shape = _problem(case, np.float32)
    _, argmax = _max_pool(x, geometry, out_shape, np.int32)
    d_x = np.full_like(x, np.nan)
    max_pool2d_backward(np.ones(out_shape, np.float32), argmax, *geometry, d_x)
    assert np.isfinite(d_x).all()


def test_argmax_dtype_takes_python_ints():
    # numpy int32 sizes would wrap around in the product
    assert argmax_dtype(np.int32(2**16), np.int32(2**15)) == np.intp
