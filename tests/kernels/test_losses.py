"""Tests of the loss kernels (value and d_z) against numpy references."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit, log_softmax, softmax, xlogy

from sklearn_nn._kernels.losses import (
    LOSSES,
    poisson,
    sigmoid_log_loss,
    softmax_log_loss,
    squared_error,
)

DTYPES = [np.float32, np.float64]
N = 6


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-14}


def _ref_softmax_log_loss(z, y):
    """Per-sample loss and dl/dz."""
    return -np.sum(y * log_softmax(z, axis=1), axis=1), softmax(z, axis=1) - y


def _ref_sigmoid_log_loss(z, y):
    return np.sum(np.logaddexp(0.0, z) - y * z, axis=1), expit(z) - y


def _ref_squared_error(z, y):
    return 0.5 * np.sum((z - y) ** 2, axis=1), z - y


def _ref_poisson(z, y):
    # y log y is taken as 0 at y = 0 (xlogy)
    return np.sum(np.exp(z) - y * z - y + xlogy(y, y), axis=1), np.exp(z) - y


def _one_hot(rng, k):
    return np.eye(k)[rng.integers(k, size=N)]


def _case(name, rng):
    """(kernel, reference, z, y) for one named problem."""
    if name == "softmax_multiclass":
        z, y = rng.normal(size=(N, 4)), _one_hot(rng, 4)
        return softmax_log_loss, _ref_softmax_log_loss, z, y
    if name == "softmax_soft_targets":
        z, y = rng.normal(size=(N, 3)), rng.dirichlet(np.ones(3), size=N)
        return softmax_log_loss, _ref_softmax_log_loss, z, y
    if name in ("sigmoid_binary", "sigmoid_multilabel"):
        k = 1 if name == "sigmoid_binary" else 3
        z, y = rng.normal(size=(N, k)), rng.integers(2, size=(N, k)).astype(float)
        return sigmoid_log_loss, _ref_sigmoid_log_loss, z, y
    if name in ("squared_error_single", "squared_error_multioutput"):
        k = 1 if name == "squared_error_single" else 3
        z, y = rng.normal(size=(N, k)), rng.normal(size=(N, k))
        return squared_error, _ref_squared_error, z, y
    # poisson, two outputs; counts include zeros to exercise y log y = 0
    z, y = rng.normal(scale=0.7, size=(N, 2)), rng.poisson(1.5, size=(N, 2))
    y = y.astype(np.float64)
    y[0, 0] = 0.0
    return poisson, _ref_poisson, z, y


CASES = [
    "softmax_multiclass",
    "softmax_soft_targets",
    "sigmoid_binary",
    "sigmoid_multilabel",
    "squared_error_single",
    "squared_error_multioutput",
    "poisson",
]


def _weights(rng):
    """Non-uniform sample weights and a scale != 1, as 1 / total weight."""
    sw = rng.uniform(0.2, 3.0, size=N)
    return sw, 1.0 / sw.sum()


def _call(kernel, z, y, sw, scale):
    d_z = np.full_like(z, np.nan)
    value = kernel(z, y, sw, z.dtype.type(scale), d_z)
    return value, d_z


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_value_and_gradient_match_numpy(dtype, case):
    rng = np.random.default_rng(0)
    kernel, reference, z, y = _case(case, rng)
    sw, scale = _weights(rng)
    assert scale != 1.0 and np.ptp(sw) > 0
    z, y, sw = z.astype(dtype), y.astype(dtype), sw.astype(dtype)
    value, d_z = _call(kernel, z, y, sw, scale)

    z64, y64, sw64 = z.astype(np.float64), y.astype(np.float64), sw.astype(np.float64)
    per_sample, grad = reference(z64, y64)
    tol = _tol(dtype)
    assert_allclose(value, scale * np.sum(sw64 * per_sample), **tol)
    assert d_z.dtype == dtype
    assert_allclose(d_z, scale * sw64[:, None] * grad, **tol)

    value64, d_z64 = _call(kernel, z64, y64, sw64, scale)
    assert_allclose(value, value64, **tol)
    assert_allclose(d_z, d_z64, **tol)


@pytest.mark.parametrize("case", CASES)
def test_loss_gradient_matches_finite_differences(case):
    rng = np.random.default_rng(0)
    kernel, _, z, y = _case(case, rng)
    sw, scale = _weights(rng)
    scratch = np.empty_like(z)
    h = 1e-6
    numeric = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        saved = z[idx]
        z[idx] = saved + h
        f_plus = kernel(z, y, sw, scale, scratch)
        z[idx] = saved - h
        f_minus = kernel(z, y, sw, scale, scratch)
        z[idx] = saved
        numeric[idx] = (f_plus - f_minus) / (2 * h)
    _, d_z = _call(kernel, z, y, sw, scale)
    assert_allclose(d_z, numeric, rtol=1e-6, atol=1e-9)


def test_poisson_value_with_zero_counts():
    # y = 0 contributes exp(z) only; y log y must not become 0 * log 0 = nan.
    z = np.array([[0.0, 1.0], [-2.0, 0.5]])
    y = np.array([[0.0, 0.0], [0.0, 3.0]])
    value, d_z = _call(poisson, z, y, np.ones(2), 1.0)
    expected = 1.0 + np.e + np.exp(-2.0) + (np.exp(0.5) - 1.5 - 3.0 + 3 * np.log(3))
    assert_allclose(value, expected, rtol=1e-12)
    assert_allclose(d_z, np.exp(z) - y, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_log_loss_extreme_logits_are_finite(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    sw = np.array([1.0, 2.0])
    value, d_z = _call(
        softmax_log_loss, z.astype(dtype), y.astype(dtype), sw.astype(dtype), 0.25
    )
    assert np.isfinite(value) and np.all(np.isfinite(d_z))
    per_sample, grad = _ref_softmax_log_loss(z, y)
    assert_allclose(value, 0.25 * np.sum(sw * per_sample), **_tol(dtype))
    assert_allclose(d_z, 0.25 * sw[:, None] * grad, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_log_loss_extreme_logits_are_finite(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    y = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    sw = np.array([1.0, 2.0])
    value, d_z = _call(
        sigmoid_log_loss, z.astype(dtype), y.astype(dtype), sw.astype(dtype), 0.25
    )
    assert np.isfinite(value) and np.all(np.isfinite(d_z))
    per_sample, grad = _ref_sigmoid_log_loss(z, y)
    assert_allclose(value, 0.25 * np.sum(sw * per_sample), **_tol(dtype))
    assert_allclose(d_z, 0.25 * sw[:, None] * grad, **_tol(dtype))


@pytest.mark.parametrize("position", [0, -1])
@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_nan_logit_gives_nan_value(dtype, name, position):
    # The divergence check relies on the NaN reaching the value (no max() hiding it).
    rng = np.random.default_rng(0)
    kernel = LOSSES[name][0]
    z = rng.normal(size=(4, 3)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(3, size=4)]
    z[2, position] = np.nan
    value, _ = _call(kernel, z, y, np.ones(4, dtype=dtype), 0.25)
    assert np.isnan(value)


def test_losses_registry_output_activations():
    # out_activation_ is reported from this table; each loss has its canonical link.
    assert {name: act for name, (_, act) in LOSSES.items()} == {
        "softmax_log_loss": "softmax",
        "sigmoid_log_loss": "logistic",
        "squared_error": "identity",
        "poisson": "exp",
    }
    assert LOSSES["poisson"][0] is poisson
