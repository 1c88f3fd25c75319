"""Recurrent layers on sequences ``(timesteps, features)``: SimpleRNN, GRU, LSTM.

Backpropagation through time lives inside each layer: ``allocate`` sizes the
per-timestep history for the largest batch, ``backward`` runs the steps in reverse
(kernels in ``sklearn_nn._kernels.recurrent``, ``.gru`` and ``.lstm``). Names,
arguments, weight layouts and output shapes follow Keras's.
"""

import math
from dataclasses import dataclass

import numpy as np

from .._initializers import check_initializer
from .._kernels.activations import ACTIVATIONS
from .._kernels.gru import gru_backward, gru_forward
from .._kernels.lstm import lstm_backward, lstm_forward
from .._kernels.recurrent import simple_rnn_backward, simple_rnn_forward
from .._threads import BATCH_PARTS, part_bounds
from .base import Layer, ParamSpec, check_bool, check_mask, check_positive_int
from .core import check_activation

__all__ = ["GRU", "LSTM", "SimpleRNN"]


def _shape(template, n, n_steps):
    """A buffer's shape from its template ("n": rows, "T": timesteps, "T+1")."""
    sizes = {"n": n, "T": n_steps, "T+1": n_steps + 1}
    return tuple(sizes.get(s, s) for s in template)


def _view(flat, template, lo, hi, n_steps):
    """Rows ``[lo, hi)``'s part of a flat buffer as ``template``: its own contiguous
    block (so each part of a batch gets contiguous per-step blocks)."""
    start = lo * math.prod(_shape(template, 1, n_steps))
    shape = _shape(template, hi - lo, n_steps)
    return flat[start : start + math.prod(shape)].reshape(shape)


