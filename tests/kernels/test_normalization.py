"""Tests of the batch- and layer-normalization kernels against numpy."""

import numpy as np
import pytest
from _reference import numeric_gradient
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.normalization import (
    batch_norm_backward,
    batch_norm_forward_infer,
    batch_norm_forward_train,
    layer_norm_backward,
    layer_norm_forward,
)

DTYPES = [np.float32, np.float64]
EPS = 1e-5
# (m, c): m=2 is the smallest batch with a non-zero variance, c=1 a single channel
BN_SHAPES = [(2, 1), (2, 5), (7, 1), (7, 5)]
# m=1 is a single sample; c=1 normalises every row to zero
LN_SHAPES = [(1, 1), (1, 5), (2, 5), (7, 1), (7, 5)]


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-5}
    return {"rtol": 1e-12, "atol": 1e-12}


def _problem(rng, m, c, dtype=np.float64):
    """x with per-column offsets and scales, gamma, beta and a loss weight r."""
    x = rng.normal(
        loc=rng.normal(size=c), scale=rng.uniform(0.5, 2.0, size=c), size=(m, c)
    )
    gamma = rng.uniform(0.5, 1.5, size=c) * rng.choice([-1.0, 1.0], size=c)
    beta = rng.normal(size=c)
    r = rng.normal(size=(m, c))
    return tuple(a.astype(dtype) for a in (x, gamma, beta, r))


def _ref_batch_norm(x, gamma, beta, eps):
    """Column-wise batch norm in float64: mean, biased var, x_hat, out."""
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return mean, var, x_hat, gamma * x_hat + beta


