"""Defects a fuzz of 7,500 fits found (issue 15), each pinned by a test that failed
before its fix: indexing y, predictions after set_params, weights, partial_fit's
classes, divergence, messages."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sklearn_nn import (
    CNNClassifier,
    CNNRegressor,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    _training,
)
from sklearn_nn.exceptions import DivergenceWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CLASSIFIERS = [
    MLPClassifier((8,), max_iter=5, random_state=0),
    CNNClassifier(
        conv_filters=(2,),
        hidden_layer_sizes=(),
        input_shape=(2, 2),
        max_iter=5,
        random_state=0,
    ),
    LogisticRegression(solver="adam", max_iter=5, random_state=0),
]
REGRESSORS = [
    MLPRegressor((8,), max_iter=5, random_state=0),
    CNNRegressor(
        conv_filters=(2,),
        hidden_layer_sizes=(),
        input_shape=(2, 2),
        max_iter=5,
        random_state=0,
    ),
]


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    return X, np.array([0, 1] * 30), X[:, 0]


@pytest.mark.parametrize(
    "est", CLASSIFIERS + REGRESSORS, ids=lambda e: type(e).__name__
)
@pytest.mark.parametrize("container", [list, tuple])
def test_early_stopping_indexes_the_validated_y(est, container):
    X, y, yr = _data()
    target = y if est in CLASSIFIERS else yr
    est = est.set_params(early_stopping=True)
    as_array = est.fit(X, target).validation_scores_
    assert est.fit(X, container(target)).validation_scores_ == as_array


def test_early_stopping_with_a_pandas_series_uses_positions():
    pd = pytest.importorskip("pandas", reason="pandas is not a dependency")
    X, y, _ = _data()
    series = pd.Series(y, index=np.random.default_rng(1).permutation(60) + 100)
    est = MLPClassifier((8,), early_stopping=True, max_iter=5, random_state=0)
    assert est.fit(X, series).validation_scores_ == est.fit(X, y).validation_scores_


def test_predictions_come_from_the_fitted_model_only():
    X, y, yr = _data()
    for est in (MLPRegressor(max_iter=5, random_state=0), REGRESSORS[1]):
        fitted = est.fit(np.abs(X), yr)
        before = fitted.predict(np.abs(X))
        np.testing.assert_array_equal(
            fitted.set_params(loss="poisson").predict(np.abs(X)), before
        )
    cnn = CNNClassifier(conv_filters=(2,), hidden_layer_sizes=(), max_iter=2)
    images = X.reshape(60, 2, 2)
    cnn.fit(images, y)
    before = cnn.predict(images)
    np.testing.assert_array_equal(
        cnn.set_params(data_format="channels_first").predict(images), before
    )
    logreg = LogisticRegression(fit_intercept=False).fit(X, y)
    logreg.set_params(fit_intercept=True)
    restored = pickle.loads(pickle.dumps(logreg))
    np.testing.assert_array_equal(restored.intercept_, 0)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: 0, 1: 0}, "zero for every sample"),
        ({0: -1, 1: 1}, "negative values"),
        ({0: np.nan, 1: 1}, "NaN or infinity"),
        ({0: np.inf, 1: 1}, "NaN or infinity"),
    ],
)
def test_class_weight_is_checked_like_sample_weight(solver, class_weight, message):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=message):
        MLPClassifier(solver=solver, class_weight=class_weight).fit(X, y)
    with pytest.raises(ValueError, match="at least one non-zero|zero for every"):
        MLPClassifier(solver=solver).fit(X, y, sample_weight=np.zeros(60))


@pytest.mark.parametrize(
    "est",
    [MLPClassifier(), LogisticRegression(solver="sgd")],
    ids=lambda e: type(e).__name__,
)
def test_first_partial_fit_refuses_labels_outside_classes(est):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"classes array\(\[5, 6\]\) that are not in"):
        est.partial_fit(X, y + 5, classes=[0, 1])


@pytest.mark.parametrize(
    "est, target",
    [
        (MLPRegressor(solver="lbfgs"), 1e300),
        (MLPRegressor(solver="lbfgs", alpha=1e300), 1.0),
    ],
)
def test_non_finite_lbfgs_objective_is_divergence(est, target):
    X, y, yr = _data()
    with pytest.raises(ValueError, match="Training diverged"):
        est.fit(X, y if target is None else yr * target)


def test_float32_outputs_that_overflow_are_divergence():
    X, _, yr = _data()
    est = MLPRegressor(
        (1,), activation="identity", solver="sgd", momentum=0, max_iter=1
    )
    with pytest.raises(ValueError, match="non-finite outputs in float32"):
        est.fit(X.astype(np.float32), yr * 1e30)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_on_unscaled_data_is_signalled(solver):
    X, y, _ = _data()
    est = MLPClassifier(
        solver=solver, learning_rate_init=10, max_iter=20, random_state=0
    )
    with pytest.warns(DivergenceWarning, match="learning_rate_init=10"):
        est.fit(X * 1e3, y)
    # a converging fit on the same data, scaled, says nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        MLPClassifier(solver=solver, max_iter=20, random_state=0).fit(X, y)


@pytest.mark.parametrize(
    "sizes", [(np.nan,), (np.inf,), ("a",), (None,), [[2, 3]], (2.7,), (True,)]
)
def test_bad_layer_sizes_get_a_clear_message(sizes):
    X, y, _ = _data()
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive ints"):
        MLPClassifier(hidden_layer_sizes=sizes, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="conv_filters must hold positive ints"):
        CNNClassifier(conv_filters=sizes, max_iter=2).fit(X, y)


def test_messages_name_the_problem():
    X, y, yr = _data()
    est = MLPClassifier(max_iter=2).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="'max_iter' parameter"):
        est.set_params(max_iter=2.5).partial_fit(X, y)
    with pytest.raises(ValueError, match="y must be numeric for a regressor"):
        MLPRegressor().fit(X, np.array(["a"] * 60))
    with pytest.raises(ValueError, match="too large for float32"):
        MLPRegressor().fit(X.astype(np.float32), yr * 1e300)
    with pytest.raises(
        TypeError, match=r"mixes labels of different types \(int, str\)"
    ):
        MLPClassifier().fit(X, np.array([1, "a"] * 30, dtype=object))
    # weight only on 2 rows, which the random 10% split does not hold out
    weights = np.zeros(60)
    weights[:2] = 1
    with pytest.raises(ValueError, match="held out for early stopping.*weight 0"):
        MLPClassifier(early_stopping=True, random_state=0).fit(
            X, y, sample_weight=weights
        )


def test_interrupted_lbfgs_reports_its_iterations(monkeypatch):
    X, y, _ = _data()
    objective = _training.Trainer.objective
    calls = []

    def interrupted(self, flat):
        calls.append(1)
        if len(calls) == 12:
            raise KeyboardInterrupt
        return objective(self, flat)

    monkeypatch.setattr(_training.Trainer, "objective", interrupted)
    with pytest.warns(UserWarning, match="interrupted"):
        est = MLPClassifier(solver="lbfgs", max_iter=100).fit(X, y)
    assert est.n_iter_ > 0


def test_logistic_regression_like_scikit_learns():
    X, y, _ = _data()
    # C=inf: no penalty (what scikit-learn recommends now that penalty is deprecated)
    free = LogisticRegression(C=np.inf, max_iter=1000).fit(X, y)
    weak = LogisticRegression(C=1e10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(free.coef_, weak.coef_, rtol=1e-4, atol=1e-6)
    # max_iter=0: the zero model, with a ConvergenceWarning
    for solver in ("lbfgs", "sgd"):
        with pytest.warns(ConvergenceWarning, match="max_iter=0"):
            zero = LogisticRegression(max_iter=0, solver=solver).fit(X, y)
        np.testing.assert_array_equal(zero.coef_, 0)
    # sparsify / densify after L1
    l1 = LogisticRegression(
        solver="sgd", l1_ratio=1.0, C=0.05, max_iter=50, random_state=0
    ).fit(X, y)
    dense_scores = l1.decision_function(X)
    l1.sparsify()
    assert sp.issparse(l1.coef_)
    np.testing.assert_array_equal(l1.decision_function(X), dense_scores)
    assert isinstance(l1.densify().coef_, np.ndarray)


def test_no_divergence_signal_when_zeros_are_already_right():
    # all-zero or zero-inflated targets: predicting zeros is (near) perfect, so
    # there is no scale to diverge from, and a good fit is not flagged
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 5))
    zero_inflated = np.r_[np.zeros(600), 100 * rng.standard_normal(400)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        MLPRegressor(max_iter=5, random_state=0).fit(X[:200], np.zeros(200))
        MLPRegressor(solver="lbfgs", max_iter=5).fit(X[:200], np.zeros(200))
        MLPRegressor(max_iter=5, random_state=0).fit(X, zero_inflated)


@pytest.mark.parametrize("n, n_classes", [(20, 3), (1, 1)])
def test_early_stopping_split_too_small_says_what_to_do(n, n_classes):
    X = np.random.default_rng(0).normal(size=(n, 3))
    y = np.arange(n) % max(n_classes, 1)
    est = (
        MLPRegressor(early_stopping=True)
        if n_classes == 1
        else MLPClassifier(early_stopping=True)
    )
    with pytest.raises(ValueError, match="early_stopping cannot hold out.*X_val"):
        est.fit(X, y)
