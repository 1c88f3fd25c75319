"""Benchmark ``sklearn_nn.CNNClassifier`` against the same network in PyTorch on a CPU.

It benchmarks the ``sklearn_nn`` of the checkout it lives in. Run it with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see ``bench_mlp.py``: they make
a current OpenBLAS use a slower kernel), on an otherwise idle machine::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py \\
        --out report.md
    # smoke test (1000 images, 1 repeat; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py --quick

PyTorch is optional; without it, its columns read "n/a". The network (conv32-pool-
conv64-pool-dense128-dropout0.5, Adam, batch 64), the data (10000 synthetic float32
CIFAR-shaped 3x32x32 and 10000 MNIST-shaped 1x28x28 images) and the FLOP counts are
``_cnn.py``'s. For each image set, at 2 threads and then 1, both peers interleaved,
the report (markdown, ratios sklearn_nn / PyTorch, also written to ``--out``) gives:

1. Seconds per training epoch, median of ``--repeat`` (3) round-robin epochs after a
   warm-up one ("first epoch": with the new empty Numba cache of the run, unless
   ``--warm-cache``, the first sklearn_nn one compiles the kernels). An sklearn_nn
   epoch is one ``partial_fit(X, y)``; a PyTorch one, a pass over a ``randperm``.
2. ``predict_proba`` throughput (images/s) over all the images, after a warm-up.
3. Achieved GFLOP/s, next to the numpy float32 GEMM ceiling of the same run: 2048^3,
   conv2's im2col GEMM and all the GEMMs of one im2col training step at batch 64.
"""

import os
import shutil
import sys
import tempfile
from functools import partial

import _cnn as cnn
from _harness import (
    LARGE_GEMM,
    Run,
    bench_gemm,
    fmt,
    fmt_samples,
    gemm_section,
    interleaved,
    limit_threads,
    log,
    machine_info,
    markdown_table,
    median,
    ratio,
    rows_per_second,
    run_parser,
    timed,
)

THREAD_COUNTS = (2, 1)
SIZE = LARGE_GEMM[1]


def epoch_seconds(peer, model, X, y):
    """Seconds of one more training epoch."""
    return timed(peer.epoch, model, X, y)[0]


def bench_image_set(run, image, peers, n_images):
    """Training and ``predict_proba`` timings of each peer, per thread count.

    Fills ``run.errors[(image set, threads, peer)]`` and ``run.loads[("train" |
    "predict", image set, threads)]``. Returns ``{threads: {"first": {peer:
    seconds}, "epoch": {peer: [seconds]}, "predict": {peer: [images/s]}}}``.
    """
    X, y = cnn.make_data(image, n_images)
    results = {}
    for threads in THREAD_COUNTS:
        log(f"{image.label}: {threads} thread(s)")
        res, errors, models = {"first": {}}, {}, {}
        with limit_threads(threads):
            for name, peer in peers.items():  # warm-up: JIT, caches, thread pools
                try:
                    model = peer.new_model(image)
                    res["first"][name], _ = timed(peer.first_epoch, model, X, y)
                    models[name] = model
                    log(f"  {name}: first epoch {res['first'][name]:.3g} s")
                except Exception as exc:
                    errors[name] = f"{type(exc).__name__}: {exc}"
                    log(f"  {name} first epoch failed: {errors[name]}")
            tasks = {
                name: partial(epoch_seconds, peers[name], model, X, y)
                for name, model in models.items()
            }
            key = ("train", image.name, threads)
            res["epoch"] = interleaved(tasks, run.repeat, errors, run.loads, key)
            for name, values in res["epoch"].items():
                log(f"  {name}: {fmt_samples(values)} s/epoch")
            tasks = {
                n: partial(rows_per_second, peers[n].predict_proba, m, X, cnn.N_CLASSES)
                for n, m in models.items()
                if n not in errors
            }
            key = ("predict", image.name, threads)
            res["predict"] = interleaved(tasks, run.repeat, errors, run.loads, key, 1)
            for name, values in res["predict"].items():
                log(f"  {name}: {fmt_samples(values, ',.0f')} images/s predict_proba")
        log(f"  other processes' load: {fmt(run.loads[key], '.2f')} cores")
        run.errors.update({(image.name, threads, n): m for n, m in errors.items()})
        results[threads] = res
    return results


