"""The SimpleRNN kernels (``_kernels/recurrent.py``, through the layer) against a
numpy loop over time: forward and reversed, masked or not, last state or whole
sequence, float32 against float64. The GRU and LSTM cells: ``test_gru.py``,
``test_lstm.py``; gradients through time: ``tests/test_recurrent_layers.py``."""

import numpy as np
import pytest
from _recurrent_reference import (
    check_all_ones_mask_equals_no_mask,
    check_forward_matches_numpy,
)

from sklearn_nn.layers import SimpleRNN


def _simple_rnn_step(p, xw, h, c, units):
    return np.tanh(xw + h @ p["recurrent_kernel"]), c


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_simple_rnn_forward_matches_numpy(reverse, masked, return_sequences):
    check_forward_matches_numpy(
        SimpleRNN, _simple_rnn_step, reverse, masked, return_sequences
    )


def test_simple_rnn_all_ones_mask_equals_no_mask():
    check_all_ones_mask_equals_no_mask(SimpleRNN(3))
