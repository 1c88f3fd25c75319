"""Watching and steering training: scikit-learn's callbacks, lbfgs verbose, a
validation set of one's own, the early-stopping metric, LossCurveDisplay."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import (
    CNNClassifier,
    LogisticRegression,
    LossCurveDisplay,
    MLPClassifier,
    MLPRegressor,
    _training,
)

callback = pytest.importorskip(
    "sklearn.callback", reason="scikit-learn's callback API needs scikit-learn >= 1.9"
)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class Recorder:
    """Counts epoch tasks; asks to stop at ``stop_at``; keeps fitted estimators."""

    def __init__(self, stop_at=None, keep_fitted=False):
        self.stop_at, self.keep_fitted = stop_at, keep_fitted
        self.begun, self.ended, self.fitted, self.torn_down = [], [], [], 0

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        self.torn_down += 1

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.begun.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.parent is None:  # the root task
            return False
        self.ended.append(context.task_name)
        if self.keep_fitted:
            self.fitted.append(fitted_estimator)
        return self.stop_at is not None and len(self.ended) >= self.stop_at


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_callback_sees_one_task_per_epoch_or_iteration(solver):
    X, y = _digits()
    recorder = Recorder()
    model = MLPClassifier((16,), solver=solver, max_iter=7, random_state=0)
    model.set_callbacks(recorder).fit(X, y)
    # lbfgs: one task per iteration, plus the one begun after its last step
    expected = model.n_iter_ + (solver == "lbfgs")
    assert len(recorder.ended) == expected and len(recorder.begun) == expected + 1
    assert recorder.torn_down == 1
    assert not hasattr(model, "_callback_fit_ctx")


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_stop_request_keeps_that_epochs_model(solver):
    X, y = _digits()
    params = dict(hidden_layer_sizes=(16,), solver=solver, random_state=0)
    stopped = MLPClassifier(max_iter=20, **params)
    stopped.set_callbacks(Recorder(stop_at=3)).fit(X, y)
    assert stopped.n_iter_ == 3
    reference = MLPClassifier(max_iter=3, **params).fit(X, y)
    np.testing.assert_array_equal(stopped._params, reference._params)


def test_fitted_estimator_is_the_model_of_each_epoch():
    X, y = _digits()
    recorder = Recorder(keep_fitted=True)
    model = LogisticRegression(solver="adam", max_iter=4, random_state=0)
    model.set_callbacks(recorder).fit(X, y)
    scores = [fitted.score(X, y) for fitted in recorder.fitted]
    assert len(set(scores)) > 1  # each epoch's own model
    np.testing.assert_array_equal(recorder.fitted[-1].coef_, model.coef_)
    third = clone(model).set_params(max_iter=3).fit(X, y)
    np.testing.assert_array_equal(recorder.fitted[2].coef_, third.coef_)


def test_scoring_monitor_and_progress_bar_in_pipeline_and_grid_search():
    pytest.importorskip("rich", reason="ProgressBar draws with rich")
    X, y = _digits()
    monitor = callback.ScoringMonitor(scoring="accuracy")
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=3))
    pipe[-1].set_callbacks(monitor)
    pipe.fit(X, y)
    scores = [row["accuracy"] for row in monitor.get_logs().data]
    assert len(scores) >= 3 and all(0 <= s <= 1 for s in scores)
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=3)),
        {"mlpclassifier__alpha": [1e-4, 1e-2]},
        cv=2,
        n_jobs=2,
    )
    grid.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    grid.fit(X, y)
    assert grid.best_estimator_[-1].n_iter_ == 3


def test_failed_fit_with_callbacks_keeps_model_and_tears_down(monkeypatch):
    X, y = _digits()
    recorder = Recorder()
    model = MLPRegressor((8,), max_iter=5, random_state=0).fit(X, y)
    params = model._params.copy()
    run_epoch = _training.Trainer.run_epoch

    def failing_second_epoch(self, *args):
        if len(recorder.ended) == 1:
            raise RuntimeError("boom")
        return run_epoch(self, *args)

    monkeypatch.setattr(_training.Trainer, "run_epoch", failing_second_epoch)
    model.set_params(warm_start=True).set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(X, y)
    np.testing.assert_array_equal(model._params, params)
    assert recorder.torn_down == 1 and not hasattr(model, "_callback_fit_ctx")
    with pytest.raises(TypeError, match="FitCallback"):
        model.set_callbacks("progress")


def test_lbfgs_verbose_prints_one_line_per_iteration(capsys):
    X, y = _digits()
    model = LogisticRegression(verbose=1, max_iter=5).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == model.n_iter_[0]
    assert lines[0].startswith("Iteration 1, loss = ") and "gradient norm" in lines[0]


def test_early_stopping_on_users_validation_set():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    X_train, y_train, X_val, y_val = X[:900], y[:900], X[900:1300], y[900:1300]
    model = MLPClassifier(
        (16,), early_stopping=True, n_iter_no_change=3, max_iter=40, random_state=0
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    # the scores are the validation set's, and the kept model is its best epoch's
    assert model.score(X_val, y_val) == pytest.approx(max(model.validation_scores_))
    assert model.best_validation_score_ == max(model.validation_scores_)
    # the whole training set is trained on: no fraction held out
    assert model.t_ == model.n_iter_ * 900
    # without early stopping the curves are recorded all the same
    watched = MLPClassifier((16,), max_iter=5, random_state=0)
    watched.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(watched.validation_scores_) == 5 and watched.best_loss_ is not None


def test_validation_set_through_metadata_routing():
    from sklearn import config_context

    X, y = load_digits(return_X_y=True)
    X = X / 16
    with config_context(enable_metadata_routing=True):
        model = MLPClassifier((8,), max_iter=3, random_state=0)
        model.set_fit_request(X_val=True, y_val=True)
        grid = GridSearchCV(model, {"alpha": [1e-4, 1e-2]}, cv=2)
        grid.fit(X[:600], y[:600], X_val=X[600:800], y_val=y[600:800])
    assert len(grid.best_estimator_.validation_scores_) == 3


@pytest.mark.parametrize(
    "scoring", [None, "loss", "neg_log_loss", make_scorer(accuracy_score)]
)
def test_early_stopping_scoring_choices(scoring):
    X, y = _digits()
    model = MLPClassifier(
        (16,), early_stopping=True, scoring=scoring, max_iter=6, random_state=0
    ).fit(X, y)
    scores = np.array(model.validation_scores_)
    losses = np.array(model.validation_loss_curve_)
    if scoring in ("loss", "neg_log_loss"):
        # both are minus the validation log loss
        np.testing.assert_allclose(scores, -losses, rtol=1e-6)
    else:
        assert np.all((scores >= 0) & (scores <= 1))
        default = clone(model).set_params(scoring=None).fit(X, y)
        np.testing.assert_allclose(scores, default.validation_scores_)


def test_validation_bad_input_is_refused_before_training():
    X, y = _digits()
    model = MLPClassifier((8,), max_iter=2)
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        model.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="features"):
        model.fit(X, y, X_val=X[:, :10], y_val=y)
    with pytest.raises(ValueError, match="not among the training classes"):
        model.fit(X[y < 5], y[y < 5], X_val=X, y_val=y)
    with pytest.raises(ValueError, match="not a valid scoring value|scoring"):
        MLPClassifier(early_stopping=True, scoring="no_such_score").fit(X, y)
    with pytest.raises(ValueError, match="y_val has 1 outputs, y has 2"):
        MLPRegressor(max_iter=1).fit(X, np.c_[y, y], X_val=X, y_val=y)


def test_cnn_warns_when_it_guesses_a_one_row_image():
    X, y = _digits()
    with pytest.warns(UserWarning, match=r"n_features=60 is not a perfect square"):
        CNNClassifier(conv_filters=(2,), hidden_layer_sizes=(), max_iter=1).fit(
            X[:, :60], y
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        CNNClassifier(conv_filters=(2,), hidden_layer_sizes=(), max_iter=1).fit(X, y)


def test_html_repr_links_to_the_estimators_page():
    assert (
        MLPClassifier()
        ._get_doc_link()
        .endswith("/generated/sklearn_nn.MLPClassifier.html")
    )
    assert "generated/sklearn_nn.MLPRegressor.html" in MLPRegressor()._repr_html_()


def test_loss_curve_display():
    pytest.importorskip("matplotlib", reason="LossCurveDisplay draws with matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, y = _digits()
    model = MLPClassifier((8,), early_stopping=True, max_iter=8, random_state=0)
    display = LossCurveDisplay.from_estimator(model.fit(X, y))
    lines = display.ax_.get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), model.loss_curve_)
    np.testing.assert_array_equal(lines[1].get_ydata(), model.validation_loss_curve_)
    best = int(np.argmax(model.validation_scores_)) + 1
    assert lines[2].get_xdata()[0] == best  # the kept epoch's marker
    assert display.score_ax_ is not None and display.figure_ is display.ax_.figure
    with pytest.raises(ValueError, match="lbfgs"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(X, y))


def test_partial_fit_appends_validation_scores():
    X, y = _digits()
    model = MLPClassifier((8,), random_state=0)
    for _ in range(3):
        model.partial_fit(
            X[:400], y[:400], classes=np.arange(10), X_val=X[400:], y_val=y[400:]
        )
    assert len(model.validation_scores_) == len(model.validation_loss_curve_) == 3
    assert model.validation_scores_[-1] == pytest.approx(model.score(X[400:], y[400:]))


def test_loss_curve_display_aligns_curves_that_began_later():
    pytest.importorskip("matplotlib", reason="LossCurveDisplay draws with matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, y = _digits()
    model = MLPClassifier(
        (8,),
        early_stopping=True,
        warm_start=True,
        max_iter=5,
        n_iter_no_change=50,
        random_state=0,
    )
    model.fit(X, y).fit(X, y)  # loss_curve_ goes on: 10; validation restarts: 5
    display = LossCurveDisplay.from_estimator(model)
    assert list(display.ax_.get_lines()[1].get_xdata()) == [6, 7, 8, 9, 10]
    best = 5 + int(np.argmax(model.validation_scores_)) + 1
    assert display.best_epoch == best
    # partial_fit: validation from the second call on; a call without X_val keeps
    # the curves, with NaN for its epoch, so that they stay aligned
    streamed = MLPClassifier((8,), random_state=0)
    streamed.partial_fit(X, y, classes=np.arange(10))
    streamed.partial_fit(X, y, X_val=X, y_val=y)
    streamed.partial_fit(X, y)
    assert len(streamed.validation_scores_) == 2
    assert np.isnan(streamed.validation_scores_[1])
    display = LossCurveDisplay.from_estimator(streamed)
    assert list(display.ax_.get_lines()[1].get_xdata()) == [2, 3]
