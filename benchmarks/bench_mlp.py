"""Benchmark ``sklearn_nn.MLPClassifier`` against scikit-learn and PyTorch on a CPU.

It benchmarks the ``sklearn_nn`` of the checkout it lives in. RUN IT WITH
``OPENBLAS_CORETYPE`` AND ``OPENBLAS_L2_SIZE`` UNSET: some environments set them to
work around old OpenBLAS builds, and they make a current OpenBLAS use a slower kernel
(the report shows the kernel in use, and the script warns when they are set)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp.py \\
        --out report.md
    # smoke test (6000 rows, 1 repeat, 1 epoch; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp.py --quick

Run it on an otherwise idle machine: on 2 cores, any other busy process wrecks the
2-thread numbers. The report gives, next to each measurement, the cores other
processes used meanwhile ("other load", from /proc/stat), and flags the disturbed ones.

The peer PyTorch is optional: ``pip install torch==2.13.0 psutil`` (or
``pip install ".[bench]"``); without it, its columns read "n/a".

What one run measures, on ``make_classification(n_samples=60000, n_features=784,
n_informative=50, n_classes=10, random_state=0)`` cast to float32 and standardized,
with an MLP (256, 128), ReLU, Adam, learning rate 1e-3, alpha 1e-4, no early stopping:

1. Seconds per training epoch of ``sklearn_nn.MLPClassifier``,
   ``sklearn.neural_network.MLPClassifier`` (both train in float32 on float32 X) and
   the same network in PyTorch, at batch 128 and 32, with 2 threads and 1 thread.
   The peers are interleaved round-robin, ``--repeat`` times (3), and the median is
   reported. A sklearn-API measurement is one ``fit`` with ``max_iter=k``, ``tol=0``
   and ``n_iter_no_change=k + 1`` (exactly k epochs, k=2), divided by k, after one
   warm-up ``fit`` with ``max_iter=1`` (JIT compilation).
2. ``predict_proba`` throughput (rows/s) on all rows.
3. Peak RSS of one ``fit`` (batch 128, one epoch) in a fresh process per peer.
4. ``import sklearn_nn`` and first ``fit`` times in a fresh process, with a cold and
   a warm Numba cache.
5. numpy float32 GEMM GFLOP/s on the layer shapes and on 2048^3: the BLAS ceiling,
   next to the GFLOP/s each peer achieves in training.

Threads are limited with ``threadpoolctl.threadpool_limits`` (OpenBLAS of numpy and
scipy, which the Numba kernels call, and OpenMP), ``numba.set_num_threads`` and
``torch.set_num_threads``. The report is printed as markdown and written to ``--out``.
"""

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

# The estimators' libraries are imported lazily, inside the functions that use them,
# so that a child process's baseline RSS holds only the peer it measures.

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

N_FEATURES = 784
N_CLASSES = 10
HIDDEN = (256, 128)
BATCH_SIZES = (128, 32)
THREAD_COUNTS = (2, 1)
FIRST_FIT_ROWS = 2000
LAYER_SHAPES = list(zip((N_FEATURES, *HIDDEN), (*HIDDEN, N_CLASSES), strict=True))
N_WEIGHTS = sum(n_in * n_out for n_in, n_out in LAYER_SHAPES)
#: Training FLOPs per sample of the GEMMs a step needs: forward, weight gradient and
#: input gradient, except the input layer's (no peer differentiates w.r.t. X). The
#: rough ``3 * 2 * N_WEIGHTS`` would count that one too: 1.4x more on this network.
TRAIN_FLOPS_PER_SAMPLE = 3 * 2 * N_WEIGHTS - 2 * LAYER_SHAPES[0][0] * LAYER_SHAPES[0][1]
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

#: Parameters shared by the two scikit-learn-API estimators.
MLP_PARAMS = {
    "hidden_layer_sizes": HIDDEN,
    "activation": "relu",
    "solver": "adam",
    "learning_rate_init": 1e-3,
    "alpha": 1e-4,
    "early_stopping": False,
    "shuffle": True,
    "random_state": 0,
}

#: Child process of the first-fit measurement: nothing but the standard library is
#: imported before ``sklearn_nn``, so its import time is the one a user sees.
FIRST_FIT_CHILD = """\
import json, sys, time, warnings
tic = time.perf_counter()
import sklearn_nn
import_seconds = time.perf_counter() - tic
import numpy as np
from sklearn.exceptions import ConvergenceWarning
data_dir, n_rows, params = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
X = np.ascontiguousarray(np.load(data_dir + "/X.npy", mmap_mode="r")[:n_rows])
y = np.load(data_dir + "/y.npy")[:n_rows]
clf = sklearn_nn.MLPClassifier(**params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    tic = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - tic
print(json.dumps({"import_s": import_seconds, "fit_s": fit_seconds}))
"""


