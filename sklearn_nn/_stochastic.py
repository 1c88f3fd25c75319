"""The mini-batch solvers' driver: the epoch loop of SGD and Adam, as named steps.

Each epoch: shuffle, run the epoch (``Trainer.run_epoch``), record the loss and the
validation score, report, and decide whether to stop (no improvement, a callback's
request, ``max_iter``). Early stopping holds out a validation split (or uses the
user's ``X_val``) and restores the best epoch's model at the end; a
``KeyboardInterrupt`` keeps the model of the last complete epoch.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle

from ._callbacks import model_snapshot
from ._fit_state import ValidationSet
from ._optimizers import make_optimizer
from ._predict import predict_outputs
from ._training import RowRandom, Trainer


def fit_stochastic(est, job, state, incremental):
    """Train ``job.params`` / ``job.state`` in place with ``est.solver``."""
    train_idx = split_validation(est, job)
    batch_size = est._batch_size(train_idx.shape[0])
    check_batch_rows(job.network, train_idx.shape[0], batch_size)
    alpha, l1 = est._regularization()
    rng = None
    if any(layer.needs_rng for layer in job.network.layers):
        seed = job.random_state.randint(np.iinfo(np.int32).max)
        rng = RowRandom(seed, batch_size)
    trainer = Trainer(
        job.network,
        job.params,
        job.state,
        job.data,
        loss=job.loss,
        batch_size=batch_size,
        alpha=alpha,
        l1=l1,
        rng=rng,
        n_threads=job.n_threads,
        keep=job.keep,
        clip_norm=None if est.clip_norm is None else float(est.clip_norm),
        penalty_per=est._penalty_per,
    )
    if state.optimizer is None:
        state.optimizer = make_optimizer(est, job.network.n_trainable, job.params.dtype)
    if est.early_stopping:
        state.start_early_stopping(job)
    last_epoch = (job.params.copy(), job.state.copy())
    sample_idx = train_idx
    if est.max_iter == 0:  # LogisticRegression(max_iter=0): the starting model
        warnings.warn(
            "max_iter=0: no epoch run; the model is the starting one.",
            ConvergenceWarning,
            stacklevel=6,
        )
    try:
        for _ in range(est.max_iter):
            tic = time.perf_counter()
            job.tasks.begin_epoch(job)
            if est.shuffle:
                sample_idx = shuffle(sample_idx, random_state=job.random_state)
            # the epoch count goes on over warm starts and partial_fit calls
            epoch = len(state.loss_curve_)
            epoch_loss = trainer.run_epoch(
                sample_idx, batch_size, state.optimizer, epoch
            )
            check_finite(epoch_loss, state)
            np.copyto(last_epoch[0], job.params)
            np.copyto(last_epoch[1], job.state)
            message = record_epoch(est, job, state, trainer, train_idx, epoch_loss)
            if est.verbose:
                print(f"{message}, {time.perf_counter() - tic:.2f} s")
            if job.tasks.end_epoch(job):  # a callback asked to stop
                break
            if should_stop(est, state, incremental):
                break
    except KeyboardInterrupt:
        warnings.warn(
            f"Training interrupted by user; keeping the model of epoch "
            f"{state.n_iter_}.",
            stacklevel=6,
        )
        np.copyto(job.params, last_epoch[0])
        np.copyto(job.state, last_epoch[1])
    if est.early_stopping:
        np.copyto(job.params, state.best[0])
        np.copyto(job.state, state.best[1])


def split_validation(est, job):
    """The training rows; with early stopping and no ``X_val``, the validation
    split is held out of them (``job.validation``)."""
    train_idx = np.arange(job.data.n_samples)
    if not est.early_stopping or job.validation is not None:
        return train_idx
    stratify = job.y if est._stratify_validation(job.data.Y) else None
    try:
        train_idx, val_idx = train_test_split(
            train_idx,
            random_state=job.random_state,
            test_size=est.validation_fraction,
            stratify=stratify,
        )
    except ValueError as exc:  # too few samples (per class) to hold some out
        raise ValueError(
            f"early_stopping cannot hold out validation_fraction="
            f"{est.validation_fraction} of {job.data.n_samples} samples"
            f"{' (stratified by class)' if stratify is not None else ''}: {exc} "
            "Raise validation_fraction, pass X_val / y_val, or set "
            "early_stopping=False."
        ) from None
    if val_idx.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    weights = job.data.sample_weight
    if weights is not None and not weights[val_idx].sum() > 0:
        raise ValueError(
            f"The {val_idx.shape[0]} samples held out for early stopping (a "
            f"random validation_fraction={est.validation_fraction} of X) all have "
            "sample weight 0, so they cannot score the model: raise "
            "validation_fraction, or pass X_val / y_val."
        )
    job.validation = ValidationSet(job.data, job.X, job.y, val_idx)
    return train_idx


def check_batch_rows(network, n_train, batch_size):
    """Refuse batches smaller than a layer needs in training (batch statistics)."""
    smallest = batch_size if n_train % batch_size == 0 else n_train % batch_size
    for layer, shape in zip(network.layers, network.in_shapes, strict=True):
        needed = layer.min_training_rows(shape)
        if smallest < needed:
            raise ValueError(
                f"{layer!r} needs at least {needed} samples per training batch, but "
                f"a batch has {smallest} sample{'s' if smallest > 1 else ''} "
                f"({n_train} training samples in batches of {batch_size}). Choose "
                "a batch_size that leaves no smaller last batch."
            )


def check_finite(epoch_loss, state):
    """A non-finite loss is divergence: stop with a clear error."""
    if not np.isfinite(epoch_loss):
        raise ValueError(
            f"Training diverged: the loss is {epoch_loss} at epoch "
            f"{state.n_iter_ + 1}. Scale the input or lower learning_rate_init."
        )


def record_epoch(est, job, state, trainer, train_idx, epoch_loss):
    """Record the epoch's loss (and validation score); return the verbose line."""
    state.n_iter_ += 1
    state.t_ += train_idx.shape[0]
    state.loss_ = epoch_loss
    state.loss_curve_.append(epoch_loss)
    message = f"Iteration {state.n_iter_}, loss = {epoch_loss:.8f}"
    if job.validation is not None:
        score, loss = validate(est, job, trainer)
        state.validated = True
        state.validation_scores_.append(score)
        state.validation_loss_curve_.append(loss)
        message += f", validation score = {score:.6f}"
    elif state.validation_scores_:  # an earlier call validated: keep the curves
        state.validation_scores_.append(np.nan)  # aligned with loss_curve_
        state.validation_loss_curve_.append(np.nan)
    if est.early_stopping:
        state.record_validation(score, job, est.tol)
    else:
        state.record_loss(epoch_loss, est.tol)
    state.optimizer.iteration_ends(state.t_)
    return message


