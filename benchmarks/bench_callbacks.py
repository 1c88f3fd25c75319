"""Overhead of scikit-learn callbacks on an MLP epoch (issue 11).

MLPClassifier (256, 128), Adam, batch 200, 20000 x 784 float32 rows, 2 threads: the
median of 5 fits of 3 epochs each, with no callback, a callback that does nothing,
and ``ProgressBar()`` (needs rich). The three alternate (round-robin), after one
warm-up fit. The report is markdown, also written to ``--out``::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_callbacks.py
    ... bench_callbacks.py --quick   # 2000 rows, 1 fit each; a smoke run
"""

import sys
import warnings
from functools import partial

import numpy as np
from _harness import (
    Run,
    limit_threads,
    machine_info,
    markdown_table,
    median,
    round_robin,
    run_parser,
    timed,
)
from sklearn.callback import ProgressBar

from sklearn_nn import MLPClassifier

EPOCHS = 3


class Nothing:
    """A callback with every hook and no work."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return False


def epoch_seconds(make_callbacks, X, y):
    """Seconds per epoch of a fit of ``EPOCHS`` epochs with these callbacks."""
    model = MLPClassifier((256, 128), max_iter=EPOCHS, random_state=0)
    model.set_callbacks(*make_callbacks())
    return timed(model.fit, X, y)[0] / EPOCHS


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a setting failed."""
    parser = run_parser(
        __doc__.splitlines()[0], "smoke run: 2000 rows, 1 fit each", repeat=False
    )
    parser.add_argument("--repeat", type=int, help="fits per setting (default 5)")
    run = Run(parser.parse_args(argv))
    repeat = run.args.repeat or (1 if run.args.quick else 5)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    n_rows = 2000 if run.args.quick else 20000
    X = rng.standard_normal((n_rows, 784), dtype=np.float32)
    y = (X[:, :10] @ rng.standard_normal((10, 10))).argmax(1)
    setups = {
        "none": tuple,
        "no-op callback": lambda: (Nothing(),),
        "ProgressBar": lambda: (ProgressBar(),),
    }
    with limit_threads(2):
        MLPClassifier((256, 128), max_iter=1, random_state=0).fit(X, y)  # warm-up
        tasks = {
            name: partial(epoch_seconds, make, X, y) for name, make in setups.items()
        }
        errors = {}
        seconds = round_robin(tasks, repeat, errors)
    run.errors.update({(name,): message for name, message in errors.items()})
    base = median(seconds["none"])
    rows = [
        [name, f"{median(v):.3f}", f"{median(v) / base:.3f}x"]
        + [f"{min(v):.3f}-{max(v):.3f}"]
        for name, v in seconds.items()
        if v
    ]
    section = [
        "## Seconds per epoch",
        "",
        f"{n_rows} x 784 rows, batch 200, median of {repeat} fit(s) of {EPOCHS} "
        "epochs per setting, the settings alternating.",
        "",
        *markdown_table(["callbacks", "s/epoch", "vs none", "range"], rows),
    ]
    title, quick = (
        "Callbacks: overhead on an MLP epoch",
        f"{n_rows} rows, {repeat} fit(s)",
    )
    return run.report(title, machine_info(), [section], quick)


if __name__ == "__main__":
    sys.exit(main())
