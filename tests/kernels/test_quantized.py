"""The int8 Dense forward against a numpy reference of the same integer arithmetic,
and against the float64 product within the quantisation error.

Inference only (quantised models are not trained): no backward to check against
finite differences; the int8 path exists for float32 models only.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.activations import ACTIVATIONS
from sklearn_nn._kernels.quantized import (
    int8_scratch,
    quantize_rows,
    quantized_dense_forward,
)
from sklearn_nn._kernels.vnni import HAS_VNNI, pack_weights
from sklearn_nn._quantized import quantize_per_channel

needs_vnni = pytest.mark.skipif(
    not HAS_VNNI, reason="this CPU has no avx512_vnni; int8 models predict in float32"
)


def _quantize_rows_reference(x):
    lo = np.minimum(x.min(axis=1), 0)
    hi = np.maximum(x.max(axis=1), 0)
    scales = ((hi - lo) / np.float32(255)).astype(np.float32)
    scales[scales == 0] = 1
    inverse = (np.float32(1) / scales).astype(np.float32)
    zero_points = np.rint(-lo * inverse).astype(np.int32)
    q = np.rint(x * inverse[:, None]).astype(np.int32) + zero_points[:, None]
    return np.clip(q, 0, 255).astype(np.uint8), scales, zero_points


def test_quantize_rows_matches_reference():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 37)).astype(np.float32)
    x[1] = np.abs(x[1])  # non-negative (ReLU outputs): zero point 0
    x[2] = -np.abs(x[2])  # non-positive
    x[3] = 0  # all zero: scale 1
    q = np.zeros((6, 40), np.uint8)
    scales = np.empty(6, np.float32)
    zero_points = np.empty(6, np.int32)
    quantize_rows(x, q, scales, zero_points)
    q_ref, s_ref, zp_ref = _quantize_rows_reference(x)
    assert_array_equal(q[:, :37], q_ref)
    assert_array_equal(q[:, 37:], 0)
    assert_array_equal(scales, s_ref)
    assert_array_equal(zero_points, zp_ref)
    assert zero_points[1] == 0 and zero_points[2] == 255 and scales[3] == 1
    # dequantised rows are within half a step of x
    back = (q[:, :37].astype(np.float32) - zero_points[:, None]) * scales[:, None]
    assert np.all(np.abs(back - x) <= 0.5001 * scales[:, None])


@needs_vnni
@pytest.mark.parametrize("activation", ["identity", "relu", "tanh"])
@pytest.mark.parametrize("n", [1, 8, 13])
def test_quantized_dense_forward_matches_integer_reference(activation, n):
    rng = np.random.default_rng(0)
    n_in, n_out = 29, 19
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    w = rng.standard_normal((n_in, n_out)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    wq, w_scales = quantize_per_channel(w)
    packed = pack_weights(wq)
    colsum = wq.astype(np.int32).sum(axis=0)
    scratch = int8_scratch(n, n_in, packed.shape[0], 1)
    code = ACTIVATIONS[activation]
    z = np.empty((n, n_out), np.float32)
    a = z if activation == "identity" else np.empty_like(z)
    quantized_dense_forward(
        x, packed, colsum, w_scales, b, code,
        scratch["xq"], scratch["sx"], scratch["zp"], scratch["acc"], z, a,
    )  # fmt: skip
    xq, sx, zp = _quantize_rows_reference(x)
    acc = xq.astype(np.int64) @ wq.astype(np.int64)  # exact
    z_ref = (acc - zp[:, None] * colsum).astype(np.float32) * (
        sx[:, None] * w_scales
    ) + b
    assert_allclose(z, z_ref, rtol=1e-6, atol=1e-6)
    f = {"identity": lambda v: v, "relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}
    assert_allclose(a, f[activation](z_ref), rtol=1e-5, atol=1e-6)
    # and the float64 product within the quantisation error (1% of the scale)
    exact = x.astype(np.float64) @ w.astype(np.float64) + b
    assert np.abs(z - exact).max() < 0.02 * np.abs(exact).max()
