"""Convolutional networks: ``CNNClassifier`` and ``CNNRegressor``.

X stays ordinary 2-D ``(n_samples, n_features)`` so that scalers, pipelines and
cross-validation work; ``input_shape`` and ``data_format`` say how a row is an image.
Only the architecture and the input shape live here; training is the shared engine of
``_base``, and the classifier/regressor behaviour the mixins of ``_mixins``.
"""

import math
import warnings
from numbers import Integral, Real

from ._base import BaseNeuralNet
from ._constraints import NETWORK_CONSTRAINTS
from ._docs import (
    _ATTRIBUTES_DOC,
    _CNN_ARCHITECTURE_DOC,
    _CNN_ATTRIBUTES_DOC,
    _NETWORK_DOC,
    _TRAINING_DOC,
)
from ._kernels.activations import ACTIVATIONS
from ._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from ._mlp import _hidden_sizes
from ._network import layer_shapes
from ._neuralnet import SampleShapeMixin, check_layer_list, with_output_layer
from ._validation import Interval, StrOptions, positive_ints
from .layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
from .layers.conv import ChannelsFirstToLast

__all__ = ["CNNClassifier", "CNNRegressor"]


def _image_shape(value, name):
    """``value`` as (height, width, channels) of positive ints."""
    shape = positive_ints(value)
    if shape is None or len(shape) not in (2, 3):
        raise ValueError(
            f"{name} must be (height, width) or (height, width, channels) of "
            f"positive ints, got {value!r}."
        )
    return shape if len(shape) == 3 else shape + (1,)


