"""Normalisation layers: BatchNormalization and LayerNormalization.

Both normalise over the last axis (features after Dense, channels after Conv2D) and
learn a scale ``gamma`` and shift ``beta`` per feature; neither is penalised by
``alpha`` / ``l1``.
"""

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .._kernels.normalization import (
    batch_norm_backward,
    batch_norm_forward_infer,
    batch_norm_forward_train,
    layer_norm_backward,
    layer_norm_forward,
)
from .base import Layer, ParamSpec, StateSpec

__all__ = ["BatchNormalization", "LayerNormalization"]


def _check_epsilon(layer, epsilon):
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, Real)
        or not 0 < epsilon < math.inf
    ):
        raise ValueError(f"{layer} epsilon must be a float > 0, got {epsilon!r}.")


def _scale_and_shift(in_shape):
    channels = in_shape[-1]
    return [
        ParamSpec("gamma", (channels,), "ones"),
        ParamSpec("beta", (channels,), "zeros"),
    ]


def _rows(x, in_shape):
    """x as (rows, features): every position of every sample is a row (a view)."""
    return x.reshape(-1, in_shape[-1])


def _buffers(in_shape, n_rows, dtype, n_stats):
    a = np.empty((n_rows,) + tuple(in_shape), dtype=dtype)
    return {
        "a": a,
        "d": np.empty_like(a),
        "x_hat": np.empty_like(a),
        "inv_std": np.empty(n_stats, dtype=dtype),
    }


@dataclass(frozen=True)
class BatchNormalization(Layer):
    """Batch normalisation: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    In training, ``mean`` and ``var`` are the batch's (per feature over the batch's
    rows; per channel over rows and pixels after Conv2D), and running averages of
    them are kept as the layer's state; at predict time the running averages are
    used. A frozen layer (``trainable=False``) always uses the running averages and
    leaves them unchanged, as Keras does when fine-tuning.

    Batch statistics need the whole batch at once, so this layer refuses
    ``solver="lbfgs"`` (whose objective runs over row chunks) and never joins the
    parallel parts of image layers; a training batch needs at least 2 values per
    feature (a ValueError otherwise).

    Parameters
    ----------
    momentum : float, default=0.99
        Weight of the old running average at each training step:
        ``running = momentum * running + (1 - momentum) * batch``.
    epsilon : float, default=1e-3
        Added to the variance before the square root.
    trainable : bool, default=True
        False freezes gamma and beta and the running statistics.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import NeuralNetClassifier
    >>> from sklearn_nn.layers import Activation, BatchNormalization, Dense
    >>> BatchNormalization().output_shape((32,))
    (32,)
    >>> X, y = load_digits(return_X_y=True)
    >>> layers = [Dense(32, "identity"), BatchNormalization(), Activation("relu")]
    >>> clf = NeuralNetClassifier(layers, learning_rate_init=0.01, random_state=0)
    >>> bool(clf.fit(X, y).score(X, y) > 0.9)  # pixels 0-16, unscaled
    True
    """

    momentum: float = 0.99
    epsilon: float = 1e-3

    @property
    def row_chunks(self):
        """Batch statistics need the whole batch; a frozen layer has none."""
        return not self.trainable

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.momentum, bool) or not (
            isinstance(self.momentum, Real) and 0 <= self.momentum < 1
        ):
            raise ValueError(
                f"BatchNormalization momentum must be in [0, 1), got {self.momentum!r}."
            )
        _check_epsilon("BatchNormalization", self.epsilon)

    def output_shape(self, in_shape):
        """The input's shape."""
        return tuple(in_shape)

    def param_specs(self, in_shape):
        """``gamma`` (ones) and ``beta`` (zeros), one per feature."""
        return _scale_and_shift(in_shape)

    def state_specs(self, in_shape):
        """``moving_mean`` (zeros) and ``moving_variance`` (ones)."""
        channels = in_shape[-1]
        return [
            StateSpec("moving_mean", (channels,), 0.0),
            StateSpec("moving_variance", (channels,), 1.0),
        ]

    def min_training_rows(self, in_shape):
        """2 when each sample has one value per feature (statistics over rows);
        1 when it has several (after Conv2D: rows and pixels), or when frozen."""
        return 2 if self.trainable and math.prod(in_shape[:-1]) == 1 else 1

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs, normalised inputs, batch statistics, gradients."""
        buffers = _buffers(in_shape, n_rows, dtype, in_shape[-1])
        buffers["mean"] = np.empty(in_shape[-1], dtype=dtype)
        # per-feature scratch: the running update allocates nothing per step
        buffers["scratch"] = np.empty(in_shape[-1], dtype=dtype)
        return buffers

    def forward(self, x, arrays, batch):
        """Normalise with the batch's statistics (training) or the running ones."""
        buffers, params, state = arrays.buffers, arrays.params, arrays.state
        shape, n = arrays.in_shape, batch.n
        out = _rows(buffers["a"][:n], shape)
        eps = out.dtype.type(self.epsilon)
        mean, var = state["moving_mean"], state["moving_variance"]
        if not (batch.training and self.trainable):
            batch_norm_forward_infer(
                _rows(x, shape), params["gamma"], params["beta"], mean, var, eps, out
            )
            return buffers["a"][:n]
        batch_norm_forward_train(
            _rows(x, shape),
            params["gamma"],
            params["beta"],
            eps,
            buffers["mean"],
            buffers["inv_std"],
            _rows(buffers["x_hat"][:n], shape),
            out,
        )
        # running averages of the batch statistics (biased variance, as Keras)
        momentum, scratch = self.momentum, buffers["scratch"]
        np.multiply(buffers["mean"], 1 - momentum, out=scratch)
        mean *= momentum
        mean += scratch
        # var from inv_std; clipped at 0, as float32 rounding can undershoot eps
        np.square(buffers["inv_std"], out=scratch)
        np.divide(1.0, scratch, out=scratch)
        scratch -= eps
        np.maximum(scratch, 0, out=scratch)
        scratch *= 1 - momentum
        var *= momentum
        var += scratch
        return buffers["a"][:n]

    def backward(self, x, arrays, batch, d_x):
        """Gradients of gamma, beta and the input, batch statistics included."""
        buffers, shape, n = arrays.buffers, arrays.in_shape, batch.n
        gamma, d_out = arrays.params["gamma"], _rows(buffers["d"][:n], shape)
        if not self.trainable:  # inference mode: an affine map per feature
            if d_x is not None:
                scale = buffers["scratch"]  # gamma / sqrt(running var + eps)
                np.add(
                    arrays.state["moving_variance"],
                    scale.dtype.type(self.epsilon),
                    out=scale,
                )
                np.sqrt(scale, out=scale)
                np.divide(gamma, scale, out=scale)
                np.multiply(d_out, scale, out=_rows(d_x, shape))
            return
        batch_norm_backward(
            _rows(buffers["x_hat"][:n], shape),
            gamma,
            buffers["inv_std"],
            d_out,
            arrays.grads["gamma"],
            arrays.grads["beta"],
            d_out if d_x is None else _rows(d_x, shape),
            d_x is not None,
        )


