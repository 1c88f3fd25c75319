"""Stochastic optimizers: state, learning-rate schedules and stopping triggers.

Each optimizer holds its state as flat arrays matching the parameter buffer (so it
pickles and copies trivially) and updates every parameter in one kernel call. The
schedule semantics are scikit-learn's ``SGDOptimizer`` / ``AdamOptimizer``.
"""

import numpy as np

from ._kernels.optim import adam_update, sgd_update


class SGD:
    """SGD with momentum and the 'constant', 'invscaling' and 'adaptive' schedules."""

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        self.velocity = np.zeros(n_params, dtype=dtype)

    def step(self, params, grads, n_penalized, l2, l1):
        """One update of ``params`` in place (L2 ``l2``, cumulative L1 ``l1``)."""
        cast = params.dtype.type
        if l1 > 0:
            received = getattr(self, "l1_received", None)  # None: pickled before L1
            if received is None or received.size != n_penalized:
                self.l1_received = np.zeros(n_penalized)
                self.l1_total = 0.0
            # momentum makes the steady step lr g / (1 - momentum): the penalty
            # grows by the same factor, or zero is a fixed point only where
            # |g| < (1 - momentum) l1 (a 10x weaker penalty at momentum 0.9)
            damping = 1.0 - self.momentum if self.momentum < 1 else 1.0
            self.l1_total += self.learning_rate * l1 / damping
            l1_received, l1_total = self.l1_received, self.l1_total
        else:
            l1_received, l1_total = np.zeros(0), 0.0
        sgd_update(
            params,
            grads,
            self.velocity,
            l1_received,
            n_penalized,
            cast(l2),
            l1_total,
            cast(self.learning_rate),
            cast(self.momentum),
            self.nesterov,
        )

    def forget(self, entries):
        """Drop the state of ``entries`` (bool mask or indices): pruned weights."""
        self.velocity[entries] = 0

    def iteration_ends(self, time_step):
        """End of an epoch; ``time_step`` is the number of samples seen so far."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """No improvement for a while: stop, or divide the rate by 5 if 'adaptive'."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class Adam:
    """Adam (Kingma & Ba), with scikit-learn's bias-corrected learning rate."""

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    def step(self, params, grads, n_penalized, l2, l1):
        """One update of ``params`` in place (L2 weight ``l2``, proximal L1 ``l1``)."""
        self.t += 1
        lr = (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        cast = params.dtype.type
        adam_update(
            params,
            grads,
            self.m,
            self.v,
            n_penalized,
            cast(l2),
            cast(l1),
            cast(lr),
            cast(self.beta_1),
            cast(self.beta_2),
            cast(self.epsilon),
        )

    def forget(self, entries):
        """Drop the state of ``entries`` (bool mask or indices): pruned weights."""
        self.m[entries] = 0
        self.v[entries] = 0

    def iteration_ends(self, time_step):
        """Adam has no epoch-level schedule."""

    def trigger_stopping(self, msg, verbose):
        """No improvement for a while: stop."""
        if verbose:
            print(msg + " Stopping.")
        return True


#: the optimizers by class name (how a pickled model names its optimizer)
OPTIMIZERS = {"SGD": SGD, "Adam": Adam}


def make_optimizer(estimator, n_params, dtype):
    """The stochastic optimizer named by ``estimator.solver``, configured from it."""
    if estimator.solver == "sgd":
        return SGD(
            n_params,
            dtype,
            estimator.learning_rate_init,
            estimator.learning_rate,
            estimator.momentum,
            estimator.nesterovs_momentum,
            estimator.power_t,
        )
    return Adam(
        n_params,
        dtype,
        estimator.learning_rate_init,
        estimator.beta_1,
        estimator.beta_2,
        estimator.epsilon,
    )
