"""``import sklearn_nn`` and the first MLP fit in a fresh process, cold and warm cache.

Run it with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see
``bench_mlp.py``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_first_fit.py
    # smoke test (the data drawn from 6000 rows, not 60000; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_first_fit.py \\
        --quick

What a user waits for before the first epoch ends: a fresh process imports
``sklearn_nn`` (numpy, scipy, scikit-learn and numba included) and fits
``MLPClassifier`` (256, 128), Adam, batch 128, ``max_iter=1``, default threads, on
the first 2000 rows of ``bench_mlp.py``'s data (``_mlp.py``). It runs twice with the
same new ``NUMBA_CACHE_DIR``: an empty Numba cache (cold: the fit includes the JIT
compilation), then the one the first run filled (warm). The report is printed as
markdown and written to ``--out``.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from _harness import (
    Run,
    child_env,
    fmt,
    log,
    machine_info,
    markdown_table,
    run_child,
    run_parser,
)
from _mlp import FIRST_FIT_ROWS, MLP_PARAMS, make_data, setup_lines

#: The child process: nothing but the standard library is imported before
#: ``sklearn_nn``, so its import time is the one a user sees.
FIRST_FIT_CHILD = """\
import json, sys, time, warnings
tic = time.perf_counter()
import sklearn_nn
import_seconds = time.perf_counter() - tic
import numpy as np
from sklearn.exceptions import ConvergenceWarning
data_dir, n_rows, params = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
X = np.ascontiguousarray(np.load(data_dir + "/X.npy", mmap_mode="r")[:n_rows])
y = np.load(data_dir + "/y.npy")[:n_rows]
clf = sklearn_nn.MLPClassifier(**params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    tic = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - tic
print(json.dumps({"import_s": import_seconds, "fit_s": fit_seconds}))
"""


def bench_first_fit(data_dir):
    """``import sklearn_nn`` and first-``fit`` seconds in a fresh process.

    Run twice with the same new ``NUMBA_CACHE_DIR``: cold Numba cache, then warm.
    Returns ``{"cold" | "warm": {import_s, fit_s}}``, or ``{"error": message}`` for
    a run that failed.
    """
    params = json.dumps({**MLP_PARAMS, "batch_size": 128, "max_iter": 1})
    cache_dir = tempfile.mkdtemp(prefix="bench-numba-cache-")
    try:
        results = {}
        for state in ("cold", "warm"):
            log(f"first fit: {state} Numba cache")
            results[state] = run_child(
                ["-c", FIRST_FIT_CHILD, str(data_dir), str(FIRST_FIT_ROWS), params],
                child_env(NUMBA_CACHE_DIR=cache_dir),
            )
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return results


def first_fit_section(first_fit):
    """Import and first-fit seconds, cold and warm Numba cache."""
    lines = [
        "## First fit in a fresh process (sklearn_nn, seconds)",
        "",
        "`import sklearn_nn` (numpy, scipy, scikit-learn and numba included), then "
        f"the first `fit(X[:{FIRST_FIT_ROWS}], y[:{FIRST_FIT_ROWS}])`, max_iter=1, "
        "batch 128, default threads. NUMBA_CACHE_DIR is a new empty directory "
        "(cold), then the same directory again (warm).",
        "",
    ]
    rows = [
        [state, "error", res["error"]]
        if "error" in res
        else [state, fmt(res["import_s"], ".2f"), fmt(res["fit_s"], ".2f")]
        for state, res in first_fit.items()
    ]
    return lines + markdown_table(["Numba cache", "import", "first fit"], rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "import sklearn_nn and the first MLP fit in a fresh process, with a cold "
        "and a warm Numba cache.",
        "smoke test: the data drawn from 6000 rows",
        repeat=False,
    )
    run = Run(parser.parse_args(argv))
    n_samples = 6000 if run.args.quick else 60000
    log(f"data: {n_samples} x 784")
    X, y = make_data(n_samples)
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-mlp-data-") as data_dir:
        np.save(Path(data_dir, "X.npy"), X)
        np.save(Path(data_dir, "y.npy"), y)
        first_fit = bench_first_fit(data_dir)
    run.errors.update(
        {("first fit", k): v["error"] for k, v in first_fit.items() if "error" in v}
    )
    setup = ["## Setup", "", *setup_lines(n_samples)]
    sections = [setup, first_fit_section(first_fit)]
    title = "sklearn_nn first fit"
    return run.report(title, machine, sections, f"data from {n_samples} rows")


if __name__ == "__main__":
    sys.exit(main())