@dataclass(frozen=True)
class Config:
    """Sizes of one benchmark run.

    Attributes
    ----------
    n_samples : int
        Rows of the data set.
    repeat : int
        Round-robin repeats of each timing; the median is reported.
    epochs : int
        Epochs k of one timed training run.
    gemm_seconds : float
        Time spent on each GEMM shape and thread count.
    quick : bool
        Whether this is the ``--quick`` smoke test.
    """

    n_samples: int
    repeat: int
    epochs: int
    gemm_seconds: float
    quick: bool


@dataclass(frozen=True)
class Peer:
    """One implementation under test.

    Attributes
    ----------
    name : str
        Name used in the report.
    module : str
        Module to import before measuring its baseline memory.
    train : callable
        ``train(X, y, batch_size, n_epochs) -> model``: a new model trained for
        exactly ``n_epochs`` epochs.
    predict_proba : callable
        ``predict_proba(model, X) -> ndarray of shape (n_samples, n_classes)``.
    """

    name: str
    module: str
    train: Callable
    predict_proba: Callable


# --------------------------------------------------------------------------- peers
def _fit_sklearn_api(estimator_class, X, y, batch_size, n_epochs):
    """Fit a scikit-learn-API MLP for exactly ``n_epochs`` epochs.

    Parameters
    ----------
    estimator_class : type
        ``sklearn_nn.MLPClassifier`` or ``sklearn.neural_network.MLPClassifier``.
    X : ndarray of shape (n_samples, n_features), float32
        Training data.
    y : ndarray of shape (n_samples,)
        Class labels.
    batch_size : int
        Mini-batch size.
    n_epochs : int
        Number of epochs: ``max_iter``; ``tol=0`` and ``n_iter_no_change`` above it
        rule out an early stop.

    Returns
    -------
    estimator : object
        The fitted estimator.
    """
    from sklearn.exceptions import ConvergenceWarning

    estimator = estimator_class(
        **MLP_PARAMS,
        batch_size=batch_size,
        max_iter=n_epochs,
        tol=0.0,
        n_iter_no_change=n_epochs + 1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    if estimator.n_iter_ != n_epochs:
        raise RuntimeError(
            f"{estimator_class.__module__} ran {estimator.n_iter_} epochs, "
            f"not {n_epochs}: the timing would be wrong."
        )
    return estimator


def train_sklearn_nn(X, y, batch_size, n_epochs):
    """Train ``sklearn_nn.MLPClassifier``; see `_fit_sklearn_api`."""
    from sklearn_nn import MLPClassifier

    return _fit_sklearn_api(MLPClassifier, X, y, batch_size, n_epochs)


def train_sklearn(X, y, batch_size, n_epochs):
    """Train ``sklearn.neural_network.MLPClassifier``; see `_fit_sklearn_api`."""
    from sklearn.neural_network import MLPClassifier

    return _fit_sklearn_api(MLPClassifier, X, y, batch_size, n_epochs)


def predict_proba_sklearn_api(model, X):
    """Class probabilities of a scikit-learn-API estimator."""
    return model.predict_proba(X)


def import_torch():
    """Return the ``torch`` module, or None when it cannot be imported."""
    try:
        import torch
    except Exception:  # ImportError, or OSError from a broken native library
        return None
    return torch


def train_torch(X, y, batch_size, n_epochs):
    """Train the same MLP in PyTorch: a shuffled mini-batch loop over tensors.

    Linear(784, 256)-ReLU-Linear(256, 128)-ReLU-Linear(128, 10), cross-entropy,
    ``torch.optim.Adam(lr=1e-3, weight_decay=0)``, a ``torch.randperm`` each epoch.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32
        Training data (shared with the tensor, not copied).
    y : ndarray of shape (n_samples,)
        Class labels 0 .. n_classes - 1.
    batch_size : int
        Mini-batch size.
    n_epochs : int
        Number of epochs.

    Returns
    -------
    model : torch.nn.Sequential
        The trained network.
    """
    torch = import_torch()
    nn = torch.nn
    torch.manual_seed(0)
    sizes = [X.shape[1], *HIDDEN]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(sizes[-1], int(y.max()) + 1))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0)
    X_t = torch.from_numpy(X)
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    n_samples = X_t.shape[0]
    model.train()
    for _ in range(n_epochs):
        order = torch.randperm(n_samples)
        for start in range(0, n_samples, batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()
    return model


def predict_proba_torch(model, X):
    """Softmax of the network's output, in eval mode without autograd."""
    torch = import_torch()
    model.eval()
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()


PEERS = {
    "sklearn_nn": Peer(
        "sklearn_nn", "sklearn_nn", train_sklearn_nn, predict_proba_sklearn_api
    ),
    "sklearn": Peer(
        "sklearn", "sklearn.neural_network", train_sklearn, predict_proba_sklearn_api
    ),
    "torch": Peer("torch", "torch", train_torch, predict_proba_torch),
}


def available_peers(notes):
    """The peers that can run here; a note says why one cannot.

    Parameters
    ----------
    notes : list of str
        Notes of the report, appended to.

    Returns
    -------
    peers : list of Peer
    """
    peers = [PEERS["sklearn_nn"], PEERS["sklearn"]]
    if import_torch() is None:
        notes.append("torch is not importable: the PyTorch peer was skipped.")
        log("NOTE: torch is not importable; skipping the PyTorch peer.")
    else:
        peers.append(PEERS["torch"])
    return peers


# ------------------------------------------------------------------------- helpers
def log(message):
    """Print a progress message to stderr."""
    print(message, file=sys.stderr, flush=True)


def timed(fn, *args, **kwargs):
    """Wall-clock seconds of one call, after a garbage collection.

    Returns
    -------
    seconds : float
    result : object
        What ``fn`` returned.
    """
    gc.collect()
    tic = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - tic, result


def round_robin(tasks, repeat, errors):
    """Run each task once per round, ``repeat`` rounds, the tasks interleaved.

    Parameters
    ----------
    tasks : dict of str to callable
        Name to a function of no argument returning one measurement.
    repeat : int
        Number of rounds.
    errors : dict of str to str
        Filled with the error of a task that raised; that task is then dropped.

    Returns
    -------
    samples : dict of str to list of float
        The measurements of each task (empty for a task that failed).
    """
    samples = {name: [] for name in tasks}
    for _ in range(repeat):
        for name, task in tasks.items():
            if name in errors:
                continue
            try:
                samples[name].append(task())
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
                samples[name] = []
                log(f"  {name} failed: {errors[name]}")
    return samples


@contextmanager
def limit_threads(n_threads):
    """Limit BLAS, OpenMP, Numba and PyTorch to ``n_threads`` threads.

    Parameters
    ----------
    n_threads : int
        Number of threads.
    """
    import numba

    torch = import_torch()
    numba_before = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    torch_before = None if torch is None else torch.get_num_threads()
    if torch is not None:
        torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        numba.set_num_threads(numba_before)
        if torch is not None:
            torch.set_num_threads(torch_before)


def median(values):
    """Median of a list, NaN for an empty one."""
    return statistics.median(values) if values else float("nan")


def fmt(value, spec=".3g"):
    """Format a number for the report; None and NaN read "n/a"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return format(value, spec)


def fmt_samples(values, spec=".3g"):
    """The median of measurements, with their range when there are several."""
    if not values:
        return "n/a"
    text = fmt(median(values), spec)
    if len(values) > 1:
        text += f" ({fmt(min(values), spec)}-{fmt(max(values), spec)})"
    return text


def ratio(numerator, denominator):
    """``numerator / denominator``, NaN when either is missing."""
    if not numerator or not denominator:
        return float("nan")
    return median(numerator) / median(denominator)


def markdown_table(headers, rows):
    """A markdown table, as a list of lines."""
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def current_rss_mib():
    """Resident set size of this process now, in MiB (None if unknown)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        pass
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return None


def peak_rss_mib():
    """Peak resident set size of this process so far, in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_env(**extra):
    """Environment of a child process: this checkout first on PYTHONPATH."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p
    )
    return env


