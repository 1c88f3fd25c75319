"""Tests of the image layout kernels against numpy's transposes."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_nn._kernels.layout import channels_first_to_last


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 1, 1, 1), (3, 16, 2, 7)])
def test_channels_first_to_last_matches_numpy(dtype, shape):
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    out = np.empty(x.transpose(0, 2, 3, 1).shape, dtype)
    channels_first_to_last(x, out)
    assert_array_equal(out, x.transpose(0, 2, 3, 1))


def test_strided_input_is_read_correctly():
    # a part of a batch (contiguous), then a view with strides of its own
    x = np.random.default_rng(2).normal(size=(6, 3, 4, 4))[1:5]
    out = np.empty((4, 4, 4, 3))
    channels_first_to_last(x, out)
    assert_array_equal(out, x.transpose(0, 2, 3, 1))
    wide = np.random.default_rng(3).normal(size=(2, 3, 4, 8))[:, :, :, ::2]
    out = np.empty((2, 4, 4, 3))
    channels_first_to_last(wide, out)
    assert_array_equal(out, wide.transpose(0, 2, 3, 1))


def test_a_wrong_output_shape_is_refused():
    # the kernel reads and writes by x's shape: a smaller out would be overrun
    with pytest.raises(ValueError, match="shape"):
        channels_first_to_last(np.zeros((2, 3, 4, 4)), np.zeros((2, 4, 4, 2)))
