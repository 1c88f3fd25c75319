"""The full-batch solver: scipy's L-BFGS-B over the trainable parameters."""

import warnings

import numpy as np
import scipy
import scipy.optimize

from ._training import LBFGS_BUFFER_BYTES, Trainer, rows_within
from ._validation import _check_optimize_result


def _lbfgs_takes_iprint():
    # scipy >= 1.15 deprecates L-BFGS-B's iprint
    major, minor = (int(v) for v in scipy.__version__.split(".")[:2])
    return (major, minor) < (1, 15)


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
    )
    x0 = trainer.trainable.astype(np.float64)
    best = {"value": np.inf, "x": x0}

    def objective(flat):
        value, grad = trainer.objective(flat)
        if value < best["value"]:
            best["value"], best["x"] = value, flat.copy()
        return value, grad

    iprint = 1 if est.verbose is True or est.verbose >= 1 else -1
    try:
        result = scipy.optimize.minimize(
            objective,
            x0,
            method="L-BFGS-B",
            jac=True,
            options={
                "maxfun": est.max_fun,
                "maxiter": est.max_iter,
                "gtol": est.tol,
                **est._lbfgs_options(),
                **({"iprint": iprint} if _lbfgs_takes_iprint() else {}),
            },
        )
        state.n_iter_ = _check_optimize_result("lbfgs", result, est.max_iter)
        trainer.trainable[:] = result.x
        state.loss_ = float(result.fun)
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=3)
        trainer.trainable[:] = best["x"]
        state.loss_ = float(best["value"])
    state.lbfgs = True
