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
3. **predict_proba throughput**, median of 5 after a warm-up, at 1 and 2 threads
   (``threadpool_limits``): MLP 784-256-128-10 on 60000 MNIST-shaped rows, and the
   reference CNN (conv32-pool-conv64-pool-dense128) on 2000 CIFAR-shaped images.
   Weights are from a short fit: throughput does not depend on their values.
"""

import argparse
import os
import pickle
import platform
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

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


def accuracy_table(quick, rng):
    lines = [
        "| model | float32 | int8 | float16 | pruned 50% | 80% | 90% | pickle "
        "float32 / int8 / float16 (KiB) | int8 / float32 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for name, est, X, y in models(quick, rng):
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
        lines.append(
            f"| {name} | {base:.3f} | {q8.score(X_te, y_te):.3f} | "
            f"{q16.score(X_te, y_te):.3f} | "
            + " | ".join(pruned)
            + " | "
            + " / ".join(f"{s:.0f}" for s in sizes)
            + f" | {sizes[1] / sizes[0]:.2f}x |"
        )
        print(lines[-1], flush=True)
    return lines


def median_seconds(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def throughput_table(quick, rng):
    n_mlp, n_cnn, repeat = (6000, 200, 2) if quick else (60000, 2000, 5)
    X = np.clip(rng.random((n_mlp, 784)) * 1.5 - 0.5, 0, 1).astype(np.float32)
    y = rng.integers(0, 10, n_mlp)
    mlp = MLPClassifier((256, 128), max_iter=1, random_state=0).fit(X[:5000], y[:5000])
    Xc = rng.random((n_cnn, 32 * 32 * 3)).astype(np.float32)
    yc = rng.integers(0, 10, n_cnn)
    cnn = CNNClassifier(input_shape=(32, 32, 3), max_iter=1, random_state=0)
    cnn.fit(Xc[:200], yc[:200])
    lines = [
        "| model | threads | float32 rows/s | int8 rows/s | int8 / float32 | "
        "pruned 90% rows/s |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for name, est, data in (
        ("MLP 784-256-128-10", mlp, X),
        ("reference CNN", cnn, Xc),
    ):
        variants = [est, quantize(est), prune(est, 0.9)]
        for threads in (1, 2):
            with threadpool_limits(threads):
                rates = [
                    len(data)
                    / median_seconds(lambda m=m, d=data: m.predict_proba(d), repeat)
                    for m in variants
                ]
            lines.append(
                f"| {name} | {threads} | {rates[0]:,.0f} | {rates[1]:,.0f} | "
                f"{rates[1] / rates[0]:.2f}x | {rates[2]:,.0f} |"
            )
            print(lines[-1], flush=True)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"# Compression ({time.strftime('%Y-%m-%d')}, {platform.processor() or ''} "
        f"{os.cpu_count()} CPUs, VNNI: {HAS_VNNI}, load {os.getloadavg()[0]:.2f})\n"
    )
    print("## Accuracy (held-out) and pickle size\n")
    print("Pruned columns: without / with 10 epochs of fine-tuning.\n")
    accuracy_table(args.quick, rng)
    print("\n## predict_proba throughput\n")
    throughput_table(args.quick, rng)


if __name__ == "__main__":
    main()
