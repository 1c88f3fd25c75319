"""The whole network: gradients (all layers, loss, penalty) vs finite differences,
the flat buffer layout from the layers' declarations, frozen layers, split runs."""

import numpy as np
import pytest
import scipy.sparse as sp
from _engine import central_differences, objective_trainer

from sklearn_nn._network import Network
from sklearn_nn._training import RowRandom
from sklearn_nn.layers import (
    Activation,
    AvgPool2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
    MaxPool2D,
)
from sklearn_nn.layers.base import CSRRows
from sklearn_nn.layers.conv import ChannelsFirstToLast

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


def _check_gradient(trainer):
    x0 = trainer.params[: trainer.network.n_trainable].copy()
    _, grad = trainer.objective(x0)
    expected = central_differences(trainer.objective, x0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss, n_outputs, kind, activation", CASES)
def test_network_gradient_matches_finite_differences(loss, n_outputs, kind, activation):
    rng = np.random.default_rng(0)
    n, n_features = 7, 4
    X = rng.standard_normal((n, n_features))
    Y = _targets(kind, rng, n, n_outputs)
    sw = rng.uniform(0.5, 2.0, n)
    layers = [Dense(5, activation), Dense(3, activation), Dense(n_outputs, "identity")]
    _check_gradient(
        objective_trainer(layers, (n_features,), X, Y, sw, alpha=0.3, loss=loss)
    )


def test_network_sparse_input_gradient_matches_dense():
    rng = np.random.default_rng(0)
    X = sp.random(9, 6, density=0.4, format="csr", random_state=0)
    Y = np.eye(3)[rng.integers(0, 3, 9)]
    layers = [Dense(4, "relu"), Dense(3, "identity")]
    rows = CSRRows(X.data, X.indices, X.indptr, None)
    sparse = objective_trainer(layers, (6,), rows, Y, alpha=0.1, batch_size=9)
    dense = objective_trainer(layers, (6,), X.toarray(), Y, alpha=0.1, batch_size=9)
    params = sparse.params.copy()
    value_s, grad_s = sparse.objective(params)
    value_d, grad_d = dense.objective(params)
    np.testing.assert_allclose(value_s, value_d, rtol=1e-12)
    np.testing.assert_allclose(grad_s, grad_d, rtol=1e-10, atol=1e-12)


def test_network_flat_buffer_layout_follows_declarations():
    # penalised (kernels) first, then the other trainable parameters (biases, BN's
    # gamma/beta), then frozen layers' parameters; the state in its own buffer
    network = Network(
        [
            Dense(5, trainable=False),
            BatchNormalization(),
            Dense(2, "identity"),
        ],
        (3,),
    )
    flat = np.arange(network.n_params, dtype=float)
    frozen, norm, head = network.views(flat)
    assert network.n_penalized == 5 * 2
    assert network.n_trainable == 5 * 2 + 2 + 5 + 5
    assert network.n_params == network.n_trainable + 3 * 5 + 5
    assert head["kernel"].ravel()[0] == 0 and norm["gamma"][0] == 10
    assert norm["beta"][0] == 15 and head["bias"][0] == 20
    assert frozen["kernel"].ravel()[0] == 22 and frozen["bias"][-1] == 41
    assert all(v.base is flat for layer in (frozen, norm, head) for v in layer.values())
    assert network.n_state == 10
    state = network.init_state(np.float64)
    views = network.state_views(state)[1]
    assert np.all(views["moving_mean"] == 0) and np.all(views["moving_variance"] == 1)
    assert network.kernel_layers == [0, 2]


def test_network_shape_error_names_both_layers():
    with pytest.raises(ValueError, match=r"Layer 1, Dense.*output of layer 0, Conv2D"):
        Network([Conv2D(2, 3), Dense(3)], (5, 5, 1))


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
    "conv-layernorm-activation": [
        Conv2D(3, 3, padding="same", activation="identity", use_bias=False),
        LayerNormalization(),
        Activation("gelu"),
        MaxPool2D(2, padding="same"),
        Flatten(),
    ],
    "dense-layernorm-tanh": [
        Flatten(),
        Dense(6, "identity"),
        LayerNormalization(epsilon=1e-5),
        Activation("tanh"),
        Dense(4, "relu"),
        Activation("leaky_relu"),
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
    _check_gradient(objective_trainer(layers, in_shape, X, Y, alpha=0.1))


def _training_mode_gradient_check(layers, in_shape, X, Y):
    """Training-mode (batch statistics) loss and gradient vs finite differences."""
    trainer = objective_trainer(layers, in_shape, X, Y)
    bound, n = trainer.bound, X.shape[0]
    k = trainer.network.n_trainable

    def loss_and_grad(p):
        trainer.params[:k] = p
        z = bound.forward(X, n, training=True)
        value = trainer.loss_kernel(z, Y, np.ones(n), 1.0 / n, bound.output_gradient(n))
        bound.backward(X, n)
        return value, trainer.grads[:k].copy()

    x0 = trainer.params[:k].copy()
    _, grad = loss_and_grad(x0)
    expected = central_differences(loss_and_grad, x0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "layers, in_shape",
    [
        ([Dense(5, "identity"), BatchNormalization(), Activation("tanh")], (4,)),
        (
            [
                Conv2D(3, 2, padding="same", activation="identity"),
                BatchNormalization(momentum=0.5),
                Activation("relu"),
                Flatten(),
                Dense(4, "tanh"),
                BatchNormalization(epsilon=1e-5),
            ],
            (4, 3, 2),
        ),
    ],
    ids=["dense-bn", "conv-bn-relu-dense-bn"],
)
def test_batch_norm_network_gradient_in_training_mode(layers, in_shape):
    rng = np.random.default_rng(0)
    n = 6
    X = rng.standard_normal((n, int(np.prod(in_shape))))
    Y = np.eye(3)[rng.integers(0, 3, n)]
    _training_mode_gradient_check(layers + [Dense(3, "identity")], in_shape, X, Y)


def test_frozen_layers_get_no_update_and_skip_backward():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 4))
    Y = np.eye(2)[rng.integers(0, 2, 8)]
    layers = [Dense(5, trainable=False), Dense(3), Dense(2, "identity")]
    trainer = objective_trainer(layers, (4,), X, Y, alpha=0.5)
    network = trainer.network
    # the first layer needs no input gradient and, frozen, no backward at all
    assert network._needs_backward == [False, True, True]
    assert network._wants_d_x == [False, False, True]
    k = network.n_trainable
    frozen = trainer.params[k:].copy()
    value, grad = trainer.objective(trainer.params[:k].copy())
    assert grad.shape == (k,)
    np.testing.assert_array_equal(trainer.params[k:], frozen)