def run_child(args, env, timeout=1800):
    """Run a fresh Python process and parse the JSON of its last stdout line.

    The interpreter is started by ``/bin/sh``, which forks it: a process exec'd
    straight from this one would inherit this process's RSS high-water mark as its
    ``ru_maxrss`` (Linux keeps it across exec), hiding the child's own peak.

    Parameters
    ----------
    args : list of str
        Arguments after the interpreter.
    env : dict
        Environment of the child.
    timeout : float, default=1800
        Seconds before the child (its whole process group) is killed.

    Returns
    -------
    result : dict
        The child's JSON, or ``{"error": message}``.
    """
    command = [sys.executable, *args]
    if Path("/bin/sh").exists():
        command = ["/bin/sh", "-c", '"$@"; exit $?', "sh", *command]
    with subprocess.Popen(
        command,
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"error": f"timed out after {timeout} s"}
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = " ".join(stderr.strip().splitlines()[-3:])
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


class OtherLoad:
    """Context manager: CPU used by other processes while the block ran.

    Reads /proc/stat (the whole machine) and ``os.times`` (this process). On a
    2-core machine, a multi-threaded measurement is unreliable when another
    process is busy: threads wait at barriers for a descheduled peer.

    Attributes
    ----------
    cores : float or None
        Average number of cores busy with other processes or stolen by the
        hypervisor; None where /proc/stat is not readable.
    """

    def __init__(self):
        self.cores = None
        self._start = None

    @staticmethod
    def _snapshot():
        try:
            with open("/proc/stat") as stat:
                ticks = [int(v) for v in stat.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        own = os.times()
        own = own.user + own.system + own.children_user + own.children_system
        return time.perf_counter(), busy, own

    def __enter__(self):
        self._start = self._snapshot()
        return self

    def __exit__(self, *exc_info):
        end = self._snapshot()
        if self._start is not None and end is not None:
            wall, busy, own = (b - a for a, b in zip(self._start, end, strict=True))
            self.cores = max(0.0, (busy - own) / wall) if wall > 0 else None
        return False


# ---------------------------------------------------------------------------- data
def make_data(n_samples):
    """The classification data: float32, standardized.

    Parameters
    ----------
    n_samples : int
        Number of rows.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float32, C-contiguous
    y : ndarray of shape (n_samples,), int64
    """
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=n_samples,
        n_features=N_FEATURES,
        n_informative=50,
        n_classes=N_CLASSES,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X.astype(np.float32))
    return np.ascontiguousarray(X, dtype=np.float32), y.astype(np.int64)


