"""Batch and layer normalization over 2-D data, forward and backward.

Data is (m, c); callers reshape images (n, h, w, c) to (n*h*w, c). Batch norm
normalises each column over the m rows, layer norm each row over its c columns::

    mu = mean(x),  var = mean((x - mu)**2)  (biased),  inv_std = 1 / sqrt(var + eps)
    x_hat = (x - mu) * inv_std,  out = gamma * x_hat + beta

and, with sums over the normalised axis of size k (k = m for batch norm, c for layer
norm) and g = d_out * gamma::

    d_beta = sum_rows d_out,  d_gamma = sum_rows d_out * x_hat
    d_x = inv_std / k * (k * g - sum(g) - x_hat * sum(g * x_hat))

For batch norm gamma is constant along the sum, so sum(g) = gamma * d_beta and
sum(g * x_hat) = gamma * d_gamma. Means and variances are computed in two passes
(mean, then centred squares) with float64 accumulators in a fixed order, so float32
stays accurate and results are deterministic; every other loop runs in the array dtype.
Scalars (eps) arrive in the array dtype.
"""

import numpy as np

from ._jit import jit


@jit
def batch_norm_forward_train(x, gamma, beta, eps, mean, inv_std, x_hat, out):
    """Training-mode batch norm: normalise each column by its batch statistics.

    Shapes: x, x_hat, out (m, c); gamma, beta (c,). Writes the batch ``mean`` and
    ``inv_std = 1 / sqrt(var + eps)`` (biased variance), both (c,), for the backward
    pass and the running averages.
    """
    m, c = x.shape
    # float64 per-column accumulators rather than the outputs mean and inv_std: in
    # float32 those cannot sum m terms accurately, and one scratch keeps one code path
    # for both dtypes; (2, c) is negligible next to the (m, c) passes
    acc = np.zeros((2, c))
    mean64, squares = acc[0], acc[1]
    # mean64[j] = sum_i x[i, j] / m  (row-outer, column-inner: vectorises over j)
    for i in range(m):
        for j in range(c):
            mean64[j] += x[i, j]
    for j in range(c):
        mean64[j] /= m
    # squares[j] = sum_i (x[i, j] - mean64[j])**2, centred on the float64 mean
    for i in range(m):
        for j in range(c):
            centred = x[i, j] - mean64[j]
            squares[j] += centred * centred
    for j in range(c):
        mean[j] = mean64[j]
        inv_std[j] = 1.0 / np.sqrt(squares[j] / m + eps)
    # x_hat = (x - mean) * inv_std, out = gamma * x_hat + beta, in the array dtype
    for i in range(m):
        for j in range(c):
            normed = (x[i, j] - mean[j]) * inv_std[j]
            x_hat[i, j] = normed
            out[i, j] = gamma[j] * normed + beta[j]


@jit
def batch_norm_forward_infer(x, gamma, beta, running_mean, running_var, eps, out):
    """Inference-mode batch norm with the running statistics.

    ``out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta``. Shapes:
    x, out (m, c); gamma, beta, running_mean, running_var (c,).
    """
    m, c = x.shape
    # 1 / sqrt per column, in float64 then rounded as in the training pass, so that
    # equal statistics give the same out; the (c,) scratch keeps sqrt out of the loop
    inv_std = np.empty_like(gamma)
    for j in range(c):
        inv_std[j] = 1.0 / np.sqrt(np.float64(running_var[j]) + eps)
    # out = gamma * ((x - running_mean) * inv_std) + beta
    for i in range(m):
        for j in range(c):
            normed = (x[i, j] - running_mean[j]) * inv_std[j]
            out[i, j] = gamma[j] * normed + beta[j]


