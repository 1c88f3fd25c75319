"""The LSTM kernels (``_kernels/lstm.py``, through the layer) against a numpy loop
over time: forward and reversed, masked or not, last state or whole sequence, float32
against float64 (gradients through time: ``tests/test_recurrent_layers.py``)."""

import numpy as np
import pytest
from _recurrent_reference import (
    check_all_ones_mask_equals_no_mask,
    check_forward_matches_numpy,
    sigmoid,
)

from sklearn_nn.layers import LSTM


def _lstm_step(p, xw, h, c, units):
    u = units
    g = xw + h @ p["recurrent_kernel"]
    i, f = sigmoid(g[:, :u]), sigmoid(g[:, u : 2 * u])
    candidate, o = np.tanh(g[:, 2 * u : 3 * u]), sigmoid(g[:, 3 * u :])
    c_new = f * c + i * candidate
    return o * np.tanh(c_new), c_new


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_forward_matches_numpy(reverse, masked, return_sequences):
    check_forward_matches_numpy(LSTM, _lstm_step, reverse, masked, return_sequences)


def test_lstm_all_ones_mask_equals_no_mask():
    check_all_ones_mask_equals_no_mask(LSTM(3))
