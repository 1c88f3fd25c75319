"""The GRU kernels (``_kernels/gru.py``, through the layer) against a numpy loop
over time: forward and reversed, masked or not, last state or whole sequence, float32
against float64 (gradients through time: ``tests/test_recurrent_layers.py``)."""

import numpy as np
import pytest
from _recurrent_reference import (
    check_all_ones_mask_equals_no_mask,
    check_forward_matches_numpy,
    sigmoid,
)

from sklearn_nn.layers import GRU


def _gru_step(p, xw, h, c, units):
    # Keras' reset_after: the reset gate scales the recurrent part after its bias
    u = units
    hu = h @ p["recurrent_kernel"] + p["recurrent_bias"]
    z = sigmoid(xw[:, :u] + hu[:, :u])
    r = sigmoid(xw[:, u : 2 * u] + hu[:, u : 2 * u])
    candidate = np.tanh(xw[:, 2 * u :] + r * hu[:, 2 * u :])
    return z * h + (1 - z) * candidate, c


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gru_forward_matches_numpy(reverse, masked, return_sequences):
    check_forward_matches_numpy(GRU, _gru_step, reverse, masked, return_sequences)


def test_gru_all_ones_mask_equals_no_mask():
    check_all_ones_mask_equals_no_mask(GRU(3))
