"""
=====================================
ONNX export and onnxruntime inference
=====================================

``import sklearn_nn.onnx`` registers a converter for every sklearn_nn estimator
with skl2onnx, so ``skl2onnx.to_onnx`` exports them as it exports scikit-learn's,
alone or inside a ``Pipeline``, and onnxruntime runs the result with neither
scikit-learn nor Numba. skl2onnx, onnx and onnxruntime are the ``[onnx]`` extra:
``pip install "sklearn-nn[onnx]"``.

We export a ``StandardScaler`` + ``MLPClassifier`` pipeline and a ``CNNClassifier``
trained on the digits, check that onnxruntime gives our probabilities and labels,
and compare prediction throughput.
"""

import os
import time

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_nn.onnx  # noqa: F401  (registers the converters with skl2onnx)
from sklearn_nn import CNNClassifier, MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

# %%
# Two models on the digits, in float32 (the type ONNX models usually take)
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
if FAST:
    X, y = X[:300], y[:300]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
models = {
    "MLP pipeline": make_pipeline(
        StandardScaler(), MLPClassifier((128,), early_stopping=True, random_state=0)
    ),
    "CNN": CNNClassifier(input_shape=(8, 8), early_stopping=True, random_state=0),
}

# %%
# Export each model (one float32 row gives the input type; ``zipmap=False`` returns
# the probabilities as one array, not a list of dicts) and run it in onnxruntime
sessions, probas = {}, {}
for name, model in models.items():
    model.fit(X_train, y_train)
    onx = to_onnx(model, X_train[:1], options={"zipmap": False})
    sessions[name] = ort.InferenceSession(onx.SerializeToString())
    labels, proba = sessions[name].run(None, {"X": X_test})
    ours = model.predict_proba(X_test)
    probas[name] = ours, proba
    print(
        f"{name}: test accuracy {model.score(X_test, y_test):.3f}, "
        f"max |ours - onnxruntime| = {np.abs(ours - proba).max():.1e}, "
        f"same labels: {np.array_equal(labels, model.predict(X_test))}"
    )


# %%
# Throughput: rows per second, predicting the whole test set in one call and one
# row per call, on the machine that built these docs (so only indicative)
def rows_per_second(predict, rows, seconds=0.02 if FAST else 0.5):
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        predict(rows)
        calls += 1
    return calls * len(rows) / elapsed


speed = {}
for name, model in models.items():
    run = sessions[name].run
    for batch, rows in [(f"{len(X_test)} rows", X_test), ("1 row", X_test[:1])]:
        ours = rows_per_second(model.predict_proba, rows)
        theirs = rows_per_second(lambda r, run=run: run(None, {"X": r}), rows)
        speed[name, batch] = {"sklearn_nn": ours, "onnxruntime": theirs}
        print(
            f"{name}, {batch}: sklearn_nn {ours:,.0f}, onnxruntime {theirs:,.0f} rows/s"
        )

# %%
# Left: the probabilities agree to float32 rounding. Right: onnxruntime predicts
# faster, most of all one row at a time, where our predict pays a fixed cost per
# call (scikit-learn's input validation, Python, and for the CNN setting up the
# kernels' threads). Export for serving; keep sklearn_nn for training, model
# selection and predictions inside Python.
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
for name, (ours, proba) in probas.items():
    error = np.abs(ours - proba).max()
    left.scatter(
        ours.ravel(), proba.ravel(), s=8, label=f"{name} (max diff {error:.0e})"
    )
left.set(xlabel="sklearn_nn predict_proba", ylabel="onnxruntime probabilities")
left.legend()
groups = list(speed)  # (model, batch)
x = np.arange(len(groups))
for offset, engine in [(-0.2, "sklearn_nn"), (0.2, "onnxruntime")]:
    values = [speed[group][engine] for group in groups]
    right.bar(x + offset, values, width=0.4, label=engine)
right.set(xticks=x, xticklabels=[f"{m}\n{b}" for m, b in groups], yscale="log")
right.set(ylabel="rows per second (log scale)")
right.legend()
fig.tight_layout()
plt.show()
