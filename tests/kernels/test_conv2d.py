"""Tests of the conv2d kernels (im2col + GEMM, NHWC) against a direct numpy loop."""

import numpy as np
import pytest
from _reference import numeric_gradient, window_geometry
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.activations import ACTIVATIONS
from sklearn_nn._kernels.conv2d import col2im, conv2d_backward, conv2d_forward, im2col

DTYPES = [np.float32, np.float64]
# (height, width, c_in, filters, kernel, strides, padding): odd sizes, rectangular
# kernels and strides, 1 and several channels, windows that do not tile the image
CASES = [
    (5, 5, 1, 2, (3, 3), (1, 1), "valid"),
    (5, 5, 1, 2, (3, 3), (1, 1), "same"),
    (7, 6, 3, 4, (3, 2), (2, 1), "valid"),
    (7, 6, 3, 4, (3, 2), (2, 1), "same"),
    (6, 7, 2, 3, (2, 3), (2, 3), "same"),
    (4, 4, 2, 1, (1, 1), (1, 1), "valid"),
    (4, 5, 2, 2, (4, 5), (1, 1), "valid"),
    (3, 3, 2, 2, (5, 5), (1, 1), "same"),  # kernel larger than the image
    (1, 1, 1, 2, (3, 3), (1, 1), "same"),
    (8, 8, 1, 2, (3, 3), (3, 3), "same"),
]


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-5}
    return {"rtol": 1e-12, "atol": 1e-12}


def _problem(case, dtype, n=2, seed=0):
    height, width, c_in, filters, (kh, kw), (sh, sw), padding = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, height, width, c_in)).astype(dtype)
    w = rng.normal(size=(kh, kw, c_in, filters)).astype(dtype)
    b = rng.normal(size=filters).astype(dtype)
    out_h, pad_top = window_geometry(height, kh, sh, padding)
    out_w, pad_left = window_geometry(width, kw, sw, padding)
    return x, w, b, (sh, sw, pad_top, pad_left), (out_h, out_w)


def _ref_conv(x, w, b, geometry, out_shape):
    """Direct cross-correlation in float64 over an explicitly zero-padded x."""
    sh, sw, pad_top, pad_left = geometry
    out_h, out_w = out_shape
    kh, kw, _, filters = w.shape
    n, height, width, c_in = x.shape
    pad_bottom = max((out_h - 1) * sh + kh - height - pad_top, 0)
    pad_right = max((out_w - 1) * sw + kw - width - pad_left, 0)
    xp = np.pad(
        x.astype(np.float64),
        ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)),
    )
    out = np.empty((n, out_h, out_w, filters))
    for oh in range(out_h):
        for ow in range(out_w):
            patch = xp[:, oh * sh : oh * sh + kh, ow * sw : ow * sw + kw, :]
            out[:, oh, ow, :] = np.tensordot(patch, w.astype(np.float64), 3)
    return out + b.astype(np.float64)


def _forward(x, w, b, geometry, out_shape, code=ACTIVATIONS["identity"]):
    """im2col then conv2d_forward, as the layer runs them."""
    n = x.shape[0]
    kh, kw, c_in, filters = w.shape
    cols = np.full((n,) + out_shape + (kh * kw * c_in,), np.nan, dtype=x.dtype)
    z = np.full((n,) + out_shape + (filters,), np.nan, dtype=x.dtype)
    im2col(x, kh, kw, *geometry, cols)
    conv2d_forward(cols, w, b, code, z, z)
    return z, cols


