"""The MLP workload of bench_mlp.py, bench_mlp_memory.py and bench_first_fit.py.

``make_classification(n_samples=60000, n_features=784, n_informative=50,
n_classes=10, random_state=0)`` cast to float32 and standardized, and an MLP (256,
128), ReLU, Adam, learning rate 1e-3, alpha 1e-4, no early stopping, in three peers:
``sklearn_nn.MLPClassifier``, ``sklearn.neural_network.MLPClassifier`` (both train in
float32 on float32 X) and the same network in PyTorch.

The estimators' libraries are imported lazily, inside the functions that use them,
so that a child process's baseline RSS holds only the peer it measures.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from _harness import import_torch

N_FEATURES = 784
N_CLASSES = 10
HIDDEN = (256, 128)
#: Rows of the short fits: the first fit, and the models whose predict is timed.
FIRST_FIT_ROWS = 2000
LAYER_SHAPES = list(zip((N_FEATURES, *HIDDEN), (*HIDDEN, N_CLASSES), strict=True))
N_WEIGHTS = sum(n_in * n_out for n_in, n_out in LAYER_SHAPES)
#: Training FLOPs per sample of the GEMMs a step needs: forward, weight gradient and
#: input gradient, except the input layer's (no peer differentiates w.r.t. X). The
#: rough ``3 * 2 * N_WEIGHTS`` would count that one too: 1.4x more on this network.
TRAIN_FLOPS_PER_SAMPLE = 3 * 2 * N_WEIGHTS - 2 * LAYER_SHAPES[0][0] * LAYER_SHAPES[0][1]

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


def make_data(n_samples):
    """The classification data: X (n_samples, 784) float32 standardized, y int64."""
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


def setup_lines(n_samples):
    """The report's description of the data and the model."""
    return [
        f"- data: make_classification({n_samples} x {N_FEATURES}, 50 informative, "
        f"{N_CLASSES} classes, random_state=0), float32, standardized",
        f"- model: {N_FEATURES}-{HIDDEN[0]}-{HIDDEN[1]}-{N_CLASSES}, ReLU, Adam "
        "(lr 1e-3), alpha 1e-4 for the sklearn-API peers, weight_decay 0 for torch, "
        "no early stopping",
    ]


def _fit_sklearn_api(estimator_class, X, y, batch_size, n_epochs):
    """Fit a scikit-learn-API MLP for exactly ``n_epochs`` epochs.

    Parameters
    ----------
    estimator_class : type
        ``sklearn_nn.MLPClassifier`` or ``sklearn.neural_network.MLPClassifier``.
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,)
    batch_size : int
    n_epochs : int
        ``max_iter``; ``tol=0`` and ``n_iter_no_change`` above it rule out an early
        stop.

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


def train_torch(X, y, batch_size, n_epochs):
    """Train the same MLP in PyTorch: a shuffled mini-batch loop over tensors.

    Linear(784, 256)-ReLU-Linear(256, 128)-ReLU-Linear(128, 10), cross-entropy,
    ``torch.optim.Adam(lr=1e-3, weight_decay=0)``, a ``torch.randperm`` each epoch.
    X (float32) is shared with the tensor, not copied; y holds 0 .. n_classes - 1.
    Returns the trained ``torch.nn.Sequential``.
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
    """The peers that can run here (a list of `Peer`); ``notes`` says why not torch."""
    torch = import_torch(notes)
    return [PEERS[name] for name in PEERS if name != "torch" or torch is not None]
