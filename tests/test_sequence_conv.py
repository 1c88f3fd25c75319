"""Sequence layers (Conv1D, MaxPool1D, global poolings): in whole networks against
finite differences, against a numpy 1-D convolution, Keras's shapes, argument
checks, the padding mask of GlobalAveragePooling1D, and a fit on digits."""

import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from _engine import central_differences, objective_trainer
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_nn import NeuralNetClassifier
from sklearn_nn._network import Network
from sklearn_nn.layers import Conv2D, Dense, Flatten
from sklearn_nn.layers.base import Batch, Layer, LayerArrays, ParamSpec
from sklearn_nn.layers.sequence_conv import (
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPool1D,
)


def _bound(layers, in_shape, n, with_grads=False, n_threads=1):
    """A network on ``in_shape`` with Glorot-uniform weights from seed 0, bound."""
    network = Network(layers, in_shape)
    params = network.init_params(np.random.RandomState(0), np.float64)
    grads = np.zeros_like(params) if with_grads else None
    state = network.init_state(np.float64)
    return network.bind(params, state, n, grads, n_threads), params, grads


def _check_gradient(trainer):
    x0 = trainer.params[: trainer.network.n_trainable].copy()
    _, grad = trainer.objective(x0)
    expected = central_differences(trainer.objective, x0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


# no relu before a max: ties between zeros would make the max non-differentiable
NETWORK_CASES = {
    "conv-flatten": [Conv1D(3, 2, activation="tanh"), Flatten()],
    "conv-same-stride2-avgpool": [
        Conv1D(3, 3, strides=2, padding="same", activation="gelu", use_bias=False),
        GlobalAveragePooling1D(),
    ],
    "conv-maxpool-same-globalmax": [
        Conv1D(4, 3, padding="same", activation="tanh"),
        MaxPool1D(2, padding="same"),
        GlobalMaxPooling1D(),
    ],
    "conv-conv-overlapping-pool": [
        Conv1D(3, 2, activation="logistic"),
        Conv1D(2, 3, strides=2, padding="same", activation="leaky_relu"),
        MaxPool1D(2, strides=1),
        Flatten(),
    ],
    "pool-below-conv-dense-above": [
        MaxPool1D(3, strides=2, padding="same"),
        Conv1D(3, 2, strides=2, activation="tanh", kernel_initializer="orthogonal"),
        GlobalMaxPooling1D(),
        Dense(4, "tanh"),
    ],
}


@pytest.mark.parametrize("name", sorted(NETWORK_CASES))
def test_sequence_network_gradient_matches_finite_differences(name):
    rng = np.random.default_rng(0)
    n, in_shape = 5, (9, 3)
    X = rng.standard_normal((n, 27))
    Y = np.eye(3)[rng.integers(0, 3, n)]
    layers = NETWORK_CASES[name] + [Dense(3, "identity")]
    _check_gradient(objective_trainer(layers, in_shape, X, Y, alpha=0.1))


def test_sequence_split_run_does_not_depend_on_threads():
    # the three sequence layers run part by part in one parallel region: the same
    # outputs and gradients on 2 threads as on 1
    n = 11
    X = np.random.default_rng(0).standard_normal((n, 27))
    layers = NETWORK_CASES["conv-maxpool-same-globalmax"] + [Dense(2, "identity")]
    results = []
    for threads in (2, 1):
        bound, _, grads = _bound(layers, (9, 3), n, True, threads)
        assert len(bound.network._runs) == 2  # the sequence layers, then Dense
        out = bound.forward(X, n).copy()
        bound.output_gradient(n)[...] = np.arange(2 * n).reshape(n, 2) / n
        bound.backward(X, n)
        results.append((out, grads))
    assert_array_equal(results[0][0], results[1][0])
    assert_array_equal(results[0][1], results[1][1])


def _ref_conv1d(x, w, b, stride, padding):
    """Cross-correlation of x (n, T, F) with w (k, F, filters), Keras's padding."""
    n, steps, _ = x.shape
    k = w.shape[0]
    if padding == "same":
        out = -(-steps // stride)
        total = max((out - 1) * stride + k - steps, 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    else:
        out = (steps - k) // stride + 1
    y = np.empty((n, out, w.shape[2]))
    for t in range(out):
        window = x[:, t * stride : t * stride + k, :]
        y[:, t] = np.einsum("nkf,kfo->no", window, w) + b
    return y


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("kernel_size", [1, 3, 4])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv1d_matches_numpy_convolution(padding, strides, kernel_size, use_bias):
    rng = np.random.default_rng(0)
    n, steps, features, filters = 3, 7, 2, 4
    layer = Conv1D(filters, kernel_size, strides, padding, "identity", use_bias)
    bound, params, _ = _bound([layer], (steps, features), n)
    views = bound.network.views(params)[0]
    assert views["kernel"].shape == (kernel_size, features, filters)  # Keras's
    views["kernel"][...] = rng.standard_normal(views["kernel"].shape)
    b = np.zeros(filters)
    if use_bias:
        views["bias"][...] = b = rng.standard_normal(filters)
    x = rng.standard_normal((n, steps, features))
    out = bound.forward(x, n)
    expected = _ref_conv1d(x, views["kernel"], b, strides, padding)
    assert out.shape == expected.shape == (n,) + bound.network.out_shape
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv1d_initialises_as_conv2d_with_a_row_kernel():
    conv1d = Network([Conv1D(4, 3, kernel_initializer="orthogonal")], (7, 2))
    conv2d = Network([Conv2D(4, (1, 3), kernel_initializer="orthogonal")], (1, 7, 2))
    assert conv1d.n_penalized == conv2d.n_penalized == 3 * 2 * 4
    assert_array_equal(
        conv1d.init_params(np.random.RandomState(0), np.float64),
        conv2d.init_params(np.random.RandomState(0), np.float64),
    )


# (layer, input shape, Keras's output shape); the first five from Keras's docs
KERAS_SHAPES = [
    (Conv1D(32, 3), (10, 128), (8, 32)),
    (MaxPool1D(2, strides=1), (5, 1), (4, 1)),
    (MaxPool1D(2, strides=2), (5, 1), (2, 1)),
    (MaxPool1D(2, strides=1, padding="same"), (5, 1), (5, 1)),
    (GlobalAveragePooling1D(), (3, 4), (4,)),
    (GlobalMaxPooling1D(), (3, 4), (4,)),
    (Conv1D(5, 3, strides=2), (10, 2), (4, 5)),
    (Conv1D(5, 3, strides=2, padding="same"), (10, 2), (5, 5)),
    (Conv1D(2, 4, strides=3), (7, 3), (2, 2)),
    (Conv1D(2, 4, strides=3, padding="same"), (7, 3), (3, 2)),
    (Conv1D(2, 5), (5, 3), (1, 2)),
    (Conv1D(2, 6, padding="same"), (5, 3), (5, 2)),
    (MaxPool1D(), (7, 3), (3, 3)),
    (MaxPool1D(padding="same"), (7, 3), (4, 3)),
    (MaxPool1D(3, strides=2), (8, 2), (3, 2)),
    (MaxPool1D(3, strides=4, padding="same"), (9, 2), (3, 2)),
]


@pytest.mark.parametrize("layer, in_shape, expected", KERAS_SHAPES)
def test_sequence_output_shape_is_keras(layer, in_shape, expected):
    assert layer.output_shape(in_shape) == expected
    # and the arrays of a network have it
    n = 2
    bound = _bound([layer], in_shape, n)[0]
    out = bound.forward(np.random.default_rng(0).standard_normal((n,) + in_shape), n)
    assert out.shape == (n,) + expected
    assert bound.arrays[0].buffers["d"].shape == (n,) + expected


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Conv1D(0, 3), ValueError, "Conv1D filters"),
        (lambda: Conv1D(True, 3), ValueError, "Conv1D filters"),
        (lambda: Conv1D(2, 0), ValueError, "Conv1D kernel_size"),
        (lambda: Conv1D(2, (3, 3)), ValueError, "Conv1D kernel_size"),
        (lambda: Conv1D(2, 3, strides=1.5), ValueError, "Conv1D strides"),
        (lambda: Conv1D(2, 3, padding="causal"), ValueError, "Conv1D padding"),
        (lambda: Conv1D(2, 3, activation="elu"), ValueError, "Conv1D activation"),
        (lambda: Conv1D(2, 3, use_bias="yes"), TypeError, "Conv1D use_bias"),
        (lambda: Conv1D(2, 3, kernel_initializer="x"), ValueError, "initializer"),
        (lambda: Conv1D(2, 3, trainable=1), TypeError, "Conv1D trainable"),
        (lambda: MaxPool1D(0), ValueError, "MaxPool1D pool_size"),
        (lambda: MaxPool1D(2, strides=(2, 1)), ValueError, "MaxPool1D strides"),
        (lambda: MaxPool1D(padding="full"), ValueError, "MaxPool1D padding"),
        (lambda: GlobalAveragePooling1D(trainable=None), TypeError, "trainable"),
    ],
)
def test_sequence_layers_refuse_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_sequence_layers_accept_keras_one_tuples():
    assert Conv1D(2, (3,), strides=[2]) == Conv1D(2, 3, strides=2)
    assert MaxPool1D((3,), strides=(1,)) == MaxPool1D(3, strides=1)
    assert hash(Conv1D(2, (3,))) == hash(Conv1D(2, 3))