def gemm_sets(image_sets):
    """`bench_gemm`'s ``{key: (label, gemms)}``: per image set conv2's forward GEMM,
    the forward GEMMs and all those of a training step, at batch 64; then 2048^3."""
    sets, at = {}, f"batch {cnn.BATCH_SIZE}"
    for image in image_sets:
        gemms = cnn.step_gemms(image, cnn.BATCH_SIZE)
        forward = [gemm for gemm in gemms if gemm[0] == "forward"]
        _, m, k, n, _ = forward[1]
        for key, label, subset in (
            ("conv2", f"({m}x{k}) @ ({k}x{n}), conv2 forward", [forward[1]]),
            ("forward", f"forward pass ({len(forward)} GEMMs)", forward),
            ("step", f"training step ({len(gemms)} GEMMs)", gemms),
        ):
            sets[(image.name, key)] = (f"{image.label}: {label}, {at}", subset)
    return {**sets, "large": (f"{SIZE} x {SIZE} x {SIZE}", [LARGE_GEMM])}


def setup_section(image_sets, n_images, repeat, cold_cache):
    """Data, model, protocol and the FLOP counts per image."""
    cache = (
        "a new empty Numba cache, so the run's first sklearn_nn epoch includes the JIT "
        "compilation"
        if cold_cache
        else "the usual (warm) Numba cache: the first epoch loads compiled kernels"
    )
    lines = [
        "## Setup",
        "",
        f"- data: {n_images} synthetic float32 images per set from "
        "`numpy.random.default_rng(0)`, rows channels-first (c, h, w); pixels "
        "uniform on [0, 1); labels `argmax((X - 0.5) @ W)`, W standard normal "
        f"(n_features x {cnn.N_CLASSES}): learnable",
        "- model: Conv2D(32, 3x3, relu, valid) - MaxPool(2) - Conv2D(64, 3x3, relu, "
        "valid) - MaxPool(2) - Flatten - Dense(128, relu) - Dropout(0.5) - "
        "Dense(10, softmax); Adam lr 1e-3, no L2 (alpha=0, weight_decay=0), "
        f"batch {cnn.BATCH_SIZE}, shuffled",
        "- sklearn_nn: `CNNClassifier(..., data_format='channels_first')`, an epoch "
        "is one `partial_fit(X, y)`; torch: the rows viewed as NCHW, "
        f"`predict_proba` in chunks of {cnn.TORCH_PREDICT_CHUNK} images",
        "- training: a new model per image set and thread count, one warm-up epoch "
        f'("first epoch"), then {repeat} round(s) of one epoch per peer, '
        f"interleaved; {cache}",
        "- FLOPs: forward = sum of 2 x MACs of the conv and dense layers; training = "
        "3 x forward - 2 x MACs(conv1) (backward = weight- and input-gradient "
        "products, each the size of the forward one, but no input gradient for "
        "conv1); pooling, activations, dropout, softmax and Adam not counted",
        "",
        "MFLOP per image (forward of each layer; totals):",
        "",
    ]
    names = [name for name, *_ in cnn.layer_gemms(image_sets[0])]
    rows = [
        [image.label]
        + [f"{2 * p * k * n / 1e6:.3f}" for _, p, k, n in cnn.layer_gemms(image)]
        + [f"{cnn.forward_flops_per_image(image) / 1e6:.3f}"]
        + [f"{cnn.train_flops_per_image(image) / 1e6:.3f}"]
        for image in image_sets
    ]
    return lines + markdown_table(["image set", *names, "forward", "training"], rows)


def timing_sections(image_sets, n_images, results, loads):
    """Seconds per epoch and ``predict_proba`` images/s, with sklearn_nn / torch."""
    peers, train_rows, predict_rows = cnn.PEER_NAMES, [], []
    for image in image_sets:
        for threads, res in results[image.name].items():
            epoch, predict = res["epoch"], res["predict"]
            train_rows.append(
                [image.label, threads]
                + [fmt_samples(epoch.get(name, [])) for name in peers]
                + [fmt(ratio(epoch.get("sklearn_nn"), epoch.get("torch")), ".2f")]
                + [fmt(res["first"].get(name), ".3g") for name in peers]
                + [fmt(loads.get(("train", image.name, threads)), ".2f")]
            )
            predict_rows.append(
                [image.label, threads]
                + [fmt_samples(predict.get(name, []), ",.0f") for name in peers]
                + [fmt(ratio(predict.get("sklearn_nn"), predict.get("torch")), ".2f")]
                + [fmt(loads.get(("predict", image.name, threads)), ".2f")]
            )
    training = [
        "## Training: seconds per epoch",
        "",
        "Median (min-max) of the epochs after the first. Ratio of medians: below 1 "
        "means sklearn_nn is faster. First epoch: the warm-up `partial_fit(X, y, "
        "classes=...)` (torch: its first epoch). Other load: cores busy with other "
        "processes meanwhile.",
        "",
        *markdown_table(
            ["image set", "threads", *peers, "sklearn_nn/torch"]
            + [f"{name} first epoch" for name in peers]
            + ["other load"],
            train_rows,
        ),
    ]
    predict = [
        f"## predict_proba throughput (images/s, {n_images} images)",
        "",
        "Median (min-max). Ratio of medians: above 1 means sklearn_nn is faster.",
        "",
        *markdown_table(
            ["image set", "threads", *peers, "sklearn_nn/torch", "other load"],
            predict_rows,
        ),
    ]
    return [training, predict]


