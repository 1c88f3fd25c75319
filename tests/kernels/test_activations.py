"""Tests of the activation kernels against scipy/numpy references."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import erf, expit

from sklearn_nn._kernels.activations import (
    ACTIVATIONS,
    BACKWARD_KERNELS,
    FORWARD_KERNELS,
    GELU,
    IDENTITY,
    NEEDS_PREACTIVATION,
    activation_backward,
    activation_forward,
)

DTYPES = [np.float32, np.float64]
NAMES = sorted(ACTIVATIONS)
EXTREME = np.array(
    [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0]]
)


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-13}


def _phi(z):
    """Standard normal CDF and density, written independently of the kernel."""
    cdf = 0.5 * (1.0 + erf(z / np.sqrt(2.0)))
    pdf = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return cdf, pdf


def _ref_forward(name, z):
    z = z.astype(np.float64)
    if name == "identity":
        return z.copy()
    if name == "logistic":
        return expit(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    return z * _phi(z)[0]


def _ref_derivative(name, z):
    z = z.astype(np.float64)
    if name == "identity":
        return np.ones_like(z)
    if name == "logistic":
        s = expit(z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    cdf, pdf = _phi(z)
    return cdf + z * pdf


def _away_from_zero(rng, shape, margin=1e-2):
    """Inputs with |z| > margin, so a step of 1e-6 never crosses the relu kink."""
    z = rng.normal(scale=2.0, size=shape)
    return np.where(np.abs(z) < margin, margin + np.abs(z), z)


def _forward(z, code):
    out = np.empty_like(z)
    activation_forward(z, code, out)
    return out


def test_activation_codes_are_distinct_and_gelu_needs_preactivation():
    # the dispatchers and FORWARD_KERNELS / BACKWARD_KERNELS are keyed by these
    # codes: two names must never collide
    assert sorted(ACTIVATIONS.values()) == list(range(len(ACTIVATIONS)))
    assert ACTIVATIONS["identity"] == IDENTITY
    assert NEEDS_PREACTIVATION == {GELU}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_matches_reference(dtype, name):
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(7, 5)).astype(dtype)
    out = np.full_like(z, np.nan)
    activation_forward(z, ACTIVATIONS[name], out)
    assert out.dtype == dtype
    assert_allclose(out, _ref_forward(name, z), **_tol(dtype))
    # float32 must agree with the float64 kernel on the same (upcast) inputs
    out64 = _forward(z.astype(np.float64), ACTIVATIONS[name])
    assert_allclose(out, out64, **_tol(dtype))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_in_place(dtype, name):
    # The docstring allows out to be z itself; the hidden layers rely on it.
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 6)).astype(dtype)
    expected = _forward(z, ACTIVATIONS[name])
    activation_forward(z, ACTIVATIONS[name], z)
    assert_array_equal(z, expected)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_extreme_inputs_are_finite(dtype, name):
    z = EXTREME.astype(dtype)
    out = _forward(z, ACTIVATIONS[name])
    assert np.all(np.isfinite(out))
    assert_allclose(out, _ref_forward(name, z), **_tol(dtype))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_backward_matches_reference(dtype, name):
    rng = np.random.default_rng(0)
    z = _away_from_zero(rng, (6, 5)).astype(dtype)
    d_out = rng.normal(size=z.shape).astype(dtype)
    code = ACTIVATIONS[name]
    a = _forward(z, code)
    d = d_out.copy()
    activation_backward(z, a, code, d)
    expected = d_out.astype(np.float64) * _ref_derivative(name, z)
    assert d.dtype == dtype
    assert_allclose(d, expected, **_tol(dtype))
    d64 = d_out.astype(np.float64)
    z64 = z.astype(np.float64)
    activation_backward(z64, _forward(z64, code), code, d64)
    assert_allclose(d, d64, **_tol(dtype))


@pytest.mark.parametrize("name", [n for n in NAMES if ACTIVATIONS[n] != GELU])
def test_activation_backward_reads_only_a_without_preactivation(name):
    # Callers pass a in place of z for these codes: the result must not change.
    rng = np.random.default_rng(0)
    z = _away_from_zero(rng, (5, 4))
    code = ACTIVATIONS[name]
    a = _forward(z, code)
    d_out = rng.normal(size=z.shape)
    d_with_z, d_with_a = d_out.copy(), d_out.copy()
    activation_backward(z, a, code, d_with_z)
    activation_backward(a, a, code, d_with_a)
    assert_array_equal(d_with_a, d_with_z)
    assert_allclose(d_with_a, d_out * _ref_derivative(name, z), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_activation_backward_matches_finite_differences(name):
    # Element-wise op: perturbing every entry at once gives every partial derivative.
    rng = np.random.default_rng(0)
    z = _away_from_zero(rng, (6, 5))
    r = rng.normal(size=z.shape)
    code = ACTIVATIONS[name]
    h = 1e-6
    numeric = (_forward(z + h, code) - _forward(z - h, code)) * r / (2 * h)
    d = r.copy()
    activation_backward(z, _forward(z, code), code, d)
    assert_allclose(d, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_by_code_match_the_dispatchers(dtype, name):
    # Layers call FORWARD_KERNELS / BACKWARD_KERNELS from Python, other kernels the
    # dispatchers: both must compute the same thing, bit for bit, out of place and
    # in place.
    code = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    z = rng.normal(scale=2.0, size=(5, 7)).astype(dtype)
    out = np.empty_like(z)
    FORWARD_KERNELS[code](z, out)
    assert_array_equal(out, _forward(z, code))
    in_place = z.copy()
    FORWARD_KERNELS[code](in_place, in_place)
    assert_array_equal(in_place, out)
    d = rng.normal(size=z.shape).astype(dtype)
    d_by_code, d_dispatched = d.copy(), d.copy()
    BACKWARD_KERNELS[code](z, out, d_by_code)
    activation_backward(z, out, code, d_dispatched)
    assert_array_equal(d_by_code, d_dispatched)
    if name != "identity":
        assert not np.array_equal(d_by_code, d)  # the derivative was applied
