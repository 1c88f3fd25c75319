"""A fit compiles (or loads from the cache) only the kernels it runs.

Every kernel a fit touches costs a fresh process 0.1-0.8 s of compiling, and Numba
optimises a kernel together with every kernel it calls: choices between kernels
(which activation, whether L1) are made in Python, so that a ReLU MLP never
compiles the other five activations (``benchmarks/RESULTS.md``, cold start).
"""

import json
import os
import subprocess
import sys

CHILD = """
import json, warnings
from sklearn.datasets import load_digits
from sklearn_nn import MLPClassifier
from sklearn_nn._kernels import activations, optim
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
MLPClassifier((16,), max_iter=2, random_state=0).fit(X, y).predict(X)
kernels = {"activations": activations, "optim": optim}
print(json.dumps({
    f"{module}.{name}": len(getattr(kernels[module], name).signatures)
    for module, name in [
        ("activations", "relu_forward"), ("activations", "relu_backward"),
        ("activations", "tanh_forward"), ("activations", "gelu_forward"),
        ("activations", "logistic_backward"),
        ("activations", "activation_forward"), ("activations", "activation_backward"),
        ("optim", "_adam_loop"), ("optim", "_adam_l1_loop"), ("optim", "_sgd_loop"),
    ]
}))
"""


def test_a_relu_mlp_fit_compiles_relu_and_plain_adam_only(tmp_path):
    # a fresh process, so that no other test's kernels are loaded, and an empty
    # Numba cache: a kernel loaded from the cache does not register the kernels it
    # calls, so only a cold compile shows one kernel calling another
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    used = {"activations.relu_forward", "activations.relu_backward", "optim._adam_loop"}
    assert {name for name, n in loaded.items() if n} == used, loaded