@dataclass(frozen=True)
class _Recurrent(Layer):
    """What SimpleRNN, GRU and LSTM share: shapes, parameters, masks, buffers.

    A cell names its kernels and the arrays they take, in order (see
    ``sklearn_nn._kernels.recurrent``, ``.gru``, ``.lstm``): forward ``(x, *params,
    *extra, reverse, return_sequences, mask, masked, *history, rec, out)`` and
    backward ``(kernel, recurrent_kernel, *extra, reverse, return_sequences, mask,
    masked, *history, d_out, *scratch, *grads, d_xt, d_x)``.
    """

    units: int
    return_sequences: bool = False
    kernel_initializer: str | None = None
    recurrent_initializer: str = "orthogonal"

    uses_mask = True  # padded steps carry the state over
    # the batch runs in parts on threads (each part's time loop on one core): its
    # GEMMs are small (rows x units per step) and the gates elementwise work
    splits_batch = True

    _gates = 1  # side by side in the weights
    _bias_init = "zeros"
    _params = ("kernel", "recurrent_kernel", "bias")

    def __post_init__(self):
        super().__post_init__()
        name = type(self).__name__
        check_positive_int(self.units, f"{name} units")
        check_bool(self, "return_sequences")
        check_initializer(self.kernel_initializer, f"{name} kernel_initializer")
        check_initializer(self.recurrent_initializer, f"{name} recurrent_initializer")

    @property
    def passes_mask(self):
        """With ``return_sequences`` the output keeps the input's timesteps."""
        return self.return_sequences

    def output_shape(self, in_shape):
        """``(timesteps, units)`` with ``return_sequences``, else ``(units,)``."""
        if len(in_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects sequences of shape (timesteps, "
                f"features), got samples of shape {tuple(in_shape)}; set "
                "input_shape=(timesteps, features) or add a Reshape layer."
            )
        return (in_shape[0], self.units) if self.return_sequences else (self.units,)

    def param_specs(self, in_shape):
        """``kernel`` (features, G units), ``recurrent_kernel`` (units, G units),
        both penalised, and ``bias`` (G units); G gates side by side."""
        features, width = in_shape[1], self._gates * self.units
        kernel = (features, width)
        recurrent = (self.units, width)
        return [
            ParamSpec("kernel", kernel, self.kernel_initializer, kernel, True),
            ParamSpec(
                "recurrent_kernel",
                recurrent,
                self.recurrent_initializer,
                recurrent,
                True,
            ),
            ParamSpec("bias", (width,), self._bias_init),
        ]

    def _extra(self):
        return ()

    def _history(self, features):
        """Templates of what forward keeps for backward, in kernel order."""
        width = self._gates * self.units
        return {"xt": ("T", "n", features), "g": ("T", "n", width)}

    def _scratch(self):
        width = self._gates * self.units
        units = self.units
        return {"dh": ("n", units), "dh_rec": ("n", units), "dg": ("T", "n", width)}

    def _templates(self, in_shape):
        width = self._gates * self.units
        return {
            **self._history(in_shape[1]),
            "rec": ("n", width),
            **self._scratch(),
            "d_xt": ("T", "n", in_shape[1]),
        }

    def allocate(self, in_shape, n_rows, dtype):
        """Flat time-major history and scratch, the output and its gradient."""
        n_steps = in_shape[0]
        buffers = {
            name: np.empty(math.prod(_shape(t, n_rows, n_steps)), dtype=dtype)
            for name, t in self._templates(in_shape).items()
        }
        out_shape = (n_rows,) + self.output_shape(in_shape)
        buffers["out"] = np.empty(out_shape, dtype=dtype)
        buffers["d"] = np.empty(out_shape, dtype=dtype)
        buffers["no_mask"] = np.ones((1, 1), dtype=dtype)
        buffers["n_steps"] = n_steps
        buffers["no_d_x"] = np.empty((1, 1, 1), dtype=dtype)
        buffers["views"] = {}  # per part, filled by _views
        # each part's parameter gradients, summed by reduce_gradients
        buffers["part_grads"] = {
            spec.name: np.empty((BATCH_PARTS,) + spec.shape, dtype=dtype)
            for spec in self.param_specs(in_shape)
        }
        return buffers

    def forward(self, x, arrays, batch):
        """The sequence's states; the last one unless ``return_sequences``."""
        out = arrays.buffers["out"][: batch.n]
        self.run_forward(
            x, arrays.params, arrays.buffers, batch, arrays.in_shape, False, out
        )
        return out

    def backward(self, x, arrays, batch, d_x):
        """Weight gradients through time and (unless ``d_x`` is None) ``d_x``."""
        self.run_backward(
            arrays.params,
            arrays.buffers,
            batch,
            arrays.in_shape,
            False,
            arrays.buffers["d"][: batch.n],
            d_x,
        )

    def reduce_gradients(self, arrays, n):
        """Sum the parts' parameter gradients, in part order."""
        self.sum_parts(arrays.grads, arrays.buffers, n)

    def sum_parts(self, grads, buffers, n):
        """``grads[name]`` = the sum over the parts of a batch of ``n`` rows."""
        n_parts = len(part_bounds(n))
        for name, parts in buffers["part_grads"].items():
            np.sum(parts[:n_parts], axis=0, out=grads[name])

    def _views(self, buffers, group, batch, in_shape):
        """The views of ``group`` ("forward", "history", "scratch" or "d_xt") for
        rows ``[lo, hi)``, made once per part and kept in ``buffers`` (a batch
        loop asks for the same parts again and again: ~30 us of Python each)."""
        key = (group, batch.lo, batch.hi)
        views = buffers["views"].get(key)
        if views is None:
            templates = self._templates(in_shape)
            names = {
                "forward": list(self._history(in_shape[1])) + ["rec"],
                "history": list(self._history(in_shape[1])),
                "scratch": list(self._scratch()),
                "d_xt": ["d_xt"],
            }[group]
            views = buffers["views"][key] = [
                _view(buffers[name], templates[name], batch.lo, batch.hi, in_shape[0])
                for name in names
            ]
        return views

    def _flags(self, buffers, batch, reverse):
        masked = batch.mask is not None
        if masked:
            check_mask(self, batch.mask, batch.n, buffers["n_steps"])
        mask = batch.mask[batch.lo : batch.hi] if masked else buffers["no_mask"]
        return (reverse, self.return_sequences, mask, masked)

    def _rows(self, a, batch, shape):
        """Rows ``[lo, hi)`` of ``a`` as (rows, *shape)."""
        return a.reshape((batch.n,) + tuple(shape))[batch.lo : batch.hi]

    def _sequence(self, a, batch, in_shape):
        """Rows ``[lo, hi)`` of ``a`` as (rows, T or 1, units), as the kernels
        take outputs."""
        steps = in_shape[0] if self.return_sequences else 1
        return self._rows(a, batch, (steps, self.units))

    def run_forward(self, x, params, buffers, batch, in_shape, reverse, out):
        """Rows ``[lo, hi)`` forward in time (``reverse``: from the last step),
        into ``out``."""
        self._forward_kernel(
            self._rows(x, batch, in_shape),
            *[params[name] for name in self._params],
            *self._extra(),
            *self._flags(buffers, batch, reverse),
            *self._views(buffers, "forward", batch, in_shape),
            self._sequence(out, batch, in_shape),
        )

    def run_backward(self, params, buffers, batch, in_shape, reverse, d, d_x):
        """Backpropagation through time of the last ``run_forward`` of rows
        ``[lo, hi)``: part ``batch.part``'s parameter gradients, and ``d_x``."""
        if d_x is None:
            d_xt, d_x = buffers["d_xt"][:0].reshape(0, 0, 0), buffers["no_d_x"]
        else:
            (d_xt,) = self._views(buffers, "d_xt", batch, in_shape)
            d_x = self._rows(d_x, batch, in_shape)
        part_grads = buffers["part_grads"]
        self._backward_kernel(
            params["kernel"],
            params["recurrent_kernel"],
            *self._extra(),
            *self._flags(buffers, batch, reverse),
            *self._views(buffers, "history", batch, in_shape),
            self._sequence(d, batch, in_shape),
            *self._views(buffers, "scratch", batch, in_shape),
            *[part_grads[name][batch.part] for name in self._params],
            d_xt,
            d_x,
        )


@dataclass(frozen=True)
class SimpleRNN(_Recurrent):
    """Fully connected recurrent layer ``h_t = f(x_t W + h_{t-1} U + b)``.

    Parameters
    ----------
    units : int
        Size of the state (and of the output).
    return_sequences : bool, default=False
        Output every timestep's state ``(timesteps, units)``, not only the last
        ``(units,)``.
    kernel_initializer : str or None, default=None
        Initialiser of ``W`` (None: the estimator's ``weight_init``).
    recurrent_initializer : str, default="orthogonal"
        Initialiser of ``U``.
    activation : {"tanh", "relu", "identity", "logistic", "leaky_relu", "gelu"}, \
            default="tanh"
        The function ``f``.
    trainable : bool, default=True
        False freezes the layer (see ``Layer``).

    Examples
    --------
    >>> from sklearn_nn.layers import SimpleRNN
    >>> SimpleRNN(32).output_shape((10, 3))  # 10 timesteps of 3 features
    (32,)
    """

    activation: str = "tanh"

    _forward_kernel = staticmethod(simple_rnn_forward)
    _backward_kernel = staticmethod(simple_rnn_backward)

    def __post_init__(self):
        super().__post_init__()
        check_activation(self.activation, "SimpleRNN")

    def _extra(self):
        return (ACTIVATIONS[self.activation],)

    def _history(self, features):
        # "g" holds the pre-activations z, "a" f(z)
        units = self.units
        return {
            **super()._history(features),
            "a": ("T", "n", units),
            "hs": ("T+1", "n", units),
        }


@dataclass(frozen=True)
class GRU(_Recurrent):
    """Gated recurrent unit, with the reset gate applied after the recurrent product
    (Keras's default ``reset_after=True``, PyTorch's and cuDNN's GRU).

    ``z = sig(x Wz + h Uz + b), r = sig(x Wr + h Ur + b), hh = tanh(x Wh + b + r (h Uh
    + rb)), h' = z h + (1 - z) hh``; gates z, r, h side by side in the weights, an
    input ``bias`` and a ``recurrent_bias`` (Keras's bias of shape (2, 3 units)).

    Parameters
    ----------
    units : int
        Size of the state (and of the output).
    return_sequences : bool, default=False
        Output every timestep's state ``(timesteps, units)``, not only the last.
    kernel_initializer : str or None, default=None
        Initialiser of ``W`` (None: the estimator's ``weight_init``).
    recurrent_initializer : str, default="orthogonal"
        Initialiser of ``U``.
    trainable : bool, default=True
        False freezes the layer (see ``Layer``).

    Examples
    --------
    >>> from sklearn_nn.layers import GRU
    >>> GRU(32, return_sequences=True).output_shape((10, 3))  # all 10 steps
    (10, 32)
    """

    _gates = 3
    _params = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
    _forward_kernel = staticmethod(gru_forward)
    _backward_kernel = staticmethod(gru_backward)

    def param_specs(self, in_shape):
        """Those of every cell plus ``recurrent_bias`` (3 units,)."""
        width = 3 * self.units
        return super().param_specs(in_shape) + [
            ParamSpec("recurrent_bias", (width,), "zeros")
        ]

    def _history(self, features):
        # "g": the gates z, r, hh; "rech": the candidate's h Uh + rb
        units = self.units
        return {
            **super()._history(features),
            "rech": ("T", "n", units),
            "hs": ("T+1", "n", units),
        }

    def _scratch(self):
        return {**super()._scratch(), "dgr": ("T", "n", 3 * self.units)}


@dataclass(frozen=True)
class LSTM(_Recurrent):
    """Long short-term memory layer (Keras's LSTM: sigmoid gates, tanh cell).

    ``i, f, o = sig(x W + h U + b)``, ``cc = tanh(x W + h U + b)``, ``c' = f c + i
    cc``, ``h' = o tanh(c')``; gates i, f, c, o side by side in the weights. The
    forget gate's bias starts at 1 (Keras's ``unit_forget_bias``).

    Parameters
    ----------
    units : int
        Size of the state (and of the output).
    return_sequences : bool, default=False
        Output every timestep's state ``(timesteps, units)``, not only the last.
    kernel_initializer : str or None, default=None
        Initialiser of ``W`` (None: the estimator's ``weight_init``).
    recurrent_initializer : str, default="orthogonal"
        Initialiser of ``U``.
    trainable : bool, default=True
        False freezes the layer (see ``Layer``).

    Examples
    --------
    >>> from sklearn_nn.layers import LSTM
    >>> LSTM(32).output_shape((10, 3)), LSTM(32).param_specs((10, 3))[0].shape
    ((32,), (3, 128))
    """

    _gates = 4
    _bias_init = "unit_forget_bias"
    _forward_kernel = staticmethod(lstm_forward)
    _backward_kernel = staticmethod(lstm_backward)

    def _history(self, features):
        # "g": the gates i, f, cc, o; "cs": cell states; "tc": tanh of new cells
        units = self.units
        return {
            **super()._history(features),
            "cs": ("T+1", "n", units),
            "tc": ("T", "n", units),
            "hs": ("T+1", "n", units),
        }

    def _scratch(self):
        scratch = super()._scratch()
        return {
            "dh": scratch["dh"],
            "dh_rec": scratch["dh_rec"],
            "dc": ("n", self.units),
            "dg": scratch["dg"],
        }
