"""The recurrent kernels (through their layers) against a plain numpy loop over time:
every cell, forward and reversed, masked or not, last state or whole sequence, and
float32 against float64."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_nn.layers import GRU, LSTM, Batch, LayerArrays, SimpleRNN


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _reference(layer, p, x, mask, reverse):
    """States of ``layer`` over x (n, T, F) in float64: (n, T, units), time order."""
    n, n_steps, _ = x.shape
    u = layer.units
    h = np.zeros((n, u))
    c = np.zeros((n, u))
    states = np.zeros((n, n_steps, u))
    order = range(n_steps - 1, -1, -1) if reverse else range(n_steps)
    for t in order:
        xw = x[:, t] @ p["kernel"] + p["bias"]
        hu = h @ p["recurrent_kernel"]
        if isinstance(layer, SimpleRNN):
            h_new, c_new = np.tanh(xw + hu), c
        elif isinstance(layer, GRU):
            hu = hu + p["recurrent_bias"]
            z = _sigmoid(xw[:, :u] + hu[:, :u])
            r = _sigmoid(xw[:, u : 2 * u] + hu[:, u : 2 * u])
            hh = np.tanh(xw[:, 2 * u :] + r * hu[:, 2 * u :])
            h_new, c_new = z * h + (1 - z) * hh, c
        else:
            g = xw + hu
            i, f = _sigmoid(g[:, :u]), _sigmoid(g[:, u : 2 * u])
            cc, o = np.tanh(g[:, 2 * u : 3 * u]), _sigmoid(g[:, 3 * u :])
            c_new = f * c + i * cc
            h_new = o * np.tanh(c_new)
        m = mask[:, t : t + 1]
        h = m * h_new + (1 - m) * h
        c = m * c_new + (1 - m) * c
        states[:, t] = h
    return states, h


def _run(layer, params, x, mask, reverse, dtype):
    in_shape = x.shape[1:]
    n = x.shape[0]
    buffers = layer.allocate(in_shape, n + 2, dtype)  # buffers larger than the batch
    arrays = LayerArrays(
        {k: v.astype(dtype) for k, v in params.items()}, {}, {}, buffers, in_shape
    )
    batch = Batch(n, 0, n, mask=None if mask is None else mask.astype(dtype))
    out = buffers["out"][:n]
    layer.run_forward(
        x.astype(dtype), arrays.params, buffers, batch, in_shape, reverse, out
    )
    return out.astype(np.float64)


CELLS = [SimpleRNN(3), GRU(3), LSTM(3)]


@pytest.mark.parametrize("layer", CELLS, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_forward_matches_numpy(layer, reverse, masked, return_sequences):
    rng = np.random.default_rng(0)
    layer = type(layer)(3, return_sequences=return_sequences)
    n, n_steps, features = 4, 5, 2
    x = rng.standard_normal((n, n_steps, features))
    params = {
        spec.name: rng.normal(scale=0.7, size=spec.shape)
        for spec in layer.param_specs((n_steps, features))
    }
    mask = np.ones((n, n_steps))
    if masked:  # post-padding, one sequence all padding, one gap in the middle
        mask[0, 3:] = 0
        mask[1] = 0
        mask[2, 2] = 0
    states, last = _reference(layer, params, x, mask, reverse)
    out = _run(layer, params, x, mask if masked else None, reverse, np.float64)
    expected = states if return_sequences else last
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    out32 = _run(layer, params, x, mask if masked else None, reverse, np.float32)
    assert_allclose(out32, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", CELLS, ids=lambda c: type(c).__name__)
def test_recurrent_all_ones_mask_equals_no_mask(layer):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 2))
    params = {s.name: rng.normal(size=s.shape) for s in layer.param_specs((4, 2))}
    with_mask = _run(layer, params, x, np.ones((3, 4)), False, np.float64)
    without = _run(layer, params, x, None, False, np.float64)
    np.testing.assert_array_equal(with_mask, without)
