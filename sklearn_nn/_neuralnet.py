"""Networks of any layer stack: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

X stays 2-D ``(n_samples, n_features)`` so that scalers, pipelines and cross-validation
work; ``input_shape`` says how a row is a sample of higher rank (a sequence
``(timesteps, features)``, an image ``(height, width[, channels])``), and 3-D or 4-D
X is taken as such samples directly. The MLP and CNN estimators are presets of the
same machinery with their own default stacks.
"""

import math

import numpy as np
import scipy.sparse as sp

from ._base import BaseNeuralNet
from ._constraints import NETWORK_CONSTRAINTS
from ._docs import _ATTRIBUTES_DOC, _NETWORK_DOC, _TRAINING_DOC
from ._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from ._network import layer_shapes
from ._validation import StrOptions, positive_ints
from .layers import Dense, Flatten, Layer

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]


def check_layer_list(layers):
    """``layers`` as a list of Layer specs, or a TypeError naming the bad entry."""
    for layer in layers:
        if not isinstance(layer, Layer):
            raise TypeError(
                "layers must hold layer specs from sklearn_nn.layers (subclasses "
                f"of sklearn_nn.layers.Layer), got {layer!r}."
            )
    return list(layers)


def with_output_layer(layers, in_shape, n_outputs):
    """``layers`` + (Flatten if needed) + the linear output layer for the targets."""
    _, shape = layer_shapes(layers, in_shape)
    if len(shape) != 1:
        layers = layers + [Flatten()]
    return layers + [Dense(n_outputs, "identity")]


class SampleShapeMixin:
    """Rows of X as samples of any shape; 3-D and 4-D X taken as such samples."""

    _sample_noun = "samples"

    def _sample_shape_of(self, trailing, fitted=None):
        """The shape of one sample of X with these trailing axes, as stored (as
        the model of input shape ``fitted`` stores it, when given)."""
        return tuple(trailing)

    def _rows_from_input(self, X, reset, fitted=None):
        # X of rank > 2: flatten each sample to a row (a view), and remember (at fit)
        # or check (at predict) the samples' shape
        if isinstance(X, (list, tuple)):
            ndim = np.ndim(X)
        else:  # not np.ndim: array-likes may refuse numpy functions
            ndim = getattr(X, "ndim", 2)
        if sp.issparse(X) or ndim <= 2:
            if reset:
                self._shape_of_X = None
            return X
        X = np.asarray(X)
        if reset:
            self._shape_of_X = self._sample_shape_of(X.shape[1:])
            return X.reshape(X.shape[0], math.prod(X.shape[1:]))
        if fitted is None:
            fitted = self._network.in_shapes[0]
        stored = self._sample_shape_of(X.shape[1:], fitted)
        if stored != tuple(fitted):
            raise ValueError(
                f"X has {self._sample_noun} of shape {X.shape[1:]}; the model was "
                f"fitted on samples of shape {tuple(fitted)}."
            )
        return X.reshape(X.shape[0], math.prod(X.shape[1:]))


class _NeuralNetMixin(SampleShapeMixin):
    """A user-given layer stack on samples of ``input_shape``."""

    _architecture_constraints = {
        "layers": [list, tuple, None],
        "input_shape": ["array-like", None],
        **NETWORK_CONSTRAINTS,
    }

    def _hidden_layers(self):
        if self.layers is None:
            return [Dense(100)]
        return check_layer_list(self.layers)

    def _accept_sparse(self):
        # the first layer decides (no layers: the output Dense, which does)
        first = self.layers[0] if self.layers else None
        return ["csr", "csc"] if getattr(first, "accepts_sparse", True) else False

    def _input_shape(self, n_features):
        stored = getattr(self, "_shape_of_X", None)
        if self.input_shape is None:
            return stored if stored is not None else (n_features,)
        shape = positive_ints(self.input_shape)
        if shape is None:
            raise ValueError(
                f"input_shape must be a tuple of positive ints, got "
                f"{self.input_shape!r}."
            )
        if stored is not None and stored != shape:
            raise ValueError(
                f"X has samples of shape {stored} but input_shape={shape}: pass 2-D "
                "X, or fix input_shape."
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"input_shape={shape} has {math.prod(shape)} values per sample, but "
                f"X has {n_features} features."
            )
        return shape

    def _build_layers(self, in_shape, n_outputs):
        layers = self._hidden_layers()
        try:  # say where the sample shape came from
            layer_shapes(layers, in_shape)
        except ValueError as exc:
            source = (
                f"input_shape={tuple(self.input_shape)!r}"
                if self.input_shape is not None
                else f"X, n_features={math.prod(in_shape)}"
            )
            raise ValueError(
                f"The layers do not fit samples of shape {tuple(in_shape)} (from "
                f"{source}): {exc}"
            ) from None
        return with_output_layer(layers, in_shape, n_outputs)


