"""Optimizer updates, in place over one flat parameter buffer.

The buffer holds every layer's penalised parameters (weights) first, so they are the
prefix ``params[:n_penalized]``: L2 (``l2 * w`` added to the gradient) and L1 (a
proximal soft-threshold after the step, which gives exact zeros) apply there only.
Frozen layers' parameters sit after all trainable ones; callers pass the trainable
slice. Scalars must have the parameters' dtype, so that a float32
loop is not promoted to float64.
"""

import numpy as np

from ._jit import inline, jit


@inline
def _soft_threshold(w, threshold):
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return w * 0


# The update loops run over whole (sliced) arrays from index 0: a loop starting at
# n_penalized measured 3x slower here (it stops vectorising).


@inline
def _sgd_loop(params, grads, velocity, l2, l1, lr, momentum, nesterov):
    for i in range(params.size):
        g = grads[i] + l2 * params[i]
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        step = momentum * v - lr * g if nesterov else v
        w = params[i] + step
        params[i] = _soft_threshold(w, lr * l1) if l1 > 0 else w


@jit
def sgd_update(params, grads, velocity, n_penalized, l2, l1, lr, momentum, nesterov):
    """SGD with (Nesterov) momentum, as scikit-learn's ``SGDOptimizer``.

    ``v = momentum v - lr g``; ``p += v`` (or ``momentum v - lr g`` for Nesterov);
    with L1, a soft-threshold at ``lr l1``. Shapes: params, grads, velocity
    (n_params,).
    """
    k = n_penalized
    _sgd_loop(params[:k], grads[:k], velocity[:k], l2, l1, lr, momentum, nesterov)
    zero = l2 * 0
    _sgd_loop(params[k:], grads[k:], velocity[k:], zero, zero, lr, momentum, nesterov)


@inline
def _adam_loop(params, grads, m, v, l2, l1, lr, beta_1, beta_2, eps):
    if l1 == 0:  # the common case gets its own branch-free loop, which vectorises
        for i in range(params.size):
            g = grads[i] + l2 * params[i]
            m_i = beta_1 * m[i] + (1 - beta_1) * g
            v_i = beta_2 * v[i] + (1 - beta_2) * g * g
            m[i] = m_i
            v[i] = v_i
            params[i] -= lr * m_i / (np.sqrt(v_i) + eps)
        return
    for i in range(params.size):
        g = grads[i] + l2 * params[i]
        m_i = beta_1 * m[i] + (1 - beta_1) * g
        v_i = beta_2 * v[i] + (1 - beta_2) * g * g
        m[i] = m_i
        v[i] = v_i
        # Adam's diagonal metric floored at l1 (as if the penalty's subgradient were
        # part of v), then a proximal step: a weight whose gradient stays below l1
        # reaches exactly 0, and none shrinks by more than lr a step
        scale = max(np.sqrt(v_i), l1) + eps
        params[i] = _soft_threshold(params[i] - lr * m_i / scale, lr * l1 / scale)


@jit
def adam_update(params, grads, m, v, n_penalized, l2, l1, lr, beta_1, beta_2, eps):
    """Adam step, as scikit-learn's ``AdamOptimizer``; ``lr`` is already bias-corrected.

    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``p -= lr m / (sqrt(v) + eps)``. With L1 the scale is ``max(sqrt(v), l1) + eps``
    and the step is followed by a soft-threshold at ``lr l1 / scale``.
    Shapes: params, grads, m, v (n_params,).
    """
    k = n_penalized
    _adam_loop(params[:k], grads[:k], m[:k], v[:k], l2, l1, lr, beta_1, beta_2, eps)
    zero = l2 * 0
    _adam_loop(params[k:], grads[k:], m[k:], v[k:], zero, zero, lr, beta_1, beta_2, eps)


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


@jit
def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that its L2 norm is at most ``max_norm``.

    ``g *= max_norm / ||g||`` when ``||g|| > max_norm``; returns ``||g||`` before
    clipping, in float64 (a serial sum: the same for any thread count). A NaN norm
    leaves ``grads`` alone, so that the divergence check sees it. Shapes: grads
    (n_params,).
    """
    # four interleaved partial sums in a fixed order: a serial sum cannot vectorise
    # (no fastmath), and one accumulator is bound by the add latency
    n = grads.size
    s0 = s1 = s2 = s3 = 0.0
    # squares in float64 (``* 1.0``), so that float32 gradients lose nothing
    for i in range(0, n - 3, 4):
        s0 += (grads[i] * 1.0) ** 2
        s1 += (grads[i + 1] * 1.0) ** 2
        s2 += (grads[i + 2] * 1.0) ** 2
        s3 += (grads[i + 3] * 1.0) ** 2
    for i in range(n - n % 4, n):
        s0 += (grads[i] * 1.0) ** 2
    norm = np.sqrt((s0 + s1) + (s2 + s3))
    if norm > max_norm:
        factor = grads.dtype.type(max_norm / norm)
        for i in range(grads.size):
            grads[i] *= factor
    return norm