def validate(est, job, trainer):
    """The validation score (``est.scoring``; higher is better) and loss."""
    val = job.validation
    outputs = predict_outputs(
        job.network, job.params, job.state, val.data.X, val.rows, job.n_threads
    )
    loss = trainer.data_loss(outputs, val.data, val.rows)
    y, weights = val.take(val.y), val.take(val.data.sample_weight)
    if est.scoring is None:
        return est._score_outputs(outputs, y, weights), loss
    if est.scoring == "loss":
        return -loss, loss
    kwargs = {} if weights is None else {"sample_weight": weights}
    fitted = model_snapshot(est, job, copy_arrays=False)
    return float(job.scorer(fitted, val.take(val.X), y, **kwargs)), loss


def should_stop(est, state, incremental):
    """No improvement for ``n_iter_no_change`` epochs, one partial_fit epoch, or
    ``max_iter`` reached (with a ConvergenceWarning)."""
    if state.no_improvement_count > est.n_iter_no_change:
        what = "Validation score" if est.early_stopping else "Training loss"
        msg = (
            f"{what} did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs."
        )
        if state.optimizer.trigger_stopping(msg, est.verbose):
            return True
        state.no_improvement_count = 0
    if incremental:
        return True
    if state.n_iter_ == est.max_iter:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
            "reached and the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=7,  # the user's fit / partial_fit
        )
    return False