def _backward(x, w, b, geometry, out_shape, d_out):
    """conv2d_backward then col2im, as the layer runs them."""
    z, cols = _forward(x, w, b, geometry, out_shape)
    d_w = np.full_like(w, np.nan)
    d_b = np.full_like(b, np.nan)
    d_x = np.full_like(x, np.nan)
    code = ACTIVATIONS["identity"]
    d_a = d_out.copy()
    conv2d_backward(cols, w, z, z, code, d_a, d_w, d_b, True)
    kh, kw = w.shape[:2]
    col2im(cols, kh, kw, *geometry, d_x)
    return d_w, d_b, d_x


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_forward_matches_direct_loop(dtype, case):
    x, w, b, geometry, out_shape = _problem(case, dtype)
    z, _ = _forward(x, w, b, geometry, out_shape)
    assert z.dtype == dtype
    assert_allclose(z, _ref_conv(x, w, b, geometry, out_shape), **_tol(dtype))
    z64, _ = _forward(*(a.astype(np.float64) for a in (x, w, b)), geometry, out_shape)
    assert_allclose(z, z64, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_forward_applies_relu(dtype):
    x, w, b, geometry, out_shape = _problem(CASES[3], dtype)
    a, _ = _forward(x, w, b, geometry, out_shape, ACTIVATIONS["relu"])
    ref = np.maximum(_ref_conv(x, w, b, geometry, out_shape), 0)
    assert_allclose(a, ref, **_tol(dtype))


@pytest.mark.parametrize("case", CASES)
def test_conv2d_backward_matches_finite_differences(case):
    x, w, b, geometry, out_shape = _problem(case, np.float64)
    r = np.random.default_rng(1).normal(size=(x.shape[0],) + out_shape + b.shape)

    def loss():
        return float(np.sum(_forward(x, w, b, geometry, out_shape)[0] * r))

    d_w, d_b, d_x = _backward(x, w, b, geometry, out_shape, r)
    assert_allclose(d_w, numeric_gradient(loss, w), rtol=1e-6, atol=1e-8)
    assert_allclose(d_b, numeric_gradient(loss, b), rtol=1e-6, atol=1e-8)
    assert_allclose(d_x, numeric_gradient(loss, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_backward_float32_matches_float64(case):
    x, w, b, geometry, out_shape = _problem(case, np.float32)
    r = np.random.default_rng(1).normal(size=(x.shape[0],) + out_shape + b.shape)
    grads32 = _backward(x, w, b, geometry, out_shape, r.astype(np.float32))
    grads64 = _backward(
        *(a.astype(np.float64) for a in (x, w, b)), geometry, out_shape, r
    )
    for g32, g64 in zip(grads32, grads64, strict=True):
        assert g32.dtype == np.float32
        assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), c> == <x, col2im(c)> for all x, c: col2im is im2col's transpose
    x, w, _, geometry, out_shape = _problem(case, np.float64)
    kh, kw, c_in, _ = w.shape
    shape = (x.shape[0],) + out_shape + (kh * kw * c_in,)
    cols = np.empty(shape)
    im2col(x, kh, kw, *geometry, cols)
    c = np.random.default_rng(2).normal(size=shape)
    back = np.empty_like(x)
    col2im(c, kh, kw, *geometry, back)
    assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


def test_conv2d_backward_without_input_gradient_keeps_cols():
    x, w, b, geometry, out_shape = _problem(CASES[2], np.float64)
    z, cols = _forward(x, w, b, geometry, out_shape)
    saved = cols.copy()
    d_w, d_b = np.empty_like(w), np.empty_like(b)
    code = ACTIVATIONS["identity"]
    conv2d_backward(cols, w, z, z, code, np.ones_like(z), d_w, d_b, False)
    assert_array_equal(cols, saved)
    assert_allclose(d_w, _backward(x, w, b, geometry, out_shape, np.ones_like(z))[0])


def test_a_non_contiguous_output_is_refused_not_lost():
    # numpy's reshape would copy it, and the kernels would write into the copy
    x, w, b, geometry, out_shape = _problem(CASES[0], np.float64)
    kh, kw, c_in, filters = w.shape
    cols = np.empty((x.shape[0],) + out_shape + (kh * kw * c_in,))
    im2col(x, kh, kw, *geometry, cols)
    z = np.empty((x.shape[0],) + out_shape + (filters,))
    a = np.empty((filters,) + out_shape[::-1] + (x.shape[0],)).T  # F-ordered
    with pytest.raises(ValueError, match="C-contiguous"):
        conv2d_forward(cols, w, b, ACTIVATIONS["gelu"], z, a)
