"""The VNNI int8 GEMM against numpy's exact integer product.

Inference only (quantised models are not trained), so there is no backward to check
against finite differences; the product is exact, so it is compared for equality.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_nn._kernels.vnni import HAS_VNNI, LANES, ROWS, int8_gemm, pack_weights

pytestmark = pytest.mark.skipif(
    not HAS_VNNI, reason="this CPU has no avx512_vnni; int8 models predict in float32"
)


@pytest.mark.parametrize(
    "n_rows, n_inputs, n_outputs",
    [(ROWS, 4, LANES), (2 * ROWS, 788, 40), (3 * ROWS, 13, 1), (ROWS, 64, 3 * LANES)],
)
def test_int8_gemm_is_the_exact_integer_product(n_rows, n_inputs, n_outputs):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n_rows, n_inputs)).astype(np.uint8)
    x[0] = 255  # the extremes: 255 x -127 summed over every input
    w = rng.integers(-127, 128, (n_inputs, n_outputs)).astype(np.int8)
    w[:, 0] = -127
    packed = pack_weights(w)
    k_padded = packed.shape[1] * 4
    xq = np.zeros((n_rows, k_padded), np.uint8)
    xq[:, :n_inputs] = x
    out = np.full((n_rows, packed.shape[0] * LANES), -1, np.int32)
    int8_gemm(xq, packed, out)
    expected = x.astype(np.int64) @ w.astype(np.int64)
    assert_array_equal(out[:, :n_outputs], expected)
    assert_array_equal(out[:, n_outputs:], 0)  # padded columns: zero weights


def test_pack_weights_layout():
    # packed[block, k // 4, lane, k % 4] = w[k, block * 16 + lane], zero-padded
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, (10, 20)).astype(np.int8)
    packed = pack_weights(w)
    assert packed.shape == (2, 3, LANES, 4)
    for k in range(12):
        for j in range(32):
            value = packed[j // LANES, k // 4, j % LANES, k % 4]
            assert value == (w[k, j] if k < 10 and j < 20 else 0)
