"""Bidirectional: a recurrent layer run forward and backward in time."""

from dataclasses import dataclass

import numpy as np

from .base import Layer, unprefixed
from .recurrent import _Recurrent

__all__ = ["Bidirectional"]


@dataclass(frozen=True)
class Bidirectional(Layer):
    """A recurrent layer run forward and backward in time, outputs concatenated.

    Parameters
    ----------
    layer : SimpleRNN, GRU or LSTM
        The cell; a copy runs on the reversed sequence (its ``trainable`` is this
        wrapper's). The output has ``2 * layer.units`` features: the forward
        direction's first, then the backward one's (at each timestep with
        ``return_sequences``, aligned in time as Keras aligns them).
    trainable : bool, default=True
        False freezes both directions (see ``Layer``).

    Notes
    -----
    The parameters are the cell's, prefixed ``forward_`` and ``backward_``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import NeuralNetClassifier
    >>> from sklearn_nn.layers import GRU, Bidirectional
    >>> Bidirectional(GRU(8)).output_shape((8, 8))  # 8 units per direction
    (16,)
    >>> X, y = load_digits(return_X_y=True)  # rows as 8 timesteps of 8 pixels
    >>> clf = NeuralNetClassifier([Bidirectional(GRU(8))], input_shape=(8, 8),
    ...                           learning_rate_init=0.05, random_state=0)
    >>> bool(clf.fit(X[:200] / 16, y[:200]).score(X[:200] / 16, y[:200]) > 0.9)
    True
    """

    layer: _Recurrent

    uses_mask = True
    splits_batch = True  # as the cell: part by part on threads

    _directions = (("forward_", False), ("backward_", True))

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.layer, _Recurrent):
            raise TypeError(
                "Bidirectional wraps a SimpleRNN, GRU or LSTM layer, got "
                f"{self.layer!r}."
            )

    @property
    def passes_mask(self):
        """With ``return_sequences`` the output keeps the input's timesteps."""
        return self.layer.return_sequences

    def output_shape(self, in_shape):
        """The cell's output shape with twice its units."""
        shape = self.layer.output_shape(in_shape)
        return shape[:-1] + (2 * shape[-1],)

    def param_specs(self, in_shape):
        """The cell's parameters, once per direction, prefixed by it."""
        return [
            spec._replace(name=prefix + spec.name)
            for prefix, _ in self._directions
            for spec in self.layer.param_specs(in_shape)
        ]

    def allocate(self, in_shape, n_rows, dtype):
        """The cell's buffers per direction, the concatenated output, its gradient,
        and the second direction's input gradient."""
        buffers = {
            prefix: self.layer.allocate(in_shape, n_rows, dtype)
            for prefix, _ in self._directions
        }
        out_shape = (n_rows,) + self.output_shape(in_shape)
        buffers["out"] = np.empty(out_shape, dtype=dtype)
        buffers["d"] = np.empty(out_shape, dtype=dtype)
        buffers["d_x2"] = np.empty((n_rows,) + tuple(in_shape), dtype=dtype)
        return buffers

    def forward(self, x, arrays, batch):
        """Both directions of rows ``[lo, hi)``, concatenated on the last axis."""
        n, lo, hi, units = batch.n, batch.lo, batch.hi, self.layer.units
        out = arrays.buffers["out"][:n]
        for k, (prefix, reverse) in enumerate(self._directions):
            sub = arrays.buffers[prefix]
            half = sub["out"][:n]
            params = unprefixed(arrays.params, prefix)
            self.layer.run_forward(
                x, params, sub, batch, arrays.in_shape, reverse, half
            )
            out[lo:hi, ..., k * units : (k + 1) * units] = half[lo:hi]
        return out

    def backward(self, x, arrays, batch, d_x):
        """Each direction's gradients; their input gradients summed."""
        n, lo, hi, units = batch.n, batch.lo, batch.hi, self.layer.units
        d = arrays.buffers["d"][:n]
        for k, (prefix, reverse) in enumerate(self._directions):
            sub = arrays.buffers[prefix]
            half = sub["d"][:n]
            half[lo:hi] = d[lo:hi, ..., k * units : (k + 1) * units]
            target = d_x if k == 0 or d_x is None else arrays.buffers["d_x2"][:n]
            params = unprefixed(arrays.params, prefix)
            self.layer.run_backward(
                params, sub, batch, arrays.in_shape, reverse, half, target
            )
        if d_x is not None:
            rows = d_x.reshape((n,) + tuple(arrays.in_shape))[lo:hi]
            rows += arrays.buffers["d_x2"][lo:hi]

    def reduce_gradients(self, arrays, n):
        """Sum each direction's parts' gradients."""
        for prefix, _ in self._directions:
            grads = unprefixed(arrays.grads, prefix)
            self.layer.sum_parts(grads, arrays.buffers[prefix], n)
