"""The estimator plumbing every network shares: validation, fit, partial_fit, epochs.

Estimators differ only in ``_build_layers`` (the architecture) and in a few target
hooks (``_encode_targets``, ``_loss_name``, ``_score_outputs``). A fit trains on
copies and assigns to ``self`` only at the end, so a fit that fails leaves a
previously fitted model as it was.
"""

import copy
import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, shuffle

from ._kernels.losses import LOSSES
from ._network import Network
from ._optimizers import make_optimizer
from ._threads import kernel_threads
from ._training import LBFGS_BUFFER_BYTES, Trainer, predict_outputs, rows_within
from ._validation import (
    Interval,
    Options,
    StrOptions,
    _check_optimize_result,
    _check_sample_weight,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from .layers import CSRRows, Dropout

STOCHASTIC_SOLVERS = ("sgd", "adam")

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
}


class BaseNeuralNet(BaseEstimator, metaclass=ABCMeta):
    """Shared fit / partial_fit / predict machinery. Not for direct use.

    Subclasses define ``_build_layers`` and the target hooks; every other method is
    shared.
    """

    _parameter_constraints = dict(TRAINING_CONSTRAINTS)
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
        """Glorot-uniform, drawn as scikit-learn's MLP draws it (factor 2 for the
        logistic activation, 6 otherwise)."""
        factor = 2.0 if getattr(self, "activation", None) == "logistic" else 6.0
        return network.init_params(random_state, dtype, factor)

    def _lbfgs_options(self):
        """Extra ``scipy.optimize.minimize`` options for L-BFGS-B."""
        return {}

    def _finalize_fit(self):
        """Set estimator-specific fitted attributes after a successful fit."""

    def _input_shape(self, n_features):
        """Shape of one sample as the first layer sees it."""
        return (n_features,)

    def _accept_sparse(self):
        return ["csr", "csc"]

    def _rows_from_input(self, X, reset):
        """X as 2-D rows before validation (image estimators accept 3-D/4-D X)."""
        return X

    # ------------------------------------------------------------- validation
    def _validate_X(self, X, reset, dtype=None):
        X = self._rows_from_input(X, reset)
        X = validate_data(
            self,
            X,
            accept_sparse=self._accept_sparse(),
            dtype=dtype or (np.float64, np.float32),
            order="C",
            reset=reset,
        )
        return self._as_network_input(X)

    @staticmethod
    def _as_network_input(X):
        if sp.issparse(X):
            X = X.tocsr()
            return CSRRows(X.data, X.indices, X.indptr, None)
        return X

    def _validate_fit_data(self, X, y, sample_weight, first_pass, incremental, classes):
        dtype = None if first_pass else self._params.dtype
        X = self._rows_from_input(X, reset=first_pass)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=self._accept_sparse(),
            dtype=dtype or (np.float64, np.float32),
            order="C",
            multi_output=True,
            y_numeric=False,
            reset=first_pass,
        )
        n_samples = X.shape[0]
        Y, class_weight = self._encode_targets(y, first_pass, incremental, classes)
        Y = np.ascontiguousarray(Y, dtype=X.dtype)
        if sample_weight is not None or class_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            if class_weight is not None:
                sample_weight = sample_weight * class_weight.astype(X.dtype)
            sample_weight = np.ascontiguousarray(sample_weight)
        if not np.all(np.isfinite(Y)):
            raise ValueError("Input y contains NaN or infinity.")
        return self._as_network_input(X), Y, sample_weight, n_samples

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
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

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        # Nothing is lost: a fit that raises restores every attribute it touched.
        # Parameters are trained on a copy, so a shallow snapshot suffices.
        snapshot = self.__dict__.copy()
        try:
            return self._fit_unsafe(X, y, sample_weight, incremental, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise

    def _fit_unsafe(self, X, y, sample_weight, incremental, classes):
        self._check_hyperparameters(incremental)
        first_pass = not hasattr(self, "_params") or not (
            self.warm_start or incremental
        )
        X, Y, sample_weight, n_samples = self._validate_fit_data(
            X, y, sample_weight, first_pass, incremental, classes
        )
        n_outputs = Y.shape[1]
        random_state = check_random_state(self.random_state)
        in_shape = self._input_shape(self.n_features_in_)
        layers = self._build_layers(in_shape, n_outputs)
        if self.solver == "lbfgs" and any(
            isinstance(layer, Dropout) and layer.rate > 0 for layer in layers
        ):
            raise ValueError("dropout > 0 needs solver='sgd' or 'adam', not 'lbfgs'.")
        if first_pass:
            network = Network(layers, in_shape)
            params = self._initial_params(network, random_state, Y.dtype)
            state = _FitState()
        else:
            fitted = (self._network.layers, self._network.in_shapes[0])
            if (layers, in_shape) != fitted:
                raise ValueError(
                    "warm_start / partial_fit need the architecture of the previous "
                    f"fit: got layers {layers} on inputs of shape {in_shape}, "
                    f"fitted {fitted[0]} on {fitted[1]}."
                )
            network = self._network
            params = self._params.copy()
            state = _FitState.from_estimator(self, keep_optimizer=incremental)
        loss = self._loss_name(n_outputs)

        with kernel_threads(network) as n_threads:
            if self.solver == "lbfgs":
                state = self._fit_lbfgs(
                    network, params, loss, X, Y, sample_weight, state, n_threads
                )
            else:
                state = self._fit_stochastic(
                    network,
                    params,
                    loss,
                    X,
                    Y,
                    y_raw=y,
                    sample_weight=sample_weight,
                    state=state,
                    incremental=incremental,
                    random_state=random_state,
                    n_threads=n_threads,
                )
        if not np.all(np.isfinite(params)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may "
                "contain large values and need to be preprocessed, or the learning "
                "rate may be too high."
            )
        # commit: everything above worked on copies
        self._network = network
        self._loss = loss
        self.out_activation_ = LOSSES[loss][1]
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(network.param_layers) + 1
        self._params = params
        self._set_param_views()
        state.commit(self)
        self._finalize_fit()
        return self

    def _check_hyperparameters(self, incremental):
        if self.solver == "lbfgs" and self._regularization()[1] > 0:
            raise ValueError(
                "An L1 penalty (l1 > 0, or l1_ratio > 0) needs solver='sgd' or 'adam' "
                "(proximal updates); L-BFGS cannot minimise the non-smooth L1 term."
            )
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _set_param_views(self):
        views = [
            self._network.views(self._params)[i] for i in self._network.param_layers
        ]
        self.coefs_ = [w for w, _ in views]
        self.intercepts_ = [b for _, b in views]

    def __getstate__(self):
        # coefs_ / intercepts_ are views into _params: pickle the buffer once
        state = self.__dict__.copy()
        for name in self._view_attributes:
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_params" in state:
            self._set_param_views()

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

    def _fit_lbfgs(self, network, params, loss, X, Y, sample_weight, state, n_threads):
        n_samples = Y.shape[0]
        alpha, _ = self._regularization()
        # buffers for all rows, or the objective runs over chunks of rows (images)
        chunk = min(n_samples, rows_within(network, params.dtype, LBFGS_BUFFER_BYTES))
        trainer = Trainer(
            network,
            params,
            loss,
            X,
            Y,
            sample_weight,
            alpha,
            0.0,
            chunk,
            n_threads=n_threads,
        )
        best = {"value": np.inf, "x": params.astype(np.float64)}

        def objective(flat):
            value, grad = trainer.objective(flat)
            if value < best["value"]:
                best["value"], best["x"] = value, flat.copy()
            return value, grad

        iprint = 1 if self.verbose is True or self.verbose >= 1 else -1
        try:
            result = scipy.optimize.minimize(
                objective,
                params.astype(np.float64),
                method="L-BFGS-B",
                jac=True,
                options={
                    "maxfun": self.max_fun,
                    "maxiter": self.max_iter,
                    "gtol": self.tol,
                    **self._lbfgs_options(),
                    **({"iprint": iprint} if _lbfgs_takes_iprint() else {}),
                },
            )
            state.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
            params[:] = result.x
            state.loss_ = float(result.fun)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)
            params[:] = best["x"]
            state.loss_ = float(best["value"])
            state.n_iter_ = getattr(state, "n_iter_", 0)
        state.lbfgs = True
        return state

    def _fit_stochastic(
        self,
        network,
        params,
        loss,
        X,
        Y,
        *,
        y_raw,
        sample_weight,
        state,
        incremental,
        random_state,
        n_threads,
    ):
        n_total = Y.shape[0]
        train_idx = np.arange(n_total)
        val_idx = None
        if self.early_stopping:
            stratify = y_raw if self._stratify_validation(Y) else None
            train_idx, val_idx = train_test_split(
                train_idx,
                random_state=random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if val_idx.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
        batch_size = self._batch_size(train_idx.shape[0])
        alpha, l1 = self._regularization()
        dropout_rng = None
        if any(isinstance(layer, Dropout) for layer in network.layers):
            dropout_rng = np.random.default_rng(
                random_state.randint(np.iinfo(np.int32).max)
            )
        trainer = Trainer(
            network,
            params,
            loss,
            X,
            Y,
            sample_weight,
            alpha,
            l1,
            batch_size,
            dropout_rng,
            n_threads,
        )
        if state.optimizer is None:
            state.optimizer = make_optimizer(self, network.n_params, params.dtype)
        optimizer = state.optimizer
        state.start_stochastic(early_stopping=self.early_stopping, params=params)
        last_epoch_params = params.copy()
        sample_idx = train_idx
        try:
            for _ in range(self.max_iter):
                tic = time.perf_counter()
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=random_state)
                epoch_loss = trainer.run_epoch(sample_idx, batch_size, optimizer)
                if not np.isfinite(epoch_loss):
                    raise ValueError(
                        f"Training diverged: the loss is {epoch_loss} at epoch "
                        f"{state.n_iter_ + 1}. Scale the input or lower "
                        "learning_rate_init."
                    )
                np.copyto(last_epoch_params, params)
                state.n_iter_ += 1
                state.t_ += train_idx.shape[0]
                state.loss_ = epoch_loss
                state.loss_curve_.append(epoch_loss)
                message = f"Iteration {state.n_iter_}, loss = {epoch_loss:.8f}"
                if val_idx is not None:
                    outputs = predict_outputs(network, params, X, val_idx, n_threads)
                    score = self._score_outputs(
                        outputs,
                        y_raw[val_idx],
                        None if sample_weight is None else sample_weight[val_idx],
                    )
                    state.validation_loss_curve_.append(
                        trainer.data_loss(outputs, val_idx)
                    )
                    message += f", validation score = {score:.6f}"
                    state.record_validation(score, params, self.tol)
                else:
                    state.record_loss(epoch_loss, self.tol)
                optimizer.iteration_ends(state.t_)
                if self.verbose:
                    print(f"{message}, {time.perf_counter() - tic:.2f} s")
                if state.no_improvement_count > self.n_iter_no_change:
                    what = (
                        "Validation score" if val_idx is not None else "Training loss"
                    )
                    msg = (
                        f"{what} did not improve more than tol={self.tol:f} for "
                        f"{self.n_iter_no_change} consecutive epochs."
                    )
                    if optimizer.trigger_stopping(msg, self.verbose):
                        break
                    state.no_improvement_count = 0
                if incremental:
                    break
                if state.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        except KeyboardInterrupt:
            warnings.warn(
                f"Training interrupted by user; keeping the model of epoch "
                f"{state.n_iter_}.",
                stacklevel=2,
            )
            np.copyto(params, last_epoch_params)
        if val_idx is not None:
            np.copyto(params, state.best_params)
        return state

    def _stratify_validation(self, Y):
        return False

    # ---------------------------------------------------------------- predict
    def _raw_outputs(self, X):
        """Raw network outputs for X, after validation: shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, dtype=self._params.dtype)
        return predict_outputs(self._network, self._params, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._accept_sparse())
        return tags


def _lbfgs_takes_iprint():
    # scipy >= 1.15 deprecates L-BFGS-B's iprint
    major, minor = (int(v) for v in scipy.__version__.split(".")[:2])
    return (major, minor) < (1, 15)


class _FitState:
    """Everything a fit produces besides the parameters; assigned to the estimator
    only when the fit succeeds."""

    def __init__(self):
        self.n_iter_ = 0
        self.t_ = 0
        self.optimizer = None
        self.lbfgs = False
        self.loss_curve_ = []
        self.validation_loss_curve_ = []
        self.validation_scores_ = []
        self.best_validation_score_ = -np.inf
        self.best_loss_ = np.inf
        self.no_improvement_count = 0
        self.best_params = None
        self.loss_ = np.nan

    @classmethod
    def from_estimator(cls, est, keep_optimizer):
        state = cls()
        # n_iter_ counts this call's epochs, as in scikit-learn; loss_curve_ goes on
        state.t_ = getattr(est, "t_", 0)
        state.loss_ = getattr(est, "loss_", np.nan)
        if keep_optimizer and getattr(est, "_optimizer", None) is not None:
            state.optimizer = copy.deepcopy(est._optimizer)
        if getattr(est, "loss_curve_", None) is not None:
            state.loss_curve_ = list(est.loss_curve_)
            state.best_loss_ = est.best_loss_ if est.best_loss_ is not None else np.inf
            state.no_improvement_count = getattr(est, "_no_improvement_count", 0)
        return state

    def start_stochastic(self, early_stopping, params):
        if not early_stopping:
            return
        # a new fit: early stopping tracks this fit's own validation split
        self.validation_scores_ = []
        self.validation_loss_curve_ = []
        self.best_validation_score_ = -np.inf
        self.no_improvement_count = 0
        self.best_params = params.copy()

    def record_validation(self, score, params, tol):
        self.validation_scores_.append(score)
        if score < self.best_validation_score_ + tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            np.copyto(self.best_params, params)

    def record_loss(self, loss, tol):
        if loss > self.best_loss_ - tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, loss)

    def commit(self, est):
        est.n_iter_ = self.n_iter_
        est.loss_ = self.loss_
        est.t_ = self.t_
        if self.lbfgs:
            for name in (
                "loss_curve_",
                "best_loss_",
                "validation_scores_",
                "best_validation_score_",
                "validation_loss_curve_",
            ):
                if hasattr(est, name):
                    delattr(est, name)
            est._optimizer = None
            return
        est._optimizer = self.optimizer
        est._no_improvement_count = self.no_improvement_count
        est.loss_curve_ = self.loss_curve_
        if self.best_params is not None:
            est.validation_scores_ = self.validation_scores_
            est.best_validation_score_ = self.best_validation_score_
            est.validation_loss_curve_ = self.validation_loss_curve_
            est.best_loss_ = None
        else:
            est.validation_scores_ = None
            est.best_validation_score_ = None
            est.best_loss_ = self.best_loss_
            if hasattr(est, "validation_loss_curve_"):
                del est.validation_loss_curve_