@pytest.mark.parametrize(
    "layer", [Conv1D(2, 3), MaxPool1D(), GlobalAveragePooling1D(), GlobalMaxPooling1D()]
)
@pytest.mark.parametrize("in_shape", [(8,), (4, 4, 1)])
def test_sequence_layers_refuse_samples_that_are_not_sequences(layer, in_shape):
    with pytest.raises(ValueError, match=r"\(timesteps, features\)"):
        layer.output_shape(in_shape)


@pytest.mark.parametrize("layer", [Conv1D(2, 6), MaxPool1D(6), MaxPool1D(6, 1)])
def test_window_longer_than_the_sequence_raises(layer):
    with pytest.raises(ValueError, match="window of 6 timesteps over sequences of 5"):
        layer.output_shape((5, 3))
    with pytest.raises(ValueError, match=r"Layer 0, (Conv1D|MaxPool1D)"):
        Network([layer, Flatten(), Dense(2)], (5, 3))


def _masked_problem(n=4, steps=5, features=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, features))
    mask = (rng.random((n, steps)) < 0.6).astype(float)
    mask[0], mask[1] = 0.0, 1.0  # padding only; no padding
    return x, mask


def test_global_average_pooling1d_honours_a_mask_given_in_the_batch():
    x, mask = _masked_problem()
    n, steps, features = x.shape
    layer = GlobalAveragePooling1D()
    assert not layer.passes_mask and not layer.makes_mask
    buffers = layer.allocate((steps, features), n, np.float64)
    arrays = LayerArrays({}, {}, {}, buffers, (steps, features))
    rows = x.reshape(n, -1)  # the engine may hand flat rows
    out = layer.forward(rows, arrays, Batch(n, 0, n, mask=mask)).copy()
    count = np.maximum(mask.sum(axis=1), 1.0)[:, None]
    assert_allclose(out, np.einsum("nt,ntf->nf", mask, x) / count, rtol=1e-12)
    assert_array_equal(out[0], 0)
    # in two parts of the batch, as on threads
    for lo, hi in [(0, 3), (3, n)]:
        layer.forward(rows, arrays, Batch(n, lo, hi, part=lo, mask=mask))
    assert_array_equal(arrays.buffers["a"][:n], out)
    # backward: d_out * mask / count, checked against finite differences
    r = np.random.default_rng(1).standard_normal((n, features))
    arrays.buffers["d"][:n] = r
    d_x = np.full((n, steps * features), np.nan)
    layer.backward(rows, arrays, Batch(n, 0, n, mask=mask), d_x)
    d_x = d_x.reshape(x.shape)
    assert_allclose(d_x, r[:, None, :] * (mask / count)[:, :, None], rtol=1e-12)

    def objective(flat):
        value = layer.forward(flat.reshape(n, -1), arrays, Batch(n, 0, n, mask=mask))
        return [float(np.sum(value * r))]

    numeric = central_differences(objective, x.ravel()).reshape(x.shape)
    assert_allclose(d_x, numeric, rtol=1e-6, atol=1e-8)
    # without a mask: the plain mean
    plain = layer.forward(rows, arrays, Batch(n, 0, n))
    assert_allclose(plain, x.mean(axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match=r"padding mask of shape \(4, 5\)"):
        layer.forward(rows, arrays, Batch(n, 0, n, mask=mask[:, :4]))


def test_global_max_pooling1d_ignores_the_mask():
    x, mask = _masked_problem()
    n, steps, features = x.shape
    layer = GlobalMaxPooling1D()
    arrays = LayerArrays(
        {}, {}, {}, layer.allocate((steps, features), n, float), (steps, features)
    )
    out = layer.forward(x, arrays, Batch(n, 0, n, mask=mask))
    assert_array_equal(out, x.max(axis=1))


@dataclass(frozen=True)
class _ScaleMaskingZeros(Layer):
    """Test layer: ``x * scale`` per feature, and steps of zeros are padding."""

    makes_mask = True

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def param_specs(self, in_shape):
        return [ParamSpec("scale", (in_shape[-1],), "ones")]

    def allocate(self, in_shape, n_rows, dtype):
        a = np.empty((n_rows,) + tuple(in_shape), dtype=dtype)
        mask = np.empty((n_rows, in_shape[0]), dtype=dtype)
        return {"a": a, "d": np.empty_like(a), "mask": mask}

    def forward(self, x, arrays, batch):
        a = arrays.buffers["a"][: batch.n]
        x = x.reshape(a.shape)
        np.multiply(x, arrays.params["scale"], out=a)
        arrays.buffers["mask"][: batch.n] = np.any(x != 0, axis=2)
        return a

    def backward(self, x, arrays, batch, d_x):
        d = arrays.buffers["d"][: batch.n]
        arrays.grads["scale"][...] = (d * x.reshape(d.shape)).sum(axis=(0, 1))
        if d_x is not None:
            np.multiply(d, arrays.params["scale"], out=d_x.reshape(d.shape))


def test_masked_average_pooling_network_gradient_and_padding_invariance():
    # the engine hands the mask of the layer below; padding steps change nothing
    x, mask = _masked_problem(n=5, steps=6)
    x *= mask[:, :, None]
    Y = np.eye(3)[np.random.default_rng(2).integers(0, 3, 5)]
    layers = [_ScaleMaskingZeros(), GlobalAveragePooling1D(), Dense(3, "identity")]
    trainer = objective_trainer(layers, (6, 3), x.reshape(5, -1), Y, alpha=0.1)
    trainer.params[:3] = [0.5, 2.0, -1.5]  # the scales, away from their ones
    _check_gradient(trainer)
    longer = np.concatenate([x, np.zeros((5, 3, 3))], axis=1).reshape(5, -1)
    padded = objective_trainer(layers, (9, 3), longer, Y, alpha=0.1)
    params = trainer.params[: trainer.network.n_trainable].copy()
    assert_allclose(padded.objective(params)[0], trainer.objective(params)[0])
    assert_allclose(padded.objective(params)[1], trainer.objective(params)[1])


def _fit_digits(random_state):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.3, stratify=y, random_state=0
    )
    clf = NeuralNetClassifier(
        layers=[Conv1D(8, 3), GlobalMaxPooling1D()],
        input_shape=(8, 8),  # 8 timesteps (image rows) of 8 pixels
        max_iter=200,
        random_state=random_state,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    return clf, clf.score(X_test, y_test), X_test


def test_conv1d_global_max_pooling_learns_digits_reproducibly():
    # measured: held-out accuracy 0.769 (seeds 1, 2: 0.798, 0.807); chance 0.1
    clf, accuracy, X_test = _fit_digits(0)
    assert accuracy > 0.72
    assert clf.coefs_[0].shape == (3, 8, 8)
    again, accuracy_again, _ = _fit_digits(0)
    assert accuracy_again == accuracy
    assert_array_equal(again._params, clf._params)
    assert_array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))
