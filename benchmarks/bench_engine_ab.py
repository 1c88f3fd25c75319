"""A/B epoch times of the engine: this checkout against another one, in one run.

Each measurement runs in a fresh child process importing sklearn_nn from one of the two
trees (``PYTHONPATH``), and the two alternate (A, B, A, B, ...), so that both see the
same machine state. A child times one warm-up epoch and then ``--epochs`` epochs of
``partial_fit`` and reports their median. Workloads (float32, Adam, 2 threads):

- ``mlp-128`` / ``mlp-32``: MLPClassifier (256, 128), 20000 x 784 rows, batch 128 / 32;
- ``cnn``: the reference CNN (conv32-pool-conv64-pool-dense128-dropout0.5, "valid"),
  2000 CIFAR-shaped 3x32x32 rows (channels-first), batch 64.

Run (the baseline a worktree of another commit)::

    git worktree add /tmp/base 6eaac6e
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_engine_ab.py --baseline /tmp/base
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

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


def run(tree, workload, epochs):
    env = {**os.environ, "PYTHONPATH": str(tree)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, workload, str(epochs)],
        env=env,
        cwd=tree,  # ``-c`` puts the working directory first on sys.path
        capture_output=True,
        text=True,
    )
    if child.returncode:
        raise RuntimeError(f"{workload} on {tree} failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workloads", default="mlp-128,mlp-32,cnn")
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
        print("warning: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set", file=sys.stderr)
    trees = {"baseline": args.baseline.resolve(), "this": Path(__file__).parents[1]}
    print("| workload | baseline s/epoch | this s/epoch | this / baseline |")
    print("|---|---|---|---|")
    for workload in args.workloads.split(","):
        seconds = {name: [] for name in trees}
        for _ in range(args.repeats):
            for name, tree in trees.items():
                result = run(tree, workload, args.epochs)
                assert result["module"].startswith(str(tree)), result["module"]
                seconds[name].append(result["seconds"])
        base = statistics.median(seconds["baseline"])
        this = statistics.median(seconds["this"])
        spread = ", ".join(
            f"{name}: {min(v):.3f}-{max(v):.3f}" for name, v in seconds.items()
        )
        print(
            f"| {workload} | {base:.3f} | {this:.3f} | {this / base:.3f}x ({spread}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
