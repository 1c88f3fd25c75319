"""Overhead of scikit-learn callbacks on an MLP epoch (issue 11).

MLPClassifier (256, 128), Adam, batch 200, 20000 x 784 float32 rows, 2 threads: the
median of 5 fits of 3 epochs each, with no callback, a callback that does nothing,
and ``ProgressBar()`` (needs rich). The three alternate, after one warm-up fit::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_callbacks.py
"""

import statistics
import time
import warnings

import numpy as np
from sklearn.callback import ProgressBar

from sklearn_nn import MLPClassifier


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


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 784), dtype=np.float32)
    y = (X[:, :10] @ rng.standard_normal((10, 10))).argmax(1)
    setups = {"none": (), "no-op callback": (Nothing(),), "ProgressBar": None}
    MLPClassifier((256, 128), max_iter=1, random_state=0).fit(X, y)  # warm-up
    seconds = {name: [] for name in setups}
    for _ in range(5):
        for name, callbacks in setups.items():
            model = MLPClassifier((256, 128), max_iter=3, random_state=0)
            model.set_callbacks(
                *(callbacks if callbacks is not None else (ProgressBar(),))
            )
            tic = time.perf_counter()
            model.fit(X, y)
            seconds[name].append((time.perf_counter() - tic) / 3)
    base = statistics.median(seconds["none"])
    print("| callbacks | s/epoch | vs none | range |")
    print("|---|---|---|---|")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.3f} | {median / base:.3f}x | "
            f"{min(values):.3f}-{max(values):.3f} |"
        )


if __name__ == "__main__":
    main()
