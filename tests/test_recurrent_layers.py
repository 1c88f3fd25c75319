"""SimpleRNN, GRU, LSTM and Bidirectional inside whole networks: gradients through
time against finite differences (sequence lengths 1, 2 and 17, last state or whole
sequence, with and without padding masks), float32 against float64, initialisation,
and bad arguments."""

from dataclasses import dataclass

import numpy as np
import pytest
from _engine import central_differences, objective_trainer
from numpy.testing import assert_allclose

from sklearn_nn._network import Network
from sklearn_nn.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    Layer,
    SimpleRNN,
)

CELLS = {"rnn": SimpleRNN, "gru": GRU, "lstm": LSTM}


@dataclass(frozen=True)
class _ZeroIsPadding(Layer):
    """Identity that marks timesteps whose first feature is 0 as padding (a stand-in
    for Embedding(mask_zero=True) on real-valued sequences)."""

    makes_mask = True
    passes_mask = True

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        return {
            "d": np.empty((n_rows,) + tuple(in_shape), dtype=dtype),
            "mask": np.empty((n_rows, in_shape[0]), dtype=dtype),
        }

    def forward(self, x, arrays, batch):
        x = x.reshape((batch.n,) + tuple(arrays.in_shape))
        arrays.buffers["mask"][: batch.n] = x[:, :, 0] != 0
        return x

    def backward(self, x, arrays, batch, d_x):
        if d_x is not None:
            d_x.reshape(arrays.buffers["d"][: batch.n].shape)[...] = arrays.buffers[
                "d"
            ][: batch.n]


def _sequences(rng, n, n_steps, features, masked):
    X = rng.standard_normal((n, n_steps, features))
    if masked:  # post-padding of different lengths, one sequence all padding
        lengths = rng.integers(0, n_steps + 1, n)
        lengths[0] = 0
        X[np.arange(n_steps)[None, :] >= lengths[:, None]] = 0
    return X.reshape(n, -1)


def _check_gradient(layers, in_shape, X, Y):
    trainer = objective_trainer(layers, in_shape, X, Y, alpha=0.1)
    x0 = trainer.params[: trainer.network.n_trainable].copy()
    _, grad = trainer.objective(x0)
    expected = central_differences(trainer.objective, x0)
    assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("n_steps", [1, 2, 17])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_recurrent_gradient_through_time(cell, n_steps, return_sequences, masked):
    rng = np.random.default_rng(0)
    n, features = 5, 2
    X = _sequences(rng, n, n_steps, features, masked)
    Y = np.eye(3)[rng.integers(0, 3, n)]
    layers = [_ZeroIsPadding()] if masked else []
    # a cell below another: the input gradient of the upper one is checked too
    layers += [CELLS[cell](3, return_sequences=True), CELLS[cell](2, return_sequences)]
    if return_sequences:
        layers.append(GlobalAveragePooling1D() if masked else Flatten())
    _check_gradient(layers + [Dense(3, "identity")], (n_steps, features), X, Y)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradient_through_time(cell, return_sequences):
    rng = np.random.default_rng(1)
    n, n_steps, features = 4, 6, 3
    X = _sequences(rng, n, n_steps, features, masked=True)
    Y = rng.standard_normal((n, 2))
    layers = [
        _ZeroIsPadding(),
        Bidirectional(CELLS[cell](2, return_sequences=True)),
        Bidirectional(CELLS[cell](2, return_sequences)),
    ]
    if return_sequences:
        layers.append(GlobalAveragePooling1D())
    layers.append(Dense(2, "identity"))
    trainer = objective_trainer(layers, (n_steps, features), X, Y, loss="squared_error")
    x0 = trainer.params[: trainer.network.n_trainable].copy()
    _, grad = trainer.objective(x0)
    assert_allclose(
        grad, central_differences(trainer.objective, x0), rtol=1e-6, atol=1e-8
    )


def test_padding_after_the_end_changes_nothing():
    # a masked sequence gives the same output whatever its padding length
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 2)) + 5.0  # no zero first feature
    layers = [_ZeroIsPadding(), LSTM(3), Dense(2, "identity")]
    outputs = []
    for pad in (0, 3):
        padded = np.concatenate([x, np.zeros((3, pad, 2))], axis=1)
        network = Network(layers, (4 + pad, 2))
        params = network.init_params(np.random.RandomState(0), np.float64)
        bound = network.bind(params, network.init_state(np.float64), 3)
        outputs.append(bound.forward(padded.reshape(3, -1), 3).copy())
    assert_allclose(outputs[0], outputs[1], rtol=1e-12)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_recurrent_float32_matches_float64(cell):
    rng = np.random.default_rng(3)
    n, n_steps, features = 6, 9, 3
    X = _sequences(rng, n, n_steps, features, masked=True)
    Y = np.eye(2)[rng.integers(0, 2, n)]
    layers = [
        _ZeroIsPadding(),
        Bidirectional(CELLS[cell](4, return_sequences=True)),
        CELLS[cell](3),
        Dense(2, "identity"),
    ]
    results = []
    for dtype in (np.float64, np.float32):
        trainer = objective_trainer(layers, (n_steps, features), X, Y)
        p64 = trainer.params[: trainer.network.n_trainable].copy()
        if dtype is np.float32:
            trainer = _as_float32(trainer, layers, (n_steps, features), X, Y)
        value, grad = trainer.objective(p64.astype(dtype))
        results.append((value, grad.astype(np.float64)))
    assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    assert_allclose(results[1][1], results[0][1], rtol=1e-3, atol=1e-5)


