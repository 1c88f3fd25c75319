"""LSTM layer: forward and backpropagation through time.

Shapes, time-major buffers, ``reverse``, outputs and masks as in ``recurrent.py``,
whose helpers do the layout copies and the GEMMs outside the time loop; the gates
(i, f, c, o) side by side in ``w`` (F, 4 units), ``u`` (units, 4 units) and ``b``.
"""

import numpy as np

from ._jit import jit
from .fastmath import sigmoid, tanh
from .recurrent import (
    _add_output_gradient,
    _finish_backward,
    _masked_step,
    _project_inputs,
    _to_time_major,
    _write_outputs,
)


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
