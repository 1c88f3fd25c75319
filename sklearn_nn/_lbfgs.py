"""The full-batch solver: scipy's L-BFGS-B over the trainable parameters.

scipy calls back after each iteration: that is one callback task and, with
``verbose``, one line (loss, gradient norm, seconds). A callback's stop request ends
the minimisation there (``StopIteration``, scipy >= 1.11).
"""

import time
import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._predict import rows_within
from ._training import LBFGS_BUFFER_BYTES, Trainer
from ._validation import _check_optimize_result


def fit_lbfgs(est, job, state):
    """Minimise the full-batch objective in place on ``job.params``.

    A ``KeyboardInterrupt`` keeps the best parameters evaluated so far.
    """
    network, params = job.network, job.params
    alpha, _ = est._regularization()
    # buffers for all rows, or the objective runs over chunks of rows (images)
    chunk = min(
        job.data.n_samples, rows_within(network, params.dtype, LBFGS_BUFFER_BYTES)
    )
    trainer = Trainer(
        network,
        params,
        job.state,
        job.data,
        loss=job.loss,
        batch_size=chunk,
        alpha=alpha,
        n_threads=job.n_threads,
        keep=job.keep,
    )
    x0 = trainer.trainable.astype(np.float64)
    best = {"value": np.inf, "x": x0}
    last = {"grad": np.zeros_like(x0), "time": time.perf_counter(), "stopped": False}

    def objective(flat):
        value, grad = trainer.objective(flat)
        last["grad"] = grad
        if value < best["value"]:
            best["value"], best["x"] = value, flat.copy()
        return value, grad

    def iteration_done(intermediate_result):
        state.n_iter_ += 1
        if est.verbose:
            now = time.perf_counter()
            print(
                f"Iteration {state.n_iter_}, loss = {intermediate_result.fun:.8f}, "
                f"gradient norm = {np.linalg.norm(last['grad']):.4g}, "
                f"{now - last['time']:.2f} s"
            )
            last["time"] = now
        if job.tasks.active:
            trainer.trainable[:] = intermediate_result.x  # the model of this step
            stop = job.tasks.end_epoch(job)
            job.tasks.begin_epoch(job, "lbfgs-iteration")
            if stop:
                last["stopped"] = True
                raise StopIteration

    job.tasks.begin_epoch(job, "lbfgs-iteration")
    if est.max_iter == 0:  # LogisticRegression(max_iter=0): the starting model
        state.loss_ = float(trainer.objective(x0)[0])
        warnings.warn(
            "max_iter=0: no L-BFGS iteration run; the model is the starting one.",
            ConvergenceWarning,
            stacklevel=6,  # the user's fit
        )
        job.tasks.close_epoch()
        state.lbfgs = True
        return
    try:
        result = scipy.optimize.minimize(
            objective,
            x0,
            method="L-BFGS-B",
            jac=True,
            callback=iteration_done,
            options={
                "maxfun": est.max_fun,
                "maxiter": est.max_iter,
                "gtol": est.tol,
                **est._lbfgs_options(),
            },
        )
        if not last["stopped"]:
            _check_optimize_result("lbfgs", result, est.max_iter)
        trainer.trainable[:] = result.x
        state.loss_ = float(result.fun)
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=6)
        trainer.trainable[:] = best["x"]
        state.loss_ = float(best["value"])
    job.tasks.close_epoch()
    state.lbfgs = True
    if not np.isfinite(state.loss_):
        raise ValueError(
            f"Training diverged: the L-BFGS objective is {state.loss_} after "
            f"{state.n_iter_} iterations. Scale X and y (e.g. StandardScaler), or "
            "lower alpha (raise C)."
        )
