"""Public layer specifications.

A layer spec is small and immutable: it holds hyperparameters only (no arrays), so an
estimator that takes a list of them stays ``clone``-able, picklable and grid-searchable.
At fit time the engine asks each spec for its parameter shapes and buffers, and calls
its ``forward`` / ``backward``, which run the Numba kernels in ``sklearn_nn._kernels``.

Shapes exclude the batch axis: ``in_shape`` is ``(n_features,)`` for vectors.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._kernels.activations import ACTIVATIONS, NEEDS_PREACTIVATION
from ._kernels.dense import (
    csr_dense_backward,
    csr_dense_forward,
    dense_backward,
    dense_forward,
)
from ._kernels.dropout import dropout_backward, dropout_forward

__all__ = ["Dense", "Dropout"]


class CSRRows(NamedTuple):
    """A mini-batch of a CSR matrix: the rows ``rows`` of (data, indices, indptr)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class Dense:
    """Fully connected layer ``f(x @ W + b)``.

    Parameters
    ----------
    units : int
        Number of output units.
    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"}, \
            default="relu"
        Activation applied to the output.
    use_bias : bool, default=True
        Whether the layer has a bias (intercept).
    """

    units: int
    activation: str = "relu"
    use_bias: bool = True

    def __post_init__(self):
        if not isinstance(self.units, (int, np.integer)) or self.units < 1:
            raise ValueError(f"Dense units must be a positive int, got {self.units!r}.")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"Dense activation must be one of {sorted(ACTIVATIONS)}, "
                f"got {self.activation!r}."
            )

    def output_shape(self, in_shape):
        """Shape of one output sample for one input sample of shape ``in_shape``."""
        if len(in_shape) != 1:
            raise ValueError(
                f"Dense expects vector inputs, got samples of shape {in_shape}; "
                "put a Flatten layer before it."
            )
        return (self.units,)

    def param_shapes(self, in_shape):
        """Shapes of (weights, bias); the bias shape is ``(0,)`` without a bias."""
        return (in_shape[0], self.units), ((self.units,) if self.use_bias else (0,))

    def fans(self, in_shape):
        """(fan_in, fan_out) for Glorot initialisation."""
        return in_shape[0], self.units

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for up to ``n_rows`` samples: outputs, pre-activations, gradients."""
        code = ACTIVATIONS[self.activation]
        a = np.empty((n_rows, self.units), dtype=dtype)
        # z is kept apart from a only when f' needs z; otherwise f is applied in place
        z = np.empty_like(a) if code in NEEDS_PREACTIVATION else a
        buffers = {"code": code, "z": z, "a": a, "d": np.empty_like(a)}
        if not self.use_bias:
            buffers["zero_bias"] = np.zeros(self.units, dtype=dtype)
            buffers["unused_d_b"] = np.empty(self.units, dtype=dtype)
        return buffers

    def forward(self, x, w, b, buffers, n, training, rng):
        """Run the layer on ``n`` samples; return the output view."""
        code = buffers["code"]
        if not self.use_bias:
            b = buffers["zero_bias"]
        z, a = buffers["z"][:n], buffers["a"][:n]
        if isinstance(x, CSRRows):
            csr_dense_forward(x.data, x.indices, x.indptr, x.rows, w, b, code, z, a)
        else:
            dense_forward(x, w, b, code, z, a)
        return a

    def backward(self, x, w, b, buffers, n, d_w, d_b, d_x):
        """Gradients from ``buffers["d"][:n]``; ``d_x`` is None for the first layer."""
        code = buffers["code"]
        if not self.use_bias:
            d_b = buffers["unused_d_b"]
        z, a, d_a = buffers["z"][:n], buffers["a"][:n], buffers["d"][:n]
        if isinstance(x, CSRRows):
            csr_dense_backward(
                x.data, x.indices, x.indptr, x.rows, z, a, code, d_a, d_w, d_b
            )
        elif d_x is None:
            dense_backward(x, w, z, a, code, d_a, d_w, d_b, d_a, False)
        else:
            dense_backward(x, w, z, a, code, d_a, d_w, d_b, d_x, True)


@dataclass(frozen=True)
class Dropout:
    """Inverted dropout: in training, zero each input unit with probability ``rate``.

    Parameters
    ----------
    rate : float
        Fraction of units dropped, in [0, 1). Inactive at predict time.
    """

    rate: float

    def __post_init__(self):
        if not 0 <= self.rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {self.rate!r}.")

    def output_shape(self, in_shape):
        """Dropout keeps the shape."""
        return tuple(in_shape)

    def param_shapes(self, in_shape):
        """Dropout has no parameters."""
        return None

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for the uniform draws, the output and its gradient."""
        shape = (n_rows, int(np.prod(in_shape)))
        return {
            "u": np.empty(shape, dtype=dtype),
            "a": np.empty(shape, dtype=dtype),
            "d": np.empty(shape, dtype=dtype),
        }

    def forward(self, x, w, b, buffers, n, training, rng):
        """Drop units in training (masks drawn from ``rng``); identity otherwise."""
        if not training or self.rate == 0:
            return x
        u, a = buffers["u"][:n], buffers["a"][:n]
        rng.random(dtype=u.dtype, out=u)
        dropout_forward(x.reshape(u.shape), u, self.rate, a)
        return a.reshape(x.shape)

    def backward(self, x, w, b, buffers, n, d_w, d_b, d_x):
        """Route the gradient through the kept units."""
        d_out = buffers["d"][:n]
        if self.rate == 0:
            d_x.reshape(d_out.shape)[...] = d_out
        else:
            dropout_backward(
                buffers["u"][:n], self.rate, d_out, d_x.reshape(d_out.shape)
            )
