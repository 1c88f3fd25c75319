"""NeuralNetClassifier / NeuralNetRegressor: any stack, input shapes, normalisation
layers and their state, gradient clipping, frozen layers and Pretrained."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_nn import (
    CNNClassifier,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
    Pretrained,
    _optimizers,
    _training,
)
from sklearn_nn.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    LayerNormalization,
    MaxPool2D,
    Reshape,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BN_STACK = [Dense(12, "identity"), BatchNormalization(momentum=0.8), Activation("relu")]


def _data(n=120, n_features=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


def _model_equal(a, b):
    return np.array_equal(a._params, b._params) and np.array_equal(a._state, b._state)


# ---------------------------------------------------------------- presets


def test_mlp_is_a_preset_of_neural_net():
    X, y = _data()
    mlp = MLPClassifier((20, 10), activation="tanh", max_iter=5, random_state=0)
    net = NeuralNetClassifier(
        [Dense(20, "tanh"), Dense(10, "tanh")], max_iter=5, random_state=0
    )
    assert _model_equal(mlp.fit(X, y), net.fit(X, y))
    np.testing.assert_array_equal(mlp.predict_proba(X), net.predict_proba(X))


def test_neural_net_image_stack_equals_cnn_with_the_same_layers():
    X, y = _data(n_features=36)
    layers = [Conv2D(3, 3, padding="same"), MaxPool2D(), Flatten(), Dense(8)]
    cnn = CNNClassifier(layers=layers, input_shape=(6, 6), max_iter=3, random_state=0)
    net = NeuralNetClassifier(layers, input_shape=(6, 6), max_iter=3, random_state=0)
    assert _model_equal(cnn.fit(X, y), net.fit(X, y))


def test_neural_net_takes_samples_of_any_rank():
    X, y = _data(n_features=12)
    net = NeuralNetClassifier([Flatten(), Dense(8)], max_iter=3, random_state=0)
    seq = X.reshape(-1, 4, 3)
    by_shape = clone(net).set_params(input_shape=(4, 3)).fit(X, y)
    by_rank = clone(net).fit(seq, y)
    assert by_rank._network.in_shapes[0] == (4, 3)
    assert _model_equal(by_shape, by_rank)
    np.testing.assert_array_equal(by_rank.predict(seq), by_shape.predict(X))
    with pytest.raises(ValueError, match=r"samples of shape \(3, 4\)"):
        by_rank.predict(X.reshape(-1, 3, 4))
    with pytest.raises(ValueError, match="input_shape=\\(5, 3\\) has 15 values"):
        clone(net).set_params(input_shape=(5, 3)).fit(X, y)
    with pytest.raises(ValueError, match="input_shape must be a tuple"):
        clone(net).set_params(input_shape=(4, 0)).fit(X, y)


def test_neural_net_sparse_input_through_first_dense_layer():
    X, y = _data()
    X[np.abs(X) < 1] = 0
    net = NeuralNetRegressor(
        [Dense(8), LayerNormalization()], max_iter=3, random_state=0
    )
    dense = clone(net).fit(X, y)
    sparse = clone(net).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse._params, dense._params, rtol=1e-10, atol=1e-12)
    image = NeuralNetClassifier([Reshape((4, 4)), Conv2D(2, 2)], max_iter=2)
    with pytest.raises(TypeError, match="dense data is required"):
        image.fit(sp.csr_matrix(X), y)


def test_neural_net_refuses_bad_layer_stacks():
    X, y = _data()
    with pytest.raises(TypeError, match="layers must hold layer specs"):
        NeuralNetClassifier([Dense(4), "relu"]).fit(X, y)
    with pytest.raises(ValueError, match="Layer 1, Conv2D.*output of layer 0, Dense"):
        NeuralNetClassifier([Dense(4), Conv2D(2)]).fit(X, y)
    with pytest.raises(ValueError, match="cannot hold samples of shape"):
        NeuralNetClassifier([Reshape((5, -1))]).fit(X, y)
    with pytest.raises(TypeError, match="trainable must be a bool"):
        Dense(4, trainable=1)


# -------------------------------------------------------- normalisation


def test_batch_norm_trains_and_predicts_row_by_row_with_running_statistics():
    X, y = _data(n=300)
    net = NeuralNetClassifier(
        BN_STACK, learning_rate_init=0.01, max_iter=100, random_state=0
    ).fit(X, y)
    assert net.score(X, y) > 0.85
    state = net._network.state_views(net._state)[1]
    # running statistics moved from (0, 1) to the layer input's statistics
    z = X @ net.coefs_[0] + net.intercepts_[0]
    np.testing.assert_allclose(state["moving_mean"], z.mean(axis=0), atol=0.2)
    assert not np.allclose(state["moving_variance"], 1)
    # inference is per row: one sample alone gets the prediction it gets in a batch
    np.testing.assert_allclose(
        net.decision_function(X[:1]), net.decision_function(X)[:1], rtol=1e-12
    )


def test_batch_norm_refuses_lbfgs_and_one_sample_batches():
    X, y = _data(n=41)
    with pytest.raises(ValueError, match="batch statistics.*sgd"):
        NeuralNetClassifier(BN_STACK, solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 samples.*a batch has 1 sample"):
        NeuralNetClassifier(BN_STACK, batch_size=20).fit(X, y)  # 20 + 20 + 1
    # after a convolution the statistics run over pixels too: one image is enough
    conv = [Reshape((2, 2, 4)), Conv2D(2, 1), BatchNormalization()]
    NeuralNetClassifier(conv, batch_size=20, max_iter=1).fit(X[:, :16], y)


def test_layer_state_follows_the_model_everywhere(monkeypatch):
    X, y = _data()
    params = dict(batch_size=40, shuffle=False, random_state=0)
    # partial_fit continues the state: two calls equal two epochs of fit
    fitted = NeuralNetClassifier(BN_STACK, max_iter=2, **params).fit(X, y)
    streamed = NeuralNetClassifier(BN_STACK, **params)
    for _ in range(2):
        streamed.partial_fit(X, y, classes=[0, 1, 2])
    assert _model_equal(fitted, streamed)
    # pickling keeps it
    assert _model_equal(pickle.loads(pickle.dumps(fitted)), fitted)
    # early stopping restores the best epoch's parameters and state
    stopped = NeuralNetClassifier(
        BN_STACK,
        early_stopping=True,
        max_iter=15,
        n_iter_no_change=3,
        random_state=0,
        batch_size=40,
    ).fit(X, y)
    best = int(np.argmax(stopped.validation_scores_)) + 1
    assert best < stopped.n_iter_
    again = clone(stopped).set_params(max_iter=best, n_iter_no_change=100).fit(X, y)
    assert _model_equal(stopped, again)
    # an interrupt keeps the state of the last complete epoch
    two = NeuralNetClassifier(BN_STACK, max_iter=2, **params).fit(X, y)
    run_epoch = _training.Trainer.run_epoch
    calls = []

    def third_interrupted(self, *args):
        calls.append(1)
        loss = run_epoch(self, *args)  # the third epoch runs, then is lost
        if len(calls) == 3:
            raise KeyboardInterrupt
        return loss

    monkeypatch.setattr(_training.Trainer, "run_epoch", third_interrupted)
    with pytest.warns(UserWarning, match="interrupted"):
        cut = NeuralNetClassifier(BN_STACK, max_iter=10, **params).fit(X, y)
    assert _model_equal(cut, two)
    # a fit that fails keeps the previous model, state included
    state = two._state.copy()
    with pytest.raises(ValueError):
        two.set_params(warm_start=True).fit(X[:, :3], y)
    np.testing.assert_array_equal(two._state, state)


def test_layer_normalization_normalises_each_sample():
    X, y = _data()
    net = NeuralNetRegressor(
        [Dense(6, "identity"), LayerNormalization(epsilon=1e-6)],
        solver="lbfgs",
        max_iter=50,
        random_state=0,
    ).fit(X, y.astype(float))
    bound = net._network.bind(net._params, net._state, len(X))
    bound.forward(X, len(X))
    out = bound.arrays[1].out
    gamma_beta = net._network.views(net._params)[1]
    normed = (out - gamma_beta["beta"]) / gamma_beta["gamma"]
    np.testing.assert_allclose(normed.mean(axis=1), 0, atol=1e-8)
    variance = (X @ net.coefs_[0] + net.intercepts_[0]).var(axis=1)
    np.testing.assert_allclose(normed.var(axis=1), variance / (variance + 1e-6))


# ------------------------------------------------------------- clipping


def test_clip_norm_bounds_every_step_gradient(monkeypatch):
    X, y = _data()
    norms = []
    step = _optimizers.Adam.step

    def recording(self, params, grads, *args):
        norms.append(np.linalg.norm(grads))
        step(self, params, grads, *args)

    monkeypatch.setattr(_optimizers.Adam, "step", recording)
    NeuralNetRegressor([Dense(16)], max_iter=5, random_state=0).fit(X, 50 * y)
    raw = norms[:]
    norms.clear()
    NeuralNetRegressor([Dense(16)], clip_norm=1.0, max_iter=5, random_state=0).fit(
        X, 50 * y
    )
    assert max(raw) > 1.0  # clipping had something to do
    assert max(norms) <= 1.0 * (1 + 1e-12)
    np.testing.assert_allclose(norms[0], 1.0, rtol=1e-12)


def test_clip_norm_is_refused_with_lbfgs_and_when_not_positive():
    X, y = _data()
    with pytest.raises(ValueError, match="clip_norm clips the steps"):
        MLPRegressor(solver="lbfgs", clip_norm=1.0).fit(X, y)
    with pytest.raises(ValueError, match="clip_norm"):
        MLPRegressor(clip_norm=0.0).fit(X, y)


# ------------------------------------------------- frozen layers, transfer


def _digit_halves():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16, y


def test_pretrained_frozen_layers_keep_their_weights():
    X, y = _digit_halves()
    base = NeuralNetClassifier(
        BN_STACK + [Dense(16)], learning_rate_init=0.01, max_iter=30, random_state=0
    )
    base.fit(X[y < 5], y[y < 5])
    assert len(Pretrained(base).layers()) == 4
    pre = Pretrained(base, n_layers=3)  # Dense, BatchNormalization, Activation
    frozen = pre.layers(trainable=False)
    assert len(frozen) == 3 and not any(layer.trainable for layer in frozen)
    new = NeuralNetClassifier(
        frozen + [Dense(32)],
        pretrained=pre,
        learning_rate_init=0.01,
        max_iter=50,
        alpha=1.0,
        random_state=0,
    )
    new.fit(X[y >= 5], y[y >= 5])
    np.testing.assert_array_equal(new.coefs_[0], base.coefs_[0])
    np.testing.assert_array_equal(new.intercepts_[0], base.intercepts_[0])
    assert not np.array_equal(new.coefs_[1], base.coefs_[1])  # a new head
    # the frozen batch norm kept its running statistics and gamma/beta
    np.testing.assert_array_equal(new._state, base._state)
    np.testing.assert_array_equal(
        np.concatenate(list(new._network.views(new._params)[1].values())),
        np.concatenate(list(base._network.views(base._params)[1].values())),
    )
    assert new.score(X[y >= 5], y[y >= 5]) > 0.85
    # clone and grid search copy the transferred weights with the parameter
    grid = GridSearchCV(new, {"alpha": [0.1, 1.0]}, cv=2).fit(X[y >= 5], y[y >= 5])
    np.testing.assert_array_equal(grid.best_estimator_.coefs_[0], base.coefs_[0])


def test_pretrained_trainable_layers_start_from_the_weights():
    X, y = _digit_halves()
    base = MLPClassifier((16,), max_iter=5, random_state=0).fit(X[y < 5], y[y < 5])
    pre = Pretrained(base)
    tuned = MLPClassifier(
        (16,), pretrained=pre, max_iter=1, learning_rate_init=1e-12, random_state=1
    ).fit(X[y >= 5], y[y >= 5])
    np.testing.assert_allclose(tuned.coefs_[0], base.coefs_[0], atol=1e-9)
    fresh = MLPClassifier((16,), max_iter=1, random_state=1).fit(X[y >= 5], y[y >= 5])
    np.testing.assert_array_equal(tuned.coefs_[1].shape, fresh.coefs_[1].shape)
    with pytest.raises(ValueError, match="shares no layer"):
        MLPClassifier((8,), pretrained=pre).fit(X, y)
    with pytest.raises(ValueError, match="n_layers must be between 1 and 1"):
        Pretrained(base, n_layers=2)