_LAYERS_DOC = """\
    layers : list of Layer, default=None
        The stack, from ``sklearn_nn.layers``: every layer but the output layer,
        which is added for the targets (with a ``Flatten`` before it if needed).
        None is one hidden ``Dense(100)`` (relu), as scikit-learn's MLP.

    input_shape : tuple of int, default=None
        Shape of one sample: ``(n_features,)``, ``(timesteps, features)``,
        ``(height, width)`` (one channel) or ``(height, width, channels)``
        (channels-last); each row of X is reshaped to it. None: the trailing axes
        of X when X has more than 2, else ``(n_features,)``."""


class NeuralNetClassifier(NeuralNetClassifierMixin, _NeuralNetMixin, BaseNeuralNet):
    __doc__ = f"""Neural network classifier over any stack of layers.

    The layers are specs from ``sklearn_nn.layers`` (dense, convolution, pooling,
    normalisation, dropout, activation); a softmax (multiclass) or logistic (binary,
    multilabel) output layer is added, trained with log loss.

    Parameters
    ----------
{_LAYERS_DOC}

{_TRAINING_DOC}

{_NETWORK_DOC}

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

{_ATTRIBUTES_DOC}

    See Also
    --------
    NeuralNetRegressor : The regressor over any stack.
    MLPClassifier, CNNClassifier : Presets with their own default stacks.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import NeuralNetClassifier
    >>> from sklearn_nn.layers import Activation, BatchNormalization, Dense
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = NeuralNetClassifier(
    ...     [Dense(64, "identity"), BatchNormalization(), Activation("relu")],
    ...     max_iter=30, random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_NeuralNetMixin._architecture_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        layers=None,
        *,
        input_shape=None,
        solver="adam",
        alpha=0.0001,
        l1=0.0,
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
        self.layers = layers
        self.input_shape = input_shape
        self.solver = solver
        self.alpha = alpha
        self.l1 = l1
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


class NeuralNetRegressor(NeuralNetRegressorMixin, _NeuralNetMixin, BaseNeuralNet):
    __doc__ = f"""Neural network regressor over any stack of layers.

    The stack of ``NeuralNetClassifier`` with a linear output layer; multi-output y
    is supported.

    Parameters
    ----------
{_LAYERS_DOC}

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
    NeuralNetClassifier : The classifier over any stack.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn_nn import NeuralNetRegressor
    >>> from sklearn_nn.layers import Dense, LayerNormalization
    >>> X, y = make_regression(n_samples=300, n_features=5, noise=1, random_state=0)
    >>> reg = NeuralNetRegressor([Dense(32, "tanh"), LayerNormalization()],
    ...                          solver="lbfgs", random_state=0)
    >>> reg.fit(X, y / 100).score(X, y / 100) > 0.95
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_NeuralNetMixin._architecture_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        layers=None,
        *,
        input_shape=None,
        loss="squared_error",
        solver="adam",
        alpha=0.0001,
        l1=0.0,
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
        self.layers = layers
        self.input_shape = input_shape
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.l1 = l1
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
