"""GRU layer: forward and backpropagation through time.

Shapes, time-major buffers, ``reverse``, outputs and masks as in ``recurrent.py``,
whose helpers do the layout copies and the GEMMs outside the time loop; the gates
(z, r, h) side by side in ``w`` (F, 3 units), ``u`` (units, 3 units), ``b`` and the
recurrent bias ``rb`` (3 units).
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
