"""What the recurrent kernel tests share: a numpy loop over time, the layer's forward
run on its own buffers, and the two checks every cell passes (the cells' numpy steps
live in their own test files, beside the kernels' names)."""

import numpy as np
from numpy.testing import assert_allclose

from sklearn_nn.layers import Batch, LayerArrays


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_states(step, layer, p, x, mask, reverse):
    """States over x (n, T, F) in float64: (n, T, units) in time order, and the last.

    ``step(p, xw, h, c, units)`` is one cell step from ``xw = x_t @ kernel + bias``;
    it returns the new (h, c). A masked step (0) keeps both states.
    """
    n, n_steps, _ = x.shape
    u = layer.units
    h, c = np.zeros((n, u)), np.zeros((n, u))
    states = np.zeros((n, n_steps, u))
    order = range(n_steps - 1, -1, -1) if reverse else range(n_steps)
    for t in order:
        xw = x[:, t] @ p["kernel"] + p["bias"]
        h_new, c_new = step(p, xw, h, c, u)
        m = mask[:, t : t + 1]
        h = m * h_new + (1 - m) * h
        c = m * c_new + (1 - m) * c
        states[:, t] = h
    return states, h


def run_layer(layer, params, x, mask, reverse, dtype):
    """The layer's forward kernels on x (n, T, F), as float64."""
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


def check_forward_matches_numpy(layer_class, step, reverse, masked, return_sequences):
    """float64 to 1e-12 and float32 to 1e-5 of the numpy loop, masked or not."""
    rng = np.random.default_rng(0)
    layer = layer_class(3, return_sequences=return_sequences)
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
    states, last = reference_states(step, layer, params, x, mask, reverse)
    out = run_layer(layer, params, x, mask if masked else None, reverse, np.float64)
    expected = states if return_sequences else last
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    out32 = run_layer(layer, params, x, mask if masked else None, reverse, np.float32)
    assert_allclose(out32, expected, rtol=1e-5, atol=1e-5)


def check_all_ones_mask_equals_no_mask(layer):
    """A mask of ones gives exactly the unmasked states."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 2))
    params = {s.name: rng.normal(size=s.shape) for s in layer.param_specs((4, 2))}
    with_mask = run_layer(layer, params, x, np.ones((3, 4)), False, np.float64)
    without = run_layer(layer, params, x, None, False, np.float64)
    np.testing.assert_array_equal(with_mask, without)
