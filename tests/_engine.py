"""Helpers shared by the engine tests: a network's full-batch objective and central
finite differences of it."""

import numpy as np

from sklearn_nn._network import Network
from sklearn_nn._training import Trainer, TrainingData


def objective_trainer(
    layers,
    in_shape,
    X,
    Y,
    sw=None,
    alpha=0.0,
    batch_size=None,
    loss="softmax_log_loss",
    seed=0,
):
    """A Trainer on a new network (Glorot-uniform from ``seed``), for ``objective``."""
    network = Network(layers, in_shape)
    params = network.init_params(np.random.RandomState(seed), np.float64)
    state = network.init_state(np.float64)
    n = Y.shape[0]
    return Trainer(
        network,
        params,
        state,
        TrainingData(X, Y, sw),
        loss=loss,
        alpha=alpha,
        batch_size=n if batch_size is None else batch_size,
    )


def central_differences(f, x, h=1e-6):
    """Central differences of the scalar ``f(x)[0]`` w.r.t. every entry of x."""
    grad = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step)[0] - f(x - step)[0]) / (2 * h)
    return grad
