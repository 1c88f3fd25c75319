"""The estimator plumbing every network shares: fit, partial_fit, rollback, predict.

Estimators differ only in ``_build_layers`` (the architecture) and in a few target
hooks (``_encode_targets``, ``_loss_name``, ``_score_outputs``). A fit trains on
copies and assigns to ``self`` only at the end (``_fit_state.set_fitted_attributes``),
so a fit that fails leaves a previously fitted model as it was. The validation of
X, y, sample weights, the validation set and the hyperparameters, and the input
hooks, live in ``_inputs`` (``InputsMixin``); the solvers' drivers in ``_lbfgs`` and
``_stochastic``.
"""

import math
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state

from . import _quantized as compressed
from ._callbacks import CallbackSupportMixin, FitTasks
from ._constraints import TRAINING_CONSTRAINTS
from ._fit_state import FitJob, FitState, set_fitted_attributes
from ._inputs import InputsMixin
from ._kernels.losses import LOSSES
from ._lbfgs import fit_lbfgs
from ._network import Network
from ._persistence import pickled_state, restore_state
from ._predict import predict_outputs
from ._stochastic import fit_stochastic
from ._threads import kernel_threads
from ._training import TrainingData, divergence_ratio
from ._validation import _fit_context, check_is_fitted
from .exceptions import DivergenceWarning

STOCHASTIC_SOLVERS = ("sgd", "adam")
#: a fitted model whose training loss exceeds this many times that of predicting
#: zeros has diverged (a converging fit starts near zero outputs and goes down)
DIVERGENCE_RATIO = 10.0
#: where the API pages are built to (``doc/api.rst``'s autosummary); the site is not
#: published yet
DOC_LINK_TEMPLATE = (
    "https://sklearn-nn.readthedocs.io/en/latest/generated/"
    "{estimator_module}.{estimator_name}.html"
)


