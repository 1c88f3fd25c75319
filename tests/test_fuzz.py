"""A bounded fuzz of every estimator (issue 15): whatever the parameters, shapes,
dtypes, non-finite values, sparsity, weights and labels, a fit either gives a model
whose predictions are finite and of the right shape, or raises a ValueError or
TypeError from our validation or scikit-learn's; nothing else.

CI runs ``SKLEARN_NN_FUZZ_EXAMPLES`` examples (default 200) from a fixed seed
(``derandomize``); run more locally with the variable set.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import is_classifier

from sklearn_nn import (
    CNNClassifier,
    CNNRegressor,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
)
from sklearn_nn.layers import Activation, BatchNormalization, Dense, Dropout

N_EXAMPLES = int(os.environ.get("SKLEARN_NN_FUZZ_EXAMPLES", "200"))
#: (outcome -> count) of this run, printed by the test, for the closing figures
OUTCOMES = {}


def _estimator(draw):
    kind = draw(
        st.sampled_from(["mlp", "mlp_r", "cnn", "cnn_r", "logreg", "net", "net_r"])
    )
    solver = draw(st.sampled_from(["adam", "sgd", "lbfgs"]))
    shared = dict(
        solver=solver,
        max_iter=draw(st.integers(1, 4)),
        random_state=0,
        early_stopping=draw(st.booleans()) and solver != "lbfgs",
        batch_size=draw(st.sampled_from(["auto", 1, 3, 16])),
        learning_rate_init=draw(st.sampled_from([1e-3, 1e-1, 10.0, 1e3])),
        n_iter_no_change=2,
    )
    if kind == "logreg":
        return LogisticRegression(
            C=draw(st.sampled_from([1e-300, 0.1, 1.0, np.inf])),
            l1_ratio=draw(st.sampled_from([0.0, 0.5])) if solver != "lbfgs" else 0.0,
            **shared,
        )
    shared["alpha"] = draw(st.sampled_from([0.0, 1e-4, 1e3]))
    dropout = draw(st.sampled_from([0.0, 0.3])) if solver != "lbfgs" else 0.0
    if kind.startswith("mlp"):
        cls = MLPClassifier if kind == "mlp" else MLPRegressor
        sizes = draw(st.sampled_from([(), (3,), (4, 2)]))
        activation = draw(st.sampled_from(["relu", "tanh", "logistic", "gelu"]))
        return cls(sizes, activation=activation, dropout=dropout, **shared)
    if kind.startswith("cnn"):
        cls = CNNClassifier if kind == "cnn" else CNNRegressor
        return cls(
            conv_filters=(2,), hidden_layer_sizes=(3,), dropout=dropout, **shared
        )
    cls = NeuralNetClassifier if kind == "net" else NeuralNetRegressor
    layers = [Dense(4, "identity"), Activation("relu")]
    if solver != "lbfgs" and draw(st.booleans()):
        layers.insert(1, BatchNormalization())
    if dropout:
        layers.append(Dropout(dropout))
    return cls(layers, clip_norm=draw(st.sampled_from([None, 1.0])), **shared)


@st.composite
def fit_cases(draw):
    est = _estimator(draw)
    n = draw(st.integers(1, 30))
    d = draw(st.integers(1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3, 1e30]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    X = (rng.standard_normal((n, d)) * scale).astype(dtype)
    if draw(st.integers(0, 9)) == 0:
        X[rng.integers(n), rng.integers(d)] = draw(st.sampled_from([np.nan, np.inf]))
    if draw(st.booleans()) and not isinstance(est, (CNNClassifier, CNNRegressor)):
        X = sp.csr_matrix(np.where(rng.random((n, d)) < 0.5, X, 0))
    if is_classifier(est):
        n_classes = draw(st.integers(1, 4))
        y = rng.integers(0, n_classes, n)
        if draw(st.booleans()):
            y = np.array(["a", "b", "c", "d"])[y]
    else:
        y = rng.standard_normal(n) * draw(st.sampled_from([1.0, 1e3, 1e300]))
    weights = None
    if draw(st.booleans()):
        weights = rng.uniform(0, 2, n) * (rng.random(n) < 0.8)
    return est, X, y, weights


@settings(
    max_examples=N_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=fit_cases())
def test_fuzz_fit_gives_a_model_or_a_clear_error(case):
    est, X, y, weights = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y, sample_weight=weights)
        except (ValueError, TypeError) as exc:
            key = f"refused: {type(exc).__name__}: {str(exc)[:40]}"
            OUTCOMES[key] = OUTCOMES.get(key, 0) + 1
            return
        predictions = est.predict(X)
    n = X.shape[0]
    expected = (
        (n,)
        if getattr(est, "n_outputs_", 1) == 1 or is_classifier(est)
        else (n, est.n_outputs_)
    )
    if is_classifier(est):
        assert predictions.shape[0] == n
        assert set(np.unique(predictions)) <= set(est.classes_)
        proba = est.predict_proba(X)
        assert np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-4)
    else:
        assert predictions.shape == expected
        assert np.all(np.isfinite(predictions))
    OUTCOMES["fitted"] = OUTCOMES.get("fitted", 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report_outcomes():
    yield
    if OUTCOMES:
        print("\nfuzz outcomes:", dict(sorted(OUTCOMES.items(), key=lambda kv: -kv[1])))
