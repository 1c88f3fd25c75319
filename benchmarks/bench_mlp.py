"""Training and predict speed of ``sklearn_nn.MLPClassifier`` against scikit-learn and
PyTorch on a CPU, next to the numpy GEMM ceiling.

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
PyTorch is optional (``pip install ".[bench]"``); without it, its columns read "n/a".

The workload is in ``_mlp.py``; peak RSS is ``bench_mlp_memory.py``'s, and import and
first-fit times ``bench_first_fit.py``'s. What one run measures:

1. Seconds per training epoch of the three peers at batch 128 and 32, with 2 threads
   and 1 thread. The peers are interleaved round-robin, ``--repeat`` times (3), and
   the median is reported. A sklearn-API measurement is one ``fit`` with
   ``max_iter=k``, ``tol=0`` and ``n_iter_no_change=k + 1`` (exactly k epochs, k=2),
   divided by k, after one warm-up ``fit`` with ``max_iter=1`` (JIT compilation).
2. ``predict_proba`` throughput (rows/s) on all rows.
3. numpy float32 GEMM GFLOP/s on the layer shapes and on 2048^3: the BLAS ceiling,
   next to the GFLOP/s each peer achieves in training.

Threads are limited with ``threadpoolctl.threadpool_limits`` (OpenBLAS of numpy and
scipy, which the Numba kernels call, and OpenMP), ``numba.set_num_threads`` and
``torch.set_num_threads``. The report is printed as markdown and written to ``--out``.
"""

import sys
from functools import partial

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
from _mlp import (
    FIRST_FIT_ROWS,
    LAYER_SHAPES,
    N_CLASSES,
    N_FEATURES,
    N_WEIGHTS,
    TRAIN_FLOPS_PER_SAMPLE,
    available_peers,
    make_data,
    setup_lines,
)

BATCH_SIZES = (128, 32)
THREAD_COUNTS = (2, 1)


def epoch_seconds(peer, X, y, batch_size, n_epochs):
    """Seconds per epoch of one training run of ``n_epochs`` epochs."""
    seconds, _ = timed(peer.train, X, y, batch_size, n_epochs)
    return seconds / n_epochs


def bench_training(run, peers, X, y, epochs):
    """Seconds per epoch of each peer, per thread count and batch size.

    Fills ``run.errors[(threads, batch, peer name)]`` and ``run.loads[("train",
    threads, batch)]``; returns ``{(threads, batch): {peer name: [seconds]}}``.
    """
    results = {}
    for threads in THREAD_COUNTS:
        for batch in BATCH_SIZES:
            log(f"training: {threads} thread(s), batch {batch}")
            errors, key = {}, ("train", threads, batch)
            with limit_threads(threads):
                for peer in peers:  # warm-up: JIT compilation, caches, pools
                    try:
                        peer.train(X, y, batch, 1)
                    except Exception as exc:
                        errors[peer.name] = f"{type(exc).__name__}: {exc}"
                        log(f"  {peer.name} warm-up failed: {errors[peer.name]}")
                tasks = {
                    peer.name: partial(epoch_seconds, peer, X, y, batch, epochs)
                    for peer in peers
                }
                samples = interleaved(tasks, run.repeat, errors, run.loads, key)
            for name, values in samples.items():
                log(f"  {name}: {fmt_samples(values)} s/epoch")
            log(f"  other processes' load: {fmt(run.loads[key], '.2f')} cores")
            run.errors.update({(threads, batch, n): m for n, m in errors.items()})
            results[(threads, batch)] = samples
    return results


def bench_predict(run, peers, X, y):
    """``predict_proba`` rows per second of each peer, per thread count.

    The models are trained one epoch on the first rows: the weights' values do not
    change the cost of a forward pass. One warm-up round, then ``run.repeat``
    interleaved ones. Returns ``{threads: {peer name: [rows/s]}}``.
    """
    models = {}
    for peer in peers:
        try:
            rows = slice(FIRST_FIT_ROWS)
            models[peer] = peer.train(X[rows], y[rows], 128, 1)
        except Exception as exc:
            run.errors[("predict", peer.name)] = f"{type(exc).__name__}: {exc}"
    results = {}
    for threads in THREAD_COUNTS:
        log(f"predict_proba: {threads} thread(s)")
        errors = {}
        tasks = {
            peer.name: partial(rows_per_second, peer.predict_proba, model, X, N_CLASSES)
            for peer, model in models.items()
        }
        with limit_threads(threads):
            key = ("predict", threads)
            results[threads] = interleaved(tasks, run.repeat, errors, run.loads, key, 1)
        run.errors.update({("predict", threads, n): m for n, m in errors.items()})
    return results


def training_gemms(batch):
    """The ``(role, m, k, n, transpose_a)`` GEMMs of one training step at ``batch``.

    Per layer: forward ``(b, in) @ (in, out)``, weight gradient ``(in, b) @ (b, out)``
    and, except for the input layer, input gradient ``(b, out) @ (out, in)``.
    """
    gemms = []
    for layer, (n_in, n_out) in enumerate(LAYER_SHAPES):
        gemms.append(("forward", batch, n_in, n_out, False))
        gemms.append(("backward", n_in, batch, n_out, True))
        if layer > 0:
            gemms.append(("backward", batch, n_out, n_in, False))
    return gemms


