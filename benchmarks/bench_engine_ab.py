"""A/B epoch times of the engine: this checkout against another one, in one run.

Each measurement runs in a fresh child process importing sklearn_nn from one of the two
trees (``PYTHONPATH``), and the two alternate (A, B, A, B, ...), so that both see the
same machine state. A child times one warm-up epoch and then ``--epochs`` epochs of
``partial_fit`` and reports their median. Workloads (float32, Adam, 2 threads):

- ``mlp-128`` / ``mlp-32``: MLPClassifier (256, 128), 20000 x 784 rows, batch 128 / 32;
- ``cnn``: the reference CNN (conv32-pool-conv64-pool-dense128-dropout0.5, "valid"),
  2000 CIFAR-shaped 3x32x32 rows (channels-first), batch 64.

Run (the baseline a worktree of another commit; the report is markdown, also written
to ``--out``)::

    git worktree add /tmp/base 6eaac6e
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_engine_ab.py --baseline /tmp/base
    # smoke run (mlp-128, 1 repeat of 1 epoch; not a benchmark):
    ... bench_engine_ab.py --baseline /tmp/base --quick
"""

import os
import sys
from functools import partial
from pathlib import Path

from _harness import (
    REPO_ROOT,
    Run,
    log,
    machine_info,
    markdown_table,
    median,
    round_robin,
    run_child,
    run_parser,
)

CHILD = r"""
import json, statistics, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn_nn import CNNClassifier, MLPClassifier
workload, epochs = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
if workload.startswith("mlp"):
    X = rng.standard_normal((20000, 784), dtype=np.float32)
    y = (X[:, :10] @ rng.standard_normal((10, 10))).argmax(1)
    model = MLPClassifier((256, 128), batch_size=int(workload.split("-")[1]),
                          random_state=0)
else:
    X = rng.random((2000, 3072), dtype=np.float32)
    y = ((X - 0.5) @ rng.standard_normal((3072, 10))).argmax(1)
    model = CNNClassifier(padding="valid", input_shape=(32, 32, 3),
                          data_format="channels_first", batch_size=64, random_state=0)
classes = np.arange(10)
model.partial_fit(X, y, classes=classes)  # warm-up: compile or load the cache
times = []
for _ in range(epochs):
    tic = time.perf_counter()
    model.partial_fit(X, y)
    times.append(time.perf_counter() - tic)
print(json.dumps({"seconds": statistics.median(times),
                  "module": __import__("sklearn_nn").__file__}))
"""


def epoch_seconds(tree, workload, epochs):
    """Median seconds per epoch of ``workload`` in a fresh process on ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # ``-c`` puts the working directory first on sys.path: the tree's sklearn_nn
    result = run_child(["-c", CHILD, workload, str(epochs)], env, cwd=tree)
    if "error" in result:
        raise RuntimeError(f"{workload} on {tree} failed: {result['error']}")
    if not result["module"].startswith(str(tree)):
        raise RuntimeError(f"{tree} imported sklearn_nn from {result['module']}")
    return result["seconds"]


def main(argv=None):
    """Run the A/B comparison and print the report; return 1 if a child failed."""
    parser = run_parser(
        __doc__.split("\n\n")[0],
        "smoke run: mlp-128, 1 repeat of 1 epoch",
        repeat=False,
    )
    parser.add_argument(
        "--baseline", required=True, type=Path, help="the other tree (a worktree)"
    )
    help_ = "fresh processes per tree and workload (default 3)"
    parser.add_argument("--repeats", type=int, default=3, help=help_)
    help_ = "timed epochs per process (default 3)"
    parser.add_argument("--epochs", type=int, default=3, help=help_)
    help_ = "comma-separated, of mlp-128, mlp-32, cnn (default: all three)"
    parser.add_argument("--workloads", default="mlp-128,mlp-32,cnn", help=help_)
    run = Run(parser.parse_args(argv))
    args = run.args
    if args.quick:
        args.repeats, args.epochs, args.workloads = 1, 1, "mlp-128"
    trees = {"baseline": args.baseline.resolve(), "this": REPO_ROOT}
    rows = []
    for workload in args.workloads.split(","):
        log(f"{workload}: {args.repeats} round(s) of {', '.join(trees)}")
        tasks = {
            name: partial(epoch_seconds, tree, workload, args.epochs)
            for name, tree in trees.items()
        }
        errors = {}
        seconds = round_robin(tasks, args.repeats, errors)
        run.errors.update({(workload, name): m for name, m in errors.items()})
        if errors:
            continue
        base, this = median(seconds["baseline"]), median(seconds["this"])
        spread = ", ".join(
            f"{name}: {min(v):.3f}-{max(v):.3f}" for name, v in seconds.items()
        )
        rows.append(
            [workload, f"{base:.3f}", f"{this:.3f}", f"{this / base:.3f}x ({spread})"]
        )
        log(f"  this / baseline: {rows[-1][-1]}")
    section = [
        f"## Seconds per epoch: {trees['this']} against {trees['baseline']}",
        "",
        f"Each cell: the median of {args.repeats} fresh processes (the two trees "
        f"alternating), each the median of {args.epochs} epoch(s) after a warm-up.",
        "",
        *markdown_table(
            ["workload", "baseline s/epoch", "this s/epoch", "this / baseline"], rows
        ),
    ]
    title = "Engine A/B: this checkout against a baseline"
    return run.report(title, machine_info(), [section], "1 repeat of 1 epoch")


if __name__ == "__main__":
    sys.exit(main())
