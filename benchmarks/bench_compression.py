"""Pruning and quantisation: accuracy, pickle size and predict throughput.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_compression.py
    ... bench_compression.py --quick   # a smoke run, not a benchmark

Run on an otherwise idle machine. For each model, against its float32 original:

1. **Accuracy** on a held-out quarter (``train_test_split(random_state=0)``): int8 and
   float16, and magnitude pruning (global) at 50/80/90 % without and with
   fine-tuning (10 more epochs with ``warm_start=True``; the pruned weights stay
   zero). Models: digits (MLP 256-128, the default CNN), breast_cancer standardised
   (MLP 256-128, LogisticRegression), and a CIFAR-shaped CNN: digits upscaled to
   32x32x3 with noise (CIFAR itself is not shipped with scikit-learn).
2. **Pickle size** of each, and int8 / float32.
3. **predict_proba throughput**, median of 5 interleaved rounds after a warm-up
   one, at 1 and 2 threads (``limit_threads``): MLP 784-256-128-10 on 60000
   MNIST-shaped rows, and the reference CNN (conv32-pool-conv64-pool-dense128) on
   2000 CIFAR-shaped images. Weights are from a short fit: throughput does not
   depend on their values.

The report is markdown, also written to ``--out``.
"""

import pickle
import sys
import warnings
from functools import partial

import numpy as np
from _harness import (
    Run,
    interleaved,
    limit_threads,
    log,
    machine_info,
    markdown_table,
    median,
    rows_per_second,
    run_parser,
)
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_nn import CNNClassifier, LogisticRegression, MLPClassifier
from sklearn_nn._kernels.vnni import HAS_VNNI
from sklearn_nn.compression import prune, quantize

warnings.filterwarnings("ignore")


def cifar_shaped_digits(rng):
    """Digits upscaled 4x to 32x32 (nearest), three noisy channels, in [0, 1]."""
    X, y = load_digits(return_X_y=True)
    images = X.reshape(-1, 8, 8) / 16
    images = np.kron(images, np.ones((4, 4)))
    channels = [images * w for w in (1.0, 0.8, 0.6)]
    X = np.stack(channels, axis=-1) + 0.1 * rng.standard_normal(images.shape + (3,))
    return np.clip(X, 0, 1).reshape(len(y), -1).astype(np.float32), y


def models(quick, rng):
    """(name, estimator, X, y) of the accuracy and size table."""
    epochs = 5 if quick else 60
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = StandardScaler().fit_transform(Xb).astype(np.float32)
    Xc, yc = cifar_shaped_digits(rng)
    mlp = dict(hidden_layer_sizes=(256, 128), max_iter=epochs, random_state=0)
    cnn = dict(max_iter=max(2, epochs // 4), random_state=0)
    return [
        ("digits MLP 256-128", MLPClassifier(**mlp), X, y),
        ("digits CNN (default)", CNNClassifier(input_shape=(8, 8, 1), **cnn), X, y),
        ("breast_cancer MLP 256-128", MLPClassifier(**mlp), Xb, yb),
        (
            "breast_cancer LogisticRegression",
            LogisticRegression(max_iter=epochs, random_state=0),
            Xb,
            yb,
        ),
        ("CIFAR-shaped CNN", CNNClassifier(input_shape=(32, 32, 3), **cnn), Xc, yc),
    ]


def accuracy_section(quick, rng):
    """Held-out accuracy of each model and its compressed versions, pickle sizes."""
    rows = []
    for name, est, X, y in models(quick, rng):
        log(f"accuracy: {name}")
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
        est.fit(X_tr, y_tr)
        base = est.score(X_te, y_te)
        q8, q16 = quantize(est, "int8"), quantize(est, "float16")
        pruned = []
        for amount in (0.5, 0.8, 0.9):
            p = prune(est, amount)
            before = p.score(X_te, y_te)
            p.set_params(warm_start=True, max_iter=10)
            after = p.fit(X_tr, y_tr).score(X_te, y_te)
            pruned.append(f"{before:.3f} / {after:.3f}")
        sizes = [len(pickle.dumps(m)) / 1024 for m in (est, q8, q16)]
        rows.append(
            [name, f"{base:.3f}", f"{q8.score(X_te, y_te):.3f}"]
            + [f"{q16.score(X_te, y_te):.3f}", *pruned]
            + [" / ".join(f"{s:.0f}" for s in sizes), f"{sizes[1] / sizes[0]:.2f}x"]
        )
    headers = ["model", "float32", "int8", "float16", "pruned 50%", "80%", "90%"]
    headers += ["pickle float32 / int8 / float16 (KiB)", "int8 / float32"]
    return [
        "## Accuracy (held-out) and pickle size",
        "",
        "Pruned columns: without / with 10 epochs of fine-tuning.",
        "",
        *markdown_table(headers, rows),
    ]


def predict_proba(model, X):
    """Class probabilities."""
    return model.predict_proba(X)


def throughput_section(run, rng):
    """``predict_proba`` rows/s of float32, int8 and 90%-pruned models."""
    n_mlp, n_cnn, repeat = (6000, 200, 2) if run.args.quick else (60000, 2000, 5)
    X = np.clip(rng.random((n_mlp, 784)) * 1.5 - 0.5, 0, 1).astype(np.float32)
    y = rng.integers(0, 10, n_mlp)
    mlp = MLPClassifier((256, 128), max_iter=1, random_state=0).fit(X[:5000], y[:5000])
    Xc = rng.random((n_cnn, 32 * 32 * 3)).astype(np.float32)
    yc = rng.integers(0, 10, n_cnn)
    cnn = CNNClassifier(input_shape=(32, 32, 3), max_iter=1, random_state=0)
    cnn.fit(Xc[:200], yc[:200])
    rows = []
    for name, est, data in (
        ("MLP 784-256-128-10", mlp, X),
        ("reference CNN", cnn, Xc),
    ):
        variants = {"float32": est, "int8": quantize(est), "pruned": prune(est, 0.9)}
        for threads in (1, 2):
            log(f"throughput: {name}, {threads} thread(s)")
            n_classes, errors = len(est.classes_), {}
            tasks = {
                key: partial(rows_per_second, predict_proba, m, data, n_classes)
                for key, m in variants.items()
            }
            with limit_threads(threads):
                key = ("predict", name, threads)
                rates = interleaved(tasks, repeat, errors, run.loads, key, 1)
            run.errors.update({(name, threads, k): m for k, m in errors.items()})
            rate = {k: median(v) for k, v in rates.items()}
            rows.append(
                [name, threads, f"{rate['float32']:,.0f}", f"{rate['int8']:,.0f}"]
                + [f"{rate['int8'] / rate['float32']:.2f}x", f"{rate['pruned']:,.0f}"]
            )
    headers = ["model", "threads", "float32 rows/s", "int8 rows/s", "int8 / float32"]
    return [
        "## predict_proba throughput",
        "",
        f"Median of {repeat} interleaved rounds after a warm-up one.",
        "",
        *markdown_table([*headers, "pruned 90% rows/s"], rows),
    ]


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(__doc__.splitlines()[0], "a smoke run", repeat=False)
    run = Run(parser.parse_args(argv))
    rng = np.random.default_rng(0)
    machine = machine_info(f"; VNNI (int8 kernel): {HAS_VNNI}")
    sections = [accuracy_section(run.args.quick, rng), throughput_section(run, rng)]
    title = "Compression: pruning and int8 / float16 quantisation"
    return run.report(title, machine, sections, "short fits, small data")


if __name__ == "__main__":
    sys.exit(main())
