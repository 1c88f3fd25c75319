"""
===================================
Fit time against scikit-learn's MLP
===================================

A small benchmark: the same network (one hidden layer of 256 ReLU units, Adam,
the same learning rate, batch size and number of epochs) trained by scikit-learn's
``MLPClassifier`` and by ours, in float64 (scikit-learn's precision) and in float32
(ours trains float32 X in float32), at two batch sizes. Each time is the best of
three fits, after one untimed fit that compiles our kernels. The figures come from
the machine that built these pages; ``benchmarks/`` has the full, interleaved
benchmarks against scikit-learn and PyTorch, and the user guide's performance page
summarises them.
"""

import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP

from sklearn_nn import MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

X, y = make_classification(
    n_samples=2000 if FAST else 10000,
    n_features=100,
    n_informative=40,
    n_classes=5,
    random_state=0,
)
epochs = 2 if FAST else 3
batch_sizes = [32, 200]


def best_fit_time(model, X, y, repeats=3):
    """The shortest of ``repeats`` fits, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times)


times = {"scikit-learn": [], "sklearn_nn float64": [], "sklearn_nn float32": []}
# every model runs exactly ``epochs`` epochs, to time the same work: tol=0 never
# stops early, so both libraries warn that training did not converge
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for batch_size in batch_sizes:
        settings = dict(
            hidden_layer_sizes=(256,),
            batch_size=batch_size,
            max_iter=epochs,
            tol=0,
            random_state=0,
        )
        for dtype in (np.float64, np.float32):  # compile our kernels, untimed
            MLPClassifier(**settings).fit(X[:500].astype(dtype), y[:500])
        times["scikit-learn"].append(best_fit_time(SklearnMLP(**settings), X, y))
        times["sklearn_nn float64"].append(
            best_fit_time(MLPClassifier(**settings), X, y)
        )
        times["sklearn_nn float32"].append(
            best_fit_time(MLPClassifier(**settings), X.astype(np.float32), y)
        )
for name, values in times.items():
    ratios = [v / s for v, s in zip(values, times["scikit-learn"], strict=True)]
    print(
        f"{name}: "
        + ", ".join(
            f"batch {b}: {v:.2f} s ({r:.2f}x)"
            for b, v, r in zip(batch_sizes, values, ratios, strict=True)
        )
    )

# %%
fig, ax = plt.subplots(figsize=(7, 4))
width = 0.27
for k, (name, values) in enumerate(times.items()):
    positions = np.arange(len(batch_sizes)) + (k - 1) * width
    bars = ax.bar(positions, values, width, label=name)
    ax.bar_label(bars, fmt="%.2f s", fontsize=8)
ax.set(
    xticks=range(len(batch_sizes)),
    xticklabels=[f"batch_size={b}" for b in batch_sizes],
    ylabel=f"fit time, {epochs} epochs (s)",
    title=f"MLP 100-256-5 on {len(X)} rows",
)
ax.legend()
fig.tight_layout()
plt.show()
