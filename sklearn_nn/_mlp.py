"""Multi-layer perceptrons: ``MLPClassifier`` and ``MLPRegressor``.

Only the architecture (``_build_layers``) and the target handling live here; training
is the shared engine of ``_base``.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import BaseNeuralNet
from ._kernels.activations import ACTIVATIONS
from ._validation import Interval, StrOptions, _fit_context
from .layers import Dense, Dropout

__all__ = ["MLPClassifier", "MLPRegressor"]

_ARCHITECTURE_DOC = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units of the ith hidden layer; ``()`` gives
        a linear model (logistic or softmax regression for the classifier).

    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"}, \
default="relu"
        Activation of the hidden layers."""

_TRAINING_DOC = """\
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        The optimizer: L-BFGS-B (full batch, scipy), SGD with momentum, or Adam.

    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 ||W||^2``, divided by the total
        sample weight of the batch, as in scikit-learn. Biases are not penalised.

    l1 : float, default=0.0
        Strength of the L1 penalty ``l1 ||W||_1``, with the same normalisation,
        applied by a proximal step that gives exact zeros. Needs "sgd" or "adam".

    dropout : float, default=0.0
        Fraction of each hidden layer's units dropped at random in training
        (inverted dropout); off at predict time. Needs "sgd" or "adam".

    batch_size : int or "auto", default="auto"
        Mini-batch size of the stochastic solvers; "auto" is ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the "sgd" learning rate, as in scikit-learn's MLP.

    learning_rate_init : float, default=0.001
        Initial learning rate of "sgd" and "adam".

    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split, the shuffling and the
        dropout masks. The same value gives the same model, bit for bit.

    tol : float, default=1e-4
        Tolerance on the loss or validation-score improvement.

    verbose : bool, default=False
        Print one line per epoch: loss, validation score, seconds.

    warm_start : bool, default=False
        Reuse the previous fit's parameters as the starting point.

    momentum : float, default=0.9
        Momentum of "sgd".

    nesterovs_momentum : bool, default=True
        Whether "sgd" uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score stops
        improving, and restore the parameters of the best validation score.

    validation_fraction : float, default=0.1
        Fraction of the data held out for early stopping.

    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates for the first and second moment estimates.

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping (or, for "adaptive",
        dividing the learning rate by 5).

    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs"."""

_ATTRIBUTES_DOC = """\
    loss_ : float
        Loss at the end of training (data loss plus penalty).

    best_loss_ : float or None
        Lowest training loss seen; None with early stopping.

    loss_curve_ : list of float
        Loss after each epoch (stochastic solvers).

    validation_scores_ : list of float or None
        Validation score after each epoch, with early stopping.

    validation_loss_curve_ : list of float
        Validation loss after each epoch, with early stopping.

    best_validation_score_ : float or None
        Best validation score, with early stopping.

    t_ : int
        Number of training samples seen by the stochastic solver.

    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (n_units_in, n_units_out).

    intercepts_ : list of ndarray
        Bias vectors, ``intercepts_[i]`` of shape (n_units_out,).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    n_iter_ : int
        Number of epochs (or L-BFGS iterations) run.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Output activation: "softmax", "logistic", "identity" or "exp"."""