# ---------------------------------------------------------------------- benchmarks
def epoch_seconds(peer, X, y, batch_size, n_epochs):
    """Seconds per epoch of one training run of ``n_epochs`` epochs."""
    seconds, _ = timed(peer.train, X, y, batch_size, n_epochs)
    return seconds / n_epochs


def bench_training(peers, X, y, config, errors, loads):
    """Seconds per epoch of each peer, per thread count and batch size.

    Parameters
    ----------
    peers : list of Peer
    X, y : ndarray
        The data.
    config : Config
    errors : dict
        Filled with ``(threads, batch, peer name) -> error``.
    loads : dict
        Filled with ``("train", threads, batch) -> other processes' load (cores)``.

    Returns
    -------
    samples : dict
        ``(threads, batch) -> {peer name: list of seconds per epoch}``.
    """
    results = {}
    for threads in THREAD_COUNTS:
        for batch in BATCH_SIZES:
            log(f"training: {threads} thread(s), batch {batch}")
            run_errors = {}
            with limit_threads(threads):
                for peer in peers:  # warm-up: JIT compilation, caches, pools
                    try:
                        peer.train(X, y, batch, 1)
                    except Exception as exc:
                        run_errors[peer.name] = f"{type(exc).__name__}: {exc}"
                        log(f"  {peer.name} warm-up failed: {run_errors[peer.name]}")
                tasks = {
                    peer.name: partial(epoch_seconds, peer, X, y, batch, config.epochs)
                    for peer in peers
                }
                with OtherLoad() as load:
                    samples = round_robin(tasks, config.repeat, run_errors)
            loads[("train", threads, batch)] = load.cores
            for name, values in samples.items():
                log(f"  {name}: {fmt_samples(values)} s/epoch")
            log(f"  other processes' load: {fmt(load.cores, '.2f')} cores")
            for name, message in run_errors.items():
                errors[(threads, batch, name)] = message
            results[(threads, batch)] = samples
    return results


def rows_per_second(peer, model, X):
    """``predict_proba`` rows per second on X."""
    seconds, proba = timed(peer.predict_proba, model, X)
    if proba.shape != (X.shape[0], N_CLASSES):
        raise RuntimeError(f"predict_proba returned shape {proba.shape}")
    return X.shape[0] / seconds


def bench_predict(peers, X, y, config, errors, loads):
    """``predict_proba`` throughput of each peer, per thread count.

    The models are trained one epoch on the first rows: the weights' values do not
    change the cost of a forward pass. ``errors`` and ``loads`` are filled as in
    `bench_training`.

    Returns
    -------
    samples : dict
        ``threads -> {peer name: list of rows per second}``.
    """
    models = {}
    for peer in peers:
        try:
            models[peer.name] = peer.train(
                X[:FIRST_FIT_ROWS], y[:FIRST_FIT_ROWS], 128, 1
            )
        except Exception as exc:
            errors[("predict", peer.name)] = f"{type(exc).__name__}: {exc}"
    results = {}
    for threads in THREAD_COUNTS:
        log(f"predict_proba: {threads} thread(s)")
        run_errors = {}
        with limit_threads(threads):
            tasks = {
                peer.name: partial(rows_per_second, peer, models[peer.name], X)
                for peer in peers
                if peer.name in models
            }
            round_robin(tasks, 1, run_errors)  # warm-up
            with OtherLoad() as load:
                samples = round_robin(tasks, config.repeat, run_errors)
        loads[("predict", threads)] = load.cores
        for name, message in run_errors.items():
            errors[("predict", threads, name)] = message
        results[threads] = samples
    return results


