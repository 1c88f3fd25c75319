"""The declared constraints of the estimators' parameters (scikit-learn's
``_parameter_constraints``), shared by every estimator."""

from numbers import Integral, Real

import numpy as np

from ._initializers import INITIALIZERS
from ._pretrained import Pretrained
from ._validation import Interval, Options, StrOptions

__all__ = ["NETWORK_CONSTRAINTS", "TRAINING_CONSTRAINTS"]

#: Training parameters shared by every estimator, with scikit-learn's MLP semantics.
TRAINING_CONSTRAINTS = {
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1": [Interval(Real, 0, None, closed="left")],
    "batch_size": [
        StrOptions({"auto"}),
        Interval(Integral, 1, None, closed="left"),
    ],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Options(Real, {np.inf}),
    ],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "scoring": [str, callable, None],
}

#: Parameters of the estimators built from layer stacks (MLP, CNN, NeuralNet).
NETWORK_CONSTRAINTS = {
    "weight_init": [StrOptions(set(INITIALIZERS))],
    "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
    "pretrained": [Pretrained, None],
}
