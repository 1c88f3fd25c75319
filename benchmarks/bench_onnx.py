"""ONNX export: onnxruntime's predict throughput against ours, and agreement.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_onnx.py
    ... bench_onnx.py --quick   # a smoke run, not a benchmark

Needs the onnx extra (``pip install ".[onnx]"``). On an otherwise idle machine, for
the MLP 784-256-128-10 on 60000 MNIST-shaped rows and the reference CNN
(conv32-pool-conv64-pool-dense128) on 2000 CIFAR-shaped images, float32: rows/s
of ``predict_proba`` against onnxruntime's ``InferenceSession.run`` (zipmap off),
median of 5 after a warm-up, interleaved, at 1 and 2 threads (threadpoolctl for
ours, ``intra_op_num_threads`` for onnxruntime); and the largest absolute
difference of the probabilities.
"""

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from threadpoolctl import threadpool_limits

import sklearn_nn.onnx  # noqa: F401  (registers the converters)
from sklearn_nn import CNNClassifier, MLPClassifier

warnings.filterwarnings("ignore")


def session(model, X, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    onx = to_onnx(model, X[:1], options={"zipmap": False})
    return ort.InferenceSession(onx.SerializeToString(), options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    n_mlp, n_cnn, repeat = (6000, 200, 2) if args.quick else (60000, 2000, 5)
    rng = np.random.default_rng(0)
    X = np.clip(rng.random((n_mlp, 784)) * 1.5 - 0.5, 0, 1).astype(np.float32)
    y = rng.integers(0, 10, n_mlp)
    mlp = MLPClassifier((256, 128), max_iter=1, random_state=0).fit(X[:5000], y[:5000])
    Xc = rng.random((n_cnn, 32 * 32 * 3)).astype(np.float32)
    cnn = CNNClassifier(input_shape=(32, 32, 3), max_iter=1, random_state=0)
    cnn.fit(Xc[:200], rng.integers(0, 10, 200))
    day, load = time.strftime("%Y-%m-%d"), os.getloadavg()[0]
    print(f"# ONNX export ({day}, {os.cpu_count()} CPUs, onnxruntime "
          f"{ort.__version__}, load {load:.2f})\n")  # fmt: skip
    print("| model | threads | sklearn_nn rows/s | onnxruntime rows/s | ours / ort | "
          "max abs diff |\n|---|---|---|---|---|---|")  # fmt: skip
    for name, model, data in (
        ("MLP 784-256-128-10", mlp, X),
        ("reference CNN", cnn, Xc),
    ):
        for threads in (1, 2):
            sess = session(model, data, threads)
            feed = {sess.get_inputs()[0].name: data}
            with threadpool_limits(threads):
                ours = model.predict_proba(data)
                theirs = sess.run(None, feed)[1]
                times = {"ours": [], "ort": []}
                for _ in range(repeat):
                    tic = time.perf_counter()
                    model.predict_proba(data)
                    times["ours"].append(time.perf_counter() - tic)
                    tic = time.perf_counter()
                    sess.run(None, feed)
                    times["ort"].append(time.perf_counter() - tic)
            rate = {k: len(data) / statistics.median(v) for k, v in times.items()}
            print(f"| {name} | {threads} | {rate['ours']:,.0f} | {rate['ort']:,.0f} | "
                  f"{rate['ours'] / rate['ort']:.2f}x | "
                  f"{np.abs(ours - theirs).max():.1e} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
