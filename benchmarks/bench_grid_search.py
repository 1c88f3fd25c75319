"""GridSearchCV over an MLP pipeline at ``n_jobs=1`` and ``n_jobs=2``, fresh workers.

Run it with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see
``bench_mlp.py``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_grid_search.py
    # smoke test (4 candidates, 2 folds, 20 epochs; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_grid_search.py --quick

The search users run most: ``GridSearchCV(make_pipeline(StandardScaler(),
MLPClassifier(max_iter=100)), 12 candidates (3 widths x 4 alphas), cv=3)`` on
``load_digits``, with scikit-learn's ``MLPClassifier`` and ours. Each search runs in
a new process (so ``n_jobs=2`` starts new loky workers, which import the libraries
and load our compiled kernels from a warm Numba cache, as a user's second session
would; an untimed search per library first makes sure the cache is warm), timed
around ``search.fit`` only. Configurations are interleaved, each repeated
``--repeat`` times; the table gives medians.
"""

import json
import sys

from _harness import (
    Run,
    child_env,
    fmt,
    fmt_samples,
    log,
    machine_info,
    markdown_table,
    ratio,
    run_child,
    run_parser,
)

#: One search in a fresh process; argv: library, n_jobs, quick (0/1).
SEARCH_CHILD = """\
import json, sys, time, warnings
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
library, n_jobs, quick = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if library == "sklearn_nn":
    from sklearn_nn import MLPClassifier
else:
    from sklearn.neural_network import MLPClassifier
X, y = load_digits(return_X_y=True)
grid = {
    "mlpclassifier__hidden_layer_sizes": [(64,), (256,)]
    if quick
    else [(32,), (64,), (128,)],
    "mlpclassifier__alpha": [1e-4, 1e-2] if quick else [1e-4, 1e-3, 1e-2, 1e-1],
}
model = make_pipeline(
    StandardScaler(), MLPClassifier(max_iter=20 if quick else 100, random_state=0)
)
search = GridSearchCV(model, grid, cv=2 if quick else 3, n_jobs=n_jobs)
# both libraries warn when max_iter ends a fit (scikit-learn >= 1.7 passes these
# filters on to joblib's workers)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    tic = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - tic
print(json.dumps({"seconds": seconds, "best_score": search.best_score_}))
"""

LIBRARIES = ("sklearn_nn", "scikit-learn")
N_JOBS = (1, 2)


def bench_searches(repeat, quick, errors):
    """``{(library, n_jobs): [seconds, ...]}`` and the best scores, interleaved."""
    env = child_env()
    seconds, scores = {}, {}
    for library in LIBRARIES:  # untimed: fills our Numba cache, warms the disk cache
        log(f"warm-up: {library}")
        result = run_child(["-c", SEARCH_CHILD, library, "1", "1"], env)
        if "error" in result:
            errors[(library, "warm-up")] = result["error"]
    for round_ in range(repeat):
        for library in LIBRARIES:
            for n_jobs in N_JOBS:
                log(f"round {round_ + 1}/{repeat}: {library}, n_jobs={n_jobs}")
                args = ["-c", SEARCH_CHILD, library, str(n_jobs), str(int(quick))]
                result = run_child(args, env)
                if "error" in result:
                    errors[(library, n_jobs)] = result["error"]
                    continue
                seconds.setdefault((library, n_jobs), []).append(result["seconds"])
                scores[(library, n_jobs)] = result["best_score"]
    return seconds, scores


def times(value):
    """A ratio as the report prints it: ``0.55x``."""
    return fmt(value, ".2f") + "x"


def search_section(seconds, scores):
    """Seconds per search, the n_jobs=2 / n_jobs=1 ratio and ours / scikit-learn's."""
    lines = [
        "## GridSearchCV seconds (fresh processes and workers)",
        "",
        "Median (range of the runs in brackets). `2 / 1`: n_jobs=2 over n_jobs=1 of "
        "the same library (goal for sklearn_nn: <= 0.6x); `/ scikit-learn`: ours over "
        "scikit-learn's at the same n_jobs.",
        "",
    ]
    rows = []
    for library in LIBRARIES:
        for n_jobs in N_JOBS:
            runs = seconds.get((library, n_jobs))
            if not runs:
                rows.append([library, n_jobs, "error", "", "", ""])
                continue
            one, sk = seconds.get((library, 1)), seconds.get(("scikit-learn", n_jobs))
            rows.append(
                [
                    library,
                    n_jobs,
                    fmt_samples(runs, ".2f"),
                    times(ratio(runs, one)) if n_jobs == 2 else "",
                    times(ratio(runs, sk)) if library == "sklearn_nn" else "",
                    fmt(scores.get((library, n_jobs)), ".4f"),
                ]
            )
    headers = ["library", "n_jobs", "seconds", "2 / 1", "/ scikit-learn", "best"]
    return lines + markdown_table(headers, rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "GridSearchCV over an MLP pipeline on digits, n_jobs=1 and 2, ours and "
        "scikit-learn's, each search in a fresh process.",
        "smoke test: 4 candidates, 2 folds, 20 epochs",
    )
    run = Run(parser.parse_args(argv))
    machine = machine_info()
    seconds, scores = bench_searches(run.repeat, run.args.quick, run.errors)
    sections = [search_section(seconds, scores)]
    log(json.dumps({f"{k[0]} n_jobs={k[1]}": v for k, v in seconds.items()}))
    title = "GridSearchCV with fresh workers"
    return run.report(title, machine, sections, "4 candidates, 2 folds, 20 epochs")


if __name__ == "__main__":
    sys.exit(main())