def gflops_section(image_sets, n_images, results, gemm):
    """Achieved GFLOP/s in training and inference, next to the GEMM ceiling."""
    lines = [
        "## Achieved GFLOP/s and the numpy GEMM ceiling",
        "",
        "Training: images x training FLOPs per image / median seconds per epoch. "
        "predict: forward FLOPs per image x median images/s. Ceiling: numpy float32 "
        f"GEMMs at batch {cnn.BATCH_SIZE}: conv2's im2col GEMM, all the GEMMs of one "
        f"im2col training step (total FLOPs / total time), and one {SIZE}^3 GEMM.",
        "",
    ]
    rows = []
    for image in image_sets:
        train_flops = n_images * cnn.train_flops_per_image(image)
        forward_flops = cnn.forward_flops_per_image(image)
        for threads, res in results[image.name].items():
            epoch = [res["epoch"].get(name) for name in cnn.PEER_NAMES]
            rates = [res["predict"].get(name) for name in cnn.PEER_NAMES]
            values = [train_flops / median(s) / 1e9 if s else None for s in epoch]
            values += [forward_flops * median(s) / 1e9 if s else None for s in rates]
            values += [gemm[threads][(image.name, k)] for k in ("conv2", "step")]
            values.append(gemm[threads]["large"])
            rows.append([image.label, threads, *(fmt(v, ".1f") for v in values)])
    headers = ["image set", "threads", *(f"train {name}" for name in cnn.PEER_NAMES)]
    headers += [f"predict {name}" for name in cnn.PEER_NAMES]
    headers += ["GEMM conv2", "GEMM step", f"GEMM {SIZE}^3"]
    return lines + markdown_table(headers, rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "Benchmark sklearn_nn.CNNClassifier against PyTorch (CPU).",
        "smoke test: 1000 images, 1 repeat, short GEMM timings",
    )
    help_ = "images per data set (default 10000; 1000 with --quick)"
    parser.add_argument("--n-images", type=int, help=help_)
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(cnn.IMAGE_SETS),
        default=list(cnn.IMAGE_SETS),
        help="image sets to run (default: both)",
    )
    parser.add_argument(
        "--warm-cache",
        action="store_true",
        help="use the usual Numba cache instead of a new empty one (the first "
        "epoch then loads compiled kernels rather than compiling them)",
    )
    run = Run(parser.parse_args(argv))
    args = run.args
    n_images = args.n_images or (1000 if args.quick else 10000)
    image_sets = [cnn.IMAGE_SETS[name] for name in dict.fromkeys(args.datasets)]
    cold_cache, cache_dir = not args.warm_cache, None
    if cold_cache and "numba" in sys.modules:
        run.notes.append("numba was imported before main(): the Numba cache is warm.")
    elif cold_cache:
        cache_dir = tempfile.mkdtemp(prefix="bench-cnn-numba-cache-")
        os.environ["NUMBA_CACHE_DIR"] = cache_dir
    try:
        peers = cnn.available_peers(run.notes, run.errors)
        cache = "new empty directory" if cold_cache else "the usual one (warm)"
        machine = machine_info(f"; Numba cache: {cache}")
        sets, budget = gemm_sets(image_sets), 0.02 if args.quick else 0.5
        gemm = bench_gemm(sets, THREAD_COUNTS, budget, run.loads)
        results = {
            image.name: bench_image_set(run, image, peers, n_images)
            for image in image_sets
        }
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)
    sections = [
        setup_section(image_sets, n_images, run.repeat, cold_cache),
        *timing_sections(image_sets, n_images, results, run.loads),
        gflops_section(image_sets, n_images, results, gemm),
        gemm_section(gemm, sets, run.loads),
    ]
    quick = f"{n_images} images, {run.repeat} repeat(s)"
    return run.report("sklearn_nn CNN benchmark", machine, sections, quick)


if __name__ == "__main__":
    sys.exit(main())