def test_cnn_dropout_on_images_routes_gradient_through_kept_units():
    # training-mode step on conv activations: dropped units get zero gradient
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 16))
    layers = [
        Conv2D(2, 3, padding="same"),
        Dropout(0.5),
        Flatten(),
        Dense(2, "identity"),
    ]
    trainer = objective_trainer(layers, (4, 4, 1), X, np.eye(2)[[0, 1, 0]])
    bound = trainer.bound
    rng = RowRandom(1, 3)
    rng.start_batch(X, 3, epoch=0)
    bound.forward(X, 3, True, rng)
    bound.output_gradient(3)[...] = 1.0
    bound.backward(X, 3)
    kept = bound.arrays[1].buffers["u"][:3] >= 0.5
    dropped_d = bound.arrays[0].buffers["d"][:3].reshape(kept.shape)[~kept]
    assert kept.any() and (~kept).any()
    assert np.all(dropped_d == 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_lbfgs_objective_over_chunks_equals_full_batch(sparse):
    # image networks too large for one buffer compute the objective in row chunks
    rng = np.random.default_rng(0)
    n = 10
    X = rng.standard_normal((n, 6)) * (rng.random((n, 6)) < 0.6)
    Y = np.eye(3)[rng.integers(0, 3, n)]
    sw = rng.uniform(0.5, 2.0, n)
    layers = [Dense(4, "tanh"), Dense(3, "identity")]
    if sparse:
        csr = sp.csr_matrix(X)
        X = CSRRows(csr.data, csr.indices, csr.indptr, None)
    full = objective_trainer(layers, (6,), X, Y, sw, alpha=0.3, batch_size=n)
    chunks = objective_trainer(layers, (6,), X, Y, sw, alpha=0.3, batch_size=3)
    params = full.params.copy()
    value_full, grad_full = full.objective(params)
    value_chunks, grad_chunks = chunks.objective(params)
    np.testing.assert_allclose(value_chunks, value_full, rtol=1e-12)
    np.testing.assert_allclose(grad_chunks, grad_full, rtol=1e-10, atol=1e-14)
    # and without sample weights
    full = objective_trainer(layers, (6,), X, Y, alpha=0.3, batch_size=n)
    chunks = objective_trainer(layers, (6,), X, Y, alpha=0.3, batch_size=4)
    np.testing.assert_allclose(chunks.objective(params)[1], full.objective(params)[1])


@pytest.mark.parametrize("n_threads", [1, 2])
def test_split_run_equals_layers_run_one_by_one(n_threads):
    # a run of image layers computed part by part in one parallel region gives what
    # the same layers give with a non-split layer between each (runs of one)
    rng = np.random.default_rng(0)
    n, in_shape = 11, (6, 5, 2)
    X = rng.standard_normal((n, 60))
    image_layers = [Conv2D(3, 2, strides=2, padding="same"), MaxPool2D(), AvgPool2D(1)]
    results = []
    for layers in (
        image_layers,
        [
            image_layers[0],
            Activation("identity"),
            image_layers[1],
            Activation("identity"),
            image_layers[2],
        ],
    ):
        network = Network(layers + [Flatten(), Dense(2, "identity")], in_shape)
        params = network.init_params(np.random.RandomState(0), np.float64)
        grads = np.zeros_like(params)
        bound = network.bind(
            params, network.init_state(np.float64), n, grads, n_threads
        )
        out = bound.forward(X, n).copy()
        bound.output_gradient(n)[...] = np.arange(2 * n).reshape(n, 2) / n
        bound.backward(X, n)
        results.append((out, grads))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_frozen_batch_norm_above_trainable_layers_gradient():
    # a frozen BatchNormalization runs in inference mode (running statistics) and
    # passes the gradient on to the trainable layer below it
    rng = np.random.default_rng(0)
    n = 6
    X = rng.standard_normal((n, 4))
    Y = np.eye(3)[rng.integers(0, 3, n)]
    layers = [
        Dense(5, "tanh"),
        BatchNormalization(trainable=False),
        Dense(3, "identity"),
    ]
    trainer = objective_trainer(layers, (4,), X, Y, alpha=0.1)
    stats = trainer.bound.arrays[1].state
    stats["moving_mean"][...] = rng.standard_normal(5)
    stats["moving_variance"][...] = rng.uniform(0.5, 2, 5)
    params = trainer.bound.arrays[1].params
    params["gamma"][...] = rng.uniform(0.5, 2, 5)
    params["beta"][...] = rng.standard_normal(5)
    assert trainer.network.n_trainable == 4 * 5 + 5 * 3 + 5 + 3
    _check_gradient(trainer)


class _TwoNames(Dense):
    def param_specs(self, in_shape):
        specs = super().param_specs(in_shape)
        return specs + [specs[0]]


class _BadShape(Dense):
    def param_specs(self, in_shape):
        spec = super().param_specs(in_shape)[0]
        return [spec._replace(shape=(-2, 3))]


class _ShortGradient(Flatten):
    def allocate(self, in_shape, n_rows, dtype):
        return {"d": np.empty((n_rows, 1), dtype=dtype)}


class _RandomSplit(Conv2D):
    needs_rng = True


@pytest.mark.parametrize(
    "layers, message",
    [
        ([Flatten(), _TwoNames(3)], "declares a name twice"),
        ([Flatten(), _BadShape(3)], "every dimension must be a positive int"),
        ([_RandomSplit(2, padding="same"), Flatten()], "share one generator"),
    ],
)
def test_network_refuses_bad_declarations(layers, message):
    with pytest.raises(ValueError, match=message):
        Network(layers + [Dense(2, "identity")], (3, 3, 1))


def test_network_refuses_a_gradient_buffer_of_the_wrong_size():
    network = Network([_ShortGradient(), Dense(2, "identity")], (3, 2))
    with pytest.raises(ValueError, match="'d' buffer of 4 x \\(6,\\) values"):
        network.allocate(4, np.float64)


def test_backward_runs_in_the_mode_of_the_forward():
    # after an inference-mode forward, dropout's backward is the identity (its
    # masks were not drawn)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4))
    layers = [Dense(3, "identity"), Dropout(0.5), Dense(2, "identity")]
    network = Network(layers, (4,))
    params = network.init_params(np.random.RandomState(0), np.float64)
    grads = np.zeros_like(params)
    bound = network.bind(params, network.init_state(np.float64), 5, grads)
    bound.arrays[1].buffers["u"][...] = 0.0  # masks that would drop everything
    bound.forward(X, 5, training=False)
    bound.output_gradient(5)[...] = 1.0
    bound.backward(X, 5)
    assert np.all(bound.arrays[0].buffers["d"][:5] != 0)
