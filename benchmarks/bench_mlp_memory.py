"""Peak memory (RSS) of one MLP fit: sklearn_nn against scikit-learn and PyTorch.

Run it with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset (see
``bench_mlp.py``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp_memory.py
    # smoke test (6000 rows; not a benchmark):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_mlp_memory.py --quick

The workload of ``bench_mlp.py`` (``_mlp.py``: 60000 x 784 float32, MLP (256, 128),
Adam): for each peer, a fresh process imports the peer's module and loads the data
(saved by the parent as .npy files), reads its RSS (the baseline) and its peak RSS
(``ru_maxrss``), fits once at batch 128 for one epoch, and reads its peak RSS again.
The report is printed as markdown and written to ``--out``.
"""

import argparse
import importlib
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
from _harness import (
    Run,
    child_env,
    fmt,
    log,
    machine_info,
    markdown_table,
    run_child,
    run_parser,
)
from _mlp import PEERS, available_peers, make_data, setup_lines


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


def rss_child(peer_name, data_dir):
    """In a fresh process: baseline RSS, one ``fit`` (batch 128, one epoch), peak RSS.

    Prints the JSON result on stdout.
    """
    peer = PEERS[peer_name]
    importlib.import_module(peer.module)
    X = np.load(Path(data_dir, "X.npy"))
    y = np.load(Path(data_dir, "y.npy"))
    baseline = {"baseline_mib": current_rss_mib(), "peak_before_mib": peak_rss_mib()}
    peer.train(X, y, 128, 1)
    print(json.dumps({**baseline, "peak_after_mib": peak_rss_mib()}))


def bench_rss(peers, data_dir):
    """Peak RSS of one ``fit`` per peer, each in a fresh process.

    Returns ``{peer name: {baseline_mib, peak_before_mib, peak_after_mib}}``, or
    ``{"error": message}`` for a peer whose child failed.
    """
    results = {}
    for peer in peers:
        log(f"peak RSS: {peer.name}")
        args = [__file__, "--rss-child", peer.name, "--data", str(data_dir)]
        results[peer.name] = run_child(args, child_env())
    return results


def rss_section(peers, rss):
    """Baseline and peak RSS of one fit per peer."""
    lines = [
        "## Peak RSS of one fit (batch 128, 1 epoch, fresh process, MiB)",
        "",
        "Baseline: RSS after importing the peer and loading the data, before fit. "
        "Peaks: ru_maxrss. Increment: peak after fit minus baseline.",
        "",
    ]
    rows = []
    for peer in peers:
        res = rss.get(peer.name, {"error": "not run"})
        if "error" in res:
            rows.append([peer.name, "error", "", "", res["error"]])
            continue
        increment = None
        if res.get("baseline_mib") is not None:
            increment = res["peak_after_mib"] - res["baseline_mib"]
        keys = ("baseline_mib", "peak_before_mib", "peak_after_mib")
        values = [res.get(key) for key in keys] + [increment]
        rows.append([peer.name, *(fmt(value, ".0f") for value in values)])
    headers = ["peer", "baseline RSS", "peak before fit", "peak after fit"]
    return lines + markdown_table([*headers, "increment"], rows)


def main(argv=None):
    """Run the benchmark and print the report; return 1 if a measurement failed."""
    parser = run_parser(
        "Peak RSS of one MLP fit: sklearn_nn against scikit-learn and PyTorch.",
        "smoke test: 6000 rows",
        repeat=False,
    )
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child, args.data)
        return 0
    run = Run(args)
    n_samples = 6000 if args.quick else 60000
    log(f"data: {n_samples} x 784")
    X, y = make_data(n_samples)
    peers = available_peers(run.notes)
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-mlp-data-") as data_dir:
        np.save(Path(data_dir, "X.npy"), X)
        np.save(Path(data_dir, "y.npy"), y)
        rss = bench_rss(peers, data_dir)
    run.errors.update({("rss", k): v["error"] for k, v in rss.items() if "error" in v})
    setup = ["## Setup", "", *setup_lines(n_samples)]
    sections = [setup, rss_section(peers, rss)]
    return run.report("sklearn_nn MLP memory", machine, sections, f"{n_samples} rows")


if __name__ == "__main__":
    sys.exit(main())
