"""MultiHeadSelfAttention and TransformerEncoder inside whole networks: gradients
against finite differences (padding and causal masks, dropout in training mode),
float32 against float64, masking, bad arguments, and text classification by word
order in a grid search."""

import numpy as np
import pytest
from _engine import central_differences, objective_trainer
from numpy.testing import assert_allclose
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from test_recurrent_layers import _sequences, _ZeroIsPadding

from sklearn_nn import NeuralNetClassifier
from sklearn_nn._network import Network
from sklearn_nn._training import RowRandom
from sklearn_nn.layers import (
    Dense,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    MultiHeadSelfAttention,
    PositionalEncoding,
    TransformerEncoder,
)
from sklearn_nn.preprocessing import TokenSequencer

STACKS = {
    "attention": [MultiHeadSelfAttention(2), MultiHeadSelfAttention(1, key_dim=3)],
    "causal-attention": [MultiHeadSelfAttention(2, causal=True)],
    "transformer": [
        TransformerEncoder(2, ff_units=6, activation="gelu"),
        TransformerEncoder(1, key_dim=3, ff_units=5, causal=True),
    ],
}


@pytest.mark.parametrize("name", sorted(STACKS))
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("n_steps", [1, 5])
def test_attention_network_gradient(name, masked, n_steps):
    rng = np.random.default_rng(0)
    n, features = 4, 4
    X = _sequences(rng, n, n_steps, features, masked)
    Y = np.eye(3)[rng.integers(0, 3, n)]
    layers = [_ZeroIsPadding()] if masked else []
    layers += STACKS[name] + [GlobalAveragePooling1D(), Dense(3, "identity")]
    trainer = objective_trainer(layers, (n_steps, features), X, Y, alpha=0.1)
    x0 = trainer.params[: trainer.network.n_trainable].copy()
    _, grad = trainer.objective(x0)
    expected = central_differences(trainer.objective, x0)
    assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


def test_transformer_dropout_gradient_in_training_mode():
    # the same masks in every evaluation (same rows, seed and epoch)
    rng = np.random.default_rng(1)
    n, n_steps, features = 3, 4, 4
    X = rng.standard_normal((n, n_steps * features))
    Y = np.eye(2)[[0, 1, 0]]
    layers = [
        TransformerEncoder(2, ff_units=5, dropout=0.3),
        Flatten(),
        Dense(2, "identity"),
    ]
    trainer = objective_trainer(layers, (n_steps, features), X, Y)
    bound, k = trainer.bound, trainer.network.n_trainable
    draws = RowRandom(7, n)

    def loss_and_grad(p):
        trainer.params[:k] = p
        draws.start_batch(X, n, epoch=0)
        z = bound.forward(X, n, training=True, rng=draws)
        value = trainer.loss_kernel(z, Y, np.ones(n), 1.0 / n, bound.output_gradient(n))
        bound.backward(X, n)
        return value, trainer.grads[:k].copy()

    x0 = trainer.params[:k].copy()
    value, grad = loss_and_grad(x0)
    assert value != trainer.objective(x0)[0]  # dropout changed the outputs
    assert_allclose(grad, central_differences(loss_and_grad, x0), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "layer", [MultiHeadSelfAttention(2), TransformerEncoder(2, ff_units=8)]
)
def test_padding_is_left_out_of_attention(layer):
    # real timesteps' outputs do not depend on the padding after them
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 4)) + 3.0  # no zero first feature
    outputs = []
    for pad in (0, 5):
        padded = np.concatenate([x, np.zeros((3, pad, 4))], axis=1)
        network = Network([_ZeroIsPadding(), layer], (4 + pad, 4))
        params = network.init_params(np.random.RandomState(0), np.float64)
        bound = network.bind(params, network.init_state(np.float64), 3)
        outputs.append(bound.forward(padded.reshape(3, -1), 3)[:, :4].copy())
    assert_allclose(outputs[0], outputs[1], rtol=1e-12)


def test_causal_attention_does_not_see_the_future():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 4))
    later = x.copy()
    later[:, 3:] = rng.standard_normal((2, 3, 4))
    network = Network([TransformerEncoder(2, ff_units=8, causal=True)], (6, 4))
    params = network.init_params(np.random.RandomState(0), np.float64)
    bound = network.bind(params, network.init_state(np.float64), 2)
    first = bound.forward(x.reshape(2, -1), 2).copy()
    second = bound.forward(later.reshape(2, -1), 2)
    assert_allclose(first[:, :3], second[:, :3], rtol=1e-12)
    assert not np.allclose(first[:, 3:], second[:, 3:])


