"""Global pooling over the time axis of sequences, forward and backward.

Sequences are ``(n, timesteps, features)``; each kernel reduces (or spreads back) over
the timesteps of each sample and feature. Average pooling takes an optional padding
mask ``(n, timesteps)`` (1.0 for real steps, 0.0 for padding, or any weights): the
masked mean is ``sum_t mask * x / max(sum_t mask, 1)``, so a sequence of padding only
pools to 0. Steps of weight 0 are skipped, not multiplied: a non-finite value in the
padding does not reach the output. Pass ``mask=None`` for the plain mean (Numba
compiles that case apart, without the mask branch).

Windowed 1-D convolution and pooling need no kernels here: the layers run the 2-D
kernels (``conv2d.py``, ``pooling.py``) on each sequence seen as a 1 x timesteps image.
"""

from ._jit import jit


@jit
def global_avg_pool1d_forward(x, mask, out):
    """``out[i, f]`` = (masked) mean of ``x[i, :, f]`` over time.

    Shapes: x (n, timesteps, features); mask (n, timesteps) or None; out (n,
    features), overwritten.
    """
    n, steps, features = x.shape
    for i in range(n):
        for f in range(features):
            out[i, f] = 0
        if mask is None:
            for t in range(steps):
                for f in range(features):
                    out[i, f] += x[i, t, f]
            scale = out.dtype.type(1.0 / steps)
        else:
            count = 0.0
            for t in range(steps):
                weight = out.dtype.type(mask[i, t])
                count += mask[i, t]
                if weight != 0:
                    for f in range(features):
                        out[i, f] += weight * x[i, t, f]
            scale = out.dtype.type(1.0 / max(count, 1.0))
        for f in range(features):
            out[i, f] *= scale


@jit
def global_avg_pool1d_backward(d_out, mask, d_x):
    """``d_x[i, t, f] = d_out[i, f] * mask[i, t] / max(sum_t mask[i, t], 1)``
    (``1 / timesteps`` without a mask).

    Shapes: d_out (n, features); mask (n, timesteps) or None; d_x (n, timesteps,
    features), overwritten.
    """
    n, steps, features = d_x.shape
    for i in range(n):
        if mask is None:
            scale = d_out.dtype.type(1.0 / steps)
            for t in range(steps):
                for f in range(features):
                    d_x[i, t, f] = d_out[i, f] * scale
        else:
            count = 0.0
            for t in range(steps):
                count += mask[i, t]
            inverse = 1.0 / max(count, 1.0)
            for t in range(steps):
                weight = d_out.dtype.type(mask[i, t] * inverse)
                for f in range(features):
                    d_x[i, t, f] = d_out[i, f] * weight


@jit
def global_max_pool1d_forward(x, out, argmax):
    """``out[i, f]`` = max of ``x[i, :, f]`` over time; ``argmax[i, f]`` its step.

    Shapes: x (n, timesteps, features); out and argmax (n, features). A NaN wins
    (the first one), so it reaches the loss.
    """
    n, steps, features = x.shape
    for i in range(n):
        for f in range(features):
            out[i, f] = x[i, 0, f]
            argmax[i, f] = 0
        for t in range(1, steps):
            for f in range(features):
                value = x[i, t, f]
                best = out[i, f]
                # a NaN wins and stays (NaN > v and v > NaN are both false)
                if (value > best or value != value) and best == best:
                    out[i, f] = value
                    argmax[i, f] = t


@jit
def global_max_pool1d_backward(d_out, argmax, d_x):
    """Route ``d_out[i, f]`` to the step ``argmax[i, f]`` of its max, 0 elsewhere.

    Shapes: d_out and argmax (n, features); d_x (n, timesteps, features),
    overwritten (each cell written once, no separate zero fill).
    """
    n, steps, features = d_x.shape
    for i in range(n):
        for t in range(steps):
            for f in range(features):
                d_x[i, t, f] = d_out[i, f] if argmax[i, f] == t else 0