def gemm_sets():
    """`bench_gemm`'s ``{key: (label, gemms)}``: per batch each forward layer, the
    forward pass and the training step; then 2048^3."""
    sets = {}
    for batch in BATCH_SIZES:
        gemms = training_gemms(batch)
        forward = [gemm for gemm in gemms if gemm[0] == "forward"]
        for i, (_, m, k, n, _) in enumerate(forward):
            label = f"({m}x{k}) @ ({k}x{n}), forward layer {i + 1}"
            sets[("layer", batch, i)] = (label, [forward[i]])
        sets[("forward", batch)] = (f"forward pass (3 GEMMs), batch {batch}", forward)
        label = f"training step ({len(gemms)} GEMMs), batch {batch}"
        sets[("step", batch)] = (label, gemms)
    return {**sets, "large": ("2048 x 2048 x 2048", [LARGE_GEMM])}


def _ratio_cells(samples):
    """sklearn_nn / sklearn and sklearn_nn / torch ratios of medians."""
    ours = samples.get("sklearn_nn")
    return [
        fmt(ratio(ours, samples.get(other)), ".2f") for other in ("sklearn", "torch")
    ]


def training_section(names, training, gemm, loads, n_samples):
    """Seconds per epoch, ratios, and achieved GFLOP/s against the GEMM ceiling."""
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
        + [fmt(loads.get(("train", threads, batch)), ".2f")]
        for (threads, batch), samples in training.items()
    ]
    headers = ["threads", "batch", *names, "sklearn_nn/sklearn", "sklearn_nn/torch"]
    lines += markdown_table([*headers, "other load"], rows)
    lines += ["", "## Training: achieved GFLOP/s and the numpy GEMM ceiling", ""]
    lines += [
        f"Achieved: {n_samples} x {TRAIN_FLOPS_PER_SAMPLE} FLOPs / median seconds "
        "per epoch. Ceiling: numpy float32 GEMMs of one training step at that batch "
        "(forward, input- and weight-gradient GEMMs: total FLOPs / total time), and "
        "one 2048^3 GEMM.",
        "",
    ]
    rows = []
    for (threads, batch), samples in training.items():
        flops = n_samples * TRAIN_FLOPS_PER_SAMPLE
        achieved = [
            fmt(
                flops / median(samples[name]) / 1e9 if samples.get(name) else None,
                ".1f",
            )
            for name in names
        ]
        ceiling = [gemm[threads][("step", batch)], gemm[threads]["large"]]
        rows.append([threads, batch, *achieved, *(fmt(v, ".1f") for v in ceiling)])
    headers = ["threads", "batch", *names, "GEMM ceiling (step)", "GEMM 2048^3"]
    return lines + markdown_table(headers, rows)


def predict_section(names, predict, loads, n_samples):
    """``predict_proba`` rows per second."""
    lines = [
        f"## predict_proba throughput (rows/s, {n_samples} rows)",
        "",
        "Median (min-max). Ratios above 1 mean sklearn_nn is faster.",
        "",
    ]
    rows = [
        [threads]
        + [fmt_samples(samples.get(name, []), ",.0f") for name in names]
        + _ratio_cells(samples)
        + [fmt(loads.get(("predict", threads)), ".2f")]
        for threads, samples in predict.items()
    ]
    headers = ["threads", *names, "sklearn_nn/sklearn", "sklearn_nn/torch"]
    return lines + markdown_table([*headers, "other load"], rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "Benchmark sklearn_nn.MLPClassifier's training and predict speed against "
        "scikit-learn and PyTorch.",
        "smoke test: 6000 rows, 1 repeat, 1 epoch per measurement",
    )
    run = Run(parser.parse_args(argv))
    quick = run.args.quick
    n_samples, epochs, budget = (6000, 1, 0.05) if quick else (60000, 2, 1.0)
    log(f"data: {n_samples} x {N_FEATURES}")
    X, y = make_data(n_samples)
    peers = available_peers(run.notes)
    names = [peer.name for peer in peers]
    machine = machine_info()
    sets = gemm_sets()
    gemm = bench_gemm(sets, THREAD_COUNTS, budget, run.loads)
    training = bench_training(run, peers, X, y, epochs)
    predict = bench_predict(run, peers, X, y)
    setup = ["## Setup", "", *setup_lines(n_samples)]
    setup += [
        f"- training: one run of {epochs} epoch(s) per measurement, after a "
        f"one-epoch warm-up; peers interleaved round-robin, {run.repeat} repeat(s)",
        f"- training FLOPs per sample: {TRAIN_FLOPS_PER_SAMPLE}, the GEMMs of a step "
        f"(3 x 2 x {N_WEIGHTS} weights, less the input layer's input gradient, which "
        "no peer computes)",
    ]
    sections = [
        setup,
        training_section(names, training, gemm, run.loads, n_samples),
        predict_section(names, predict, run.loads, n_samples),
        gemm_section(gemm, sets, run.loads),
    ]
    quick = f"{n_samples} rows, {run.repeat} repeat(s), {epochs} epoch(s)"
    return run.report("sklearn_nn MLP benchmark", machine, sections, quick)


if __name__ == "__main__":
    sys.exit(main())
