"""Embedding and PositionalEncoding inside whole networks: gradients vs finite
differences, the encoding vs its formula, the padding mask, the id checks."""

import math
from dataclasses import dataclass

import numpy as np
import pytest
from _engine import central_differences, objective_trainer
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn import NeuralNetClassifier
from sklearn_nn._network import Network
from sklearn_nn.layers import (
    GRU,
    Activation,
    Batch,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    Layer,
    LayerNormalization,
    Reshape,
)
from sklearn_nn.layers.embedding import (
    Embedding,
    PositionalEncoding,
    sinusoidal_encoding,
)
from sklearn_nn.preprocessing import TokenSequencer

N, STEPS, N_TOKENS = 5, 4, 6


def _ids(rng, n=N, steps=STEPS, n_tokens=N_TOKENS):
    """Token ids as floats, with padding (0) and repeated ids."""
    ids = rng.integers(1, n_tokens, (n, steps)).astype(float)
    ids[0, 2:] = 0
    ids[1, :] = 3
    return ids


def _check_gradient(trainer, perturb=0.0, rng=None):
    x0 = trainer.params[: trainer.network.n_trainable].copy()
    if perturb:  # move gamma / beta away from their initial ones / zeros
        x0 += perturb * rng.standard_normal(x0.shape)
    _, grad = trainer.objective(x0)
    expected = central_differences(trainer.objective, x0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


EMBEDDING_STACKS = {
    "embedding-dense": [Embedding(N_TOKENS, 3), Flatten(), Dense(4, "tanh")],
    "masked-embedding-positional": [
        Embedding(N_TOKENS, 4, mask_zero=True, embeddings_initializer="he_normal"),
        PositionalEncoding(),
        GlobalAveragePooling1D(),
    ],
    "embedding-positional-layernorm": [
        Embedding(N_TOKENS, 5),
        PositionalEncoding(max_wavelength=100.0),
        LayerNormalization(),
        Activation("gelu"),
        Flatten(),
        Dense(4, "relu"),
    ],
}


@pytest.mark.parametrize("name", sorted(EMBEDDING_STACKS))
def test_embedding_network_gradient_matches_finite_differences(name):
    # the table's gradient (penalised, repeated ids accumulate) and every layer above
    rng = np.random.default_rng(0)
    X = _ids(rng)
    Y = np.eye(3)[rng.integers(0, 3, N)]
    layers = EMBEDDING_STACKS[name] + [Dense(3, "identity")]
    trainer = objective_trainer(layers, (STEPS,), X, Y, alpha=0.3)
    table = trainer.network.views(trainer.params)[0]["embeddings"]
    assert table.shape == (N_TOKENS, layers[0].output_dim)
    # the table is penalised: it sits in the prefix with the Dense kernels
    assert trainer.network._param_slices[0]["embeddings"][0] == 0
    _check_gradient(trainer, perturb=0.1, rng=rng)


def test_positional_encoding_network_gradient_passes_through():
    # a trainable layer below PositionalEncoding: its input gradient is d itself
    rng = np.random.default_rng(0)
    steps, features = 3, 5
    X = rng.standard_normal((N, steps * features))
    Y = rng.standard_normal((N, 2))
    layers = [
        Reshape((steps, features)),
        LayerNormalization(),
        PositionalEncoding(),
        Activation("tanh"),
        Flatten(),
        Dense(2, "identity"),
    ]
    trainer = objective_trainer(layers, (steps * features,), X, Y, loss="squared_error")
    assert trainer.network._wants_d_x[2]
    _check_gradient(trainer, perturb=0.1, rng=rng)


def _formula(timesteps, features, base=10000.0):
    """The paper's encoding, entry by entry."""
    pe = np.empty((timesteps, features))
    for t in range(timesteps):
        for i in range(0, features, 2):
            angle = t / base ** (i / features)
            pe[t, i] = math.sin(angle)
            if i + 1 < features:
                pe[t, i + 1] = math.cos(angle)
    return pe


@pytest.mark.parametrize("features", [1, 4, 7])
def test_sinusoidal_encoding_matches_formula(features):
    assert_allclose(sinusoidal_encoding(9, features), _formula(9, features), 1e-14)
    assert_allclose(
        sinusoidal_encoding(3, features, 50.0), _formula(3, features, 50.0), 1e-14
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_positional_encoding_forward_adds_the_table(dtype):
    rng = np.random.default_rng(0)
    steps, features = 6, 5
    X = rng.standard_normal((N, steps * features)).astype(dtype)
    network = Network([Reshape((steps, features)), PositionalEncoding()], (30,))
    params = network.init_params(np.random.RandomState(0), dtype)
    bound = network.bind(params, network.init_state(dtype), N)
    out = bound.forward(X, N)
    assert out.dtype == dtype and out.shape == (N, steps, features)
    expected = X.reshape(N, steps, features) + _formula(steps, features)
    assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert network.n_params == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_mask_buffer_marks_padding(dtype):
    rng = np.random.default_rng(0)
    X = _ids(rng).astype(dtype)
    layers = [
        Embedding(N_TOKENS, 2, mask_zero=True),
        PositionalEncoding(),
        GlobalAveragePooling1D(),
    ]
    network = Network(layers, (STEPS,))
    assert layers[0].makes_mask and layers[1].passes_mask
    params = network.init_params(np.random.RandomState(0), dtype)
    bound = network.bind(params, network.init_state(dtype), N + 3)
    bound.forward(X, N)
    mask = bound.arrays[0].buffers["mask"]
    assert mask.shape == (N + 3, STEPS) and mask.dtype == dtype
    assert_array_equal(mask[:N], (X != 0).astype(dtype))
    assert_array_equal(mask[0], [1, 1, 0, 0])
    # id 0 still looks up its row, as in Keras
    table = network.views(params)[0]["embeddings"]
    assert_array_equal(bound.arrays[0].out[0, 2], table[0])


def test_embedding_without_mask_zero_makes_no_mask():
    layer = Embedding(N_TOKENS, 2)
    assert not layer.makes_mask and not layer.passes_mask
    assert "mask" not in layer.allocate((STEPS,), 3, np.float64)


def test_embedding_uniform_initializer_is_keras_uniform():
    network = Network([Embedding(500, 40)], (3,))
    params = network.init_params(np.random.RandomState(0), np.float64)
    table = network.views(params)[0]["embeddings"]
    assert np.abs(table).max() <= 0.05 and np.abs(table).max() > 0.0499
    assert abs(table.std() - 0.05 / np.sqrt(3)) < 1e-3  # U(-0.05, 0.05)
    assert network.n_penalized == 500 * 40


@pytest.mark.parametrize(
    "value, match",
    [
        (-1.0, r"negative: 1 \(smallest -1.0\)"),
        (N_TOKENS, r">= input_dim: 1 \(largest 6.0\)"),
        (np.inf, r">= input_dim: 1"),
        (2.5, r"non-integer: 1 \(e.g. 2.5\)"),
        (np.nan, r"NaN: 1"),
    ],
)
def test_embedding_check_input_names_the_bad_ids(value, match):
    rng = np.random.default_rng(0)
    X = _ids(rng)
    layer = Embedding(N_TOKENS, 2)
    layer.check_input(X)  # valid ids pass
    X[2, 1] = value
    with pytest.raises(ValueError, match=r"integers in \[0, 6\).*" + match):
        layer.check_input(X)


def test_embedding_check_input_refuses_non_numbers():
    with pytest.raises(ValueError, match="TokenSequencer"):
        Embedding(N_TOKENS, 2).check_input(np.array([["the", "cat"]]))
    Embedding(N_TOKENS, 2).check_input(np.empty((0, STEPS)))


def test_embedding_forward_and_backward_refuse_bad_ids():
    # without check_input first, the kernels' counts still stop the pass
    rng = np.random.default_rng(0)
    X = _ids(rng)
    Y = np.eye(2)[rng.integers(0, 2, N)]
    trainer = objective_trainer([Embedding(N_TOKENS, 2), Flatten()], (STEPS,), X, Y)
    X[0, 0] = N_TOKENS + 1
    with pytest.raises(ValueError, match=">= input_dim: 1"):
        trainer.bound.forward(X, N)
    layer, arrays = trainer.network.layers[0], trainer.bound.arrays[0]
    with pytest.raises(ValueError, match=">= input_dim: 1"):
        layer.backward(X, arrays, Batch(N, 0, N), None)


def test_embedding_is_the_first_layer():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, 3))
    layers = [Dense(STEPS), Embedding(N_TOKENS, 2), Flatten()]
    trainer = objective_trainer(layers, (3,), X, np.eye(2)[[0, 1, 0, 1, 0]])
    # a Dense output is not ids: the forward pass says so
    with pytest.raises(ValueError, match="first layer; bad ids"):
        trainer.bound.forward(X, N)
    # and an input gradient is refused
    layer, arrays = trainer.network.layers[1], trainer.bound.arrays[1]
    d_x = np.empty((N, STEPS))
    with pytest.raises(ValueError, match="must be the network's first layer"):
        layer.backward(_ids(rng), arrays, Batch(N, 0, N), d_x)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"input_dim": 1, "output_dim": 2, "mask_zero": True},
            "input_dim must be >= 2",
        ),
        ({"input_dim": 0, "output_dim": 2}, "input_dim must be a positive int"),
        ({"input_dim": 3, "output_dim": 2.0}, "output_dim must be a positive int"),
        ({"input_dim": 3, "output_dim": 2, "mask_zero": 1}, None),
        ({"input_dim": 3, "output_dim": 2, "embeddings_initializer": "x"}, "uniform"),
    ],
)
def test_embedding_hyperparameters_validated(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Embedding(**kwargs)


def test_sequence_layers_refuse_wrong_sample_shapes():
    with pytest.raises(ValueError, match=r"shape \(timesteps,\)"):
        Network([Embedding(N_TOKENS, 2)], (3, 2))
    with pytest.raises(ValueError, match=r"\(timesteps, features\)"):
        Network([PositionalEncoding()], (5,))
    with pytest.raises(ValueError, match="max_wavelength"):
        PositionalEncoding(max_wavelength=0)


def test_frozen_embedding_keeps_its_table():
    network = Network([Embedding(N_TOKENS, 2, trainable=False), Flatten()], (STEPS,))
    assert network.n_trainable == 0 and network.n_params == N_TOKENS * 2
    assert network._needs_backward == [False, False]


def test_text_pipeline_learns_a_toy_task():
    rng = np.random.default_rng(0)
    good, bad = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "worst"]
    words = ["movie", "film", "plot", "the"]
    docs, y = [], []
    for k in range(80):
        sentiment = good if k % 2 else bad
        docs.append(" ".join(rng.choice(sentiment + words, 5)) + " " + sentiment[k % 4])
        y.append(k % 2)
    seq = TokenSequencer(max_length=8, vocabulary_size=12)
    X = seq.fit_transform(docs)
    clf = NeuralNetClassifier(
        [Embedding(12, 4, mask_zero=True), PositionalEncoding(), GRU(4)],
        solver="lbfgs",
        random_state=0,
    ).fit(X, y)
    assert clf.score(X, y) == 1.0


