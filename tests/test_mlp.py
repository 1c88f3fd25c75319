"""Behaviour users rely on: MLPClassifier and MLPRegressor."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neural_network
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_curve
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state, compute_sample_weight

import sklearn_nn
from sklearn_nn import MLPClassifier, MLPRegressor, _training

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _classification(n=200, n_classes=3, dtype=np.float64):
    X, y = make_classification(
        n_samples=n, n_features=8, n_informative=5, n_classes=n_classes, random_state=0
    )
    return StandardScaler().fit_transform(X).astype(dtype), y


def _params_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# ----------------------------------------------------------------- parity


@pytest.mark.parametrize(
    "loader, class_name, margin",
    [
        (load_digits, "MLPClassifier", 0.02),
        (load_breast_cancer, "MLPClassifier", 0.02),
        (load_diabetes, "MLPRegressor", 0.05),
    ],
)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_mlp_score_parity_with_sklearn(loader, class_name, margin, solver):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    params = dict(hidden_layer_sizes=(50,), max_iter=200, random_state=0, solver=solver)
    ours = make_pipeline(StandardScaler(), getattr(sklearn_nn, class_name)(**params))
    theirs = make_pipeline(
        StandardScaler(), getattr(neural_network, class_name)(**params)
    )
    ours_score = ours.fit(X_train, y_train).score(X_test, y_test)
    theirs_score = theirs.fit(X_train, y_train).score(X_test, y_test)
    assert ours_score >= theirs_score - margin


# ---------------------------------------------------- training semantics


def test_partial_fit_equals_fit_over_same_batches():
    X, y = _classification()
    params = dict(batch_size=50, shuffle=False, random_state=0)
    fitted = MLPClassifier(max_iter=1, **params).fit(X, y)
    streamed = MLPClassifier(**params)
    for start in range(0, 200, 100):
        streamed.partial_fit(
            X[start : start + 100], y[start : start + 100], classes=[0, 1, 2]
        )
    assert streamed.t_ == fitted.t_ == 200
    assert _params_equal(
        fitted.coefs_ + fitted.intercepts_, streamed.coefs_ + streamed.intercepts_
    )


def test_warm_start_continues_from_previous_parameters():
    X, y = _classification()
    model = MLPClassifier(max_iter=5, warm_start=True, random_state=0).fit(X, y)
    first = [c.copy() for c in model.coefs_]
    model.fit(X, y)
    assert len(model.loss_curve_) == 10 and model.n_iter_ == 5
    cold = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    assert _params_equal(first, cold.coefs_)
    assert not _params_equal(model.coefs_, cold.coefs_)
    assert model.loss_curve_[5] < model.loss_curve_[0]


def test_early_stopping_restores_best_validation_parameters():
    X, y = _classification(n=300)
    model = MLPClassifier(
        hidden_layer_sizes=(30,),
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        max_iter=60,
        random_state=0,
    ).fit(X, y)
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert len(model.validation_loss_curve_) == model.n_iter_
    # replay the random stream: weight init, then the validation split
    rng = check_random_state(0)
    for coef, intercept in zip(model.coefs_, model.intercepts_, strict=True):
        rng.uniform(size=coef.shape)
        rng.uniform(size=intercept.shape)
    _, val_idx = train_test_split(
        np.arange(300), random_state=rng, test_size=0.1, stratify=y
    )
    assert model.score(X[val_idx], y[val_idx]) == model.best_validation_score_
    assert model.validation_scores_[-1] < model.best_validation_score_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_same_random_state_gives_bit_identical_model(dtype, solver):
    X, y = _classification(dtype=dtype)
    params = dict(
        solver=solver, max_iter=20, random_state=3, early_stopping=solver != "lbfgs"
    )
    if solver != "lbfgs":
        params["dropout"] = 0.3
    a = MLPClassifier(**params).fit(X, y)
    b = MLPClassifier(**params).fit(X, y)
    assert _params_equal(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    c = MLPClassifier(**{**params, "random_state": 4}).fit(X, y)
    assert not _params_equal(a.coefs_, c.coefs_)


def test_keyboard_interrupt_keeps_last_complete_epoch(monkeypatch):
    X, y = _classification()
    reference = MLPClassifier(max_iter=2, random_state=0).fit(X, y)
    run_epoch = _training.Trainer.run_epoch
    calls = []

    def interrupted_at_third_epoch(self, *args):
        calls.append(1)
        if len(calls) == 3:
            run_epoch(self, *args)  # half-trained parameters must not survive
            raise KeyboardInterrupt
        return run_epoch(self, *args)

    monkeypatch.setattr(_training.Trainer, "run_epoch", interrupted_at_third_epoch)
    with pytest.warns(UserWarning, match="interrupted"):
        model = MLPClassifier(max_iter=10, random_state=0).fit(X, y)
    assert model.n_iter_ == 2
    assert _params_equal(
        model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_
    )
    assert model.predict(X).shape == (200,)


def test_failed_fit_leaves_previous_model_usable():
    X, y = _classification()
    model = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    before = model.predict_proba(X)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X_bad, y)
    with pytest.raises(ValueError, match="features"):
        model.set_params(warm_start=True).fit(X[:, :3], y)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    assert model.n_features_in_ == 8


def test_divergence_raises_and_keeps_previous_model():
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    model = MLPRegressor(solver="sgd", max_iter=3, random_state=0).fit(X / 100, y / 100)
    before = model.predict(X)
    with pytest.raises(ValueError, match="diverged|non-finite"):
        MLPRegressor(
            solver="sgd",
            learning_rate_init=10.0,
            momentum=0.99,
            max_iter=50,
            random_state=0,
        ).fit(X * 1e3, y * 1e3)
    np.testing.assert_array_equal(model.predict(X), before)


# --------------------------------------------------------------- dtypes


def test_float32_trains_and_predicts_in_float32_without_copy(monkeypatch):
    X, y = _classification(dtype=np.float32)
    seen = []
    init = _training.Trainer.__init__

    def spy(self, network, params, state, data, **kwargs):
        seen.append(data.X)
        init(self, network, params, state, data, **kwargs)

    monkeypatch.setattr(_training.Trainer, "__init__", spy)
    model = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    assert seen[0] is X
    assert all(c.dtype == np.float32 for c in model.coefs_ + model.intercepts_)
    assert model.predict_proba(X).dtype == np.float32


def test_float32_agrees_with_float64():
    X, y = _classification()
    params = dict(solver="lbfgs", max_iter=30, random_state=0, hidden_layer_sizes=(10,))
    p64 = MLPClassifier(**params).fit(X, y).predict_proba(X)
    p32 = MLPClassifier(**params).fit(X.astype(np.float32), y).predict_proba(X)
    np.testing.assert_allclose(p32, p64, atol=2e-3)


# ---------------------------------------------------------- bad input


def test_bad_input_raises_clear_errors():
    X, y = _classification()
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier().fit(X, np.zeros(200))
    with pytest.raises(ValueError, match="(?i)negative"):
        MLPClassifier().fit(X, y, sample_weight=-np.ones(200))
    with pytest.raises(ValueError, match="inf"):
        MLPRegressor().fit(X, np.full(200, np.inf))
    model = MLPClassifier(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, y)
    streamed = MLPClassifier().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in"):
        streamed.partial_fit(X, y + 5)
    with pytest.raises(ValueError, match="differs"):
        streamed.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="poisson"):
        MLPRegressor(loss="poisson").fit(X, -np.ones(200))
    with pytest.raises(ValueError, match="l1"):
        MLPClassifier(solver="lbfgs", l1=0.1).fit(X, y)


def test_partial_fit_not_available_for_lbfgs():
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPRegressor(solver="sgd"), "partial_fit")


# ------------------------------------------------------------- targets


def test_multilabel_proba_strictly_inside_unit_interval():
    X, Y = make_multilabel_classification(n_samples=150, n_classes=4, random_state=0)
    model = MLPClassifier(max_iter=300, random_state=0).fit(X * 100, Y)
    proba = model.predict_proba(X * 1e4)
    assert proba.shape == (150, 4)
    assert np.all(proba > 0) and np.all(proba < 1)
    assert model.predict(X).shape == (150, 4)
    assert model.out_activation_ == "logistic"


def test_multioutput_regression_and_poisson():
    X, Y = make_regression(n_samples=200, n_features=6, n_targets=3, random_state=0)
    model = MLPRegressor(solver="lbfgs", max_iter=500, random_state=0).fit(X, Y / 100)
    assert model.predict(X).shape == (200, 3) and model.score(X, Y / 100) > 0.95
    rng = np.random.default_rng(0)
    counts = rng.poisson(np.exp(X[:, 0] / 3))
    poisson = MLPRegressor(loss="poisson", solver="lbfgs", random_state=0).fit(
        X, counts
    )
    assert poisson.out_activation_ == "exp"
    assert np.all(poisson.predict(X) > 0)
    assert np.corrcoef(poisson.predict(X), counts)[0, 1] > 0.7


def test_empty_hidden_layers_is_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = MLPClassifier(
        hidden_layer_sizes=(), solver="lbfgs", alpha=1.0, tol=1e-10, max_iter=2000
    ).fit(X, y)
    theirs = LogisticRegression(C=1.0, tol=1e-10, max_iter=2000).fit(X, y)
    assert ours.n_layers_ == 2
    np.testing.assert_allclose(ours.coefs_[0].ravel(), theirs.coef_.ravel(), atol=2e-3)


# --------------------------------------------------------------- weights


def test_sample_weight_equals_row_repetition_for_lbfgs():
    X, y = _classification(n=60)
    repeats = np.random.default_rng(0).integers(0, 3, 60)
    params = dict(
        solver="lbfgs", hidden_layer_sizes=(5,), random_state=0, tol=1e-12, max_iter=50
    )
    weighted = MLPClassifier(**params).fit(X, y, sample_weight=repeats)
    repeated = MLPClassifier(**params).fit(
        np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6, atol=1e-8
    )


def test_class_weight_multiplies_sample_weight():
    X, y = _classification()
    y = np.where(np.arange(200) < 150, 0, y % 2 + 1)
    params = dict(solver="lbfgs", hidden_layer_sizes=(5,), random_state=0, max_iter=30)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X, y)
    weighted = MLPClassifier(**params).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    np.testing.assert_array_equal(balanced.coefs_[0], weighted.coefs_[0])
    with pytest.raises(ValueError, match="balanced"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_l1_gives_exact_zeros_on_irrelevant_features():
    X, y = make_classification(
        n_samples=400,
        n_features=20,
        n_informative=3,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    params = dict(hidden_layer_sizes=(), learning_rate_init=0.01, random_state=0)
    sparse_model = MLPClassifier(l1=10.0, **params).fit(X, y)
    dense_model = MLPClassifier(l1=0.0, **params).fit(X, y)
    assert np.mean(sparse_model.coefs_[0][3:] == 0) > 0.8
    assert sparse_model.coefs_[0][1, 0] != 0  # the strongest informative feature
    assert np.all(dense_model.coefs_[0] != 0)


# --------------------------------------------------------- integration


def test_sparse_input_matches_dense():
    X, y = _classification()
    X[np.abs(X) < 0.8] = 0
    params = dict(max_iter=5, random_state=0, batch_size=32)
    dense = MLPClassifier(**params).fit(X, y)
    for fmt in ("csr", "csc"):
        sparse = MLPClassifier(**params).fit(sp.csr_matrix(X).asformat(fmt), y)
        np.testing.assert_allclose(
            sparse.coefs_[0], dense.coefs_[0], rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(
            sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-9
        )


def test_binary_decision_function_roc_and_calibration():
    X, y = _classification(n_classes=2)
    model = MLPClassifier(max_iter=50, random_state=0).fit(X, y)
    scores = model.decision_function(X)
    assert scores.shape == (200,)
    np.testing.assert_array_equal(model.predict(X), (scores > 0).astype(int))
    fpr, tpr, _ = roc_curve(y, scores)
    assert np.trapezoid(tpr, fpr) > 0.9
    calibrated = CalibratedClassifierCV(
        MLPClassifier(max_iter=50, random_state=0), cv=3
    )
    assert calibrated.fit(X, y).predict_proba(X).shape == (200, 2)


def test_pickle_clone_and_grid_search():
    X, y = _classification()
    model = MLPClassifier(max_iter=10, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.coefs_[0].base is restored._params  # views rebuilt, not copies
    assert clone(model).get_params() == model.get_params()
    search = GridSearchCV(
        MLPClassifier(max_iter=20, random_state=0),
        {"dropout": [0.0, 0.2], "alpha": [1e-4, 1e-2]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = _classification()
    MLPClassifier(max_iter=4, verbose=True, early_stopping=True, random_state=0).fit(
        X, y
    )
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Iteration")
    ]
    assert len(lines) == 4
    assert (
        "loss = " in lines[0]
        and "validation score = " in lines[0]
        and lines[0].endswith(" s")
    )


def test_max_iter_reached_warns():
    X, y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            MLPClassifier(max_iter=2).fit(X, y)
