"""Recurrent layers: what every cell shares, and SimpleRNN; forward and backpropagation
through time. The gated cells are in ``gru.py`` and ``lstm.py``.

Shapes: ``x`` (n, T, F) batch-major as the layer receives it; inside, everything is
time-major (step s of the buffers is a contiguous (n, .) block, which the per-step
GEMM ``h @ U`` needs). Step s reads timestep ``t = s``, or ``T - 1 - s`` when
``reverse`` (the backward half of a Bidirectional layer). Weights: ``w`` (F, G u) and
``u`` (units, G u) with the G gates side by side in Keras's order (GRU: z, r, h;
LSTM: i, f, c, o); ``b`` (G u).

The input projection of every timestep is one GEMM before the time loop, and the
weight gradients are one GEMM each after it; only ``h @ U`` (forward) and
``d_gates @ U.T`` (backward) run per step. The public functions are Python: numpy
does the layout copies and the GEMMs outside the loop, and a kernel runs the time
loop (``_*_steps``), so that a fresh process compiles the loop alone.

Outputs ``out`` and their gradients ``d_out`` are (n, T, units) with
``return_sequences``, else (n, 1, units) (the last state).

Masks (``mask`` (n, T), 1.0 real, 0.0 padding; read only when ``masked``): at a padded
step the state is carried over unchanged, as Keras does.
"""

import numpy as np

from ._jit import jit
from .activations import activation_backward, activation_forward
from .dense import _add_bias, _bias_gradient, as_matrix


@jit
def _step_of(s, n_steps, reverse):
    return n_steps - 1 - s if reverse else s


def _time_major(x, reverse):
    """x (n, T, F) as a (T, n, F) view in step order."""
    xt = x.transpose(1, 0, 2)
    return xt[::-1] if reverse else xt


def _to_time_major(x, reverse, xt):
    """xt[s] = x[:, t(s)]; xt (T, n, F)."""
    np.copyto(xt, _time_major(x, reverse))


def _project_inputs(xt, w, b, g):
    """g[s] = xt[s] @ w + b for every step, as one GEMM (b empty: no bias)."""
    n_steps, n, n_features = xt.shape
    g2 = as_matrix(g, n_steps * n, w.shape[1])
    np.dot(as_matrix(xt, n_steps * n, n_features), w, out=g2)
    if b.size:
        _add_bias(g2, b)


def _write_outputs(hs, reverse, return_sequences, out):
    """out (n, 1, u) = the last state, or out (n, T, u)[:, t(s)] = hs[s + 1]."""
    if return_sequences:
        np.copyto(_time_major(out, reverse), hs[1:])
    else:
        out[:, 0] = hs[-1]


@jit
def _add_output_gradient(d_out, s, n_steps, reverse, return_sequences, dh):
    """dh += the gradient of the layer's output w.r.t. state s + 1."""
    if return_sequences:
        t = _step_of(s, n_steps, reverse)
        n, units = dh.shape
        for i in range(n):
            for j in range(units):
                dh[i, j] += d_out[i, t, j]
    elif s == n_steps - 1:
        dh += d_out[:, 0, :]


@jit
def _masked_step(mask, masked, s, n_steps, reverse, i):
    """Sample i's mask at step s, in the mask's (= the data's) dtype."""
    if not masked:
        return mask.dtype.type(1)
    return mask[i, _step_of(s, n_steps, reverse)]


def _finish_backward(xt, hs, w, dg, dgr, reverse, d_w, d_u, d_b, d_rb, d_xt, d_x):
    """Weight gradients as one GEMM each over all steps, and the input gradient.

    ``dg`` holds the gradients of the input-side pre-activations, ``dgr`` those of
    the recurrent side (the same array except for the GRU). ``d_rb`` (the GRU's
    recurrent bias) is skipped when empty; ``d_x`` when ``d_xt`` is empty.
    """
    n_steps, n, n_features = xt.shape
    units, width = hs.shape[2], w.shape[1]
    dg2 = as_matrix(dg, n_steps * n, width)
    dgr2 = as_matrix(dgr, n_steps * n, width)
    np.dot(as_matrix(xt, n_steps * n, n_features).T, dg2, out=d_w)
    np.dot(as_matrix(hs[:n_steps], n_steps * n, units).T, dgr2, out=d_u)
    _bias_gradient(dg2, d_b)
    if d_rb.size:
        _bias_gradient(dgr2, d_rb)
    if d_xt.size == 0:
        return
    np.dot(dg2, w.T, out=as_matrix(d_xt, n_steps * n, n_features))
    np.copyto(_time_major(d_x, reverse), d_xt)


# ------------------------------------------------------------------ SimpleRNN
def simple_rnn_forward(
    x, w, u, b, code, reverse, return_sequences, mask, masked, xt, z, a, hs, rec, out
):
    """h_t = f(x_t @ w + h_{t-1} @ u + b).

    Buffers (time-major): xt (T, n, F), z and a (T, n, units) pre-activations and
    f(z), hs (T + 1, n, units) states (hs[0] = 0), rec (n, units); out (n, 1, units)
    or (n, T, units).
    """
    _to_time_major(x, reverse, xt)
    _project_inputs(xt, w, b, z)
    _simple_rnn_steps(u, code, reverse, mask, masked, z, a, hs, rec)
    _write_outputs(hs, reverse, return_sequences, out)


@jit
def _simple_rnn_steps(u, code, reverse, mask, masked, z, a, hs, rec):
    """The time loop of ``simple_rnn_forward``, z holding the input projections."""
    n_steps, n = z.shape[0], z.shape[1]
    hs[0] = 0
    for s in range(n_steps):
        np.dot(hs[s], u, rec)
        z[s] += rec
        activation_forward(z[s], code, a[s])
        for i in range(n):
            m = _masked_step(mask, masked, s, n_steps, reverse, i)
            for j in range(rec.shape[1]):
                hs[s + 1, i, j] = m * a[s, i, j] + (1.0 - m) * hs[s, i, j]


def simple_rnn_backward(
    w,
    u,
    code,
    reverse,
    return_sequences,
    mask,
    masked,
    xt,
    z,
    a,
    hs,
    d_out,
    dh,
    dh_rec,
    dz,
    d_w,
    d_u,
    d_b,
    d_xt,
    d_x,
):
    """Backpropagation through time of ``simple_rnn_forward``.

    d_out as out; dh and dh_rec (n, units) and dz (T, n, units) scratch; writes
    d_w, d_u, d_b and, unless d_xt is empty, d_x (n, T, F).
    """
    _simple_rnn_backward_steps(
        u, code, reverse, return_sequences, mask, masked, z, a, d_out, dh, dh_rec, dz
    )
    _finish_backward(xt, hs, w, dz, dz, reverse, d_w, d_u, d_b, d_b[:0], d_xt, d_x)


@jit
def _simple_rnn_backward_steps(
    u, code, reverse, return_sequences, mask, masked, z, a, d_out, dh, dh_rec, dz
):
    """The time loop of ``simple_rnn_backward``: dz, the pre-activations'
    gradients."""
    n_steps, n, units = z.shape
    dh[...] = 0
    for s in range(n_steps - 1, -1, -1):
        _add_output_gradient(d_out, s, n_steps, reverse, return_sequences, dh)
        for i in range(n):
            m = _masked_step(mask, masked, s, n_steps, reverse, i)
            for j in range(units):
                dz[s, i, j] = m * dh[i, j]
                dh[i, j] *= 1.0 - m
        activation_backward(z[s], a[s], code, dz[s])
        np.dot(dz[s], u.T, dh_rec)
        dh += dh_rec