@dataclass(frozen=True)
class _MaskSpy(Layer):
    """Identity that keeps the time axis and records the mask it is given."""

    passes_mask = True
    seen = []

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        return {"d": np.empty((n_rows,) + tuple(in_shape), dtype=dtype)}

    def forward(self, x, arrays, batch):
        self.seen.append(None if batch.mask is None else batch.mask.copy())
        return x

    def backward(self, x, arrays, batch, d_x):
        self.seen.append(None if batch.mask is None else batch.mask.copy())
        if d_x is not None:
            d_x[...] = arrays.buffers["d"][: batch.n]


@pytest.mark.parametrize("mask_zero", [False, True])
def test_embedding_mask_reaches_the_layers_above(mask_zero):
    # through PositionalEncoding (passes_mask), in forward and backward
    rng = np.random.default_rng(0)
    X = _ids(rng)
    layers = [Embedding(N_TOKENS, 2, mask_zero=mask_zero), PositionalEncoding()]
    layers += [_MaskSpy(), GlobalAveragePooling1D(), Dense(2, "identity")]
    trainer = objective_trainer(layers, (STEPS,), X, np.eye(2)[rng.integers(0, 2, N)])
    _MaskSpy.seen.clear()
    trainer.objective(trainer.params[: trainer.network.n_trainable].copy())
    assert len(_MaskSpy.seen) == 2
    for mask in _MaskSpy.seen:
        if mask_zero:
            assert_array_equal(mask, (X != 0).astype(float))
        else:
            assert mask is None


def test_a_mask_reaching_a_layer_that_ignores_it_warns():
    with pytest.warns(UserWarning, match="Flatten.* does not support the padding"):
        Network([Embedding(N_TOKENS, 2, mask_zero=True), Flatten()], (STEPS,))


def test_estimator_refuses_bad_ids_before_fitting():
    rng = np.random.default_rng(0)
    X = _ids(rng)
    X[3, 1] = 2.5
    clf = NeuralNetClassifier([Embedding(N_TOKENS, 2), Flatten()], max_iter=5)
    with pytest.raises(ValueError, match=r"non-integer: 1 \(e.g. 2.5\)"):
        clf.fit(X, [0, 1, 0, 1, 0])
