"""The whole network's gradient (all layers, loss, penalty) vs finite differences."""

import numpy as np
import pytest

from sklearn_nn._network import Network
from sklearn_nn._training import Trainer
from sklearn_nn.layers import (
    AvgPool2D,
    ChannelsFirstToLast,
    Conv2D,
    CSRRows,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
)


def _central_differences(f, x, h=1e-6):
    grad = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step)[0] - f(x - step)[0]) / (2 * h)
    return grad


CASES = [
    # (loss, n_outputs, target kind, hidden activation)
    ("softmax_log_loss", 3, "onehot", "tanh"),
    ("sigmoid_log_loss", 1, "binary", "logistic"),
    ("sigmoid_log_loss", 3, "multilabel", "gelu"),
    ("squared_error", 2, "real", "relu"),
    ("squared_error", 1, "real", "leaky_relu"),
    ("poisson", 2, "counts", "tanh"),
]


def _targets(kind, rng, n, k):
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind in ("binary", "multilabel"):
        return rng.integers(0, 2, (n, k)).astype(float)
    if kind == "counts":
        return rng.poisson(2.0, (n, k)).astype(float)
    return rng.standard_normal((n, k))


@pytest.mark.parametrize("loss, n_outputs, kind, activation", CASES)
def test_network_gradient_matches_finite_differences(loss, n_outputs, kind, activation):
    rng = np.random.default_rng(0)
    n, n_features = 7, 4
    X = rng.standard_normal((n, n_features))
    Y = _targets(kind, rng, n, n_outputs)
    sw = rng.uniform(0.5, 2.0, n)
    layers = [Dense(5, activation), Dense(3, activation), Dense(n_outputs, "identity")]
    network = Network(layers, (n_features,))
    params = network.init_params(np.random.RandomState(0), np.float64)
    trainer = Trainer(network, params, loss, X, Y, sw, 0.3, 0.0, n)
    x0 = params.copy()
    _, grad = trainer.objective(x0)
    expected = _central_differences(lambda p: trainer.objective(p), x0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


def test_network_sparse_input_gradient_matches_dense():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = sp.random(9, 6, density=0.4, format="csr", random_state=0)
    Y = np.eye(3)[rng.integers(0, 3, 9)]
    network = Network([Dense(4, "relu"), Dense(3, "identity")], (6,))
    params = network.init_params(np.random.RandomState(0), np.float64)
    sparse = Trainer(
        network,
        params.copy(),
        "softmax_log_loss",
        CSRRows(X.data, X.indices, X.indptr, None),
        Y,
        None,
        0.1,
        0.0,
        9,
    )
    dense = Trainer(
        network, params.copy(), "softmax_log_loss", X.toarray(), Y, None, 0.1, 0.0, 9
    )
    value_s, grad_s = sparse.objective(params)
    value_d, grad_d = dense.objective(params)
    np.testing.assert_allclose(value_s, value_d, rtol=1e-12)
    np.testing.assert_allclose(grad_s, grad_d, rtol=1e-10, atol=1e-12)


def test_network_flat_buffer_layout_weights_first():
    network = Network([Dense(5), Dense(2, "identity")], (3,))
    flat = np.arange(network.n_params, dtype=float)
    (w1, b1), (w2, b2) = network.views(flat)
    assert network.n_penalized == 3 * 5 + 5 * 2
    assert w1.base is flat and b2.base is flat
    assert w1.ravel()[0] == 0 and w2.ravel()[0] == 15 and b1[0] == 25 and b2[-1] == 31


CNN_CASES = {
    "conv-maxpool-dense": [
        Conv2D(3, 3, padding="same", activation="tanh"),
        MaxPool2D(2, padding="same"),
        Conv2D(2, (2, 3), strides=(1, 2), activation="gelu"),
        Flatten(),
        Dense(4, "tanh"),
    ],
    "channels-first-avgpool": [
        ChannelsFirstToLast(),
        Conv2D(3, 2, strides=2, padding="same", activation="logistic"),
        AvgPool2D(2, strides=1),
        Flatten(),
    ],
}


@pytest.mark.parametrize("name", sorted(CNN_CASES))
def test_cnn_gradient_matches_finite_differences(name):
    # every image layer composed, the input gradient of inner layers included
    rng = np.random.default_rng(0)
    n, in_shape = 4, (5, 6, 2)
    X = rng.standard_normal((n, int(np.prod(in_shape))))
    Y = np.eye(3)[rng.integers(0, 3, n)]
    layers = CNN_CASES[name] + [Dense(3, "identity")]
    if isinstance(layers[0], ChannelsFirstToLast):
        in_shape = (in_shape[2], in_shape[0], in_shape[1])
    network = Network(layers, in_shape)
    params = network.init_params(np.random.RandomState(0), np.float64)
    trainer = Trainer(network, params, "softmax_log_loss", X, Y, None, 0.1, 0.0, n)
    x0 = params.copy()
    _, grad = trainer.objective(x0)
    expected = _central_differences(lambda p: trainer.objective(p), x0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


def test_cnn_dropout_on_images_routes_gradient_through_kept_units():
    # training-mode step on conv activations: dropped units get zero gradient
    rng = np.random.default_rng(0)
    in_shape = (4, 4, 1)
    X = rng.standard_normal((3, 16))
    network = Network(
        [Conv2D(2, 3, padding="same"), Dropout(0.5), Flatten(), Dense(2, "identity")],
        in_shape,
    )
    params = network.init_params(np.random.RandomState(0), np.float64)
    views = network.views(params)
    buffers = network.allocate(3, np.float64)
    network.forward(views, X, buffers, 3, True, np.random.default_rng(1))
    buffers[-1]["d"][:3] = 1.0
    grads = np.zeros_like(params)
    network.backward(views, network.views(grads), X, buffers, 3)
    kept = buffers[1]["u"][:3] >= 0.5
    dropped_d = buffers[0]["d"][:3].reshape(kept.shape)[~kept]
    assert kept.any() and (~kept).any()
    assert np.all(dropped_d == 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_lbfgs_objective_over_chunks_equals_full_batch(sparse):
    # image networks too large for one buffer compute the objective in row chunks
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    n = 10
    X = rng.standard_normal((n, 6)) * (rng.random((n, 6)) < 0.6)
    Y = np.eye(3)[rng.integers(0, 3, n)]
    sw = rng.uniform(0.5, 2.0, n)
    network = Network([Dense(4, "tanh"), Dense(3, "identity")], (6,))
    params = network.init_params(np.random.RandomState(0), np.float64)
    if sparse:
        csr = sp.csr_matrix(X)
        X = CSRRows(csr.data, csr.indices, csr.indptr, None)
    args = (network, params.copy(), "softmax_log_loss", X, Y, sw, 0.3, 0.0)
    value_full, grad_full = Trainer(*args, n).objective(params)
    value_chunks, grad_chunks = Trainer(*args, 3).objective(params)
    np.testing.assert_allclose(value_chunks, value_full, rtol=1e-12)
    np.testing.assert_allclose(grad_chunks, grad_full, rtol=1e-10, atol=1e-14)
    # and without sample weights
    args = (network, params.copy(), "softmax_log_loss", X, Y, None, 0.3, 0.0)
    np.testing.assert_allclose(
        Trainer(*args, 4).objective(params)[1], Trainer(*args, n).objective(params)[1]
    )


@pytest.mark.parametrize("layer", [Conv2D(3, 2, strides=2), MaxPool2D(), AvgPool2D()])
def test_split_layer_alone_equals_its_run_in_a_network(layer):
    # forward/backward of an image layer used alone (outside a Network's parallel
    # region) give what the region computes
    rng = np.random.default_rng(0)
    n, in_shape = 11, (6, 5, 2)
    X = rng.standard_normal((n, 60))
    network = Network([layer, Flatten(), Dense(2, "identity")], in_shape)
    params = network.init_params(np.random.RandomState(0), np.float64)
    views, grads = network.views(params), np.zeros_like(params)
    buffers = network.allocate(n, np.float64, n_threads=2)
    network.forward(views, X, buffers, n)
    buffers[-1]["d"][:n] = rng.standard_normal((n, 2))
    network.backward(views, network.views(grads), X, buffers, n)

    alone = layer.allocate(in_shape, n, np.float64)
    alone["threads"] = 2
    w, b = views[0]
    out = layer.forward(X, w, b, alone, n, False, None)
    np.testing.assert_array_equal(out, buffers[0]["a"][:n])
    # the gradient Flatten passed back (a conv has since masked it by relu in place:
    # masking again changes nothing)
    alone["d"][:n] = buffers[0]["d"][:n]
    d_w, d_b = (np.zeros_like(w), np.zeros_like(b)) if w is not None else (None, None)
    d_x = np.zeros((n,) + in_shape)
    layer.backward(X, w, b, alone, n, d_w, d_b, d_x)
    if w is not None:
        np.testing.assert_array_equal(d_w, network.views(grads)[0][0])
    assert np.abs(d_x).sum() > 0
