"""Pickling: the version that fitted a model is recorded and checked on load."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import sklearn_nn
from sklearn_nn import MLPClassifier, _persistence
from sklearn_nn.exceptions import InconsistentVersionWarning


@pytest.fixture
def fitted():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y), X


def test_same_version_loads_silently(fitted):
    model, X = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(model))
    assert loaded._sklearn_nn_version == sklearn_nn.__version__
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_another_version_warns_and_names_both(fitted, monkeypatch):
    model, X = fitted
    data = pickle.dumps(model)
    monkeypatch.setattr(_persistence, "__version__", "99.0")
    with pytest.warns(
        InconsistentVersionWarning, match="version 0.1.0 when using version 99.0"
    ) as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert (warning.estimator_name, warning.original_version) == (
        "MLPClassifier",
        sklearn_nn.__version__,
    )
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_unfitted_estimators_record_no_version():
    state = MLPClassifier().__getstate__()
    assert "_sklearn_nn_version" not in state


def test_truncated_pickle_is_the_loaders_error(fitted):
    model, _ = fitted
    data = pickle.dumps(model)
    with pytest.raises((pickle.UnpicklingError, EOFError, ValueError)):
        pickle.loads(data[: len(data) // 2])