def _ref_batch_norm_backward(x, gamma, eps, d_out):
    """Batch norm backward by the chain rule through mean and var, in float64."""
    m = x.shape[0]
    mean = x.mean(axis=0)
    centred = x - mean
    var = (centred**2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centred * inv_std
    d_x_hat = d_out * gamma
    d_var = np.sum(d_x_hat * centred, axis=0) * -0.5 * inv_std**3
    d_mean = -np.sum(d_x_hat, axis=0) * inv_std - 2.0 * d_var * centred.mean(axis=0)
    d_x = d_x_hat * inv_std + d_var * 2.0 * centred / m + d_mean / m
    return (d_out * x_hat).sum(axis=0), d_out.sum(axis=0), d_x


def _ref_layer_norm(x, gamma, beta, eps):
    """Row-wise layer norm in float64: inv_std, x_hat, out."""
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return 1.0 / np.sqrt(var[:, 0] + eps), x_hat, gamma * x_hat + beta


def _ref_layer_norm_backward(x, gamma, eps, d_out):
    """Layer norm backward by the chain rule through mean and var, in float64."""
    c = x.shape[1]
    mean = x.mean(axis=1, keepdims=True)
    centred = x - mean
    var = (centred**2).mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centred * inv_std
    d_x_hat = d_out * gamma
    d_var = np.sum(d_x_hat * centred, axis=1, keepdims=True) * -0.5 * inv_std**3
    d_mean = -np.sum(d_x_hat, axis=1, keepdims=True) * inv_std - 2.0 * d_var * (
        centred.mean(axis=1, keepdims=True)
    )
    d_x = d_x_hat * inv_std + d_var * 2.0 * centred / c + d_mean / c
    return (d_out * x_hat).sum(axis=0), d_out.sum(axis=0), d_x


def _nans(shape, dtype):
    """An output buffer the kernel must overwrite entirely."""
    return np.full(shape, np.nan, dtype=dtype)


def _bn_train(x, gamma, beta):
    """Run batch_norm_forward_train into NaN buffers: mean, inv_std, x_hat, out."""
    m, c = x.shape
    mean, inv_std = _nans(c, x.dtype), _nans(c, x.dtype)
    x_hat, out = _nans((m, c), x.dtype), _nans((m, c), x.dtype)
    batch_norm_forward_train(
        x, gamma, beta, x.dtype.type(EPS), mean, inv_std, x_hat, out
    )
    return mean, inv_std, x_hat, out


def _bn_backward(x_hat, gamma, inv_std, d_out, want_d_x=True):
    """Run batch_norm_backward into NaN-filled buffers: d_gamma, d_beta, d_x."""
    d_gamma, d_beta = _nans(gamma.shape, gamma.dtype), _nans(gamma.shape, gamma.dtype)
    d_x = _nans(x_hat.shape, x_hat.dtype)
    batch_norm_backward(x_hat, gamma, inv_std, d_out, d_gamma, d_beta, d_x, want_d_x)
    return d_gamma, d_beta, d_x


def _ln_forward(x, gamma, beta):
    """Run layer_norm_forward into NaN-filled buffers: inv_std, x_hat, out."""
    m, c = x.shape
    inv_std = _nans(m, x.dtype)
    x_hat, out = _nans((m, c), x.dtype), _nans((m, c), x.dtype)
    layer_norm_forward(x, gamma, beta, x.dtype.type(EPS), inv_std, x_hat, out)
    return inv_std, x_hat, out


def _ln_backward(x_hat, gamma, inv_std, d_out, want_d_x=True):
    """Run layer_norm_backward into NaN-filled buffers: d_gamma, d_beta, d_x."""
    d_gamma, d_beta = _nans(gamma.shape, gamma.dtype), _nans(gamma.shape, gamma.dtype)
    d_x = _nans(x_hat.shape, x_hat.dtype)
    layer_norm_backward(x_hat, gamma, inv_std, d_out, d_gamma, d_beta, d_x, want_d_x)
    return d_gamma, d_beta, d_x


def _as64(arrays):
    return [a.astype(np.float64) for a in arrays]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_forward_train_matches_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, _ = _problem(rng, *shape, dtype)
    mean, inv_std, x_hat, out = _bn_train(x, gamma, beta)
    ref_mean, ref_var, ref_x_hat, ref_out = _ref_batch_norm(
        *_as64((x, gamma, beta)), EPS
    )
    tol = _tol(dtype)
    for got in (mean, inv_std, x_hat, out):
        assert got.dtype == dtype
    assert_allclose(mean, ref_mean, **tol)
    assert_allclose(inv_std, 1.0 / np.sqrt(ref_var + EPS), **tol)
    assert_allclose(x_hat, ref_x_hat, **tol)
    assert_allclose(out, ref_out, **tol)
    # float32 agrees with float64 on the same data
    for got, got64 in zip(
        (mean, inv_std, x_hat, out), _bn_train(*_as64((x, gamma, beta))), strict=True
    ):
        assert_allclose(got, got64, **tol)


def test_batch_norm_forward_train_float32_accurate_far_from_zero():
    # A large common offset: the two-pass float64 statistics keep inv_std exact to
    # float32 rounding, where one-pass float32 E[x^2] - E[x]^2 loses every digit.
    rng = np.random.default_rng(0)
    x = (1e3 + rng.normal(size=(1000, 3))).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    mean, inv_std, x_hat, _ = _bn_train(x, gamma, beta)
    ref_mean, ref_var, ref_x_hat, _ = _ref_batch_norm(
        x.astype(np.float64), 1.0, 0.0, EPS
    )
    assert_allclose(mean, ref_mean, rtol=1e-7)
    assert_allclose(inv_std, 1.0 / np.sqrt(ref_var + EPS), rtol=1e-7)
    # x - mean is exact in float32 here; the rounding of mean to float32 remains
    assert_allclose(x_hat, ref_x_hat, atol=1e-4)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_forward_infer_matches_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, _ = _problem(rng, *shape, dtype)
    running_mean = rng.normal(size=shape[1]).astype(dtype)
    running_var = rng.uniform(0.5, 2.0, size=shape[1]).astype(dtype)
    out = np.full(shape, np.nan, dtype=dtype)
    args = (x, gamma, beta, running_mean, running_var)
    batch_norm_forward_infer(*args, dtype(EPS), out)
    x64, gamma64, beta64, mean64, var64 = _as64(args)
    ref = gamma64 * (x64 - mean64) / np.sqrt(var64 + EPS) + beta64
    assert out.dtype == dtype
    assert_allclose(out, ref, **_tol(dtype))
    out64 = np.empty(shape)
    batch_norm_forward_infer(*_as64(args), EPS, out64)
    assert_allclose(out, out64, **_tol(dtype))


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_forward_infer_matches_train_with_batch_statistics(dtype, shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, _ = _problem(rng, *shape, dtype)
    mean, _, _, out_train = _bn_train(x, gamma, beta)
    var = x.astype(np.float64).var(axis=0).astype(dtype)  # biased, as in training
    out = np.full(shape, np.nan, dtype=dtype)
    batch_norm_forward_infer(x, gamma, beta, mean, var, dtype(EPS), out)
    assert_allclose(out, out_train, **_tol(dtype))


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_backward_matches_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, d_out = _problem(rng, *shape, dtype)
    _, inv_std, x_hat, _ = _bn_train(x, gamma, beta)
    grads = _bn_backward(x_hat, gamma, inv_std, d_out)
    refs = _ref_batch_norm_backward(*_as64((x, gamma)), EPS, d_out.astype(np.float64))
    tol = _tol(dtype)
    for got, ref in zip(grads, refs, strict=True):
        assert got.dtype == dtype
        assert_allclose(got, ref, **tol)
    _, inv_std64, x_hat64, _ = _bn_train(*_as64((x, gamma, beta)))
    grads64 = _bn_backward(x_hat64, *_as64((gamma,)), inv_std64, *_as64((d_out,)))
    for got, got64 in zip(grads, grads64, strict=True):
        assert_allclose(got, got64, **tol)


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_backward_matches_finite_differences(shape):
    # The training-mode gradient: the batch mean and variance depend on x too.
    rng = np.random.default_rng(0)
    x, gamma, beta, r = _problem(rng, *shape)

    def loss():
        return np.sum(_bn_train(x, gamma, beta)[3] * r)

    num_x = numeric_gradient(loss, x)
    num_gamma = numeric_gradient(loss, gamma)
    num_beta = numeric_gradient(loss, beta)

    _, inv_std, x_hat, _ = _bn_train(x, gamma, beta)
    d_gamma, d_beta, d_x = _bn_backward(x_hat, gamma, inv_std, r)
    assert_allclose(d_x, num_x, rtol=1e-6, atol=1e-8)
    assert_allclose(d_gamma, num_gamma, rtol=1e-6, atol=1e-8)
    assert_allclose(d_beta, num_beta, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_backward_without_d_x_leaves_d_x_untouched(dtype):
    rng = np.random.default_rng(0)
    x, gamma, beta, d_out = _problem(rng, 7, 5, dtype)
    _, inv_std, x_hat, _ = _bn_train(x, gamma, beta)
    sentinel = rng.normal(size=x.shape).astype(dtype)
    d_x = sentinel.copy()
    d_gamma, d_beta = np.empty_like(gamma), np.empty_like(gamma)
    batch_norm_backward(x_hat, gamma, inv_std, d_out, d_gamma, d_beta, d_x, False)
    assert_array_equal(d_x, sentinel)
    # the parameter gradients are still computed
    ref_d_gamma, ref_d_beta, _ = _bn_backward(x_hat, gamma, inv_std, d_out)
    assert_array_equal(d_gamma, ref_d_gamma)
    assert_array_equal(d_beta, ref_d_beta)


@pytest.mark.parametrize("shape", LN_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_forward_matches_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, _ = _problem(rng, *shape, dtype)
    got = _ln_forward(x, gamma, beta)
    refs = _ref_layer_norm(*_as64((x, gamma, beta)), EPS)
    tol = _tol(dtype)
    for value, ref in zip(got, refs, strict=True):
        assert value.dtype == dtype
        assert_allclose(value, ref, **tol)
    for value, value64 in zip(got, _ln_forward(*_as64((x, gamma, beta))), strict=True):
        assert_allclose(value, value64, **tol)


@pytest.mark.parametrize("shape", LN_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_backward_matches_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, d_out = _problem(rng, *shape, dtype)
    inv_std, x_hat, _ = _ln_forward(x, gamma, beta)
    grads = _ln_backward(x_hat, gamma, inv_std, d_out)
    refs = _ref_layer_norm_backward(*_as64((x, gamma)), EPS, d_out.astype(np.float64))
    tol = _tol(dtype)
    for got, ref in zip(grads, refs, strict=True):
        assert got.dtype == dtype
        assert_allclose(got, ref, **tol)
    inv_std64, x_hat64, _ = _ln_forward(*_as64((x, gamma, beta)))
    grads64 = _ln_backward(x_hat64, *_as64((gamma,)), inv_std64, *_as64((d_out,)))
    for got, got64 in zip(grads, grads64, strict=True):
        assert_allclose(got, got64, **tol)


@pytest.mark.parametrize("shape", LN_SHAPES)
def test_layer_norm_backward_matches_finite_differences(shape):
    rng = np.random.default_rng(0)
    x, gamma, beta, r = _problem(rng, *shape)

    def loss():
        return np.sum(_ln_forward(x, gamma, beta)[2] * r)

    num_x = numeric_gradient(loss, x)
    num_gamma = numeric_gradient(loss, gamma)
    num_beta = numeric_gradient(loss, beta)

    inv_std, x_hat, _ = _ln_forward(x, gamma, beta)
    d_gamma, d_beta, d_x = _ln_backward(x_hat, gamma, inv_std, r)
    assert_allclose(d_x, num_x, rtol=1e-6, atol=1e-8)
    assert_allclose(d_gamma, num_gamma, rtol=1e-6, atol=1e-8)
    assert_allclose(d_beta, num_beta, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_backward_without_d_x_leaves_d_x_untouched(dtype):
    rng = np.random.default_rng(0)
    x, gamma, beta, d_out = _problem(rng, 7, 5, dtype)
    inv_std, x_hat, _ = _ln_forward(x, gamma, beta)
    sentinel = rng.normal(size=x.shape).astype(dtype)
    d_x = sentinel.copy()
    d_gamma, d_beta = np.empty_like(gamma), np.empty_like(gamma)
    layer_norm_backward(x_hat, gamma, inv_std, d_out, d_gamma, d_beta, d_x, False)
    assert_array_equal(d_x, sentinel)
    ref_d_gamma, ref_d_beta, _ = _ln_backward(x_hat, gamma, inv_std, d_out)
    assert_array_equal(d_gamma, ref_d_gamma)
    assert_array_equal(d_beta, ref_d_beta)
