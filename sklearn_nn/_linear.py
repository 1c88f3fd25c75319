"""``LogisticRegression``: the one-layer network, on the shared engine.

Same objective as scikit-learn's ``LogisticRegression``: the weighted mean log loss
plus ``((1 - l1_ratio) / 2 ||W||^2 + l1_ratio ||W||_1) / (C * total sample weight)``,
binary (sigmoid) or multinomial (softmax). ``"lbfgs"`` minimises it exactly (L2 only);
``"sgd"`` / ``"adam"`` stream it in mini-batches and offer ``partial_fit``; their L1
steps give exact zeros ("sgd": the cumulative penalty of scikit-learn's
``SGDClassifier``; "adam": a proximal step in Adam's metric).
"""

from numbers import Integral, Real

import numpy as np

from ._base import BaseNeuralNet
from ._mixins import NeuralNetClassifierMixin
from ._validation import Interval, SparseCoefMixin, StrOptions
from .layers import Dense

__all__ = ["LogisticRegression"]

#: the "auto" mini-batch of sgd / adam; measured on digits (one partial_fit pass in
#: chunks of 200, adam, 3 splits): accuracy 0.849 at batch 200, 0.920 at 32
AUTO_BATCH_SIZE = 32


class LogisticRegression(SparseCoefMixin, NeuralNetClassifierMixin, BaseNeuralNet):
    """Logistic (softmax) regression with L-BFGS, SGD or Adam, and ``partial_fit``.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the regularisation strength; ``np.inf`` for none.

    l1_ratio : float, default=0.0
        Elastic-net mixing in [0, 1]: 0 is L2, 1 is L1. Values > 0 need "sgd" or
        "adam".

    tol : float, default=1e-4
        L-BFGS: stop when the projected gradient's largest entry is below ``tol``.
        SGD/Adam: the loss or validation-score improvement below which an epoch
        counts as no improvement.

    fit_intercept : bool, default=True
        Whether to fit an intercept (never penalised).

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into the sample weights.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split of "sgd" / "adam".

    solver : {"lbfgs", "sgd", "adam"}, default="lbfgs"
        L-BFGS-B (full batch, scipy, exact optimum), or the engine's mini-batch
        SGD / Adam.

    max_iter : int, default=100
        Maximum L-BFGS iterations, or epochs of "sgd" / "adam"; 0 returns the
        starting (zero) model with a ConvergenceWarning, as scikit-learn does.

    verbose : int, default=0
        Print progress (one line per epoch for "sgd" / "adam").

    warm_start : bool, default=False
        Start from the previous fit's coefficients.

    batch_size : int or "auto", default="auto"
        Mini-batch size of "sgd" / "adam"; "auto" is ``min(32, n_samples)``
        (smaller than the MLPs' 200: a linear model's step is cheap, and more
        steps per pass make one ``partial_fit`` pass over a stream count).

    learning_rate_init : float, default=0.01
        Learning rate of "sgd" / "adam".

    early_stopping : bool, default=False
        "sgd" / "adam": hold out ``validation_fraction`` of the data, stop when its
        accuracy stops improving and keep the best coefficients.

    validation_fraction : float, default=0.1
        Fraction held out for early stopping (unless ``fit`` gets ``X_val``).

    scoring : str, callable or None, default=None
        The validation score early stopping watches: None is accuracy, "loss"
        minus the validation log loss, any other string a scikit-learn scorer
        name, a callable a scorer ``scorer(estimator, X, y)``.

    n_iter_no_change : int, default=5
        Epochs without ``tol`` improvement before "sgd" / "adam" stop.

    shuffle : bool, default=True
        Whether "sgd" / "adam" shuffle the samples at each epoch.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for binary y.

    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_iter_ : ndarray of shape (1,)
        Iterations (L-BFGS) or epochs (SGD/Adam) run, as in scikit-learn.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    loss_ : float
        Objective value at the end of training.

    See Also
    --------
    MLPClassifier : The same engine with hidden layers.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_nn import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="right")],  # inf: no penalty
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "batch_size": BaseNeuralNet._parameter_constraints["batch_size"],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "scoring": BaseNeuralNet._parameter_constraints["scoring"],
        "n_iter_no_change": BaseNeuralNet._parameter_constraints["n_iter_no_change"],
        "shuffle": ["boolean"],
    }
    _view_attributes = BaseNeuralNet._view_attributes + ("coef_", "intercept_")

    # engine settings that are not parameters here: scikit-learn's MLP defaults
    learning_rate = "constant"
    power_t = 0.5
    momentum = 0.9
    nesterovs_momentum = True
    beta_1 = 0.9
    beta_2 = 0.999
    epsilon = 1e-8
    max_fun = 15000
    clip_norm = None
    # sgd/adam minimise the objective above, each step an unbiased estimate of it
    _penalty_per = "data"

    def __init__(
        self,
        C=1.0,
        *,
        l1_ratio=0.0,
        tol=1e-4,
        fit_intercept=True,
        class_weight=None,
        random_state=None,
        solver="lbfgs",
        max_iter=100,
        verbose=0,
        warm_start=False,
        batch_size="auto",
        learning_rate_init=0.01,
        early_stopping=False,
        validation_fraction=0.1,
        scoring=None,
        n_iter_no_change=5,
        shuffle=True,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle

    def _build_layers(self, in_shape, n_outputs):
        return [Dense(n_outputs, "identity", use_bias=self.fit_intercept)]

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(AUTO_BATCH_SIZE, n_samples)
        return super()._batch_size(n_samples)

    def _regularization(self):
        strength = 1.0 / self.C  # 0 for C = inf
        return (1.0 - self.l1_ratio) * strength, self.l1_ratio * strength

    def _initial_params(self, network, random_state, dtype):
        # a convex problem: start at zero, as scikit-learn does
        return np.zeros(network.n_params, dtype=dtype)

    def _lbfgs_options(self):
        # scikit-learn's LogisticRegression stops L-BFGS on ftol = 64 eps too
        return {"ftol": 64 * np.finfo(float).eps}

    def _param_views(self, network, params):
        views = super()._param_views(network, params)
        coef = views["coefs_"][0].T
        bias = views["intercepts_"][0]
        views["coef_"] = coef
        # zeros when fit_intercept=False: read from the fitted model, not the param
        views["intercept_"] = bias if bias.size else np.zeros(coef.shape[0], coef.dtype)
        return views

    def _finalize_fit(self):
        self.n_iter_ = np.array([self.n_iter_])
