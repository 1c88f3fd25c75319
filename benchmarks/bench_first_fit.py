"""``import sklearn_nn`` and each estimator's first fit in a fresh process.

Cold and warm Numba cache.

Run it with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see
``bench_mlp.py``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_first_fit.py
    # smoke test (three estimators, one repeat; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_first_fit.py \\
        --quick

What a user waits for in a new container, CI runner or Dask worker: a fresh process
imports ``sklearn_nn`` (numpy, scipy, scikit-learn and numba included), then fits one
estimator for one epoch (``max_iter=1``) on the digits (``load_digits``, float64, as
the demo does) and predicts them. Each estimator runs twice with the same new
``NUMBA_CACHE_DIR``: an empty Numba cache (cold: the fit includes the JIT
compilation), then the one the first run filled (warm). ``--repeat`` rounds go
round-robin over the estimators; the report gives medians and ranges.
"""

import shutil
import sys
import tempfile

from _harness import (
    Run,
    child_env,
    fmt_samples,
    log,
    machine_info,
    markdown_table,
    run_child,
    run_parser,
)

#: The estimators, built in the child from these expressions (``Dense`` etc. are
#: imported there): the demo's settings, one epoch.
ESTIMATORS = {
    "MLPClassifier": "MLPClassifier()",
    "MLPRegressor": "MLPRegressor()",
    "LogisticRegression": "LogisticRegression()",
    "CNNClassifier": "CNNClassifier(input_shape=(8, 8))",
    "CNNRegressor": "CNNRegressor(input_shape=(8, 8))",
    "RNNClassifier": 'RNNClassifier("gru", input_shape=(8, 8))',
    "RNNRegressor": 'RNNRegressor("gru", input_shape=(8, 8))',
    "NeuralNetClassifier": (
        'NeuralNetClassifier([Dense(100, "identity"), BatchNormalization(), '
        'Activation("relu")])'
    ),
    "NeuralNetRegressor": (
        'NeuralNetRegressor([Dense(32, "tanh"), LayerNormalization()])'
    ),
}
QUICK = ("MLPClassifier", "LogisticRegression", "CNNClassifier")

#: The child process: nothing but the standard library is imported before
#: ``sklearn_nn``, so its import time is the one a user sees.
FIRST_FIT_CHILD = """\
import json, sys, time, warnings
tic = time.perf_counter()
import sklearn_nn
import_seconds = time.perf_counter() - tic
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn_nn import *
from sklearn_nn.layers import Activation, BatchNormalization, Dense, LayerNormalization
X, y = load_digits(return_X_y=True)
estimator = eval(sys.argv[1])
estimator.set_params(max_iter=1, random_state=0)
if "Regressor" in type(estimator).__name__:
    y = y / 9.0
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    tic = time.perf_counter()
    estimator.fit(X, y).predict(X)
    fit_seconds = time.perf_counter() - tic
print(json.dumps({"import_s": import_seconds, "fit_s": fit_seconds}))
"""


def first_fit(expression):
    """``{"cold" | "warm": {import_s, fit_s} or {"error"}}`` for one estimator.

    Both runs share one new ``NUMBA_CACHE_DIR``: empty for the first (cold), filled
    by it for the second (warm).
    """
    cache_dir = tempfile.mkdtemp(prefix="bench-numba-cache-")
    try:
        env = child_env(NUMBA_CACHE_DIR=cache_dir)
        return {
            state: run_child(["-c", FIRST_FIT_CHILD, expression], env)
            for state in ("cold", "warm")
        }
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def first_fit_section(samples):
    """Import and first fit + predict seconds per estimator, cold and warm cache."""
    lines = [
        "## First fit in a fresh process (seconds)",
        "",
        "`import sklearn_nn` (numpy, scipy, scikit-learn and numba included), then "
        "`fit(X, y).predict(X)` on the digits (1797 x 64, float64), max_iter=1, "
        "default threads. NUMBA_CACHE_DIR is a new empty directory (cold), then the "
        "same directory again (warm). Median (min-max) over the rounds.",
        "",
    ]
    rows = []
    for name, runs in samples.items():
        row = [name]
        for state in ("cold", "warm"):
            for key in ("fit_s", "import_s") if state == "cold" else ("fit_s",):
                row.append(fmt_samples([r[state][key] for r in runs], ".2f"))
        rows.append(row)
    header = ["estimator", "cold first fit", "import", "warm first fit"]
    return lines + markdown_table(header, rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "import sklearn_nn and each estimator's first fit in a fresh process, with "
        "a cold and a warm Numba cache.",
        f"smoke test: {', '.join(QUICK)} only",
    )
    run = Run(parser.parse_args(argv))
    names = QUICK if run.args.quick else tuple(ESTIMATORS)
    machine = machine_info()
    samples = {name: [] for name in names}
    for round_ in range(run.repeat):
        for name in names:
            log(f"round {round_ + 1}/{run.repeat}: {name}")
            result = first_fit(ESTIMATORS[name])
            failed = {k: v["error"] for k, v in result.items() if "error" in v}
            run.errors.update({(name, k): m for k, m in failed.items()})
            if not failed:
                samples[name].append(result)
    samples = {name: runs for name, runs in samples.items() if runs}
    title = "sklearn_nn first fit"
    return run.report(title, machine, [first_fit_section(samples)], "3 estimators")


if __name__ == "__main__":
    sys.exit(main())
