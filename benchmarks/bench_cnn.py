"""Benchmark ``sklearn_nn.CNNClassifier`` against the same network in PyTorch on a CPU.

It benchmarks the ``sklearn_nn`` of the checkout it lives in. Run it with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see ``bench_mlp.py``: they make
a current OpenBLAS use a slower kernel), on an otherwise idle machine::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py \\
        --out report.md
    # smoke test (1000 images, 1 repeat; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py --quick

The peer PyTorch is optional: ``pip install torch==2.13.0 psutil``; without it, its
columns read "n/a". The helpers (thread limits, round-robin timing, the other-load
probe, the GEMM timer) are those of ``bench_mlp.py``, imported from beside this file.

What one run measures
---------------------
The reference architecture: Conv2D(32, 3x3, relu, valid) - MaxPool(2) - Conv2D(64,
3x3, relu, valid) - MaxPool(2) - Flatten - Dense(128, relu) - Dropout(0.5) - Dense(10,
softmax), Adam at lr 1e-3 (no L2 penalty, no weight decay), batch 64, in
``sklearn_nn`` (rows of X, ``data_format="channels_first"``) and in PyTorch (the same
rows viewed as NCHW tensors, cross-entropy, a shuffled mini-batch loop).

Two synthetic float32 image sets from ``numpy.random.default_rng(0)``: 10000
CIFAR-shaped images (3x32x32, rows channels-first as CIFAR-10's raw rows: X of shape
(10000, 3072)) and 10000 MNIST-shaped ones (1x28x28: X (10000, 784)). Pixels are
uniform on [0, 1); the 10 labels are learnable: ``y = argmax((X - 0.5) @ W)`` for a
fixed standard-normal projection W of shape (n_features, 10) from the same generator.

For each image set, at 2 threads and then at 1 thread, both peers interleaved:

1. Seconds per training epoch: a new model per thread count, one warm-up epoch (for
   sklearn_nn the first ``partial_fit(X, y, classes=...)``, reported separately as
   "first epoch"; the run's very first one includes Numba's JIT compilation, since
   the run uses a new empty Numba cache unless ``--warm-cache``), then ``--repeat``
   (3) rounds of one epoch per peer, round-robin; the median is reported. An
   sklearn_nn epoch is one ``partial_fit(X, y)`` call; a PyTorch epoch one pass over
   a ``torch.randperm`` of the rows.
2. ``predict_proba`` throughput (images/s) over all the images: one warm-up round,
   then ``--repeat`` interleaved rounds, median.
3. Achieved GFLOP/s, from FLOPs counted analytically (`train_flops_per_image`):
   forward = sum over the conv and dense layers of 2 x MACs; training = forward +
   backward, where each layer's backward is a weight-gradient and an input-gradient
   product as costly as its forward one, except that the first convolution needs no
   input gradient: ``train = 3 * forward - 2 * MACs(conv1)``. Pooling, activations,
   dropout, softmax and the Adam update are not counted.
4. numpy float32 GEMM GFLOP/s in the same run: one 2048^3 GEMM, the im2col GEMM of
   the second convolution at batch 64 (CIFAR: (64*13*13, 288) @ (288, 64)), and all
   the GEMMs of one im2col training step at batch 64, taken together.

Threads are limited with ``threadpoolctl.threadpool_limits`` (the BLAS that the Numba
kernels call, and OpenMP; sklearn_nn's own kernel threads follow that limit),
``numba.set_num_threads`` and ``torch.set_num_threads``. The report is printed as
markdown (ratios sklearn_nn / PyTorch) and written to ``--out``.
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlp import (  # noqa: E402  (the sibling script, beside this one)
    OPENBLAS_OVERRIDES,
    REPO_ROOT,
    OtherLoad,
    cpu_model,
    fmt,
    fmt_samples,
    gemm_seconds,
    git_revision,
    import_torch,
    limit_threads,
    load_notes,
    log,
    markdown_table,
    median,
    ratio,
    round_robin,
    timed,
)

# sklearn_nn, numba and torch are imported lazily: the Numba cache directory must be
# chosen before numba is imported, and the torch part runs without sklearn_nn.

N_CLASSES = 10
CONV_FILTERS = (32, 64)
KERNEL_SIZE = 3
POOL_SIZE = 2
HIDDEN = (128,)
DROPOUT = 0.5
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
THREAD_COUNTS = (2, 1)
#: Images per forward call of the PyTorch ``predict_proba`` (sklearn_nn chunks its
#: input itself, by a memory budget). A short sweep on the 2-core machine (CIFAR
#: shape, 32 to 1000 images per call) found 64 to 128 fastest at 1 and 2 threads, and
#: 1000 about 2x slower: PyTorch gets its best chunk here.
TORCH_PREDICT_CHUNK = 128
LARGE_GEMM = 2048
PEER_NAMES = ("sklearn_nn", "torch")


@dataclass(frozen=True)
class ImageSet:
    """Shape of the images of one synthetic data set.

    Attributes
    ----------
    name : str
        Short name, as given to ``--datasets``.
    channels, height, width : int
        Image shape; a row of X stores it channels-first, ``(c, h, w)``.
    """

    name: str
    channels: int
    height: int
    width: int

    @property
    def n_features(self):
        """Values per row of X."""
        return self.channels * self.height * self.width

    @property
    def label(self):
        """Name and shape, for the report."""
        return f"{self.name} {self.channels}x{self.height}x{self.width}"


IMAGE_SETS = {
    "cifar": ImageSet("cifar", 3, 32, 32),
    "mnist": ImageSet("mnist", 1, 28, 28),
}


@dataclass(frozen=True)
class Config:
    """Sizes of one benchmark run.

    Attributes
    ----------
    n_images : int
        Images of each data set.
    repeat : int
        Round-robin repeats of each timing; the median is reported.
    gemm_seconds : float
        Time spent on each GEMM shape and thread count.
    image_sets : tuple of ImageSet
        The data sets to run.
    quick : bool
        Whether this is the ``--quick`` smoke test.
    cold_cache : bool
        Whether the run uses a new empty Numba cache directory.
    """

    n_images: int
    repeat: int
    gemm_seconds: float
    image_sets: tuple
    quick: bool
    cold_cache: bool


# -------------------------------------------------------------------------- FLOPs
def layer_gemms(image):
    """The forward GEMM of each convolution and dense layer, per image.

    A valid 3x3 convolution of a (c, h, w) input into f filters is, by im2col, a
    GEMM ``(positions, c * 9) @ (c * 9, f)`` with ``(h - 2) * (w - 2)`` positions;
    a 2x2 max pooling then floors each side to half. A dense layer is ``(1, in) @
    (in, out)``.

    Parameters
    ----------
    image : ImageSet

    Returns
    -------
    gemms : list of tuple
        ``(layer name, positions p, k, n)``: the layer's forward pass is ``p * k * n``
        multiply-adds per image.
    """
    channels, height, width = image.channels, image.height, image.width
    gemms = []
    for index, filters in enumerate(CONV_FILTERS):
        height, width = height - KERNEL_SIZE + 1, width - KERNEL_SIZE + 1
        gemms.append(
            (f"conv{index + 1}", height * width, channels * KERNEL_SIZE**2, filters)
        )
        channels = filters
        height, width = height // POOL_SIZE, width // POOL_SIZE
    n_in = channels * height * width
    for index, units in enumerate((*HIDDEN, N_CLASSES)):
        gemms.append((f"dense{index + 1}", 1, n_in, units))
        n_in = units
    return gemms


def forward_flops_per_image(image):
    """Forward FLOPs per image: ``sum over conv/dense layers of 2 * p * k * n``."""
    return sum(2 * p * k * n for _, p, k, n in layer_gemms(image))


def train_flops_per_image(image):
    """Training FLOPs per image: forward plus backward.

    ``train = forward + backward``, ``backward = 2 * forward - forward(conv1)``: each
    layer's backward pass is a weight-gradient GEMM and an input-gradient GEMM of the
    same size as its forward GEMM, except the first convolution's, whose input
    gradient (w.r.t. X) nobody computes. Hence::

        train = 3 * forward - 2 * MACs(conv1)
    """
    _, p, k, n = layer_gemms(image)[0]
    return 3 * forward_flops_per_image(image) - 2 * p * k * n


def step_gemms(image, batch):
    """The GEMMs of one im2col training step at ``batch``.

    Per layer: forward ``(batch * p, k) @ (k, n)``, weight gradient ``(k, batch * p)
    @ (batch * p, n)`` (left operand transposed) and, except for the first layer,
    input gradient ``(batch * p, n) @ (n, k)``.

    Returns
    -------
    gemms : list of tuple
        ``(role, m, k, n, transpose_a)``, role "forward", "weight" or "input".
    """
    gemms = []
    for index, (_, p, k, n) in enumerate(layer_gemms(image)):
        m = batch * p
        gemms.append(("forward", m, k, n, False))
        gemms.append(("weight", k, m, n, True))
        if index > 0:
            gemms.append(("input", m, n, k, False))
    return gemms


def gflops(gemms, seconds):
    """GFLOP/s of ``(role, m, k, n, transpose_a)`` GEMMs taken together."""
    flops = sum(2.0 * m * k * n for _, m, k, n, _ in gemms)
    return flops / sum(seconds[gemm] for gemm in gemms) / 1e9


# ---------------------------------------------------------------------------- data
def make_data(image, n_images):
    """Synthetic images with learnable labels.

    Parameters
    ----------
    image : ImageSet
    n_images : int

    Returns
    -------
    X : ndarray of shape (n_images, c * h * w), float32, C-contiguous
        Uniform pixels on [0, 1), each row an image stored channels-first.
    y : ndarray of shape (n_images,), int64
        ``argmax((X - 0.5) @ W)`` for a standard-normal W of shape
        (n_features, 10): a linear function of the pixels, so learnable.
    """
    rng = np.random.default_rng(0)
    X = rng.random((n_images, image.n_features), dtype=np.float32)
    W = rng.standard_normal((image.n_features, N_CLASSES), dtype=np.float32)
    y = np.argmax((X - np.float32(0.5)) @ W, axis=1).astype(np.int64)
    return X, y


# --------------------------------------------------------------------------- peers
class SklearnNNPeer:
    """``sklearn_nn.CNNClassifier``, trained one epoch per ``partial_fit``."""

    name = "sklearn_nn"

    @staticmethod
    def new_model(image):
        """An unfitted ``CNNClassifier`` of the reference architecture."""
        from sklearn_nn import CNNClassifier

        return CNNClassifier(
            conv_filters=CONV_FILTERS,
            kernel_size=KERNEL_SIZE,
            pool_size=POOL_SIZE,
            padding="valid",
            hidden_layer_sizes=HIDDEN,
            activation="relu",
            dropout=DROPOUT,
            input_shape=(image.height, image.width, image.channels),
            data_format="channels_first",
            solver="adam",
            learning_rate_init=LEARNING_RATE,
            alpha=0.0,
            batch_size=BATCH_SIZE,
            random_state=0,
            shuffle=True,
        )

    @staticmethod
    def first_epoch(model, X, y):
        """The first epoch: ``partial_fit`` with ``classes`` (pays the JIT compile)."""
        model.partial_fit(X, y, classes=np.arange(N_CLASSES))

    @staticmethod
    def epoch(model, X, y):
        """One more epoch: one ``partial_fit`` call."""
        model.partial_fit(X, y)

    @staticmethod
    def predict_proba(model, X):
        """Class probabilities."""
        return model.predict_proba(X)


@dataclass
class TorchModel:
    """A PyTorch network with its optimizer and shuffling generator."""

    net: object
    optimizer: object
    loss_fn: object
    generator: object
    shape: tuple = field(default=())


class TorchPeer:
    """The same network in PyTorch (CPU, NCHW), a plain mini-batch loop."""

    name = "torch"

    @staticmethod
    def new_model(image):
        """Conv-ReLU-Pool x2, Flatten, Linear-ReLU-Dropout, Linear; Adam."""
        torch = import_torch()
        nn = torch.nn
        torch.manual_seed(0)
        layers = []
        channels = image.channels
        for filters in CONV_FILTERS:
            layers += [
                nn.Conv2d(channels, filters, KERNEL_SIZE),  # padding 0: "valid"
                nn.ReLU(),
                nn.MaxPool2d(POOL_SIZE),  # floor: "valid"
            ]
            channels = filters
        layers.append(nn.Flatten())
        n_in = layer_gemms(image)[len(CONV_FILTERS)][2]
        for units in HIDDEN:
            layers += [nn.Linear(n_in, units), nn.ReLU(), nn.Dropout(DROPOUT)]
            n_in = units
        layers.append(nn.Linear(n_in, N_CLASSES))
        net = nn.Sequential(*layers)
        optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
        generator = torch.Generator().manual_seed(0)
        shape = (image.channels, image.height, image.width)
        return TorchModel(net, optimizer, nn.CrossEntropyLoss(), generator, shape)

    @staticmethod
    def epoch(model, X, y):
        """One epoch over a random permutation of the rows, batch 64."""
        torch = import_torch()
        X_t = torch.from_numpy(X).view(-1, *model.shape)  # no copy
        y_t = torch.from_numpy(y)
        n_images = X_t.shape[0]
        model.net.train()
        order = torch.randperm(n_images, generator=model.generator)
        for start in range(0, n_images, BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            model.optimizer.zero_grad(set_to_none=True)
            loss = model.loss_fn(model.net(X_t[idx]), y_t[idx])
            loss.backward()
            model.optimizer.step()

    first_epoch = epoch

    @staticmethod
    def predict_proba(model, X):
        """Softmax of the outputs: eval mode, no autograd, chunks of 128 images."""
        torch = import_torch()
        X_t = torch.from_numpy(X).view(-1, *model.shape)
        out = np.empty((X.shape[0], N_CLASSES), dtype=np.float32)
        model.net.eval()
        with torch.no_grad():
            for start in range(0, X.shape[0], TORCH_PREDICT_CHUNK):
                stop = start + TORCH_PREDICT_CHUNK
                logits = model.net(X_t[start:stop])
                out[start:stop] = torch.softmax(logits, dim=1).numpy()
        return out


def available_peers(notes, errors):
    """The peers that can run here; a note (or an error) says why one cannot.

    Parameters
    ----------
    notes : list of str
        Notes of the report, appended to.
    errors : dict
        Filled with ``("import", peer name) -> error`` when sklearn_nn, the subject
        of the benchmark, cannot be imported.

    Returns
    -------
    peers : dict of str to peer
    """
    peers = {}
    try:
        from sklearn_nn import CNNClassifier  # noqa: F401
    except Exception as exc:
        errors[("import", "sklearn_nn")] = f"{type(exc).__name__}: {exc}"
        log(f"ERROR: cannot import sklearn_nn.CNNClassifier: {exc}")
    else:
        peers["sklearn_nn"] = SklearnNNPeer()
    if import_torch() is None:
        notes.append("torch is not importable: the PyTorch peer was skipped.")
        log("NOTE: torch is not importable; skipping the PyTorch peer.")
    else:
        peers["torch"] = TorchPeer()
    return peers


# ---------------------------------------------------------------------- benchmarks
def epoch_seconds(peer, model, X, y):
    """Seconds of one more training epoch."""
    seconds, _ = timed(peer.epoch, model, X, y)
    return seconds


def images_per_second(peer, model, X):
    """``predict_proba`` images per second over X."""
    seconds, proba = timed(peer.predict_proba, model, X)
    if proba.shape != (X.shape[0], N_CLASSES):
        raise RuntimeError(f"predict_proba returned shape {proba.shape}")
    return X.shape[0] / seconds


def bench_image_set(image, peers, config, errors, loads):
    """Training and ``predict_proba`` timings of each peer, per thread count.

    Parameters
    ----------
    image : ImageSet
    peers : dict of str to peer
    config : Config
    errors : dict
        Filled with ``(image set, threads, peer name) -> error``.
    loads : dict
        Filled with ``("train" | "predict", image set, threads) -> other
        processes' load (cores)``.

    Returns
    -------
    results : dict
        ``threads -> {"first": {peer: seconds}, "epoch": {peer: [seconds]},
        "predict": {peer: [images/s]}}``.
    """
    X, y = make_data(image, config.n_images)
    results = {}
    for threads in THREAD_COUNTS:
        log(f"{image.label}: {threads} thread(s)")
        res = {"first": {}, "epoch": {}, "predict": {}}
        run_errors = {}
        models = {}
        with limit_threads(threads):
            for name, peer in peers.items():  # warm-up: JIT, caches, thread pools
                try:
                    model = peer.new_model(image)
                    res["first"][name], _ = timed(peer.first_epoch, model, X, y)
                    models[name] = model
                    log(f"  {name}: first epoch {res['first'][name]:.3g} s")
                except Exception as exc:
                    run_errors[name] = f"{type(exc).__name__}: {exc}"
                    log(f"  {name} first epoch failed: {run_errors[name]}")
            tasks = {
                name: partial(epoch_seconds, peers[name], model, X, y)
                for name, model in models.items()
            }
            with OtherLoad() as load:
                res["epoch"] = round_robin(tasks, config.repeat, run_errors)
            loads[("train", image.name, threads)] = load.cores
            for name, values in res["epoch"].items():
                log(f"  {name}: {fmt_samples(values)} s/epoch")
            tasks = {
                name: partial(images_per_second, peers[name], model, X)
                for name, model in models.items()
                if name not in run_errors
            }
            round_robin(tasks, 1, run_errors)  # warm-up
            with OtherLoad() as load:
                res["predict"] = round_robin(tasks, config.repeat, run_errors)
            loads[("predict", image.name, threads)] = load.cores
            for name, values in res["predict"].items():
                log(f"  {name}: {fmt_samples(values, ',.0f')} images/s predict_proba")
        log(f"  other processes' load: {fmt(load.cores, '.2f')} cores")
        for name, message in run_errors.items():
            errors[(image.name, threads, name)] = message
        results[threads] = res
    return results


def bench_gemm(config, loads):
    """numpy float32 GEMM throughput at each thread count: the BLAS ceiling.

    Returns
    -------
    results : dict
        ``threads -> {"large": GFLOP/s, image set name -> {"conv2": GFLOP/s,
        "forward": GFLOP/s, "step": GFLOP/s}}``: the second convolution's forward
        GEMM at batch 64, the forward GEMMs of a step, and all its GEMMs (total
        FLOPs over total time). ``loads`` is filled with ``("gemm", threads) ->
        other processes' load (cores)``.
    """
    results = {}
    for threads in THREAD_COUNTS:
        log(f"GEMM ceiling: {threads} thread(s)")
        res = {}
        with limit_threads(threads), OtherLoad() as load:
            for image in config.image_sets:
                gemms = step_gemms(image, BATCH_SIZE)
                seconds = {}
                for gemm in gemms:
                    if gemm not in seconds:
                        seconds[gemm] = gemm_seconds(
                            *gemm[1:4], transpose_a=gemm[4], budget=config.gemm_seconds
                        )
                forward = [gemm for gemm in gemms if gemm[0] == "forward"]
                res[image.name] = {
                    "conv2": gflops([forward[1]], seconds),
                    "forward": gflops(forward, seconds),
                    "step": gflops(gemms, seconds),
                }
            large = ("large", LARGE_GEMM, LARGE_GEMM, LARGE_GEMM, False)
            seconds = {
                large: gemm_seconds(
                    *large[1:4], transpose_a=False, budget=config.gemm_seconds
                )
            }
            res["large"] = gflops([large], seconds)
        results[threads] = res
        loads[("gemm", threads)] = load.cores
    return results


# ------------------------------------------------------------------------- machine
def machine_info(config):
    """Machine, versions and the BLAS / OpenMP libraries in use, as report lines."""
    import numba
    import scipy
    import scipy.linalg.cython_blas  # noqa: F401  (loads scipy's OpenBLAS)
    import threadpoolctl

    torch = import_torch()
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:
        memory = "unknown (psutil not installed)"
    try:
        import sklearn_nn

        ours = (
            f"sklearn_nn {sklearn_nn.__version__} from "
            f"{Path(sklearn_nn.__file__).parent} (git {git_revision()})"
        )
    except Exception as exc:
        ours = f"sklearn_nn not importable ({type(exc).__name__}; git {git_revision()})"
    if torch is not None:
        mkldnn = "oneDNN on" if torch.backends.mkldnn.is_available() else "no oneDNN"
        torch_version = f"{torch.__version__} ({mkldnn})"
    else:
        torch_version = "not installed"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    overrides = ", ".join(
        f"{name}={os.environ.get(name, 'unset')}" for name in OPENBLAS_OVERRIDES
    )
    cache = "new empty directory" if config.cold_cache else "the usual one (warm)"
    lines = [
        f"- CPU: {cpu_model()}; nproc {os.cpu_count()} (usable {affinity}); "
        f"memory {memory}",
        f"- load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, numba {numba.__version__} (NUMBA_NUM_THREADS "
        f"{numba.config.NUMBA_NUM_THREADS}), torch {torch_version}, "
        f"threadpoolctl {threadpoolctl.__version__}",
        f"- {ours}",
        f"- {overrides}; Numba cache: {cache}",
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
def setup_section(config):
    """Data, model, protocol and the FLOP counts per image."""
    cache = (
        "a new empty Numba cache, so the run's first sklearn_nn epoch includes the JIT "
        "compilation"
        if config.cold_cache
        else "the usual (warm) Numba cache: the first epoch loads compiled kernels"
    )
    lines = [
        "## Setup",
        "",
        f"- data: {config.n_images} synthetic float32 images per set from "
        "`numpy.random.default_rng(0)`, rows channels-first (c, h, w); pixels "
        "uniform on [0, 1); labels `argmax((X - 0.5) @ W)`, W standard normal "
        f"(n_features x {N_CLASSES}): learnable",
        "- model: Conv2D(32, 3x3, relu, valid) - MaxPool(2) - Conv2D(64, 3x3, relu, "
        "valid) - MaxPool(2) - Flatten - Dense(128, relu) - Dropout(0.5) - "
        "Dense(10, softmax); Adam lr 1e-3, no L2 (alpha=0, weight_decay=0), "
        f"batch {BATCH_SIZE}, shuffled",
        "- sklearn_nn: `CNNClassifier(..., data_format='channels_first')`, an epoch "
        "is one `partial_fit(X, y)`; torch: the rows viewed as NCHW, "
        f"`predict_proba` in chunks of {TORCH_PREDICT_CHUNK} images",
        "- training: a new model per image set and thread count, one warm-up epoch "
        f'("first epoch"), then {config.repeat} round(s) of one epoch per peer, '
        f"interleaved; {cache}",
        "- FLOPs: forward = sum of 2 x MACs of the conv and dense layers; training = "
        "3 x forward - 2 x MACs(conv1) (backward = weight- and input-gradient "
        "products, each the size of the forward one, but no input gradient for "
        "conv1); pooling, activations, dropout, softmax and Adam not counted",
        "",
    ]
    names = [name for name, *_ in layer_gemms(config.image_sets[0])]
    rows = []
    for image in config.image_sets:
        rows.append(
            [image.label]
            + [f"{2 * p * k * n / 1e6:.3f}" for _, p, k, n in layer_gemms(image)]
            + [
                f"{forward_flops_per_image(image) / 1e6:.3f}",
                f"{train_flops_per_image(image) / 1e6:.3f}",
            ]
        )
    lines += ["MFLOP per image (forward of each layer; totals):", ""]
    lines += markdown_table(["image set", *names, "forward", "training"], rows)
    return lines


def training_section(config, peers, results, loads):
    """Seconds per epoch and the sklearn_nn / torch ratio."""
    lines = [
        "## Training: seconds per epoch",
        "",
        "Median (min-max) of the epochs after the first. Ratio of medians: below 1 "
        "means sklearn_nn is faster. First epoch: the warm-up `partial_fit(X, y, "
        "classes=...)` (torch: its first epoch). Other load: cores busy with other "
        "processes meanwhile.",
        "",
    ]
    rows = []
    for image in config.image_sets:
        for threads, res in results[image.name].items():
            epoch = res["epoch"]
            rows.append(
                [image.label, threads]
                + [fmt_samples(epoch.get(name, [])) for name in peers]
                + [fmt(ratio(epoch.get("sklearn_nn"), epoch.get("torch")), ".2f")]
                + [fmt(res["first"].get(name), ".3g") for name in peers]
                + [fmt(loads.get(("train", image.name, threads)), ".2f")]
            )
    lines += markdown_table(
        ["image set", "threads", *peers, "sklearn_nn/torch"]
        + [f"{name} first epoch" for name in peers]
        + ["other load"],
        rows,
    )
    return lines


def predict_section(config, peers, results, loads):
    """``predict_proba`` images per second and the sklearn_nn / torch ratio."""
    lines = [
        f"## predict_proba throughput (images/s, {config.n_images} images)",
        "",
        "Median (min-max). Ratio of medians: above 1 means sklearn_nn is faster.",
        "",
    ]
    rows = []
    for image in config.image_sets:
        for threads, res in results[image.name].items():
            predict = res["predict"]
            rows.append(
                [image.label, threads]
                + [fmt_samples(predict.get(name, []), ",.0f") for name in peers]
                + [fmt(ratio(predict.get("sklearn_nn"), predict.get("torch")), ".2f")]
                + [fmt(loads.get(("predict", image.name, threads)), ".2f")]
            )
    lines += markdown_table(
        ["image set", "threads", *peers, "sklearn_nn/torch", "other load"], rows
    )
    return lines


def gflops_section(config, peers, results, gemm):
    """Achieved GFLOP/s in training and inference, next to the GEMM ceiling."""
    lines = [
        "## Achieved GFLOP/s and the numpy GEMM ceiling",
        "",
        "Training: images x training FLOPs per image / median seconds per epoch. "
        "predict: forward FLOPs per image x median images/s. Ceiling: numpy float32 "
        f"GEMMs at batch {BATCH_SIZE}: conv2's im2col GEMM, all the GEMMs of one "
        "im2col training step (total FLOPs / total time), and one "
        f"{LARGE_GEMM}^3 GEMM.",
        "",
    ]
    rows = []
    for image in config.image_sets:
        train_flops = config.n_images * train_flops_per_image(image)
        forward_flops = forward_flops_per_image(image)
        for threads, res in results[image.name].items():
            train = [
                train_flops / median(res["epoch"][name]) / 1e9
                if res["epoch"].get(name)
                else None
                for name in peers
            ]
            predict = [
                forward_flops * median(res["predict"][name]) / 1e9
                if res["predict"].get(name)
                else None
                for name in peers
            ]
            ceiling = gemm[threads]
            rows.append(
                [image.label, threads]
                + [fmt(value, ".1f") for value in train + predict]
                + [
                    fmt(ceiling[image.name]["conv2"], ".1f"),
                    fmt(ceiling[image.name]["step"], ".1f"),
                    fmt(ceiling["large"], ".1f"),
                ]
            )
    lines += markdown_table(
        ["image set", "threads"]
        + [f"train {name}" for name in peers]
        + [f"predict {name}" for name in peers]
        + ["GEMM conv2", "GEMM step", f"GEMM {LARGE_GEMM}^3"],
        rows,
    )
    return lines


def gemm_section(config, gemm, loads):
    """numpy float32 GEMM GFLOP/s per shape and thread count."""
    lines = ["## numpy float32 GEMM ceiling (GFLOP/s)", ""]
    rows = []
    for image in config.image_sets:
        gemms = step_gemms(image, BATCH_SIZE)
        _, m, k, n, _ = [g for g in gemms if g[0] == "forward"][1]
        n_forward = sum(g[0] == "forward" for g in gemms)
        for key, label in (
            ("conv2", f"({m}x{k}) @ ({k}x{n}), conv2 forward"),
            ("forward", f"forward pass ({n_forward} GEMMs)"),
            ("step", f"training step ({len(gemms)} GEMMs)"),
        ):
            rows.append(
                [f"{image.label}: {label}, batch {BATCH_SIZE}"]
                + [fmt(gemm[t][image.name][key], ".1f") for t in gemm]
            )
    rows.append(
        [f"{LARGE_GEMM} x {LARGE_GEMM} x {LARGE_GEMM}"]
        + [fmt(gemm[t]["large"], ".1f") for t in gemm]
    )
    rows.append(
        ["other load (cores)"] + [fmt(loads.get(("gemm", t)), ".2f") for t in gemm]
    )
    lines += markdown_table(["GEMM"] + [f"{t} thread(s)" for t in gemm], rows)
    return lines


def report(config, machine, results, gemm, loads, notes):
    """The markdown report, as one string; a missing peer's columns read "n/a"."""
    peers = PEER_NAMES
    lines = ["# sklearn_nn CNN benchmark", ""]
    if config.quick:
        lines += [
            f"**--quick smoke test: {config.n_images} images, {config.repeat} "
            "repeat(s); not a benchmark.**",
            "",
        ]
    lines += ["## Machine", "", *machine, ""]
    lines += [*setup_section(config), ""]
    lines += [*training_section(config, peers, results, loads), ""]
    lines += [*predict_section(config, peers, results, loads), ""]
    lines += [*gflops_section(config, peers, results, gemm), ""]
    lines += [*gemm_section(config, gemm, loads), ""]
    loadavg = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines += [f"Load average at end: {loadavg}"]
    notes = notes + load_notes(loads)
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description="Benchmark sklearn_nn.CNNClassifier against PyTorch (CPU). Run "
        "with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1000 images, 1 repeat, short GEMM timings",
    )
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="round-robin repeats: timed epochs and predict_proba calls per peer "
        "(default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--n-images",
        type=int,
        default=None,
        help="images per data set (default 10000; 1000 with --quick)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(IMAGE_SETS),
        default=list(IMAGE_SETS),
        help="image sets to run (default: both)",
    )
    parser.add_argument(
        "--warm-cache",
        action="store_true",
        help="use the usual Numba cache instead of a new empty one (the first "
        "epoch then loads compiled kernels rather than compiling them)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark and print the report.

    Returns
    -------
    status : int
        0, or 1 when a measurement failed (the report still lists the others).
    """
    args = parse_args(argv)
    started = time.perf_counter()
    config = Config(
        n_images=args.n_images or (1000 if args.quick else 10000),
        repeat=max(1, args.repeat or (1 if args.quick else 3)),
        gemm_seconds=0.02 if args.quick else 0.5,
        image_sets=tuple(IMAGE_SETS[name] for name in dict.fromkeys(args.datasets)),
        quick=args.quick,
        cold_cache=not args.warm_cache,
    )
    notes, errors, loads = [], {}, {}
    overrides = [name for name in OPENBLAS_OVERRIDES if name in os.environ]
    if overrides:
        message = (
            f"WARNING: {', '.join(overrides)} set: OpenBLAS may use a slower kernel. "
            "Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`."
        )
        log(message)
        notes.append(message)
    cache_dir = None
    if config.cold_cache:
        if "numba" in sys.modules:
            notes.append("numba was imported before main(): the Numba cache is warm.")
        else:
            cache_dir = tempfile.mkdtemp(prefix="bench-cnn-numba-cache-")
            os.environ["NUMBA_CACHE_DIR"] = cache_dir
    try:
        peers = available_peers(notes, errors)
        machine = machine_info(config)
        gemm = bench_gemm(config, loads)
        results = {
            image.name: bench_image_set(image, peers, config, errors, loads)
            for image in config.image_sets
        }
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)
    notes += [
        f"error ({', '.join(str(part) for part in key)}): {message}"
        for key, message in errors.items()
    ]
    notes.append(f"run time: {time.perf_counter() - started:.0f} s")
    notes.append(f"repository: {REPO_ROOT}")
    text = report(config, machine, results, gemm, loads, notes)
    print(text)
    if args.out is not None:
        args.out.write_text(text)
        log(f"report written to {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