def _hidden_sizes(hidden_layer_sizes):
    if not hasattr(hidden_layer_sizes, "__iter__"):
        hidden_layer_sizes = [hidden_layer_sizes]
    sizes = list(hidden_layer_sizes)
    if any(size <= 0 for size in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return sizes


class _MLPMixin:
    """The MLP architecture: Dense(+Dropout) hidden layers and a linear output layer."""

    _architecture_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def _build_layers(self, in_shape, n_outputs):
        layers = []
        for units in _hidden_sizes(self.hidden_layer_sizes):
            layers.append(Dense(int(units), self.activation))
            if self.dropout > 0:
                layers.append(Dropout(float(self.dropout)))
        layers.append(Dense(n_outputs, "identity"))
        return layers


class NeuralNetClassifierMixin(ClassifierMixin):
    """Targets, probabilities and decisions of a network classifier.

    Shared by every classifier of the package; needs ``class_weight``.
    """

    def _encode_targets(self, y, first_pass, incremental, classes):
        y_type = type_of_target(y)
        multilabel = y_type.startswith("multilabel")
        if not multilabel and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if first_pass:
            binarizer = LabelBinarizer()
            if incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit."
                    )
                binarizer.fit(y if multilabel else np.asarray(classes))
            else:
                binarizer.fit(y)
            if not multilabel and len(binarizer.classes_) < 2:
                raise ValueError(
                    "Classifier can't train when only one class is present: got "
                    f"the single class {binarizer.classes_[0]!r}."
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        else:
            labels = unique_labels(y)
            if (
                incremental
                and classes is not None
                and not np.array_equal(np.unique(classes), self.classes_)
            ):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the first "
                    f"partial_fit call, {self.classes_!r}."
                )
            if self.warm_start and not incremental:
                if set(labels) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes "
                        f"as in the previous call to fit. Previously got "
                        f"{self.classes_}, `y` has {labels}"
                    )
            elif len(np.setdiff1d(labels, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {labels}."
                )
        Y = self._label_binarizer.transform(y)
        return Y, self._class_sample_weight(y, multilabel, incremental)

    def _class_sample_weight(self, y, multilabel, incremental):
        if self.class_weight is None:
            return None
        if multilabel:
            raise ValueError("class_weight is not supported for multilabel y.")
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: the class "
                "frequencies of one batch are not those of the data. Pass a dict."
            )
        return compute_sample_weight(self.class_weight, y)

    def _multiclass(self):
        return self._label_binarizer.y_type_ == "multiclass"

    def _loss_name(self, n_outputs):
        return "softmax_log_loss" if self._multiclass() else "sigmoid_log_loss"

    def _stratify_validation(self, Y):
        return self._label_binarizer.y_type_ != "multilabel-indicator"

    def _decode(self, outputs):
        if self._multiclass():
            return self.classes_[np.argmax(outputs, axis=1)]
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return (outputs > 0).astype(int)
        return self.classes_[(outputs[:, 0] > 0).astype(int)]

    def _score_outputs(self, outputs, y, sample_weight):
        return accuracy_score(y, self._decode(outputs), sample_weight=sample_weight)

    def predict(self, X):
        """Predict class labels (or label indicators for multilabel y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        return self._decode(self._raw_outputs(X))

    def decision_function(self, X):
        """Raw scores (logits) of the output layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Logit of the positive class for binary y (shape (n_samples,), as
            ``roc_curve`` expects), per-class logits otherwise.
        """
        outputs = self._raw_outputs(X)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in ``classes_`` order; for multilabel y, each label's
            probability, strictly inside (0, 1).
        """
        outputs = self._raw_outputs(X)
        if self._multiclass():
            outputs = outputs - outputs.max(axis=1, keepdims=True)
            np.exp(outputs, out=outputs)
            outputs /= outputs.sum(axis=1, keepdims=True)
            return outputs
        proba = expit(outputs)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            eps = np.finfo(proba.dtype).eps
            return np.clip(proba, eps, 1 - eps, out=proba)
        return np.hstack([1 - proba, proba])

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in ``classes_`` order.
        """
        # log of predict_proba, as scikit-learn's MLP: consistent with it everywhere
        return np.log(self.predict_proba(X))

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array-like of shape (n_classes,), default=None
            All the classes, needed on the first call only.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NeuralNetRegressorMixin(RegressorMixin):
    """Targets and predictions of a network regressor; needs ``loss``."""

    def _encode_targets(self, y, first_pass, incremental, classes):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(Y < 0):
            raise ValueError("loss='poisson' needs non-negative y.")
        if not first_pass and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, the fitted model {self.n_outputs_}."
            )
        return Y, None

    def _loss_name(self, n_outputs):
        return self.loss

    def _predict_outputs(self, outputs):
        if self.loss == "poisson":
            outputs = np.exp(outputs)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def _score_outputs(self, outputs, y, sample_weight):
        return r2_score(y, self._predict_outputs(outputs), sample_weight=sample_weight)

    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        return self._predict_outputs(self._raw_outputs(X))

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)


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
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
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
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
