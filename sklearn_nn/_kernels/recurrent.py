"""Recurrent layers (SimpleRNN, GRU, LSTM): forward and backpropagation through time.

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
from .fastmath import sigmoid, tanh


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


# ------------------------------------------------------------------------ GRU
def gru_forward(
    x, w, u, b, rb, reverse, return_sequences, mask, masked, xt, g, rech, hs, rec, out
):
    """GRU, reset gate after the recurrent product (Keras ``reset_after``, PyTorch):

    z = sig(x wz + h uz + bz + rbz), r = sig(x wr + h ur + br + rbr),
    hh = tanh(x wh + bh + r (h uh + rbh)), h' = z h + (1 - z) hh.

    Buffers: xt (T, n, F); g (T, n, 3 units) input projections, overwritten with the
    gates z, r, hh; rech (T, n, units) the candidate's recurrent term; hs (T + 1, n,
    units); rec (n, 3 units).
    """
    _to_time_major(x, reverse, xt)
    _project_inputs(xt, w, b, g)
    _gru_steps(u, rb, reverse, mask, masked, g, rech, hs, rec)
    _write_outputs(hs, reverse, return_sequences, out)


@jit
def _gru_steps(u, rb, reverse, mask, masked, g, rech, hs, rec):
    """The time loop of ``gru_forward``, g holding the input projections."""
    n_steps, n = g.shape[0], g.shape[1]
    units = hs.shape[2]
    one = hs.dtype.type(1)
    hs[0] = 0
    for s in range(n_steps):
        np.dot(hs[s], u, rec)
        for i in range(n):
            m = _masked_step(mask, masked, s, n_steps, reverse, i)
            # simple loops over contiguous rows, so that LLVM vectorises them
            gates, recurrent, rh = g[s, i], rec[i], rech[s, i]
            h_prev, h_next = hs[s, i], hs[s + 1, i]
            for j in range(2 * units):
                gates[j] = sigmoid(gates[j] + recurrent[j] + rb[j])
            for j in range(units):
                rh[j] = recurrent[2 * units + j] + rb[2 * units + j]
            for j in range(units):
                gates[2 * units + j] = tanh(
                    gates[2 * units + j] + gates[units + j] * rh[j]
                )
            for j in range(units):
                zg = gates[j]
                h_new = zg * h_prev[j] + (one - zg) * gates[2 * units + j]
                h_next[j] = m * h_new + (one - m) * h_prev[j]


def gru_backward(
    w,
    u,
    reverse,
    return_sequences,
    mask,
    masked,
    xt,
    g,
    rech,
    hs,
    d_out,
    dh,
    dh_rec,
    dg,
    dgr,
    d_w,
    d_u,
    d_b,
    d_rb,
    d_xt,
    d_x,
):
    """Backpropagation through time of ``gru_forward``.

    dh and dh_rec (n, units), dg and dgr (T, n, 3 units) scratch: the gradients of
    the input- and recurrent-side pre-activations (they differ in the candidate's,
    by r).
    """
    _gru_backward_steps(
        u,
        reverse,
        return_sequences,
        mask,
        masked,
        g,
        rech,
        hs,
        d_out,
        dh,
        dh_rec,
        dg,
        dgr,
    )
    _finish_backward(xt, hs, w, dg, dgr, reverse, d_w, d_u, d_b, d_rb, d_xt, d_x)


@jit
def _gru_backward_steps(
    u, reverse, return_sequences, mask, masked, g, rech, hs, d_out, dh, dh_rec, dg, dgr
):
    """The time loop of ``gru_backward``: dg and dgr."""
    n_steps, n, units = rech.shape
    one = hs.dtype.type(1)
    dh[...] = 0
    for s in range(n_steps - 1, -1, -1):
        _add_output_gradient(d_out, s, n_steps, reverse, return_sequences, dh)
        for i in range(n):
            m = _masked_step(mask, masked, s, n_steps, reverse, i)
            gates, rh, h_prev, d_h = g[s, i], rech[s, i], hs[s, i], dh[i]
            d_in, d_rec = dg[s, i], dgr[s, i]
            for j in range(units):
                zg, rg = gates[j], gates[units + j]
                hh = gates[2 * units + j]
                d_new = m * d_h[j]
                d_z = d_new * (h_prev[j] - hh) * zg * (one - zg)
                d_hh = d_new * (one - zg) * (one - hh * hh)
                d_r = d_hh * rh[j] * rg * (one - rg)
                d_in[j] = d_z
                d_in[units + j] = d_r
                d_in[2 * units + j] = d_hh
                d_rec[j] = d_z
                d_rec[units + j] = d_r
                d_rec[2 * units + j] = d_hh * rg
                d_h[j] = (one - m) * d_h[j] + d_new * zg
        np.dot(dgr[s], u.T, dh_rec)
        dh += dh_rec


# ----------------------------------------------------------------------- LSTM
@jit
def _add_sigmoid(a, b, c):
    """a = sigmoid(a + b + c), 1-D."""
    for j in range(a.shape[0]):
        a[j] = sigmoid(a[j] + b[j] + c[j])


@jit
def _add_tanh(a, b, c):
    """a = tanh(a + b + c), 1-D."""
    for j in range(a.shape[0]):
        a[j] = tanh(a[j] + b[j] + c[j])


@jit
def _lstm_cell(ig, fg, cc, og, c_prev, h_prev, m, one, c_next, t_new, h_next):
    """c' = f c + i cc, h' = o tanh(c'), carried over where the mask m is 0."""
    for j in range(ig.shape[0]):
        c = fg[j] * c_prev[j] + ig[j] * cc[j]
        t = tanh(c)
        t_new[j] = t
        c_next[j] = m * c + (one - m) * c_prev[j]
        h_next[j] = m * og[j] * t + (one - m) * h_prev[j]


def lstm_forward(
    x, w, u, b, reverse, return_sequences, mask, masked, xt, g, cs, tc, hs, rec, out
):
    """LSTM: i, f, o = sig(.), cc = tanh(.) of x w + h u + b;
    c' = f c + i cc, h' = o tanh(c').

    Buffers: xt (T, n, F); g (T, n, 4 units) projections, overwritten with the gates
    i, f, cc, o; cs (T + 1, n, units) cell states; tc (T, n, units) tanh of the new
    cell; hs (T + 1, n, units); rec (n, 4 units).
    """
    _to_time_major(x, reverse, xt)
    _project_inputs(xt, w, b[:0], g)  # the bias joins in the step loop
    _lstm_steps(u, b, reverse, mask, masked, g, cs, tc, hs, rec)
    _write_outputs(hs, reverse, return_sequences, out)


@jit
def _lstm_steps(u, b, reverse, mask, masked, g, cs, tc, hs, rec):
    """The time loop of ``lstm_forward``, g holding the input projections."""
    n_steps, n = g.shape[0], g.shape[1]
    units = hs.shape[2]
    one = hs.dtype.type(1)
    hs[0] = 0
    cs[0] = 0
    for s in range(n_steps):
        np.dot(hs[s], u, rec)
        for i in range(n):
            m = _masked_step(mask, masked, s, n_steps, reverse, i)
            # one simple loop per helper over 1-D rows: LLVM vectorises these (the
            # same loops written inline here did not: 4x slower)
            gates, recurrent = g[s, i], rec[i]
            _add_sigmoid(gates[: 2 * units], recurrent[: 2 * units], b[: 2 * units])
            _add_tanh(
                gates[2 * units : 3 * units],
                recurrent[2 * units : 3 * units],
                b[2 * units : 3 * units],
            )
            _add_sigmoid(gates[3 * units :], recurrent[3 * units :], b[3 * units :])
            _lstm_cell(
                gates[:units],
                gates[units : 2 * units],
                gates[2 * units : 3 * units],
                gates[3 * units :],
                cs[s, i],
                hs[s, i],
                m,
                one,
                cs[s + 1, i],
                tc[s, i],
                hs[s + 1, i],
            )


@jit
def _lstm_cell_backward(
    ig, fg, cc, og, t_new, c_prev, m, one, d_h, d_c, d_i, d_f, d_cc, d_o
):
    """One step of one sample back through ``_lstm_cell``: the gates' pre-activation
    gradients, and d_h, d_c carried to the step before (the recurrent term
    ``d_gates @ U.T`` is added by the caller)."""
    for j in range(ig.shape[0]):
        d_h_new = m * d_h[j]
        d_c_new = m * d_c[j] + d_h_new * og[j] * (one - t_new[j] * t_new[j])
        d_i[j] = d_c_new * cc[j] * ig[j] * (one - ig[j])
        d_f[j] = d_c_new * c_prev[j] * fg[j] * (one - fg[j])
        d_cc[j] = d_c_new * ig[j] * (one - cc[j] * cc[j])
        d_o[j] = d_h_new * t_new[j] * og[j] * (one - og[j])
        d_c[j] = (one - m) * d_c[j] + d_c_new * fg[j]
        d_h[j] *= one - m


def lstm_backward(
    w,
    u,
    reverse,
    return_sequences,
    mask,
    masked,
    xt,
    g,
    cs,
    tc,
    hs,
    d_out,
    dh,
    dh_rec,
    dc,
    dg,
    d_w,
    d_u,
    d_b,
    d_xt,
    d_x,
):
    """Backpropagation through time of ``lstm_forward``.

    dh, dh_rec, dc (n, units) and dg (T, n, 4 units) scratch.
    """
    _lstm_backward_steps(
        u, reverse, return_sequences, mask, masked, g, cs, tc, d_out, dh, dh_rec, dc, dg
    )
    _finish_backward(xt, hs, w, dg, dg, reverse, d_w, d_u, d_b, d_b[:0], d_xt, d_x)


@jit
def _lstm_backward_steps(
    u, reverse, return_sequences, mask, masked, g, cs, tc, d_out, dh, dh_rec, dc, dg
):
    """The time loop of ``lstm_backward``: dg, the gates' pre-activation
    gradients."""
    n_steps, n, units = tc.shape
    dh[...] = 0
    dc[...] = 0
    one = tc.dtype.type(1)
    for s in range(n_steps - 1, -1, -1):
        _add_output_gradient(d_out, s, n_steps, reverse, return_sequences, dh)
        for i in range(n):
            m = _masked_step(mask, masked, s, n_steps, reverse, i)
            gates, d_g = g[s, i], dg[s, i]
            _lstm_cell_backward(
                gates[:units],
                gates[units : 2 * units],
                gates[2 * units : 3 * units],
                gates[3 * units :],
                tc[s, i],
                cs[s, i],
                m,
                one,
                dh[i],
                dc[i],
                d_g[:units],
                d_g[units : 2 * units],
                d_g[2 * units : 3 * units],
                d_g[3 * units :],
            )
        np.dot(dg[s], u.T, dh_rec)
        dh += dh_rec