def test_transformer_float32_matches_float64():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 7, 8))
    outputs = []
    for dtype in (np.float64, np.float32):
        network = Network([TransformerEncoder(4, ff_units=16), Flatten()], (7, 8))
        params = network.init_params(np.random.RandomState(0), dtype)
        bound = network.bind(params, network.init_state(dtype), 5)
        outputs.append(bound.forward(x.reshape(5, -1).astype(dtype), 5).copy())
    assert outputs[1].dtype == np.float32
    assert_allclose(outputs[1], outputs[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Network([MultiHeadSelfAttention(3)], (5, 8)), "does not divide"),
        (lambda: Network([TransformerEncoder(3)], (5, 8)), "does not divide"),
        (lambda: Network([MultiHeadSelfAttention(2)], (8,)), r"\(timesteps, features"),
        (lambda: MultiHeadSelfAttention(0), "num_heads must be a positive int"),
        (lambda: TransformerEncoder(2, ff_units=0), "ff_units must be a positive"),
        (lambda: TransformerEncoder(2, dropout=1.0), r"dropout must be in \[0, 1\)"),
        (lambda: TransformerEncoder(2, activation="swish"), "activation"),
        (lambda: TransformerEncoder(2, key_dim=-1), "key_dim must be a positive"),
    ],
)
def test_attention_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def _order_task(n, seed):
    """Sentences of random words with "alpha" and "beta" somewhere: the label is
    whether alpha comes first. A bag of words cannot tell."""
    rng = np.random.default_rng(seed)
    words = [f"w{i:02d}" for i in range(30)]
    docs, y = [], rng.integers(0, 2, n)
    for label in y:
        tokens = list(rng.choice(words, size=rng.integers(4, 12)))
        i, j = sorted(rng.choice(len(tokens) + 2, size=2, replace=False))
        first, second = ("alpha", "beta") if label else ("beta", "alpha")
        tokens.insert(i, first)
        tokens.insert(j, second)
        docs.append(" ".join(tokens))
    return np.array(docs), y


def test_transformer_classifies_text_by_word_order_in_a_grid_search():
    docs, y = _order_task(900, seed=0)
    test_docs, test_y = _order_task(300, seed=1)
    bag = make_pipeline(CountVectorizer(), SkLogisticRegression()).fit(docs, y)
    assert bag.score(test_docs, test_y) < 0.6  # measured 0.42: order is the signal
    layers = [
        Embedding(40, 16, mask_zero=True),
        PositionalEncoding(),
        TransformerEncoder(2, ff_units=32),
        GlobalAveragePooling1D(),
    ]
    pipe = make_pipeline(
        TokenSequencer(max_length=16, vocabulary_size=40),
        NeuralNetClassifier(
            layers, learning_rate_init=0.003, max_iter=40, random_state=0
        ),
    )
    search = GridSearchCV(pipe, {"neuralnetclassifier__alpha": [1e-4, 1e-2]}, cv=2).fit(
        docs, y
    )
    assert search.score(test_docs, test_y) > 0.9  # measured 0.963


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_transformer_same_result_whatever_the_threads(dropout):
    # without dropout the block runs in batch parts on threads: the parts, and so
    # the result, do not depend on the number of threads
    rng = np.random.default_rng(5)
    n, n_steps, features = 11, 6, 8
    X = rng.standard_normal((n, n_steps * features))
    Y = np.eye(2)[rng.integers(0, 2, n)]
    layers = [
        TransformerEncoder(2, ff_units=8, dropout=dropout),
        GlobalAveragePooling1D(),
        Dense(2, "identity"),
    ]
    assert layers[0].splits_batch == (dropout == 0)
    results = []
    for n_threads in (1, 2):
        trainer = objective_trainer(layers, (n_steps, features), X, Y)
        bound = trainer.network.bind(
            trainer.params,
            trainer.network.init_state(np.float64),
            n,
            trainer.grads,
            n_threads=n_threads,
        )
        draws = RowRandom(3, n)
        draws.start_batch(X, n, epoch=0)
        z = bound.forward(X, n, training=True, rng=draws).copy()
        bound.output_gradient(n)[...] = Y - 0.5
        bound.backward(X, n)
        results.append((z, trainer.grads.copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_nan_weight_reaches_the_outputs(dtype):
    # a NaN query or key must not become finite attention weights: the divergence
    # check reads the outputs
    x = np.random.default_rng(6).standard_normal((2, 5 * 4)).astype(dtype)
    for column in (0, 8):  # a query, then a key, of head 0
        network = Network([MultiHeadSelfAttention(2), Flatten()], (5, 4))
        params = network.init_params(np.random.RandomState(0), dtype)
        network.views(params)[0]["qkv_kernel"][0, column] = np.nan
        bound = network.bind(params, network.init_state(dtype), 2)
        assert np.isnan(bound.forward(x, 2)).any()


def test_attention_refuses_a_mask_of_the_wrong_shape():
    from sklearn_nn.layers import Batch

    layer = MultiHeadSelfAttention(2)
    network = Network([layer], (5, 4))
    params = network.init_params(np.random.RandomState(0), np.float64)
    bound = network.bind(params, network.init_state(np.float64), 2)
    arrays = bound.arrays[0]
    with pytest.raises(ValueError, match=r"padding mask of shape \(2, 5\)"):
        layer.forward(np.zeros((2, 5, 4)), arrays, Batch(2, 0, 2, mask=np.ones((2, 4))))
