"""ONNX export: onnxruntime's predict throughput against ours, and agreement.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_onnx.py
    ... bench_onnx.py --quick   # a smoke run, not a benchmark

Needs the onnx extra (``pip install ".[onnx]"``). On an otherwise idle machine, for
the MLP 784-256-128-10 on 60000 MNIST-shaped rows and the reference CNN
(conv32-pool-conv64-pool-dense128) on 2000 CIFAR-shaped images, float32: rows/s
of ``predict_proba`` against onnxruntime's ``InferenceSession.run`` (zipmap off),
median of 5 interleaved rounds after a warm-up, at 1 and 2 threads (``limit_threads``
for ours, ``intra_op_num_threads`` for onnxruntime); and the largest absolute
difference of the probabilities. The report is markdown, also written to ``--out``.
"""

import sys
import warnings
from functools import partial

import numpy as np
import onnxruntime as ort
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
from skl2onnx import to_onnx

import sklearn_nn.onnx  # noqa: F401  (registers the converters)
from sklearn_nn import CNNClassifier, MLPClassifier

warnings.filterwarnings("ignore")


def session(model, X, threads):
    """An onnxruntime session of the exported ``model`` on ``threads`` threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    onx = to_onnx(model, X[:1], options={"zipmap": False})
    return ort.InferenceSession(onx.SerializeToString(), options)


def predict_ours(model, X):
    """sklearn_nn's class probabilities."""
    return model.predict_proba(X)


def predict_ort(sess, X):
    """onnxruntime's class probabilities (the second output)."""
    return sess.run(None, {sess.get_inputs()[0].name: X})[1]


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(__doc__.splitlines()[0], "a smoke run", repeat=False)
    run = Run(parser.parse_args(argv))
    n_mlp, n_cnn, repeat = (6000, 200, 2) if run.args.quick else (60000, 2000, 5)
    rng = np.random.default_rng(0)
    X = np.clip(rng.random((n_mlp, 784)) * 1.5 - 0.5, 0, 1).astype(np.float32)
    y = rng.integers(0, 10, n_mlp)
    mlp = MLPClassifier((256, 128), max_iter=1, random_state=0).fit(X[:5000], y[:5000])
    Xc = rng.random((n_cnn, 32 * 32 * 3)).astype(np.float32)
    cnn = CNNClassifier(input_shape=(32, 32, 3), max_iter=1, random_state=0)
    cnn.fit(Xc[:200], rng.integers(0, 10, 200))
    rows = []
    for name, model, data in (
        ("MLP 784-256-128-10", mlp, X),
        ("reference CNN", cnn, Xc),
    ):
        for threads in (1, 2):
            log(f"{name}: {threads} thread(s)")
            sess, errors = session(model, data, threads), {}
            with limit_threads(threads):
                diff = np.abs(predict_ours(model, data) - predict_ort(sess, data)).max()
                tasks = {
                    "ours": partial(rows_per_second, predict_ours, model, data, 10),
                    "ort": partial(rows_per_second, predict_ort, sess, data, 10),
                }
                key = ("predict", name, threads)
                rates = interleaved(tasks, repeat, errors, run.loads, key)
            run.errors.update({(name, threads, k): m for k, m in errors.items()})
            rate = {k: median(v) for k, v in rates.items()}
            rows.append(
                [name, threads, f"{rate['ours']:,.0f}", f"{rate['ort']:,.0f}"]
                + [f"{rate['ours'] / rate['ort']:.2f}x", f"{diff:.1e}"]
            )
    headers = ["model", "threads", "sklearn_nn rows/s", "onnxruntime rows/s"]
    section = [
        "## predict_proba throughput against onnxruntime",
        "",
        f"onnxruntime {ort.__version__}; median of {repeat} interleaved rounds after "
        "a warm-up one (the agreement check).",
        "",
        *markdown_table([*headers, "ours / ort", "max abs diff"], rows),
    ]
    title = "ONNX export: onnxruntime against sklearn_nn"
    return run.report(title, machine_info(), [section], "small data, 2 repeats")


if __name__ == "__main__":
    sys.exit(main())
