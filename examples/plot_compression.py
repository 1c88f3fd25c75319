"""
=====================================================
Pruning and quantisation: accuracy against model size
=====================================================

Train an MLP on the digits, then shrink it two ways with
:mod:`sklearn_nn.compression`: magnitude pruning at growing sparsity (with and
without a few epochs of fine-tuning, during which the pruned weights stay exactly
zero), and int8 / float16 quantisation. The left plot shows held-out accuracy
against sparsity, the right one accuracy against pickle size.
"""

import os
import pickle
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_nn import MLPClassifier
from sklearn_nn.compression import prune, quantize

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = MLPClassifier((256, 128), random_state=0).fit(X_train, y_train)

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"
amounts = [0.0, 0.5, 0.9] if FAST else [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98]
plain, tuned = [], []
for amount in amounts:
    pruned = prune(model, amount)
    plain.append(pruned.score(X_test, y_test))
    # fine-tuning runs a fixed 10 epochs, not to convergence: no warning about it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pruned.set_params(warm_start=True, max_iter=10).fit(X_train, y_train)
    tuned.append(pruned.score(X_test, y_test))

variants = {
    "float32": model,
    "float16": quantize(model, "float16"),
    "int8": quantize(model, "int8"),
    "int8, 90% pruned": quantize(prune(model, 0.9), "int8"),
}

for amount, before, after in zip(amounts, plain, tuned, strict=True):
    print(f"pruned {amount:.0%}: accuracy {before:.3f}, fine-tuned {after:.3f}")
for name, est in variants.items():
    size = len(pickle.dumps(est)) / 1024
    print(f"{name}: accuracy {est.score(X_test, y_test):.3f}, pickle {size:.0f} KiB")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(amounts, plain, "o-", label="pruned")
left.plot(amounts, tuned, "s-", label="pruned, then 10 epochs of fine-tuning")
left.set(xlabel="fraction of weights pruned", ylabel="test accuracy")
left.legend()
for name, est in variants.items():
    size = len(pickle.dumps(est)) / 1024
    right.scatter(size, est.score(X_test, y_test))
    right.annotate(name, (size, est.score(X_test, y_test)))
right.set(xlabel="pickle size (KiB)", ylabel="test accuracy", xscale="log")
fig.tight_layout()
plt.show()
