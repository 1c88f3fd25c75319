"""Benchmark the sequence layers (LSTM, GRU, TransformerEncoder) against PyTorch on a
CPU, same layers, same data, in one run.

Run it with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see
``bench_mlp.py``), on an otherwise idle machine::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_sequence.py
    # smoke test (small data, 1 repeat; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_sequence.py \\
        --quick

What one run measures, at 2 threads and then 1, both peers interleaved round-robin
(``--repeat`` rounds, median and range reported):

- **Recurrent**: ``RNNClassifier(cell, units=(64,))`` against ``torch.nn.LSTM`` /
  ``torch.nn.GRU`` (batch_first, one layer, 64 units) + ``Linear`` on the last
  state; 4096 float32 sequences of 50 timesteps x 32 features, 10 classes, Adam lr
  1e-3, batch 64, no penalty. One epoch = one ``partial_fit`` (sklearn_nn) or one
  shuffled pass of ``optimizer.step`` (PyTorch), after one warm-up epoch.
  ``predict_proba`` throughput over all sequences, after one warm-up round
  (PyTorch: ``inference_mode``, batches of 512).
- **Transformer**: ``NeuralNetClassifier([TransformerEncoder(4, ff_units=128),
  GlobalAveragePooling1D()])`` against ``torch.nn.TransformerEncoderLayer(64, 4,
  128, dropout=0, batch_first=True)`` + mean over time + ``Linear``; 2048 float32
  sequences of 100 tokens x 64 features (model width 64), the same training and
  predict protocol.

Labels are learnable: ``argmax`` of a fixed random projection of each sequence's
mean. The report is markdown on stdout (ratios sklearn_nn / PyTorch: below 1 is
faster), also written to ``--out``; ``--only lstm gru`` runs some models only.
"""

import sys

import numpy as np
from _harness import (
    Run,
    fmt,
    fmt_samples,
    import_torch,
    interleaved,
    limit_threads,
    log,
    machine_info,
    markdown_table,
    ratio,
    rows_per_second,
    run_parser,
    timed,
)

N_CLASSES = 10
BATCH = 64
THREAD_COUNTS = (2, 1)
#: (sequences, timesteps, features) of each model's data; ``--quick``: 256 sequences.
SIZES = {"lstm": (4096, 50, 32), "gru": (4096, 50, 32), "transformer": (2048, 100, 64)}


