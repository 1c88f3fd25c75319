"""The float32 tanh, sigmoid and exp of ``fastmath`` against float64 numpy, and the
float64 ones against libm exactly."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit

from sklearn_nn._kernels._jit import jit
from sklearn_nn._kernels.fastmath import exp_nonpositive, sigmoid, tanh


@jit
def _apply(x, which, out):
    for i in range(x.shape[0]):
        if which == 0:
            out[i] = tanh(x[i])
        elif which == 1:
            out[i] = sigmoid(x[i])
        else:
            out[i] = exp_nonpositive(x[i])


def _run(x, which):
    out = np.empty_like(x)
    _apply(x, which, out)
    return out


WIDE = np.concatenate([np.linspace(-30, 30, 20001), [-1e30, -90.0, 0.0, 1e30]])


def test_float32_tanh_and_sigmoid_are_within_a_few_ulps():
    x = WIDE.astype(np.float32)
    exact = x.astype(np.float64)
    assert_allclose(_run(x, 0), np.tanh(exact), rtol=4e-7, atol=2e-7)
    assert_allclose(_run(x, 1), expit(exact), rtol=0, atol=2e-7)
    assert _run(x, 0).dtype == np.float32


def test_float32_exp_of_nonpositive_values():
    x = np.concatenate([np.linspace(-80, 0, 40001), [-1e-8, -0.0]]).astype(np.float32)
    assert_allclose(_run(x, 2), np.exp(x.astype(np.float64)), rtol=3e-7, atol=0)
    # below -80: exactly 0, never a subnormal number
    tiny = np.array([-80.5, -100.0, -1e30, -np.inf], dtype=np.float32)
    assert_array_equal(_run(tiny, 2), 0.0)


def test_float32_exp_of_nan_is_nan():
    # the power of two is built from clamped exponent bits; the NaN goes through
    out = _run(np.array([np.nan, 0.0], dtype=np.float32), 2)
    assert np.isnan(out[0]) and out[1] == 1.0


@pytest.mark.parametrize("which, exact", [(0, math.tanh), (2, math.exp)])
def test_float64_paths_are_libm(which, exact):
    x = np.linspace(-20, 0, 101)
    assert_array_equal(_run(x, which), [exact(v) for v in x])
