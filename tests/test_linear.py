"""LogisticRegression: same optimum as scikit-learn's, solvers, L1, streaming."""

import numpy as np
import pytest
from _engine import objective_trainer
from numpy.testing import assert_array_equal
from sklearn import linear_model
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import LogisticRegression
from sklearn_nn._kernels.losses import sigmoid_log_loss, softmax_log_loss
from sklearn_nn.layers import Dense

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("weights", [None, "class_weight", "sample_weight"])
def test_lbfgs_matches_sklearn_optimum(loader, C, weights):
    X, y = _standardized(loader)
    params = dict(C=C, tol=1e-10, max_iter=10000)
    fit_params = {}
    if weights == "class_weight":
        params["class_weight"] = {label: 1.0 + label % 3 for label in np.unique(y)}
    elif weights == "sample_weight":
        fit_params["sample_weight"] = np.random.default_rng(0).uniform(0.2, 3, len(y))
    ours = LogisticRegression(**params).fit(X, y, **fit_params)
    theirs = linear_model.LogisticRegression(**params).fit(X, y, **fit_params)
    assert ours.coef_.shape == theirs.coef_.shape
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(
        ours.intercept_, theirs.intercept_, rtol=1e-4, atol=1e-4 * scale
    )
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), atol=1e-5
    )


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_reach_lbfgs_accuracy(loader, solver):
    X, y = _standardized(loader)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    reference = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    model = LogisticRegression(solver=solver, max_iter=100, random_state=0)
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) >= reference.score(X_test, y_test) - 0.01


def test_l1_gives_exact_zeros_on_irrelevant_features():
    X, y = make_classification(
        n_samples=500,
        n_features=30,
        n_informative=4,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    model = LogisticRegression(
        C=0.05, l1_ratio=1.0, solver="adam", max_iter=200, random_state=0
    ).fit(X, y)
    assert np.mean(model.coef_[0, 4:] == 0) > 0.8
    assert np.count_nonzero(model.coef_[0, :4]) >= 2
    with pytest.raises(ValueError, match="L1"):
        LogisticRegression(l1_ratio=0.5).fit(X, y)


@pytest.mark.parametrize(
    "loss_kernel, n_outputs", [(softmax_log_loss, 3), (sigmoid_log_loss, 1)]
)
def test_loss_gradient_with_l2_and_weights_matches_finite_differences(
    loss_kernel, n_outputs
):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 5))
    labels = rng.integers(0, 3, 12)
    Y = np.eye(3)[labels] if n_outputs == 3 else (labels[:, None] > 0).astype(float)
    loss = "softmax_log_loss" if n_outputs == 3 else "sigmoid_log_loss"
    sw = rng.uniform(0.5, 2, 12)
    trainer = objective_trainer(
        [Dense(n_outputs, "identity")], (5,), X, Y, sw, alpha=0.7, loss=loss
    )
    x0 = rng.standard_normal(trainer.params.size)
    _, grad = trainer.objective(x0)
    h = 1e-6
    expected = np.array(
        [
            (trainer.objective(x0 + h * e)[0] - trainer.objective(x0 - h * e)[0])
            / (2 * h)
            for e in np.eye(x0.size)
        ]
    )
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-9)


def test_partial_fit_multinomial_streaming():
    X, y = _standardized(load_digits)
    model = LogisticRegression(solver="adam", random_state=0)
    for _ in range(5):
        for start in range(0, len(y), 300):
            model.partial_fit(
                X[start : start + 300], y[start : start + 300], classes=np.arange(10)
            )
    assert model.coef_.shape == (10, 64)
    assert model.score(X, y) > 0.95
    assert not hasattr(LogisticRegression(), "partial_fit")  # lbfgs


def test_binary_shapes_and_no_intercept():
    X, y = _standardized(load_breast_cancer)
    model = LogisticRegression(fit_intercept=False).fit(X, y)
    assert model.coef_.shape == (1, 30)
    np.testing.assert_array_equal(model.intercept_, [0.0])
    assert model.decision_function(X).shape == (569,)
    theirs = linear_model.LogisticRegression(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(model.coef_, theirs.coef_, rtol=1e-3, atol=1e-4)
    assert model.n_iter_.shape == (1,)


def test_pipeline_grid_search_and_cross_validation():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(), LogisticRegression(solver="adam", random_state=0)
    )
    search = GridSearchCV(
        pipe,
        {
            "logisticregression__C": [0.1, 1.0],
            "logisticregression__l1_ratio": [0.0, 0.5],
        },
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.95
    assert (
        cross_val_score(
            make_pipeline(StandardScaler(), LogisticRegression()), X, y
        ).mean()
        > 0.95
    )


def _l1_problem():
    """500 x 40 standardised, 4 informative features, and saga's L1 solution."""
    X, y = make_classification(
        n_samples=500, n_features=40, n_informative=4, n_redundant=0, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    saga = linear_model.LogisticRegression(
        l1_ratio=1.0, C=0.1, solver="saga", max_iter=5000, tol=1e-10
    ).fit(X, y)
    return X, y, saga


def test_stochastic_solvers_minimise_scikit_learns_objective():
    # the penalty is the objective's penalty / total weight at every step, not per
    # batch (which would double it here, with 2 batches): adam, run long, lands on
    # saga's L1 solution
    X, y, saga = _l1_problem()
    ours = LogisticRegression(
        l1_ratio=1.0,
        C=0.1,
        solver="adam",
        batch_size=250,
        max_iter=3000,
        tol=1e-9,
        n_iter_no_change=50,
        learning_rate_init=0.002,
        random_state=0,
    ).fit(X, y)
    # saga at C=0.05 (the doubled penalty) differs from saga at C=0.1 by 0.31
    np.testing.assert_allclose(ours.coef_, saga.coef_, atol=0.01)
    assert abs((ours.coef_ == 0).sum() - (saga.coef_ == 0).sum()) <= 2


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_sgd_l1_with_defaults_finds_sagas_support(random_state):
    # the cumulative L1 penalty, scaled for momentum: with the default schedule and
    # stopping rule, sgd zeroes exactly the coefficients saga zeroes (a per-step
    # soft-threshold left every one of them non-zero here)
    X, y, saga = _l1_problem()
    ours = LogisticRegression(
        l1_ratio=1.0, C=0.1, solver="sgd", random_state=random_state
    ).fit(X, y)
    assert (saga.coef_ == 0).sum() > 10
    assert_array_equal(ours.coef_ == 0, saga.coef_ == 0)
    np.testing.assert_allclose(ours.coef_, saga.coef_, atol=0.05)


def test_one_streaming_pass_matches_sgdclassifier():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    ours = LogisticRegression(solver="adam", random_state=0)
    theirs = linear_model.SGDClassifier(loss="log_loss", random_state=0)
    for start in range(0, len(X_train), 200):
        chunk = slice(start, start + 200)
        ours.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
        theirs.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
    assert ours.score(X_test, y_test) >= theirs.score(X_test, y_test)
