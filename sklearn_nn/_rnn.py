"""Recurrent networks: ``RNNClassifier`` and ``RNNRegressor``.

X stays 2-D so that scalers, pipelines and cross-validation work: each row holds one
sequence time-major (``timesteps * features`` values: all features of the first
timestep, then of the second, ...), and ``input_shape=(timesteps, features)`` says
how; 3-D X ``(n_samples, timesteps, features)`` is taken as such sequences. Only the
architecture lives here: training is the shared engine of ``_base``.
"""

from numbers import Integral, Real

from ._base import BaseNeuralNet
from ._constraints import NETWORK_CONSTRAINTS
from ._docs import _ATTRIBUTES_DOC, _NETWORK_DOC
from ._docs import _TRAINING_DOC as _MLP_TRAINING_DOC
from ._mixins import NeuralNetClassifierMixin, NeuralNetRegressorMixin
from ._mlp import _hidden_sizes
from ._neuralnet import _NeuralNetMixin, with_output_layer
from ._validation import Interval, StrOptions
from .layers import GRU, LSTM, Bidirectional, Dropout, SimpleRNN

__all__ = ["RNNClassifier", "RNNRegressor"]

CELLS = {"rnn": SimpleRNN, "gru": GRU, "lstm": LSTM}


class _RNNMixin(_NeuralNetMixin):
    """The stacked recurrent architecture and the mapping from rows to sequences."""

    _sample_noun = "sequences"

    _architecture_constraints = {
        "cell": [StrOptions(set(CELLS))],
        "units": ["array-like", Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_shape": ["array-like", None],
        **NETWORK_CONSTRAINTS,
    }

    def _accept_sparse(self):
        return False

    def _input_shape(self, n_features):
        if self.input_shape is not None and len(self.input_shape) != 2:
            raise ValueError(
                f"input_shape must be (timesteps, features), got {self.input_shape!r}."
            )
        shape = super()._input_shape(n_features)
        if len(shape) == 1:  # 2-D X, no input_shape: one feature per timestep
            return (shape[0], 1)
        if len(shape) != 2:
            raise ValueError(
                f"X has sequences of shape {shape}; expected (timesteps, features)."
            )
        return shape

    def _build_layers(self, in_shape, n_outputs):
        widths = _hidden_sizes(self.units, "units")
        if not widths:
            raise ValueError(
                "units must name at least one recurrent layer, got "
                f"{self.units!r}; for a network without one use NeuralNetClassifier "
                "or NeuralNetRegressor."
            )
        layers = []
        for k, width in enumerate(widths):
            layer = CELLS[self.cell](int(width), return_sequences=k + 1 < len(widths))
            layers.append(Bidirectional(layer) if self.bidirectional else layer)
            if self.dropout > 0:
                layers.append(Dropout(float(self.dropout)))
        return with_output_layer(layers, in_shape, n_outputs)

    def _finalize_fit(self):
        self.input_shape_ = tuple(self._network.in_shapes[0])


_RNN_ARCHITECTURE_DOC = """\
    cell : {"rnn", "gru", "lstm"}, default="lstm"
        The recurrent layer: ``SimpleRNN`` (tanh), ``GRU`` or ``LSTM``.

    units : int or tuple of int, default=(32,)
        Widths of the stacked recurrent layers; every layer but the last passes
        its whole sequence of states on, the last its final state.

    bidirectional : bool, default=False
        Run every recurrent layer forward and backward in time (``Bidirectional``),
        doubling its output width.

    dropout : float, default=0.0
        Dropout rate after every recurrent layer, in training.

    input_shape : tuple of (int, int), default=None
        ``(timesteps, features)`` of one sequence; each row of X holds one,
        time-major. None: the trailing axes of 3-D X, or one feature per timestep
        for 2-D X (a univariate series per row)."""

# recurrent networks on small data sets need larger steps than Adam's 0.001 (the
# sequences of check_estimator's regression data fit to R2 < 0.5 in 200 epochs)
_TRAINING_DOC = _MLP_TRAINING_DOC.replace(
    """    learning_rate_init : float, default=0.001
        Initial learning rate of "sgd" and "adam".""",
    """    learning_rate_init : float, default=0.01
        Initial learning rate of "sgd" and "adam" (ten times the MLP's: recurrent
        networks on small data sets need larger steps).""",
)
assert _TRAINING_DOC != _MLP_TRAINING_DOC

_RNN_ATTRIBUTES_DOC = """\
    input_shape_ : tuple of (int, int)
        ``(timesteps, features)`` of the sequences the model was fitted on."""


class RNNClassifier(NeuralNetClassifierMixin, _RNNMixin, BaseNeuralNet):
    __doc__ = f"""Recurrent neural network classifier (SimpleRNN, GRU or LSTM) on Numba
    kernels.

    Stacked recurrent layers read each sequence; the last one's final state feeds a
    softmax (multiclass) or logistic (binary, multilabel) output layer, trained with
    log loss. Any other stack (convolutions, attention, embeddings) goes through
    ``NeuralNetClassifier(layers=[...])``.

    Parameters
    ----------
{_RNN_ARCHITECTURE_DOC}

{_TRAINING_DOC}

{_NETWORK_DOC}

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

{_RNN_ATTRIBUTES_DOC}

{_ATTRIBUTES_DOC}

    See Also
    --------
    RNNRegressor : The regressor with the same architecture.
    NeuralNetClassifier : Any stack of layers.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import RNNClassifier
    >>> X, y = load_digits(return_X_y=True)  # 8 timesteps of 8 pixels per row
    >>> clf = RNNClassifier(cell="gru", input_shape=(8, 8), early_stopping=True,
    ...                     random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.85
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_RNNMixin._architecture_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        cell="lstm",
        units=(32,),
        *,
        bidirectional=False,
        dropout=0.0,
        input_shape=None,
        solver="adam",
        alpha=0.0001,
        l1=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.01,
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
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
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


class RNNRegressor(NeuralNetRegressorMixin, _RNNMixin, BaseNeuralNet):
    __doc__ = f"""Recurrent neural network regressor (SimpleRNN, GRU or LSTM) on Numba
    kernels.

    The architecture of ``RNNClassifier`` with a linear output layer (``exp`` of it
    for the Poisson loss); multi-output y is supported.

    Parameters
    ----------
{_RNN_ARCHITECTURE_DOC}

    loss : {{"squared_error", "poisson"}}, default="squared_error"
        Half squared error (summed over outputs) with an identity output, or the
        Poisson deviance / 2 with a log link (predictions are ``exp`` of the output).

{_TRAINING_DOC}

{_NETWORK_DOC}

    Attributes
    ----------
{_RNN_ATTRIBUTES_DOC}

{_ATTRIBUTES_DOC}

    See Also
    --------
    RNNClassifier : The classifier with the same architecture.
    NeuralNetRegressor : Any stack of layers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn import RNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 10))  # 500 series of 10 timesteps
    >>> y = X[:, :3].sum(axis=1)  # the sum of the first three values
    >>> reg = RNNRegressor(cell="gru", max_iter=400, random_state=0)
    >>> reg.fit(X[:400], y[:400]).score(X[400:], y[400:]) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseNeuralNet._parameter_constraints,
        **_RNNMixin._architecture_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        cell="lstm",
        units=(32,),
        *,
        bidirectional=False,
        dropout=0.0,
        input_shape=None,
        loss="squared_error",
        solver="adam",
        alpha=0.0001,
        l1=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.01,
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
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
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
