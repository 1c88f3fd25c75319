"""Output losses: the value and the gradient w.r.t. the output layer's raw scores z.

Each kernel takes ``z`` (n, k), targets ``y`` (n, k), sample weights ``sw`` (n,) and
``scale`` (1 / the total weight of the whole batch or data set), writes
``d_z = scale * sw_i * dl_i/dz`` and returns ``scale * sum_i sw_i * l_i``, summed over
the k outputs. The output activation is folded into the loss (canonical link), so the
logits never pass through a separate softmax/sigmoid kernel in training:

============== ============ ================================== ==============
name           link         l_i                                dl/dz
============== ============ ================================== ==============
softmax_log    softmax      -sum_k y_k log softmax(z)_k        p - y
sigmoid_log    logistic     sum_k log(1 + e^z_k) - y_k z_k     sigmoid(z) - y
squared_error  identity     sum_k (z_k - y_k)^2 / 2            z - y
poisson        exp          sum_k y log y - y z - y + e^z      e^z - y
============== ============ ================================== ==============

The accumulators are float64 whatever the data's dtype. No fastmath: a NaN must
propagate to the caller's divergence check.
"""

import math

from ._jit import jit
from .activations import logistic, row_logsumexp


@jit
def softmax_log_loss(z, y, sw, scale, d_z):
    """Multiclass log loss of logits ``z`` against one-hot (or soft) targets ``y``."""
    n, k = z.shape
    total = 0.0
    for i in range(n):
        log_norm = row_logsumexp(z, i)
        row = 0.0
        w = sw[i] * scale
        for j in range(k):
            log_p = z[i, j] - log_norm
            row -= y[i, j] * log_p
            d_z[i, j] = w * (math.exp(log_p) - y[i, j])
        total += sw[i] * row
    return total * scale


@jit
def sigmoid_log_loss(z, y, sw, scale, d_z):
    """Binary / multilabel log loss of logits ``z`` against 0/1 targets ``y``."""
    n, k = z.shape
    total = 0.0
    for i in range(n):
        row = 0.0
        w = sw[i] * scale
        for j in range(k):
            v = z[i, j]
            # log(1 + e^v) without overflow
            softplus = max(v, 0.0) + math.log1p(math.exp(-abs(v)))
            row += softplus - y[i, j] * v
            d_z[i, j] = w * (logistic(v) - y[i, j])
        total += sw[i] * row
    return total * scale


@jit
def squared_error(z, y, sw, scale, d_z):
    """Half squared error, summed over outputs."""
    n, k = z.shape
    total = 0.0
    for i in range(n):
        row = 0.0
        w = sw[i] * scale
        for j in range(k):
            r = z[i, j] - y[i, j]
            row += 0.5 * r * r
            d_z[i, j] = w * r
        total += sw[i] * row
    return total * scale


@jit
def poisson(z, y, sw, scale, d_z):
    """Poisson deviance / 2 with a log link: ``z`` is the log of the predicted mean."""
    n, k = z.shape
    total = 0.0
    for i in range(n):
        row = 0.0
        w = sw[i] * scale
        for j in range(k):
            mean = math.exp(z[i, j])
            t = y[i, j]
            row += mean - t * z[i, j] - t
            if t > 0:
                row += t * math.log(t)
            d_z[i, j] = w * (mean - t)
        total += sw[i] * row
    return total * scale


#: loss name -> (kernel, output activation reported as ``out_activation_``)
LOSSES = {
    "softmax_log_loss": (softmax_log_loss, "softmax"),
    "sigmoid_log_loss": (sigmoid_log_loss, "logistic"),
    "squared_error": (squared_error, "identity"),
    "poisson": (poisson, "exp"),
}