def rss_child(peer_name, data_dir):
    """In a fresh process: baseline RSS, one ``fit`` (batch 128, one epoch), peak RSS.

    Prints the JSON result on stdout.
    """
    import importlib

    peer = PEERS[peer_name]
    importlib.import_module(peer.module)
    X = np.load(Path(data_dir, "X.npy"))
    y = np.load(Path(data_dir, "y.npy"))
    baseline = {"baseline_mib": current_rss_mib(), "peak_before_mib": peak_rss_mib()}
    peer.train(X, y, 128, 1)
    print(json.dumps({**baseline, "peak_after_mib": peak_rss_mib()}))


def bench_rss(peers, data_dir):
    """Peak RSS of one ``fit`` per peer, each in a fresh process.

    Returns
    -------
    results : dict
        ``peer name -> {baseline_mib, peak_before_mib, peak_after_mib}`` or
        ``{"error": message}``.
    """
    results = {}
    for peer in peers:
        log(f"peak RSS: {peer.name}")
        results[peer.name] = run_child(
            [__file__, "--rss-child", peer.name, "--data", str(data_dir)], child_env()
        )
    return results


def bench_first_fit(data_dir):
    """``import sklearn_nn`` and first-``fit`` seconds in a fresh process.

    Run twice with the same new ``NUMBA_CACHE_DIR``: cold Numba cache, then warm.

    Returns
    -------
    results : dict
        ``"cold" | "warm" -> {import_s, fit_s}`` or ``{"error": message}``.
    """
    params = json.dumps({**MLP_PARAMS, "batch_size": 128, "max_iter": 1})
    cache_dir = tempfile.mkdtemp(prefix="bench-numba-cache-")
    try:
        results = {}
        for state in ("cold", "warm"):
            log(f"first fit: {state} Numba cache")
            results[state] = run_child(
                ["-c", FIRST_FIT_CHILD, str(data_dir), str(FIRST_FIT_ROWS), params],
                child_env(NUMBA_CACHE_DIR=cache_dir),
            )
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return results


