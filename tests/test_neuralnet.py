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
    LogisticRegression,
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
    Dropout,
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


def test_batch_norm_one_step_running_statistics_and_gradient_mode():
    # one full-batch step: running = momentum * (0, 1) + (1 - momentum) * batch
    X, y = _data(n=50)
    net = NeuralNetClassifier(
        [Dense(4, "identity"), BatchNormalization(momentum=0.75)],
        batch_size=50,
        max_iter=1,
        shuffle=False,
        random_state=0,
        learning_rate_init=1e-300,  # the step leaves the weights as drawn
    ).fit(X, y)
    z = X @ net.coefs_[0] + net.intercepts_[0]
    state = net._network.state_views(net._state)[1]
    np.testing.assert_allclose(state["moving_mean"], 0.25 * z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        state["moving_variance"], 0.75 + 0.25 * z.var(axis=0), rtol=1e-12
    )


def test_frozen_batch_norm_runs_in_inference_mode():
    X, y = _data(n=41)
    # no batch statistics: lbfgs and a batch of one sample are fine
    frozen = [Dense(8, "identity"), BatchNormalization(trainable=False)]
    net = NeuralNetClassifier(frozen, solver="lbfgs", max_iter=5).fit(X, y)
    np.testing.assert_array_equal(net._state, net._network.init_state(X.dtype))
    NeuralNetClassifier(frozen, batch_size=20, max_iter=1).fit(X, y)


def test_layer_specs_refuse_bad_arguments():
    with pytest.raises(TypeError, match="use_bias must be a bool"):
        Dense(3, use_bias="no")
    with pytest.raises(TypeError, match="use_bias must be a bool"):
        Conv2D(3, use_bias=None)
    with pytest.raises(ValueError, match="Dropout rate"):
        Dropout("0.5")
    with pytest.raises(ValueError, match="epsilon must be a float > 0"):
        BatchNormalization(epsilon=np.inf)
    with pytest.raises(ValueError, match="momentum must be in"):
        BatchNormalization(momentum=1.0)
    assert Dense(3, trainable=np.False_).trainable is False
    X, y = _data()
    with pytest.raises(ValueError, match="clip_norm must be a float"):
        MLPClassifier(clip_norm=True).fit(X, y)


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
    # a fit that fails mid-training keeps the previous model, state included
    state, params = two._state.copy(), two._params.copy()

    def failing_second_epoch(self, *args):
        calls.append(1)
        if len(calls) == 2:  # this fit's second epoch
            raise RuntimeError("boom")
        return run_epoch(self, *args)

    calls.clear()
    monkeypatch.setattr(_training.Trainer, "run_epoch", failing_second_epoch)
    with pytest.raises(RuntimeError, match="boom"):
        two.set_params(warm_start=True).fit(X, y)
    np.testing.assert_array_equal(two._state, state)
    np.testing.assert_array_equal(two._params, params)


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
    fresh = MLPClassifier(
        (16,), max_iter=1, learning_rate_init=1e-12, random_state=1
    ).fit(X[y >= 5], y[y >= 5])
    # the output layer is new: drawn from random_state as without pretrained
    np.testing.assert_allclose(tuned.coefs_[1], fresh.coefs_[1], atol=1e-9)
    assert not np.allclose(tuned.coefs_[1], base.coefs_[1])
    assert not np.allclose(tuned.coefs_[0], fresh.coefs_[0])
    with pytest.raises(ValueError, match="shares no layer"):
        MLPClassifier((8,), pretrained=pre).fit(X, y)
    with pytest.raises(ValueError, match="n_layers must be an int between 1 and 1"):
        Pretrained(base, n_layers=2)
    with pytest.raises(ValueError, match="n_layers must be an int"):
        Pretrained(base, n_layers=True)
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    with pytest.raises(TypeError, match="fitted estimator of sklearn_nn"):
        Pretrained(SklearnMLP(max_iter=5).fit(X[:100], y[:100]))
    with pytest.raises(ValueError, match="no layer before its output layer"):
        Pretrained(LogisticRegression().fit(X[:100], y[:100]))


def test_pretrained_refuses_frozen_layers_it_cannot_fill():
    X, y = _digit_halves()
    stack = [Dense(6), Dropout(0.1), Dense(5), BatchNormalization()]
    base = NeuralNetClassifier(stack, max_iter=2, random_state=0).fit(X, y)
    pre = Pretrained(base)
    # a layer without weights may differ: the copy goes on past it
    changed = pre.layers(trainable=False)
    changed[1] = Dropout(0.3, trainable=False)
    new = NeuralNetClassifier(changed, pretrained=pre, max_iter=1).fit(X, y)
    np.testing.assert_array_equal(new._state, base._state)
    np.testing.assert_array_equal(new.coefs_[1], base.coefs_[1])
    # a frozen layer with weights that do not match would stay random: refused
    changed[3] = BatchNormalization(momentum=0.5, trainable=False)
    with pytest.raises(ValueError, match="Layer 3.*is frozen but pretrained"):
        NeuralNetClassifier(changed, pretrained=pre, max_iter=1).fit(X, y)
