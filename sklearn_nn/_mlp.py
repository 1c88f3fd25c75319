"""Multi-layer perceptrons: ``MLPClassifier`` and ``MLPRegressor``.

Only the architecture (``_build_layers``) and the target handling live here; training
is the shared engine of ``_base``.
"""

from numbers import Integral, Real

import numpy as np

from ._base import BaseNeuralNet
from ._constraints import NETWORK_CONSTRAINTS
from ._docs import _ATTRIBUTES_DOC, _NETWORK_DOC, _TRAINING_DOC
from ._kernels.activations import ACTIVATIONS
from ._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from ._validation import Interval, StrOptions
from .layers import Dense, Dropout

__all__ = ["MLPClassifier", "MLPRegressor"]

_ARCHITECTURE_DOC = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units of the ith hidden layer; ``()`` gives
        a linear model (logistic or softmax regression for the classifier).

    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"}, \
default="relu"
        Activation of the hidden layers.

    dropout : float, default=0.0
        Fraction of each hidden layer's units dropped at random in training
        (inverted dropout); off at predict time. Needs "sgd" or "adam"."""


def _hidden_sizes(sizes, name="hidden_layer_sizes"):
    """Layer widths as a list of ints > 0 (a single int is one layer)."""
    if not hasattr(sizes, "__iter__"):
        sizes = [sizes]
    sizes = list(sizes)
    for size in sizes:
        if (
            isinstance(size, (bool, np.bool_))
            or not isinstance(size, (Integral, np.integer))
            or size < 1
        ):
            raise ValueError(
                f"{name} must hold positive ints (units per layer), got {sizes!r}."
            )
    return [int(size) for size in sizes]


class _MLPMixin:
    """The MLP architecture: Dense(+Dropout) hidden layers and a linear output layer."""

    _architecture_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **NETWORK_CONSTRAINTS,
    }

    def _initial_params(self, network, random_state, dtype):
        # scikit-learn's draw: glorot_uniform's factor is 2 for logistic networks
        factor = 2.0 if self.activation == "logistic" else 6.0
        return network.init_params(random_state, dtype, self.weight_init, factor)

    def _build_layers(self, in_shape, n_outputs):
        layers = []
        for units in _hidden_sizes(self.hidden_layer_sizes):
            layers.append(Dense(int(units), self.activation))
            if self.dropout > 0:
                layers.append(Dropout(float(self.dropout)))
        layers.append(Dense(n_outputs, "identity"))
        return layers


class MLPClassifier(NeuralNetClassifierMixin, _MLPMixin, BaseNeuralNet):
    __doc__ = f"""Multi-layer perceptron classifier on Numba kernels.

    A drop-in for scikit-learn's ``MLPClassifier`` (same parameters, defaults and
    fitted attributes), plus ``dropout``, ``l1``, ``class_weight``, more activations
    and float32 training. Binary and multilabel outputs use a logistic output with
    log loss, multiclass a softmax.

    Parameters
    ----------
{_ARCHITECTURE_DOC}

{_TRAINING_DOC}

{_NETWORK_DOC}

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into the sample weights; "balanced" uses
        ``n_samples / (n_classes * np.bincount(y))``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

{_ATTRIBUTES_DOC}

    See Also
    --------
    MLPRegressor : The regressor on the same engine.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_nn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(20,), max_iter=500, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_MLPMixin._architecture_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        l1=0.0,
        dropout=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        scoring=None,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        weight_init="glorot_uniform",
        clip_norm=None,
        pretrained=None,
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.l1 = l1
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.weight_init = weight_init
        self.clip_norm = clip_norm
        self.pretrained = pretrained
        self.class_weight = class_weight


class MLPRegressor(NeuralNetRegressorMixin, _MLPMixin, BaseNeuralNet):
    __doc__ = f"""Multi-layer perceptron regressor on Numba kernels.

    A drop-in for scikit-learn's ``MLPRegressor`` (same parameters, defaults and
    fitted attributes), plus ``dropout``, ``l1``, more activations and float32
    training. Multi-output y is supported.

    Parameters
    ----------
{_ARCHITECTURE_DOC}

    loss : {{"squared_error", "poisson"}}, default="squared_error"
        Half squared error (summed over outputs) with an identity output, or the
        Poisson deviance / 2 with a log link (predictions are ``exp`` of the output).

{_TRAINING_DOC}

{_NETWORK_DOC}

    Attributes
    ----------
{_ATTRIBUTES_DOC}

    See Also
    --------
    MLPClassifier : The classifier on the same engine.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn_nn import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1, random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(), solver="lbfgs", random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.99
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_MLPMixin._architecture_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        solver="adam",
        alpha=0.0001,
        l1=0.0,
        dropout=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        scoring=None,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        weight_init="glorot_uniform",
        clip_norm=None,
        pretrained=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.l1 = l1
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.weight_init = weight_init
        self.clip_norm = clip_norm
        self.pretrained = pretrained
