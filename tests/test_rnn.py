"""RNNClassifier and RNNRegressor: rows as sequences, the preset stacks, learning,
determinism, bad input, and the scikit-learn tools they work in."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_nn import NeuralNetClassifier, RNNClassifier, RNNRegressor
from sklearn_nn.layers import GRU, LSTM, Bidirectional, Dense, Dropout, SimpleRNN


@pytest.fixture(scope="module")
def digits():
    """Digits as 8 timesteps (image rows) of 8 pixels, split 70/30."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.3, random_state=0, stratify=y)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_rnn_classifier_learns_digits_as_sequences(digits, cell):
    X_train, X_test, y_train, y_test = digits
    clf = RNNClassifier(cell, input_shape=(8, 8), max_iter=40, random_state=0)
    clf.fit(X_train, y_train)
    # measured 0.957 (rnn), 0.969 (gru), 0.952 (lstm) at 40 epochs
    assert clf.score(X_test, y_test) > 0.88
    assert clf.input_shape_ == (8, 8)


def test_rnn_preset_is_the_stack_of_layers():
    # the preset and NeuralNetClassifier over the same layers: the same model
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    preset = RNNClassifier(
        "gru",
        (6, 5),
        bidirectional=True,
        dropout=0.2,
        input_shape=(8, 8),
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    layers = [
        Bidirectional(GRU(6, return_sequences=True)),
        Dropout(0.2),
        Bidirectional(GRU(5)),
        Dropout(0.2),
    ]
    stack = NeuralNetClassifier(
        layers,
        input_shape=(8, 8),
        learning_rate_init=0.01,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(preset._params, stack._params)
    assert [type(layer) for layer in preset._network.layers] == [
        Bidirectional,
        Dropout,
        Bidirectional,
        Dropout,
        Dense,
    ]


def test_rnn_takes_3d_sequences_and_2d_univariate_series():
    rng = np.random.default_rng(0)
    X3 = rng.normal(size=(60, 5, 3))
    y = (X3[:, :, 0].sum(axis=1) > 0).astype(int)
    a = RNNClassifier("rnn", max_iter=5, random_state=0).fit(X3, y)
    b = RNNClassifier("rnn", input_shape=(5, 3), max_iter=5, random_state=0)
    b.fit(X3.reshape(60, 15), y)  # rows time-major: the same sequences
    np.testing.assert_array_equal(a._params, b._params)
    np.testing.assert_array_equal(a.predict_proba(X3), b.predict_proba(X3))
    assert a.input_shape_ == (5, 3)
    series = RNNRegressor("gru", max_iter=5, random_state=0).fit(X3[:, :, 0], y)
    assert series.input_shape_ == (5, 1)
    assert isinstance(series._network.layers[0], GRU)


def test_rnn_regressor_learns_a_running_sum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 12))
    y = X[:, :4].sum(axis=1)  # needs memory over the sequence
    reg = RNNRegressor("lstm", max_iter=60, random_state=0).fit(X[:500], y[:500])
    assert reg.score(X[500:], y[500:]) > 0.85  # measured 0.941


def test_rnn_same_seed_same_model_whatever_the_threads(digits):
    X_train, _, y_train, _ = digits
    fits = []
    for threads in (1, 2, 2):
        with threadpool_limits(threads):
            clf = RNNClassifier(
                "lstm",
                (8,),
                bidirectional=True,
                dropout=0.1,
                input_shape=(8, 8),
                max_iter=2,
                random_state=3,
            )
            fits.append(clf.fit(X_train[:400], y_train[:400])._params)
    np.testing.assert_array_equal(fits[0], fits[1])
    np.testing.assert_array_equal(fits[1], fits[2])


def test_rnn_pickle_warm_start_and_partial_fit(digits):
    X_train, X_test, y_train, _ = digits
    clf = RNNClassifier("gru", input_shape=(8, 8), max_iter=2, random_state=0)
    clf.fit(X_train, y_train)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X_test), clf.predict_proba(X_test))
    clf.partial_fit(X_train, y_train)
    copy.partial_fit(X_train, y_train)
    np.testing.assert_array_equal(copy._params, clf._params)


def test_rnn_in_a_grid_search_over_cells(digits):
    X_train, X_test, y_train, y_test = digits
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(),
            RNNClassifier(input_shape=(8, 8), max_iter=5, random_state=0),
        ),
        {"rnnclassifier__cell": ["rnn", "gru"], "rnnclassifier__units": [(8,), 16]},
        cv=2,
    ).fit(X_train[:500], y_train[:500])
    assert len(search.cv_results_["params"]) == 4
    assert search.score(X_test, y_test) > 0.5


@pytest.mark.parametrize(
    "params, X_shape, message",
    [
        ({"input_shape": (5, 3)}, (10, 16), r"input_shape=\(5, 3\) has 15 values"),
        ({"input_shape": (5, 3)}, (10, 3, 5), r"X has samples of shape \(3, 5\)"),
        ({"input_shape": (2, 2, 4)}, (10, 16), r"input_shape must be \(timesteps"),
        ({"units": (4, 0)}, (10, 16), "units"),
        ({"units": ()}, (10, 16), "units must name at least one recurrent layer"),
        ({"input_shape": (4, 0)}, (10, 16), "input_shape"),
    ],
)
def test_rnn_bad_shapes_and_units_say_what_is_wrong(params, X_shape, message):
    rng = np.random.default_rng(0)
    X = rng.normal(size=X_shape)
    with pytest.raises(ValueError, match=message):
        RNNClassifier(max_iter=1, **params).fit(X, [0, 1] * 5)


def test_rnn_refuses_nan_and_sequences_of_another_shape():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 4, 2))
    clf = RNNRegressor("rnn", max_iter=1).fit(X, np.arange(10.0))
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(4, 2\)"):
        clf.predict(X.reshape(10, 2, 4))
    X[3, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RNNRegressor(max_iter=1).fit(X, np.arange(10.0))


def test_simple_rnn_cell_is_tanh_and_cells_map_to_layers():
    X = np.random.default_rng(0).normal(size=(20, 6))
    y = np.arange(20.0)
    for cell, layer in (("rnn", SimpleRNN), ("gru", GRU), ("lstm", LSTM)):
        reg = RNNRegressor(cell, (3, 2), max_iter=1).fit(X, y)
        first, second = reg._network.layers[:2]
        assert type(first) is layer and first.return_sequences
        assert type(second) is layer and not second.return_sequences
    assert first.units == 3 and second.units == 2