@jit
def batch_norm_backward(x_hat, gamma, inv_std, d_out, d_gamma, d_beta, d_x, want_d_x):
    """Training-mode batch norm backward, batch statistics included.

    Shapes: x_hat, d_out, d_x (m, c); gamma, inv_std, d_gamma, d_beta (c,). Writes
    ``d_beta = sum_rows d_out``, ``d_gamma = sum_rows d_out * x_hat`` and, if
    ``want_d_x``, ``d_x = gamma * inv_std / m * (m * d_out - d_beta - x_hat *
    d_gamma)``; ``d_x`` must not alias ``d_out``.
    """
    m, c = d_out.shape
    # float64 column sums, as in the forward pass
    acc = np.zeros((2, c))
    sum_d, sum_dx = acc[0], acc[1]
    # sum_d[j] = sum_i d_out[i, j], sum_dx[j] = sum_i d_out[i, j] * x_hat[i, j]
    for i in range(m):
        for j in range(c):
            d = d_out[i, j]
            sum_d[j] += d
            sum_dx[j] += d * x_hat[i, j]
    for j in range(c):
        d_beta[j] = sum_d[j]
        d_gamma[j] = sum_dx[j]
    if not want_d_x:
        return
    # per column, in the array dtype: scale = gamma * inv_std, and the two means
    coef = np.empty((3, c), d_out.dtype)
    scale, mean_d, mean_dx = coef[0], coef[1], coef[2]
    for j in range(c):
        scale[j] = gamma[j] * inv_std[j]
        mean_d[j] = sum_d[j] / m
        mean_dx[j] = sum_dx[j] / m
    # d_x = gamma * inv_std * (d_out - d_beta / m - x_hat * d_gamma / m)
    for i in range(m):
        for j in range(c):
            d_x[i, j] = scale[j] * (d_out[i, j] - mean_d[j] - x_hat[i, j] * mean_dx[j])


@jit
def layer_norm_forward(x, gamma, beta, eps, inv_std, x_hat, out):
    """Layer norm: normalise each row over its columns, then scale and shift.

    Shapes: x, x_hat, out (m, c); gamma, beta (c,); writes ``inv_std`` (m,), the
    per-row ``1 / sqrt(var + eps)`` (biased variance), for the backward pass.
    """
    m, c = x.shape
    for i in range(m):
        # mean = sum_j x[i, j] / c, in float64
        total = 0.0
        for j in range(c):
            total += x[i, j]
        mean64 = total / c
        # var = sum_j (x[i, j] - mean)**2 / c, centred on the float64 mean
        squares = 0.0
        for j in range(c):
            centred = x[i, j] - mean64
            squares += centred * centred
        inv_std[i] = 1.0 / np.sqrt(squares / c + eps)
        mean = x.dtype.type(mean64)
        inv = inv_std[i]
        # x_hat = (x - mean) * inv_std, out = gamma * x_hat + beta, in the array dtype
        for j in range(c):
            normed = (x[i, j] - mean) * inv
            x_hat[i, j] = normed
            out[i, j] = gamma[j] * normed + beta[j]


@jit
def layer_norm_backward(x_hat, gamma, inv_std, d_out, d_gamma, d_beta, d_x, want_d_x):
    """Layer norm backward: parameter gradients and (if ``want_d_x``) the input's.

    Shapes: x_hat, d_out, d_x (m, c); gamma, d_gamma, d_beta (c,); inv_std (m,).
    Writes ``d_gamma``, ``d_beta`` summed over rows and, with ``g = d_out * gamma``,
    ``d_x[i] = inv_std[i] / c * (c * g - sum_j g - x_hat * sum_j g * x_hat)``;
    ``d_x`` must not alias ``d_out``.
    """
    m, c = d_out.shape
    # float64 column sums, as in batch_norm_backward
    acc = np.zeros((2, c))
    sum_d, sum_dx = acc[0], acc[1]
    for i in range(m):
        # sum_d[j] += d_out[i, j], sum_dx[j] += d_out[i, j] * x_hat[i, j]
        for j in range(c):
            d = d_out[i, j]
            sum_d[j] += d
            sum_dx[j] += d * x_hat[i, j]
        if want_d_x:
            # sum_g = sum_j g, sum_gx = sum_j g * x_hat, in float64
            sum_g = 0.0
            sum_gx = 0.0
            for j in range(c):
                g = d_out[i, j] * gamma[j]
                sum_g += g
                sum_gx += g * x_hat[i, j]
            inv = inv_std[i]
            mean_g = x_hat.dtype.type(sum_g / c)
            mean_gx = x_hat.dtype.type(sum_gx / c)
            # d_x = inv_std * (g - sum_g / c - x_hat * sum_gx / c)
            for j in range(c):
                g = d_out[i, j] * gamma[j]
                d_x[i, j] = inv * (g - mean_g - x_hat[i, j] * mean_gx)
    for j in range(c):
        d_beta[j] = sum_d[j]
        d_gamma[j] = sum_dx[j]
