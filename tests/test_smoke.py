"""A quick pass over every estimator: what CI also runs on the declared minimum
versions of numpy, scipy, scikit-learn and numba (``.ci/run``)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

from sklearn_nn import (
    CNNClassifier,
    CNNRegressor,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
    RNNClassifier,
    RNNRegressor,
)
from sklearn_nn.layers import (
    Activation,
    BatchNormalization,
    Dense,
    GlobalAveragePooling1D,
    PositionalEncoding,
    TransformerEncoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(learning_rate_init=0.01, max_iter=30, batch_size=50, random_state=0)
ESTIMATORS = [
    MLPClassifier((16,), **FAST),
    MLPRegressor((16,), solver="lbfgs", max_iter=100, random_state=0),
    CNNClassifier(conv_filters=(4,), hidden_layer_sizes=(16,), dropout=0.0, **FAST),
    CNNRegressor(conv_filters=(4,), hidden_layer_sizes=(16,), dropout=0.0, **FAST),
    NeuralNetClassifier(
        [Dense(16, "identity"), BatchNormalization(), Activation("relu")], **FAST
    ),
    NeuralNetRegressor([Dense(8, "tanh")], **FAST),
    LogisticRegression(max_iter=200),
    # float32 sequences: the fastmath overloads and the recurrent/attention kernels
    RNNClassifier("lstm", (16,), input_shape=(8, 8), **FAST),
    RNNRegressor("gru", (16,), bidirectional=True, input_shape=(8, 8), **FAST),
    NeuralNetClassifier(
        [
            PositionalEncoding(),
            TransformerEncoder(2, ff_units=16),
            GlobalAveragePooling1D(),
        ],
        input_shape=(8, 8),
        **FAST,
    ),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_smoke_fit_predict_clone_pickle(estimator):
    X, y = load_digits(return_X_y=True)
    X = (X[:400] / 16).astype(np.float32)
    target = (
        y[:400]
        if hasattr(estimator, "classes_")
        or "Classif" in type(estimator).__name__
        or isinstance(estimator, LogisticRegression)
        else y[:400] / 9.0
    )
    fitted = clone(estimator).fit(X, target)
    predictions = fitted.predict(X)
    assert predictions.shape == (400,) and np.all(np.isfinite(predictions))
    assert fitted.score(X, target) > 0.5
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), predictions)


def test_smoke_callbacks_follow_the_scikit_learn_version():
    try:
        import sklearn.callback  # noqa: F401
    except ImportError:  # scikit-learn < 1.9: no callback API, training unchanged
        assert not hasattr(MLPClassifier(), "set_callbacks")
    else:
        assert hasattr(MLPClassifier(), "set_callbacks")


def test_smoke_prune_and_quantize():
    # the int8 kernel is an LLVM intrinsic: it must compile on the oldest numba too
    from sklearn_nn.compression import prune, quantize

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    model = MLPClassifier((32,), max_iter=20, random_state=0).fit(X, y)
    small = quantize(prune(model, 0.5), "int8")
    assert small.score(X, y) == pytest.approx(model.score(X, y), abs=0.05)
    assert np.array_equal(
        pickle.loads(pickle.dumps(small)).predict(X), small.predict(X)
    )
