"""What one fit works on and what it produces, and the one place that turns them
into the estimator's fitted attributes.

A fit trains copies (``FitJob.params`` / ``FitJob.state``) and records its history
in a ``FitState``; ``set_fitted_attributes`` assigns both to the estimator only when
the fit succeeded, so a fit that fails leaves a previously fitted model as it was.
"""

import copy
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FitJob:
    """The arrays and settings of one fit.

    Attributes
    ----------
    network : Network
    params, state : ndarray
        The parameter and layer-state buffers being trained (copies).
    data : TrainingData
    loss : str
        A key of ``LOSSES``.
    y : ndarray
        The validated targets before encoding (for validation scores).
    random_state : numpy.random.RandomState
    n_threads : int
        Threads for the layers that split their batch.
    validation : ValidationSet or None
        What validation scores are computed on (early stopping's split, or the
        user's ``X_val`` / ``y_val``).
    tasks : FitTasks or None
        The callback tasks of this fit.
    X : ndarray or sparse matrix
        The validated inputs, as the user's estimator sees them (for callbacks and
        scorers).
    scorer : callable or None
        The early-stopping scorer for a scorer name or callable ``scoring``.
    keep : ndarray of bool or None
        A pruned model's mask, kept in force while it trains on (False: pruned).
    """

    network: object
    params: np.ndarray
    state: np.ndarray
    data: object
    loss: str
    y: np.ndarray
    random_state: object
    n_threads: int = 1
    validation: object = None
    tasks: object = None
    X: object = None
    scorer: object = None
    keep: np.ndarray | None = None


@dataclass
class ValidationSet:
    """Samples that validation scores and losses are computed on.

    Attributes
    ----------
    data : TrainingData
        Network inputs, encoded targets and sample weights.
    X : ndarray or sparse matrix
        The validated inputs, for scorers (which predict through the estimator).
    y : ndarray
        The validated targets.
    rows : ndarray of int or None
        The validation rows of these arrays (None: all of them).
    """

    data: object
    X: object
    y: np.ndarray
    rows: np.ndarray | None = None

    def take(self, values):
        """The validation rows of ``values`` (None stays None)."""
        if values is None or self.rows is None:
            return values
        return values[self.rows]


@dataclass
class FitState:
    """Everything a fit produces besides the parameters and layer state."""

    n_iter_: int = 0
    t_: int = 0
    optimizer: object = None
    lbfgs: bool = False
    loss_: float = np.nan
    loss_curve_: list = field(default_factory=list)
    validation_loss_curve_: list = field(default_factory=list)
    validation_scores_: list = field(default_factory=list)
    best_validation_score_: float = -np.inf
    best_loss_: float = np.inf
    no_improvement_count: int = 0
    #: parameters and layer state of the best validation score (early stopping)
    best: tuple | None = None
    #: whether validation scores were recorded (early stopping or X_val)
    validated: bool = False

    @classmethod
    def from_estimator(cls, est, keep_optimizer):
        """The history a warm_start fit or a partial_fit continues from."""
        state = cls()
        # n_iter_ counts this call's epochs, as in scikit-learn; loss_curve_ goes on
        state.t_ = getattr(est, "t_", 0)
        state.loss_ = getattr(est, "loss_", np.nan)
        if keep_optimizer and getattr(est, "_optimizer", None) is not None:
            state.optimizer = copy.deepcopy(est._optimizer)
        if getattr(est, "validation_scores_", None) is not None:
            # a warm start or partial_fit with X_val goes on with its curves
            state.validation_scores_ = list(est.validation_scores_)
            state.validation_loss_curve_ = list(est.validation_loss_curve_)
        if getattr(est, "loss_curve_", None) is not None:
            state.loss_curve_ = list(est.loss_curve_)
            state.best_loss_ = est.best_loss_ if est.best_loss_ is not None else np.inf
            state.no_improvement_count = getattr(est, "_no_improvement_count", 0)
        return state

    def start_early_stopping(self, job):
        """A new fit: early stopping tracks this fit's own validation split."""
        self.validation_scores_ = []
        self.validation_loss_curve_ = []
        self.best_validation_score_ = -np.inf
        self.no_improvement_count = 0
        self.best = (job.params.copy(), job.state.copy())

    def record_validation(self, score, job, tol):
        """Count an epoch without improvement; keep the best epoch's model."""
        if score < self.best_validation_score_ + tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            np.copyto(self.best[0], job.params)
            np.copyto(self.best[1], job.state)

    def record_loss(self, loss, tol):
        """Count an epoch without ``tol`` improvement of the training loss."""
        if loss > self.best_loss_ - tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, loss)


_STOCHASTIC_ONLY = (
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "validation_loss_curve_",
)


def set_fitted_attributes(est, job, state):
    """Assign a successful fit's model and history to ``est``."""
    est.__dict__.update(
        est._model_attributes(job.network, job.loss, job.params, job.state)
    )
    if job.keep is None:  # a new model: a former pruning mask no longer applies
        est.__dict__.pop("_prune_mask", None)
        est.__dict__.pop("sparsity_", None)
    est.__dict__.pop("_quantized", None)  # a quantised model is never trained on
    est.n_iter_ = state.n_iter_
    est.loss_ = state.loss_
    est.t_ = state.t_
    if state.lbfgs:
        for name in _STOCHASTIC_ONLY:
            if hasattr(est, name):
                delattr(est, name)
        est._optimizer = None
    else:
        est._optimizer = state.optimizer
        est._no_improvement_count = state.no_improvement_count
        est.loss_curve_ = state.loss_curve_
        early_stopping = state.best is not None
        est.best_validation_score_ = (
            state.best_validation_score_ if early_stopping else None
        )
        est.best_loss_ = None if early_stopping else state.best_loss_
        if state.validated or state.validation_scores_:  # this fit's or earlier
            est.validation_scores_ = state.validation_scores_
            est.validation_loss_curve_ = state.validation_loss_curve_
        else:
            est.validation_scores_ = None
            if hasattr(est, "validation_loss_curve_"):
                del est.validation_loss_curve_
    est._finalize_fit()