class _CNNMixin(SampleShapeMixin):
    """The CNN architecture and the mapping from rows of X to images."""

    _sample_noun = "images"

    _architecture_constraints = {
        "conv_filters": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "pool_size": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "padding": [StrOptions({"same", "valid"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "layers": [list, None],
        "input_shape": ["array-like", None],
        "data_format": [StrOptions({"channels_last", "channels_first"})],
        **NETWORK_CONSTRAINTS,
    }

    def _accept_sparse(self):
        # images are dense; im2col over CSR rows would not pay
        return False

    def _storage_shape(self, image_shape):
        """A row's shape as stored: (h, w, c), or (c, h, w) for channels_first."""
        height, width, channels = image_shape
        if self.data_format == "channels_first":
            return (channels, height, width)
        return image_shape

    def _sample_shape_of(self, trailing, fitted=None):
        # 3-D X is (n, height, width): one channel, stored as the fitted model
        # stores it (not as a later set_params(data_format=...) would)
        if len(trailing) != 2:
            return tuple(trailing)
        height, width = trailing
        if fitted is None:
            return self._storage_shape((height, width, 1))
        channels_first = tuple(fitted) == (1, height, width)
        return (1, height, width) if channels_first else (height, width, 1)

    def _resolved_image_shape(self, n_features):
        """(height, width, channels) of one sample, and where it came from."""
        if self.input_shape is not None:
            image = _image_shape(self.input_shape, "input_shape")
            source = f"input_shape={tuple(self.input_shape)!r}"
            stored = getattr(self, "_shape_of_X", None)
            if stored is not None and tuple(stored) != self._storage_shape(image):
                raise ValueError(
                    f"X has images of shape {tuple(stored)} but {source} with "
                    f"data_format={self.data_format!r} means rows of shape "
                    f"{self._storage_shape(image)}: pass 2-D X, or fix input_shape "
                    "or data_format."
                )
        elif getattr(self, "_shape_of_X", None) is not None:
            stored = self._shape_of_X
            if self.data_format == "channels_first":
                image = (stored[1], stored[2], stored[0])
            else:
                image = tuple(stored)
            source = f"the images of X, of shape {stored}"
        else:
            side = math.isqrt(n_features)
            image = (side, side, 1) if side * side == n_features else (1, n_features, 1)
            source = f"n_features={n_features}"
        if math.prod(image) != n_features:
            raise ValueError(
                f"{source} means images of shape {image}, which have "
                f"{math.prod(image)} values, but X has {n_features} features."
            )
        return image, source

    def _input_shape(self, n_features):
        image, source = self._resolved_image_shape(n_features)
        if source.startswith("n_features") and image[0] == 1 and n_features > 1:
            warnings.warn(
                f"input_shape is None and n_features={n_features} is not a perfect "
                f"square: training on images of one row, {image} (height, width, "
                "channels). Set input_shape=(height, width) or (height, width, "
                "channels) to say how a row of X is an image.",
                UserWarning,
                stacklevel=7,  # the user's fit
            )
        return self._storage_shape(image)

    def _build_layers(self, in_shape, n_outputs):
        image, source = self._resolved_image_shape(math.prod(in_shape))
        if self.layers is not None:
            hidden = check_layer_list(self.layers)
        else:
            hidden = self._default_layers()
        layers = [ChannelsFirstToLast()] if self.data_format == "channels_first" else []
        layers += hidden
        try:  # name the input image and where its shape came from
            layer_shapes(layers, in_shape)
        except ValueError as exc:
            raise ValueError(
                f"The architecture does not fit images of shape {image} (from "
                f"{source}): {exc}"
            ) from None
        return with_output_layer(layers, in_shape, n_outputs)

    def _default_layers(self):
        layers = []
        for filters in _hidden_sizes(self.conv_filters, "conv_filters"):
            layers.append(
                Conv2D(int(filters), self.kernel_size, 1, self.padding, self.activation)
            )
            if self.pool_size is not None:
                layers.append(MaxPool2D(self.pool_size, None, self.padding))
        layers.append(Flatten())
        for units in _hidden_sizes(self.hidden_layer_sizes):
            layers.append(Dense(int(units), self.activation))
            if self.dropout > 0:
                layers.append(Dropout(float(self.dropout)))
        return layers

    def _initial_params(self, network, random_state, dtype):
        # Glorot-uniform; the logistic factor only for the default architecture,
        # since ``activation`` is unused when ``layers`` is given
        logistic = self.layers is None and self.activation == "logistic"
        factor = 2.0 if logistic else 6.0
        return network.init_params(random_state, dtype, self.weight_init, factor)

    def _finalize_fit(self):
        self.input_shape_ = self._resolved_image_shape(self.n_features_in_)[0]


class CNNClassifier(NeuralNetClassifierMixin, _CNNMixin, BaseNeuralNet):
    __doc__ = f"""Convolutional neural network classifier on Numba kernels.

    The classic small image model by default: two blocks of 3x3 convolution (32 then
    64 filters, relu) and 2x2 max pooling, a dense layer of 128 units with dropout
    0.5, and a softmax (or logistic) output, trained with Adam. X holds one image
    per row; ``input_shape`` and ``data_format`` say how.

    Parameters
    ----------
{_CNN_ARCHITECTURE_DOC}

{_TRAINING_DOC}

{_NETWORK_DOC}

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

{_CNN_ATTRIBUTES_DOC}

{_ATTRIBUTES_DOC}

    See Also
    --------
    CNNRegressor : The regressor with the same architecture.
    MLPClassifier : A network of dense layers only.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(8, 8), batch_size=32, max_iter=10,
    ...                     random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_CNNMixin._architecture_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        conv_filters=(32, 64),
        kernel_size=3,
        pool_size=2,
        hidden_layer_sizes=(128,),
        activation="relu",
        *,
        padding="same",
        dropout=0.5,
        layers=None,
        input_shape=None,
        data_format="channels_last",
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
        self.conv_filters = conv_filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.padding = padding
        self.dropout = dropout
        self.layers = layers
        self.input_shape = input_shape
        self.data_format = data_format
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


class CNNRegressor(NeuralNetRegressorMixin, _CNNMixin, BaseNeuralNet):
    __doc__ = f"""Convolutional neural network regressor on Numba kernels.

    The architecture of ``CNNClassifier`` with a linear output layer; multi-output
    y is supported.

    Parameters
    ----------
{_CNN_ARCHITECTURE_DOC}

    loss : {{"squared_error", "poisson"}}, default="squared_error"
        Half squared error (summed over outputs) with an identity output, or the
        Poisson deviance / 2 with a log link (predictions are ``exp`` of the output).

{_TRAINING_DOC}

{_NETWORK_DOC}

    Attributes
    ----------
{_CNN_ATTRIBUTES_DOC}

{_ATTRIBUTES_DOC}

    See Also
    --------
    CNNClassifier : The classifier with the same architecture.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn import CNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 16)).astype(np.float32)
    >>> y = X.reshape(-1, 4, 4)[:, 1:3, 1:3].sum(axis=(1, 2))  # a 2x2 patch's sum
    >>> reg = CNNRegressor(conv_filters=(8,), pool_size=None, hidden_layer_sizes=(),
    ...                    activation="identity", input_shape=(4, 4), random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.99
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_CNNMixin._architecture_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        conv_filters=(32, 64),
        kernel_size=3,
        pool_size=2,
        hidden_layer_sizes=(128,),
        activation="relu",
        *,
        padding="same",
        dropout=0.5,
        layers=None,
        input_shape=None,
        data_format="channels_last",
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
        self.conv_filters = conv_filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.padding = padding
        self.dropout = dropout
        self.layers = layers
        self.input_shape = input_shape
        self.data_format = data_format
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