def gemm_seconds(m, k, n, *, transpose_a, budget, n_timings=5):
    """Median seconds of one float32 ``(m, k) @ (k, n)`` numpy matmul.

    Parameters
    ----------
    m, k, n : int
        The shapes.
    transpose_a : bool
        Whether the left operand is a transposed (F-ordered) view, as in the
        weight-gradient GEMM ``X.T @ delta``.
    budget : float
        Approximate total seconds to spend.
    n_timings : int, default=5
        Number of timings, each of enough calls to last ``budget / n_timings``.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if transpose_a else (m, k), dtype=np.float32)
    a = a.T if transpose_a else a
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)

    def run(calls):
        tic = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        return time.perf_counter() - tic

    run(1)
    calls, target = 1, budget / n_timings
    while (elapsed := run(calls)) < target / 2:
        calls = max(2 * calls, int(calls * target / max(elapsed, 1e-9)))
    return median([run(calls) / calls for _ in range(n_timings)])


def training_gemms(batch):
    """The GEMMs of one training step at ``batch``.

    Per layer: forward ``(b, in) @ (in, out)``, weight gradient ``(in, b) @ (b, out)``
    and, except for the input layer, input gradient ``(b, out) @ (out, in)``.

    Returns
    -------
    gemms : list of tuple
        ``(role, m, k, n, transpose_a)``, role "forward" or "backward".
    """
    gemms = []
    for layer, (n_in, n_out) in enumerate(LAYER_SHAPES):
        gemms.append(("forward", batch, n_in, n_out, False))
        gemms.append(("backward", n_in, batch, n_out, True))
        if layer > 0:
            gemms.append(("backward", batch, n_out, n_in, False))
    return gemms


def gflops(gemms, seconds):
    """GFLOP/s of a list of ``(role, m, k, n, transpose_a)`` GEMMs, taken together."""
    flops = sum(2.0 * m * k * n for _, m, k, n, _ in gemms)
    return flops / sum(seconds[gemm] for gemm in gemms) / 1e9


def bench_gemm(config, loads):
    """numpy float32 GEMM throughput at each thread count: the BLAS ceiling.

    Returns
    -------
    results : dict
        ``threads -> {"forward": {batch: [((m, k, n), GFLOP/s)] per layer},
        "forward_total": {batch: GFLOP/s}, "train_total": {batch: GFLOP/s},
        "large": GFLOP/s}``; a total is total FLOPs over total time. ``loads`` is
        filled with ``("gemm", threads) -> other processes' load (cores)``.
    """
    results = {}
    for threads in THREAD_COUNTS:
        log(f"GEMM ceiling: {threads} thread(s)")
        res = {"forward": {}, "forward_total": {}, "train_total": {}}
        with limit_threads(threads), OtherLoad() as load:
            for batch in BATCH_SIZES:
                gemms = training_gemms(batch)
                seconds = {
                    gemm: gemm_seconds(
                        *gemm[1:4], transpose_a=gemm[4], budget=config.gemm_seconds
                    )
                    for gemm in gemms
                }
                forward = [gemm for gemm in gemms if gemm[0] == "forward"]
                res["forward"][batch] = [
                    (gemm[1:4], gflops([gemm], seconds)) for gemm in forward
                ]
                res["forward_total"][batch] = gflops(forward, seconds)
                res["train_total"][batch] = gflops(gemms, seconds)
            size = 2048
            large = ("large", size, size, size, False)
            seconds = {
                large: gemm_seconds(
                    size, size, size, transpose_a=False, budget=config.gemm_seconds
                )
            }
            res["large"] = gflops([large], seconds)
        results[threads] = res
        loads[("gemm", threads)] = load.cores
    return results


# ------------------------------------------------------------------------- machine
def cpu_model():
    """The CPU model name from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision():
    """Commit of this checkout, "+dirty" when it has changes (read-only git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def machine_info():
    """Machine, versions and the BLAS / OpenMP libraries in use, as report lines."""
    import numba
    import scipy
    import scipy.linalg.cython_blas  # noqa: F401  (loads scipy's OpenBLAS)
    import sklearn
    import threadpoolctl

    import sklearn_nn

    torch = import_torch()
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:
        memory = "unknown (psutil not installed)"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    overrides = ", ".join(
        f"{name}={os.environ.get(name, 'unset')}" for name in OPENBLAS_OVERRIDES
    )
    lines = [
        f"- CPU: {cpu_model()}; nproc {os.cpu_count()} (usable {affinity}); "
        f"memory {memory}",
        f"- load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"numba {numba.__version__} (NUMBA_NUM_THREADS "
        f"{numba.config.NUMBA_NUM_THREADS}), "
        f"torch {torch.__version__ if torch is not None else 'not installed'}, "
        f"threadpoolctl {threadpoolctl.__version__}",
        f"- sklearn_nn {sklearn_nn.__version__} from "
        f"{Path(sklearn_nn.__file__).parent} (git {git_revision()})",
        f"- {overrides}",
        "",
        "BLAS and OpenMP libraries (threadpoolctl):",
        "",
    ]
    rows = [
        (
            info.get("user_api"),
            info.get("internal_api"),
            info.get("version") or "",
            info.get("architecture", ""),
            info.get("threading_layer", ""),
            info.get("num_threads"),
            Path(info.get("filepath", "")).name,
        )
        for info in threadpool_info()
    ]
    lines += markdown_table(
        ["API", "library", "version", "kernel", "threading", "threads", "file"], rows
    )
    return lines


# -------------------------------------------------------------------------- report
#: Other processes' load (cores) above which a measurement is flagged as disturbed.
LOAD_WARNING = 0.25


@dataclass
class Results:
    """Everything one run measured; see the ``bench_*`` functions for the shapes."""

    config: Config
    peers: list
    machine: list
    gemm: dict
    training: dict
    predict: dict
    rss: dict
    first_fit: dict
    loads: dict
    notes: list


def _ratio_cells(samples):
    """sklearn_nn / sklearn and sklearn_nn / torch ratios of medians."""
    return [
        fmt(ratio(samples.get("sklearn_nn"), samples.get(other)), ".2f")
        for other in ("sklearn", "torch")
    ]


def training_section(results):
    """Seconds per epoch, ratios, and achieved GFLOP/s against the GEMM ceiling."""
    names = [peer.name for peer in results.peers]
    lines = ["## Training: seconds per epoch", ""]
    lines += [
        "Median (min-max). Ratios are of medians: below 1 means sklearn_nn is "
        "faster. Other load: cores busy with other processes meanwhile.",
        "",
    ]
    rows = [
        [threads, batch]
        + [fmt_samples(samples.get(name, [])) for name in names]
        + _ratio_cells(samples)
        + [fmt(results.loads.get(("train", threads, batch)), ".2f")]
        for (threads, batch), samples in results.training.items()
    ]
    lines += markdown_table(
        ["threads", "batch", *names]
        + ["sklearn_nn/sklearn", "sklearn_nn/torch", "other load"],
        rows,
    )
    lines += ["", "## Training: achieved GFLOP/s and the numpy GEMM ceiling", ""]
    lines += [
        f"Achieved: {results.config.n_samples} x {TRAIN_FLOPS_PER_SAMPLE} FLOPs / "
        "median seconds per epoch. Ceiling: numpy float32 GEMMs of one training step "
        "at that batch (forward, input- and weight-gradient GEMMs: total FLOPs / "
        "total time), and one 2048^3 GEMM.",
        "",
    ]
    rows = []
    for (threads, batch), samples in results.training.items():
        achieved = [
            results.config.n_samples
            * TRAIN_FLOPS_PER_SAMPLE
            / median(samples[name])
            / 1e9
            if samples.get(name)
            else None
            for name in names
        ]
        ceiling = results.gemm[threads]
        rows.append(
            [threads, batch]
            + [fmt(value, ".1f") for value in achieved]
            + [
                fmt(ceiling["train_total"][batch], ".1f"),
                fmt(ceiling["large"], ".1f"),
            ]
        )
    lines += markdown_table(
        ["threads", "batch", *names, "GEMM ceiling (step)", "GEMM 2048^3"], rows
    )
    return lines


def predict_section(results):
    """``predict_proba`` rows per second."""
    names = [peer.name for peer in results.peers]
    lines = [
        f"## predict_proba throughput (rows/s, {results.config.n_samples} rows)",
        "",
        "Median (min-max). Ratios above 1 mean sklearn_nn is faster.",
        "",
    ]
    rows = [
        [threads]
        + [fmt_samples(samples.get(name, []), ",.0f") for name in names]
        + _ratio_cells(samples)
        + [fmt(results.loads.get(("predict", threads)), ".2f")]
        for threads, samples in results.predict.items()
    ]
    lines += markdown_table(
        ["threads", *names, "sklearn_nn/sklearn", "sklearn_nn/torch", "other load"],
        rows,
    )
    return lines


def rss_section(results):
    """Baseline and peak RSS of one fit per peer."""
    lines = [
        "## Peak RSS of one fit (batch 128, 1 epoch, fresh process, MiB)",
        "",
        "Baseline: RSS after importing the peer and loading the data, before fit. "
        "Peaks: ru_maxrss. Increment: peak after fit minus baseline.",
        "",
    ]
    rows = []
    for peer in results.peers:
        res = results.rss.get(peer.name, {"error": "not run"})
        if "error" in res:
            rows.append([peer.name, "error", "", "", res["error"]])
            continue
        increment = None
        if res.get("baseline_mib") is not None:
            increment = res["peak_after_mib"] - res["baseline_mib"]
        rows.append(
            [
                peer.name,
                fmt(res.get("baseline_mib"), ".0f"),
                fmt(res.get("peak_before_mib"), ".0f"),
                fmt(res.get("peak_after_mib"), ".0f"),
                fmt(increment, ".0f"),
            ]
        )
    lines += markdown_table(
        ["peer", "baseline RSS", "peak before fit", "peak after fit", "increment"],
        rows,
    )
    return lines


def first_fit_section(results):
    """Import and first-fit seconds, cold and warm Numba cache."""
    lines = [
        "## First fit in a fresh process (sklearn_nn, seconds)",
        "",
        "`import sklearn_nn` (numpy, scipy, scikit-learn and numba included), then "
        f"the first `fit(X[:{FIRST_FIT_ROWS}], y[:{FIRST_FIT_ROWS}])`, max_iter=1, "
        "batch 128, default threads. NUMBA_CACHE_DIR is a new empty directory "
        "(cold), then the same directory again (warm).",
        "",
    ]
    rows = [
        [state, "error", res["error"]]
        if "error" in res
        else [state, fmt(res["import_s"], ".2f"), fmt(res["fit_s"], ".2f")]
        for state, res in results.first_fit.items()
    ]
    lines += markdown_table(["Numba cache", "import", "first fit"], rows)
    return lines


def gemm_section(results):
    """numpy float32 GEMM GFLOP/s per shape and thread count."""
    gemm = results.gemm
    lines = ["## numpy float32 GEMM ceiling (GFLOP/s)", ""]
    rows = []
    for batch in BATCH_SIZES:
        for index, (shape, _) in enumerate(gemm[THREAD_COUNTS[0]]["forward"][batch]):
            m, k, n = shape
            rows.append(
                [f"({m}x{k}) @ ({k}x{n}), forward layer {index + 1}"]
                + [fmt(gemm[t]["forward"][batch][index][1], ".1f") for t in gemm]
            )
        rows.append(
            [f"forward pass (3 GEMMs), batch {batch}"]
            + [fmt(gemm[t]["forward_total"][batch], ".1f") for t in gemm]
        )
        rows.append(
            [f"training step ({len(training_gemms(batch))} GEMMs), batch {batch}"]
            + [fmt(gemm[t]["train_total"][batch], ".1f") for t in gemm]
        )
    rows.append(["2048 x 2048 x 2048"] + [fmt(gemm[t]["large"], ".1f") for t in gemm])
    rows.append(
        ["other load (cores)"]
        + [fmt(results.loads.get(("gemm", t)), ".2f") for t in gemm]
    )
    lines += markdown_table(["GEMM"] + [f"{t} thread(s)" for t in gemm], rows)
    return lines


def load_notes(loads):
    """Notes on the measurements that other processes disturbed."""
    disturbed = {
        key: cores
        for key, cores in loads.items()
        if cores is not None and cores > LOAD_WARNING
    }
    if not disturbed:
        return []
    where = ", ".join(
        f"{' '.join(str(part) for part in key)}: {cores:.2f}"
        for key, cores in disturbed.items()
    )
    return [
        f"Other processes kept more than {LOAD_WARNING} core busy during some "
        f"measurements ({where}); their multi-threaded numbers are unreliable: "
        "threads wait at barriers for a descheduled peer. Rerun on an idle machine."
    ]


def report(results):
    """The markdown report, as one string."""
    config = results.config
    lines = ["# sklearn_nn MLP benchmark", ""]
    if config.quick:
        lines += ["**--quick smoke test: small data, 1 repeat; not a benchmark.**", ""]
    lines += ["## Machine", "", *results.machine, "", "## Setup", ""]
    lines += [
        f"- data: make_classification({config.n_samples} x {N_FEATURES}, 50 "
        f"informative, {N_CLASSES} classes, random_state=0), float32, standardized",
        f"- model: {N_FEATURES}-{HIDDEN[0]}-{HIDDEN[1]}-{N_CLASSES}, ReLU, Adam "
        "(lr 1e-3), alpha 1e-4 for the sklearn-API peers, weight_decay 0 for torch, "
        "no early stopping",
        f"- training: one run of {config.epochs} epoch(s) per measurement, after a "
        "one-epoch warm-up; peers interleaved round-robin, "
        f"{config.repeat} repeat(s)",
        f"- training FLOPs per sample: {TRAIN_FLOPS_PER_SAMPLE}, the GEMMs of a step "
        f"(3 x 2 x {N_WEIGHTS} weights, less the input layer's input gradient, which "
        "no peer computes)",
        "",
    ]
    for section in (
        training_section,
        predict_section,
        rss_section,
        first_fit_section,
        gemm_section,
    ):
        lines += [*section(results), ""]
    loadavg = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines += [f"Load average at end: {loadavg}"]
    notes = results.notes + load_notes(results.loads)
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description="Benchmark sklearn_nn.MLPClassifier against scikit-learn and "
        "PyTorch. Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 6000 rows, 1 repeat, 1 epoch per measurement",
    )
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="round-robin repeats (default 3; 1 with --quick)",
    )
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark and print the report.

    Returns
    -------
    status : int
        0, or 1 when a measurement failed (the report still lists the others).
    """
    args = parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child, args.data)
        return 0
    started = time.perf_counter()
    notes = []
    overrides = [name for name in OPENBLAS_OVERRIDES if name in os.environ]
    if overrides:
        message = (
            f"WARNING: {', '.join(overrides)} set: OpenBLAS may use a slower kernel. "
            "Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`."
        )
        log(message)
        notes.append(message)
    if args.quick:
        config = Config(6000, repeat=1, epochs=1, gemm_seconds=0.05, quick=True)
    else:
        config = Config(60000, max(1, args.repeat), 2, gemm_seconds=1.0, quick=False)

    log(f"data: {config.n_samples} x {N_FEATURES}")
    X, y = make_data(config.n_samples)
    peers = available_peers(notes)
    machine = machine_info()
    errors, loads = {}, {}
    gemm = bench_gemm(config, loads)
    training = bench_training(peers, X, y, config, errors, loads)
    predict = bench_predict(peers, X, y, config, errors, loads)
    with tempfile.TemporaryDirectory(prefix="bench-mlp-data-") as data_dir:
        np.save(Path(data_dir, "X.npy"), X)
        np.save(Path(data_dir, "y.npy"), y)
        rss = bench_rss(peers, data_dir)
        first_fit = bench_first_fit(data_dir)
    errors.update(
        {("rss", name): res["error"] for name, res in rss.items() if "error" in res}
    )
    errors.update(
        {
            ("first fit", state): res["error"]
            for state, res in first_fit.items()
            if "error" in res
        }
    )
    notes += [f"error {key}: {message}" for key, message in errors.items()]
    notes.append(f"run time: {time.perf_counter() - started:.0f} s")

    text = report(
        Results(
            config=config,
            peers=peers,
            machine=machine,
            gemm=gemm,
            training=training,
            predict=predict,
            rss=rss,
            first_fit=first_fit,
            loads=loads,
            notes=notes,
        )
    )
    print(text)
    if args.out is not None:
        args.out.write_text(text)
        log(f"report written to {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
