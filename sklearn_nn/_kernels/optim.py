"""Optimizer updates, in place over one flat parameter buffer.

The buffer holds every layer's weights first and every bias after them, so the
penalised parameters are the prefix ``params[:n_penalized]``: L2 (``l2 * w`` added to
the gradient) and L1 (a proximal soft-threshold after the step, which gives exact
zeros) apply there only. Scalars must have the parameters' dtype, so that a float32
loop is not promoted to float64.
"""

import math

from ._jit import inline, jit


@inline
def _soft_threshold(w, threshold):
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return w * 0


@inline
def _sgd_range(params, grads, velocity, start, stop, l2, l1, lr, momentum, nesterov):
    for i in range(start, stop):
        g = grads[i] + l2 * params[i]
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        step = momentum * v - lr * g if nesterov else v
        w = params[i] + step
        params[i] = _soft_threshold(w, lr * l1) if l1 > 0 else w


@jit
def sgd_update(params, grads, velocity, n_penalized, l2, l1, lr, momentum, nesterov):
    """SGD with (Nesterov) momentum, as scikit-learn's ``SGDOptimizer``.

    ``v = momentum v - lr g``; ``p += v`` (or ``momentum v - lr g`` for Nesterov).
    Shapes: params, grads, velocity (n_params,).
    """
    zero = l2 * 0
    _sgd_range(params, grads, velocity, 0, n_penalized, l2, l1, lr, momentum, nesterov)
    _sgd_range(
        params,
        grads,
        velocity,
        n_penalized,
        params.size,
        zero,
        zero,
        lr,
        momentum,
        nesterov,
    )


@inline
def _adam_range(params, grads, m, v, start, stop, l2, l1, lr, beta_1, beta_2, eps):
    for i in range(start, stop):
        g = grads[i] + l2 * params[i]
        m_i = beta_1 * m[i] + (1 - beta_1) * g
        v_i = beta_2 * v[i] + (1 - beta_2) * g * g
        m[i] = m_i
        v[i] = v_i
        # Adam's diagonal metric; with L1 it is floored at l1 (as if the penalty's
        # subgradient were part of v), then a proximal step: a weight whose gradient
        # stays below l1 reaches exactly 0, and none shrinks by more than lr a step
        scale = max(math.sqrt(v_i), l1) + eps
        w = params[i] - lr * m_i / scale
        if l1 > 0:
            w = _soft_threshold(w, lr * l1 / scale)
        params[i] = w


@jit
def adam_update(params, grads, m, v, n_penalized, l2, l1, lr, beta_1, beta_2, eps):
    """Adam step, as scikit-learn's ``AdamOptimizer``; ``lr`` is already bias-corrected.

    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``p -= lr m / (sqrt(v) + eps)``. With L1 the scale is ``max(sqrt(v), l1) + eps``
    and the step is followed by a soft-threshold at ``lr l1 / scale``.
    Shapes: params, grads, m, v (n_params,).
    """
    zero = l2 * 0
    _adam_range(params, grads, m, v, 0, n_penalized, l2, l1, lr, beta_1, beta_2, eps)
    _adam_range(
        params,
        grads,
        m,
        v,
        n_penalized,
        params.size,
        zero,
        zero,
        lr,
        beta_1,
        beta_2,
        eps,
    )


@jit
def penalty_value(params, n_penalized, l2, l1):
    """``l2/2 ||w||^2 + l1 ||w||_1`` over the penalised prefix, in float64."""
    total = 0.0
    for i in range(n_penalized):
        w = params[i]
        total += 0.5 * l2 * w * w + l1 * abs(w)
    return total


@jit
def add_penalty_gradient(params, n_penalized, l2, grads):
    """``grads[:n_penalized] += l2 * w``: the L2 penalty's gradient, for L-BFGS."""
    for i in range(n_penalized):
        grads[i] += l2 * params[i]
