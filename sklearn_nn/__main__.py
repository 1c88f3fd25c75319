"""``python -m sklearn_nn``: train on scikit-learn's data sets, next to scikit-learn.

For each data set, fits an sklearn_nn estimator and scikit-learn's estimator of the same
name with the same settings and seed, and prints the test score, ROC AUC (binary), and
fit time; ``CNNClassifier`` (the digits as 8x8 images), ``RNNClassifier`` (the digits as
8 timesteps of 8 pixels, a GRU) and ``NeuralNetClassifier`` (a dense layer with batch
normalization) have no scikit-learn counterpart.
The first fit of a process includes Numba's compile (or cache load) time, so a warm-up
fit runs first and is reported on its own line.
"""

import time
import warnings

from sklearn import linear_model, neural_network
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_nn
from sklearn_nn.layers import Activation, BatchNormalization, Dense


def _task_list():
    """(data set, loader, class name, scikit-learn's module or None, parameters)."""
    shared = dict(hidden_layer_sizes=(100,), max_iter=300, random_state=0)
    linear = dict(C=1.0, max_iter=1000)
    cnn = dict(input_shape=(8, 8), batch_size=32, max_iter=30, random_state=0)
    rnn = dict(cell="gru", input_shape=(8, 8), max_iter=60, random_state=0)
    batch_norm = dict(
        layers=[Dense(100, "identity"), BatchNormalization(), Activation("relu")],
        max_iter=100,
        random_state=0,
    )
    return [
        ("digits", load_digits, "MLPClassifier", neural_network, shared),
        ("digits", load_digits, "LogisticRegression", linear_model, linear),
        ("digits", load_digits, "CNNClassifier", None, cnn),
        ("digits", load_digits, "RNNClassifier", None, rnn),
        ("digits", load_digits, "NeuralNetClassifier", None, batch_norm),
        ("breast_cancer", load_breast_cancer, "MLPClassifier", neural_network, shared),
        (
            "breast_cancer",
            load_breast_cancer,
            "LogisticRegression",
            linear_model,
            linear,
        ),
        (
            "diabetes",
            load_diabetes,
            "MLPRegressor",
            neural_network,
            dict(shared, max_iter=1000),
        ),
    ]


def _fit_and_score(estimator, X_train, X_test, y_train, y_test):
    model = make_pipeline(StandardScaler(), estimator)
    tic = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - tic
    auc = ""
    if len(set(y_train)) == 2:
        # scikit-learn's MLP has no decision_function: the positive-class probability
        # ranks the samples the same way
        auc = f"{roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]):.4f}"
    return model.score(X_test, y_test), auc, seconds


def main():
    """Run the demo and print one table."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    tic = time.perf_counter()
    sklearn_nn.MLPClassifier(max_iter=2).fit(X[:100], y[:100])
    sklearn_nn.LogisticRegression(max_iter=2).fit(X[:100], y[:100])
    sklearn_nn.CNNClassifier(input_shape=(8, 8), max_iter=1).fit(X[:100], y[:100])
    sklearn_nn.RNNClassifier("gru", input_shape=(8, 8), max_iter=1).fit(
        X[:100], y[:100]
    )
    sklearn_nn.NeuralNetClassifier(
        [Dense(8, "identity"), BatchNormalization(), Activation("relu")], max_iter=1
    ).fit(X[:100], y[:100])
    print(f"warm-up (Numba compile or cache load): {time.perf_counter() - tic:.2f} s\n")

    header = f"{'data':<14}{'estimator':<31}{'score':>8}{'ROC AUC':>9}{'fit s':>8}"
    print(header)
    print("-" * len(header))
    for data_name, loader, class_name, their_module, params in _task_list():
        X, y = loader(return_X_y=True)
        split = train_test_split(X, y, test_size=0.25, random_state=0)
        for library in (sklearn_nn, their_module):
            if library is None:
                continue
            estimator = getattr(library, class_name)(**params)
            score, auc, seconds = _fit_and_score(estimator, *split)
            name = f"{library.__name__.split('.')[0]}.{class_name}"
            print(f"{data_name:<14}{name:<31}{score:>8.4f}{auc:>9}{seconds:>8.2f}")
    print("\nscore: accuracy for classifiers, R^2 for regressors (25% held out).")


if __name__ == "__main__":
    main()