def _as_float32(trainer, layers, in_shape, X, Y):
    from sklearn_nn._training import Trainer, TrainingData

    network = Network(layers, in_shape)
    params = trainer.params.astype(np.float32)
    return Trainer(
        network,
        params,
        network.init_state(np.float32),
        TrainingData(X.astype(np.float32), Y.astype(np.float32)),
        loss="softmax_log_loss",
        alpha=0.0,
        batch_size=Y.shape[0],
    )


def test_recurrent_initialisation_follows_keras():
    network = Network([LSTM(5, return_sequences=True), GRU(4)], (3, 2))
    params = network.init_params(np.random.RandomState(0), np.float64)
    lstm, gru = network.views(params)
    np.testing.assert_array_equal(lstm["bias"], np.repeat([0.0, 1.0, 0.0, 0.0], 5))
    u = lstm["recurrent_kernel"]  # (5, 20): orthonormal rows
    assert_allclose(u @ u.T, np.eye(5), atol=1e-12)
    assert gru["recurrent_bias"].shape == (12,) and not gru["bias"].any()
    assert gru["kernel"].shape == (5, 12)
    limit = np.sqrt(6 / (2 + 20))  # glorot_uniform over (features, 4 units)
    assert np.abs(lstm["kernel"]).max() <= limit


def test_recurrent_layers_mark_their_outputs():
    assert SimpleRNN(2, return_sequences=True).output_shape((7, 3)) == (7, 2)
    assert GRU(2).output_shape((7, 3)) == (2,)
    assert Bidirectional(LSTM(2, return_sequences=True)).output_shape((7, 3)) == (7, 4)
    assert Bidirectional(LSTM(2)).passes_mask is False
    assert LSTM(2, return_sequences=True).passes_mask and LSTM(2).uses_mask


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: LSTM(0), ValueError, "LSTM units must be a positive int"),
        (lambda: GRU(2.5), ValueError, "GRU units must be a positive int"),
        (lambda: SimpleRNN(3, activation="softmax"), ValueError, "activation"),
        (lambda: LSTM(3, return_sequences="yes"), TypeError, "return_sequences"),
        (lambda: GRU(3, recurrent_initializer="zeros"), ValueError, "initializer"),
        (lambda: Bidirectional(Dense(3)), TypeError, "SimpleRNN, GRU or LSTM"),
        (lambda: Network([LSTM(3)], (12,)), ValueError, r"\(timesteps, features\)"),
        (lambda: Network([Dropout(0.1), GRU(3)], (4, 3, 2)), ValueError, "GRU"),
    ],
)
def test_recurrent_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_rows_within_counts_the_buffers_of_composite_layers():
    # Bidirectional keeps each direction's history in a nested dict: the predict
    # and L-BFGS chunks must count it
    from sklearn_nn._predict import rows_within

    network = Network([Bidirectional(LSTM(8, return_sequences=True))], (50, 4))
    budget = 4 * 2**20
    rows = rows_within(network, np.float64, budget)
    direction = network.allocate(rows, np.float64)[0]["forward_"]
    one_direction = sum(v.nbytes for v in direction.values() if hasattr(v, "nbytes"))
    assert 2 * one_direction <= budget


def test_a_network_pickled_before_masks_still_predicts():
    network = Network([LSTM(3), Dense(2, "identity")], (4, 2))
    state = dict(network.__dict__)
    del state["_mask_source"]  # as pickled by the previous version
    old = Network.__new__(Network)
    old.__setstate__(state)
    params = old.init_params(np.random.RandomState(0), np.float64)
    bound = old.bind(params, old.init_state(np.float64), 3)
    assert bound.forward(np.ones((3, 8)), 3).shape == (3, 2)


def test_recurrent_refuses_a_mask_of_the_wrong_shape():
    from sklearn_nn.layers import Batch, LayerArrays

    layer = GRU(3)
    buffers = layer.allocate((4, 2), 2, np.float64)
    params = {s.name: np.zeros(s.shape) for s in layer.param_specs((4, 2))}
    arrays = LayerArrays(params, {}, {}, buffers, (4, 2))
    with pytest.raises(ValueError, match=r"padding mask of shape \(2, 4\)"):
        layer.forward(np.zeros((2, 4, 2)), arrays, Batch(2, 0, 2, mask=np.ones((2, 3))))
