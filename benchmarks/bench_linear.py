"""Logistic regression fit time at equal quality: sklearn_nn vs scikit-learn.

Run with the benchmark environment (OpenBLAS variables unset, see README.md)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_linear.py
    ... bench_linear.py --quick   # 6000 rows; a smoke run, not a benchmark

Data: 60000x784 float32, 10 classes (as ``bench_mlp.py``), and breast_cancer, both
standardized; 25% held out. Peers: ours (lbfgs, adam), scikit-learn's
``LogisticRegression`` (lbfgs) and ``SGDClassifier(loss="log_loss")``, same ``tol``,
interleaved, median of ``--repeat`` runs. Each model's quality is reported as the
multinomial objective of ``C=1`` (mean log loss + ||W||^2 / (2 C n)) at its own
coefficients, and held-out accuracy. The report is markdown, also written to ``--out``.
"""

import sys
import warnings
from functools import partial

import numpy as np
from _harness import (
    Run,
    log,
    machine_info,
    markdown_table,
    median,
    round_robin,
    run_parser,
    timed,
)
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
    """``(name, X, y)`` of each data set."""
    n = 6000 if quick else 60000
    X, y = make_classification(
        n_samples=n, n_features=784, n_informative=50, n_classes=10, random_state=0
    )
    yield f"{n}x784 10-class", X, y
    yield "breast_cancer", *load_breast_cancer(return_X_y=True)


def fit_seconds(make, fitted, name, X, y):
    """Seconds of one ``fit`` of a new ``make(len(y))``, kept in ``fitted[name]``."""
    seconds, fitted[name] = timed(make(len(y)).fit, X, y)
    return seconds


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a fit failed."""
    parser = run_parser(__doc__.splitlines()[0], "smoke run: 6000 rows")
    parser.add_argument("--tol", type=float, default=1e-4, help="(default 1e-4)")
    run = Run(parser.parse_args(argv))
    repeat = run.args.repeat or 3  # --quick changes the rows only
    warnings.simplefilter("ignore", ConvergenceWarning)
    # compile the kernels outside the timings
    LogisticRegression(solver="adam", max_iter=1).fit(
        np.eye(4, dtype=np.float32), [0, 1, 0, 1]
    )
    rows = []
    for name, X, y in data_sets(run.args.quick):
        log(f"{name}: {repeat} interleaved round(s)")
        X = StandardScaler().fit_transform(X).astype(np.float32)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        fitted, errors = {}, {}
        tasks = {
            peer: partial(fit_seconds, make, fitted, peer, X_train, y_train)
            for peer, make in peers(run.args.tol).items()
        }
        times = round_robin(tasks, repeat, errors)
        run.errors.update({(name, peer): m for peer, m in errors.items()})
        for peer, model in fitted.items():
            if peer in errors:
                continue
            rows.append(
                [name, peer, f"{median(times[peer]):.2f}"]
                + [f"{objective(model, X_train, y_train):.5f}"]
                + [f"{model.score(X_test, y_test):.4f}"]
            )
    headers = ["data", "model", "fit s (median)", "objective", "held-out accuracy"]
    section = [
        "## Fit time and quality",
        "",
        f"tol={run.args.tol}, C=1, median of {repeat} interleaved runs.",
        "",
        *markdown_table(headers, rows, align="llrrr"),
    ]
    title = "LogisticRegression: sklearn_nn vs scikit-learn"
    return run.report(title, machine_info(), [section], "6000 rows")


if __name__ == "__main__":
    sys.exit(main())