class BaseNeuralNet(
    CallbackSupportMixin, InputsMixin, BaseEstimator, metaclass=ABCMeta
):
    """Shared fit / partial_fit / predict machinery. Not for direct use.

    Subclasses define ``_build_layers`` and the target hooks; every other method is
    shared. The input validation and the input hooks come from ``InputsMixin``
    (``_inputs``).
    """

    _parameter_constraints = dict(TRAINING_CONSTRAINTS)
    # the HTML representation links each estimator to its API page
    _doc_link_module = "sklearn_nn"
    _doc_link_template = DOC_LINK_TEMPLATE
    #: what sgd/adam divide alpha/l1 by at each step: "batch" (scikit-learn's MLP)
    #: or "data" (an objective's ``penalty / total weight``, LogisticRegression)
    _penalty_per = "batch"
    #: fitted attributes that are views into ``_params``, rebuilt after unpickling
    _view_attributes = ("coefs_", "intercepts_")

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _build_layers(self, in_shape, n_outputs):
        """The list of layer specs, the last one a Dense producing ``n_outputs``."""

    @abstractmethod
    def _encode_targets(self, y, first_pass, incremental, classes):
        """Validated y -> (float matrix Y (n, n_outputs), class weights per sample)."""

    @abstractmethod
    def _loss_name(self, n_outputs):
        """The key of ``LOSSES`` to train with."""

    @abstractmethod
    def _score_outputs(self, outputs, y, sample_weight):
        """The validation score (higher is better) of raw outputs against y."""

    def _regularization(self):
        """(L2, L1) strengths, scikit-learn's ``alpha`` convention."""
        return self.alpha, self.l1

    def _initial_params(self, network, random_state, dtype):
        """A new network's parameters: ``weight_init`` for kernels that name no
        initialiser (glorot_uniform is scikit-learn's draw)."""
        return network.init_params(random_state, dtype, self.weight_init)

    def _lbfgs_options(self):
        """Extra ``scipy.optimize.minimize`` options for L-BFGS-B."""
        return {}

    def _finalize_fit(self):
        """Set estimator-specific fitted attributes after a successful fit."""

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None):
        """Fit the model to data X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights; None gives every sample weight one.
        X_val : {array-like, sparse matrix} of shape (n_val_samples, n_features), \
                default=None
            A validation set of your own (with ``y_val``): the validation scores
            and losses of each epoch are computed on it, and early stopping
            watches it instead of holding out ``validation_fraction`` of X. Inside
            meta-estimators, request it with ``set_fit_request(X_val=True,
            y_val=True)``; in cross-validation it is the same set for every fold.
        y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), \
                default=None
            The validation targets.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X, y, sample_weight, incremental=False, X_val=X_val, y_val=y_val
        )

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _fit(
        self, X, y, sample_weight, incremental, classes=None, X_val=None, y_val=None
    ):
        compressed.check_trainable(self, incremental)
        # the callback context is set up before the snapshot, so that a failed fit's
        # restore keeps it for the callbacks' teardown
        epochs = 1 if incremental else self.max_iter
        tasks = FitTasks(self, epochs + 1 if self.solver == "lbfgs" else epochs)
        # Nothing is lost: a fit that raises restores every attribute it touched.
        # Parameters are trained on a copy, so a shallow snapshot suffices.
        snapshot = self.__dict__.copy()
        try:
            return self._fit_unsafe(
                X, y, sample_weight, incremental, classes, X_val, y_val, tasks
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise

    def _fit_unsafe(
        self, X, y, sample_weight, incremental, classes, X_val, y_val, tasks
    ):
        first_pass = not hasattr(self, "_params") or not (
            self.warm_start or incremental
        )
        X, y, Y, sample_weight = self._validate_fit_data(
            X, y, sample_weight, first_pass, incremental, classes
        )
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        scorer = None
        if self.scoring not in (None, "loss"):
            scorer = check_scoring(self, self.scoring)
        random_state = check_random_state(self.random_state)
        # BLAS on one thread from the initialisation (an orthogonal one runs a QR)
        # to the divergence check: the model must not depend on the thread count
        with kernel_threads() as n_threads:
            network, params, layer_state = self._starting_model(
                Y.shape[1], Y.dtype, first_pass, random_state
            )
            self._check_hyperparameters(incremental, network)
            network.layers[0].check_input(X)
            job = FitJob(
                network,
                params,
                layer_state,
                TrainingData(self._as_network_input(X), Y, sample_weight),
                self._loss_name(Y.shape[1]),
                y,
                random_state,
                validation=self._validation_set(X_val, y_val, network, X.dtype),
                tasks=tasks,
                X=X,
                scorer=scorer,
                keep=None if first_pass else compressed.prune_keep(self),
            )
            state = (
                FitState()
                if first_pass
                else FitState.from_estimator(self, keep_optimizer=incremental)
            )
            tasks.begin_fit(X, y, sample_weight)
            job.n_threads = n_threads
            if self.solver == "lbfgs":
                fit_lbfgs(self, job, state)
            else:
                fit_stochastic(self, job, state, incremental)
            self._check_divergence(job)
        set_fitted_attributes(self, job, state)  # commit: all above worked on copies
        tasks.end_fit()
        return self

    def _check_divergence(self, job):
        """A clear signal when training diverged, the same for every solver and
        dtype: an error for a model with non-finite weights or outputs, a
        DivergenceWarning for one worse than predicting zeros."""
        finite = np.all(np.isfinite(job.params)) and np.all(np.isfinite(job.state))
        outputs_finite, ratio = divergence_ratio(job) if finite else (False, np.inf)
        hint = (
            "The input data may contain large values and need to be preprocessed "
            "(e.g. StandardScaler), or the learning rate may be too high "
            f"(learning_rate_init={getattr(self, 'learning_rate_init', None)})."
        )
        if not (finite and outputs_finite):
            what = "parameter weights" if not finite else "outputs"
            raise ValueError(
                f"Training diverged: the fitted model has non-finite {what} in "
                f"{job.params.dtype.name}. {hint}"
            )
        if ratio > DIVERGENCE_RATIO:
            warnings.warn(
                f"Training diverged: the fitted model's training loss is "
                f"{ratio:.3g} times that of predicting zeros. {hint}",
                DivergenceWarning,
                stacklevel=6,  # the user's fit / partial_fit
            )

    def _starting_model(self, n_outputs, dtype, first_pass, random_state):
        """The network and the copies of its parameters and state this fit trains:
        new ones (drawn, or from ``pretrained``), or the fitted model's."""
        in_shape = self._input_shape(self.n_features_in_)
        layers = self._build_layers(in_shape, n_outputs)
        if not first_pass:
            fitted = (self._network.layers, self._network.in_shapes[0])
            if (layers, in_shape) != fitted:
                raise ValueError(
                    "warm_start / partial_fit need the architecture of the previous "
                    f"fit: got layers {layers} on inputs of shape {in_shape}, "
                    f"fitted {fitted[0]} on {fitted[1]}."
                )
            return self._network, self._params.copy(), self._state.copy()
        network = Network(layers, in_shape)
        params = self._initial_params(network, random_state, dtype)
        state = network.init_state(dtype)
        pretrained = getattr(self, "pretrained", None)
        if pretrained is not None:
            pretrained.copy_into(network, params, state)
        return network, params, state

    def _param_views(self, network, params):
        """The attributes that are views into ``params``: ``coefs_`` (each layer's
        ``kernel``) and ``intercepts_`` (its ``bias``, empty without one)."""
        views = network.views(params)
        empty = np.empty(0, dtype=params.dtype)
        return {
            "coefs_": [views[i]["kernel"] for i in network.kernel_layers],
            "intercepts_": [views[i].get("bias", empty) for i in network.kernel_layers],
        }

    def _set_param_views(self):
        params = compressed.viewed_params(self)
        self.__dict__.update(self._param_views(self._network, params))

    def _model_attributes(self, network, loss, params, state):
        """The fitted attributes predictions read: the model, without its history."""
        attributes = {
            "_network": network,
            "_loss": loss,
            "_params": params,
            "_state": state,
            "out_activation_": LOSSES[loss][1],
            "n_outputs_": math.prod(network.out_shape),
            **self._param_views(network, params),
        }
        attributes["n_layers_"] = len(attributes["coefs_"]) + 1
        return attributes

    def __getstate__(self):
        return pickled_state(self)

    def __setstate__(self, state):
        restore_state(self, state)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going "
                "to be clipped",
                stacklevel=2,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    # ---------------------------------------------------------------- predict
    def _raw_outputs(self, X):
        """Raw network outputs for X, after validation: shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, dtype=self._params.dtype)
        self._network.layers[0].check_input(X)
        constants = compressed.predict_constants(self, X)  # int8, if quantised
        return predict_outputs(
            self._network, self._params, self._state, X, None, None, constants
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._accept_sparse())
        return tags