def make_data(n, n_steps, features, seed=0):
    """Float32 sequences (n, T, F) and labels from a fixed projection of the mean."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_steps, features)).astype(np.float32)
    projection = rng.standard_normal((features, N_CLASSES))
    y = np.argmax(X.mean(axis=1) @ projection, axis=1)
    return X, y


# ------------------------------------------------------------------------ peers
def sklearn_nn_model(kind):
    """A new sklearn_nn estimator for ``kind`` ("lstm", "gru", "transformer")."""
    from sklearn_nn import NeuralNetClassifier, RNNClassifier
    from sklearn_nn.layers import GlobalAveragePooling1D, TransformerEncoder

    common = dict(batch_size=BATCH, learning_rate_init=1e-3, alpha=0.0, random_state=0)
    if kind == "transformer":
        layers = [TransformerEncoder(4, ff_units=128), GlobalAveragePooling1D()]
        return NeuralNetClassifier(layers, **common)
    return RNNClassifier(kind, (64,), **common)


def sklearn_nn_epoch(model, X, y):
    model.partial_fit(X, y, classes=np.arange(N_CLASSES))


def sklearn_nn_predict(model, X):
    return model.predict_proba(X)


class TorchSequenceModel:
    """The same network in PyTorch: the layer, then last state / mean, then Linear."""

    def __init__(self, kind, features):
        torch = import_torch()
        torch.manual_seed(0)
        nn = torch.nn
        self.kind = kind
        if kind == "transformer":
            self.body = nn.TransformerEncoderLayer(
                features, 4, 128, dropout=0.0, batch_first=True
            )
            width = features
        else:
            cell = nn.LSTM if kind == "lstm" else nn.GRU
            self.body = cell(features, 64, batch_first=True)
            width = 64
        self.head = nn.Linear(width, N_CLASSES)
        self.params = list(self.body.parameters()) + list(self.head.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=1e-3)

    def logits(self, x):
        if self.kind == "transformer":
            return self.head(self.body(x).mean(dim=1))
        out, _ = self.body(x)
        return self.head(out[:, -1])

    def epoch(self, X, y):
        torch = import_torch()
        X, y = torch.from_numpy(X), torch.from_numpy(y)
        loss_fn = torch.nn.functional.cross_entropy
        for rows in torch.randperm(X.shape[0]).split(BATCH):
            self.optimizer.zero_grad()
            loss_fn(self.logits(X[rows]), y[rows]).backward()
            self.optimizer.step()

    def predict_proba(self, X):
        torch = import_torch()
        with torch.inference_mode():
            parts = [
                torch.softmax(self.logits(torch.from_numpy(X[i : i + 512])), dim=1)
                for i in range(0, X.shape[0], 512)
            ]
        return torch.cat(parts).numpy()


# -------------------------------------------------------------------- benchmark
def bench(run, kind, X, y):
    """``{(peer, measure, threads): samples}`` for one model kind."""
    results = {}
    for threads in THREAD_COUNTS:
        with limit_threads(threads):
            log(f"{kind}: {threads} thread(s)")
            results.update(bench_threads(run, kind, X, y, threads))
    return results


def bench_threads(run, kind, X, y, threads):
    """Epoch and predict timings of both peers at the current thread limit."""
    ours = sklearn_nn_model(kind)
    first, _ = timed(sklearn_nn_epoch, ours, X, y)  # includes compiling
    results = {("sklearn_nn", "first epoch", threads): [first]}
    tasks = {"sklearn_nn": lambda: timed(sklearn_nn_epoch, ours, X, y)[0]}
    predicts = {
        "sklearn_nn": lambda: rows_per_second(sklearn_nn_predict, ours, X, N_CLASSES)
    }
    if "torch" in sys.modules:
        theirs = TorchSequenceModel(kind, X.shape[2])
        theirs.epoch(X, y)  # warm-up
        tasks["torch"] = lambda: timed(theirs.epoch, X, y)[0]
        predicts["torch"] = lambda: rows_per_second(
            TorchSequenceModel.predict_proba, theirs, X, N_CLASSES
        )
    errors, key = {}, (kind, threads)
    samples = interleaved(tasks, run.repeat, errors, run.loads, ("train", *key))
    results.update({(name, "epoch", threads): v for name, v in samples.items()})
    # one warm-up round, then the timed ones
    samples = interleaved(predicts, run.repeat, errors, run.loads, ("predict", *key), 1)
    results.update({(name, "predict", threads): v for name, v in samples.items()})
    run.errors.update({(*key, name): message for name, message in errors.items()})
    return results


def table(all_results):
    """The markdown table of all the results."""
    rows = []
    for kind, results in all_results.items():
        for threads in THREAD_COUNTS:
            ours, theirs, ours_p, theirs_p, first = (
                results.get((peer, measure, threads), [])
                for peer, measure in (
                    ("sklearn_nn", "epoch"),
                    ("torch", "epoch"),
                    ("sklearn_nn", "predict"),
                    ("torch", "predict"),
                    ("sklearn_nn", "first epoch"),
                )
            )
            rows.append(
                [kind, threads, fmt_samples(ours), fmt_samples(theirs)]
                + [fmt(ratio(ours, theirs), ".2f")]
                + [fmt_samples(ours_p, ".0f"), fmt_samples(theirs_p, ".0f")]
                + [fmt(ratio(theirs_p, ours_p), ".2f"), fmt_samples(first)]
            )
    headers = ["model", "threads", "sklearn_nn s/epoch", "PyTorch s/epoch", "ratio"]
    headers += ["sklearn_nn seq/s", "PyTorch seq/s", "predict time ratio"]
    return markdown_table([*headers, "sklearn_nn first epoch s"], rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "Benchmark LSTM, GRU and TransformerEncoder against PyTorch.",
        "smoke test: 256 sequences, 1 repeat",
    )
    parser.add_argument("--only", choices=list(SIZES), nargs="*", help="models to run")
    run = Run(parser.parse_args(argv))
    import_torch(run.notes)  # before limit_threads, which then limits it too
    machine = machine_info()
    results = {}
    for kind in run.args.only or SIZES:
        n, n_steps, features = SIZES[kind]
        X, y = make_data(256 if run.args.quick else n, n_steps, features)
        results[kind] = bench(run, kind, X, y)
    lines = [
        "## Epoch seconds and predict_proba throughput",
        "",
        f"Median (min-max) of {run.repeat} round-robin repeat(s). ratio: sklearn_nn "
        "/ PyTorch seconds per epoch; predict time ratio: the same for predict_proba "
        "(below 1: sklearn_nn is faster). The notes list the measurements other "
        "processes disturbed.",
        "",
        *table(results),
    ]
    title = "Sequence layers: sklearn_nn against PyTorch on the CPU"
    return run.report(title, machine, [lines], "256 sequences, 1 repeat")


if __name__ == "__main__":
    sys.exit(main())