@dataclass(frozen=True)
class LayerNormalization(Layer):
    """Layer normalisation: each sample's features normalised to mean 0, variance 1.

    ``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the mean and variance
    of each sample (of each position, for sequences and images) over its last axis;
    the same in training and at predict time, so it has no state and runs over any
    rows (L-BFGS included).

    Parameters
    ----------
    epsilon : float, default=1e-3
        Added to the variance before the square root.
    trainable : bool, default=True
        False freezes gamma and beta.

    Examples
    --------
    >>> from sklearn_nn.layers import LayerNormalization
    >>> LayerNormalization().output_shape((20, 16))  # 20 timesteps, 16 features
    (20, 16)
    >>> [(s.name, s.shape) for s in LayerNormalization().param_specs((20, 16))]
    [('gamma', (16,)), ('beta', (16,))]
    """

    epsilon: float = 1e-3

    passes_mask = True  # each timestep normalised on its own

    def __post_init__(self):
        super().__post_init__()
        _check_epsilon("LayerNormalization", self.epsilon)

    def output_shape(self, in_shape):
        """The input's shape."""
        return tuple(in_shape)

    def param_specs(self, in_shape):
        """``gamma`` (ones) and ``beta`` (zeros), one per feature."""
        return _scale_and_shift(in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs, normalised inputs, per-row inverse deviations, gradients."""
        return _buffers(in_shape, n_rows, dtype, n_rows * math.prod(in_shape[:-1]))

    def forward(self, x, arrays, batch):
        """Normalise each row over its features."""
        buffers, params, shape, n = (
            arrays.buffers,
            arrays.params,
            arrays.in_shape,
            batch.n,
        )
        out = _rows(buffers["a"][:n], shape)
        layer_norm_forward(
            _rows(x, shape),
            params["gamma"],
            params["beta"],
            out.dtype.type(self.epsilon),
            buffers["inv_std"][: out.shape[0]],
            _rows(buffers["x_hat"][:n], shape),
            out,
        )
        return buffers["a"][:n]

    def backward(self, x, arrays, batch, d_x):
        """Gradients of gamma, beta and the input."""
        buffers, shape, n = arrays.buffers, arrays.in_shape, batch.n
        d_out = _rows(buffers["d"][:n], shape)
        layer_norm_backward(
            _rows(buffers["x_hat"][:n], shape),
            arrays.params["gamma"],
            buffers["inv_std"][: d_out.shape[0]],
            d_out,
            arrays.grads["gamma"],
            arrays.grads["beta"],
            d_out if d_x is None else _rows(d_x, shape),
            d_x is not None,
        )
