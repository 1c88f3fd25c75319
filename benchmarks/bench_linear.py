"""Logistic regression fit time at equal quality: sklearn_nn vs scikit-learn.

Run with the benchmark environment (OpenBLAS variables unset, see README.md)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_linear.py

Data: 60000x784 float32, 10 classes (as ``bench_mlp.py``), and breast_cancer, both
standardized; 20% held out. Peers: ours (lbfgs, adam), scikit-learn's
``LogisticRegression`` (lbfgs) and ``SGDClassifier(loss="log_loss")``, same ``tol``,
interleaved, median of ``--repeat`` runs. Each model's quality is reported as the
multinomial objective of ``C=1`` (mean log loss + ||W||^2 / (2 C n)) at its own
coefficients, and held-out accuracy.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy.special import log_softmax
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_nn import LogisticRegression


def objective(model, X, y, C=1.0):
    """Multinomial (or binary) log loss + L2 / (2 C n) at the model's coefficients."""
    scores = X @ model.coef_.T + model.intercept_
    if scores.shape[1] == 1:
        scores = np.hstack([np.zeros_like(scores), scores])
    log_proba = log_softmax(scores.astype(np.float64), axis=1)
    classes = np.searchsorted(model.classes_, y)
    loss = -log_proba[np.arange(len(y)), classes].mean()
    return loss + (model.coef_.astype(np.float64) ** 2).sum() / (2 * C * len(y))


def peers(tol):
    """Name -> estimator factory; all with C = 1 (alpha = 1 / n for SGDClassifier)."""
    return {
        "sklearn_nn lbfgs": lambda n: LogisticRegression(tol=tol, max_iter=1000),
        "sklearn_nn adam": lambda n: LogisticRegression(
            solver="adam", tol=tol, max_iter=50, random_state=0
        ),
        "sklearn lbfgs": lambda n: SkLogisticRegression(tol=tol, max_iter=1000),
        "sklearn SGDClassifier": lambda n: SGDClassifier(
            loss="log_loss", alpha=1.0 / n, tol=tol, max_iter=50, random_state=0
        ),
    }


def data_sets(quick):
    n = 6000 if quick else 60000
    X, y = make_classification(
        n_samples=n, n_features=784, n_informative=50, n_classes=10, random_state=0
    )
    yield "60000x784 10-class" if not quick else "6000x784 10-class", X, y
    yield "breast_cancer", *load_breast_cancer(return_X_y=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-4)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    # compile the kernels outside the timings
    LogisticRegression(solver="adam", max_iter=1).fit(
        np.eye(4, dtype=np.float32), [0, 1, 0, 1]
    )
    print("| data | model | fit s (median) | objective | held-out accuracy |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, X, y in data_sets(args.quick):
        X = StandardScaler().fit_transform(X).astype(np.float32)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        times = {peer: [] for peer in peers(args.tol)}
        fitted = {}
        for _ in range(args.repeat):  # interleaved: one run of each peer per round
            for peer, make in peers(args.tol).items():
                model = make(len(y_train))
                tic = time.perf_counter()
                model.fit(X_train, y_train)
                times[peer].append(time.perf_counter() - tic)
                fitted[peer] = model
        for peer, model in fitted.items():
            print(
                f"| {name} | {peer} | {statistics.median(times[peer]):.2f} | "
                f"{objective(model, X_train, y_train):.5f} | "
                f"{model.score(X_test, y_test):.4f} |"
            )


if __name__ == "__main__":
    main()
