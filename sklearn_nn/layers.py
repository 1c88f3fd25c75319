"""Public layer specifications.

A layer spec is small and immutable: it holds hyperparameters only (no arrays), so an
estimator that takes a list of them stays ``clone``-able, picklable and grid-searchable.
At fit time the engine asks each spec for its parameter shapes and buffers, and calls
its ``forward`` / ``backward``, which run the Numba kernels in ``sklearn_nn._kernels``.

Shapes exclude the batch axis: ``in_shape`` is ``(n_features,)`` for vectors and
``(height, width, channels)`` for images, which are stored channels-last (NHWC). A layer
given 2-D input rows ``(n, n_features)`` where it expects images reshapes them (a view).
"""

import math
from dataclasses import dataclass
from numbers import Integral
from typing import NamedTuple

import numpy as np

from ._kernels.activations import ACTIVATIONS, NEEDS_PREACTIVATION
from ._kernels.conv2d import col2im, conv2d_backward, conv2d_forward, im2col
from ._kernels.dense import (
    csr_dense_backward,
    csr_dense_forward,
    dense_backward,
    dense_forward,
)
from ._kernels.dropout import dropout_backward, dropout_forward
from ._kernels.pooling import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from ._threads import BATCH_PARTS, part_bounds, run_parts

__all__ = ["AvgPool2D", "Conv2D", "Dense", "Dropout", "Flatten", "MaxPool2D"]


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
        if (
            not isinstance(self.units, Integral)
            or isinstance(self.units, bool)
            or self.units < 1
        ):
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
        if d_x is None:  # no parameters below: nothing needs this gradient
            return
        d_out = buffers["d"][:n]
        if self.rate == 0:
            d_x.reshape(d_out.shape)[...] = d_out
        else:
            dropout_backward(
                buffers["u"][:n], self.rate, d_out, d_x.reshape(d_out.shape)
            )


# ---------------------------------------------------------------------- images
def _pair(value, name, layer):
    """``value`` as a (height, width) pair of positive ints."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in pair
    ):
        raise ValueError(
            f"{layer} {name} must be a positive int or a pair of them, got {value!r}."
        )
    return tuple(int(v) for v in pair)


def _hashable(pair, value):
    """``value`` unchanged if an int, else the validated pair as a tuple of ints."""
    return int(value) if isinstance(value, Integral) else pair


def _check_padding(padding, layer):
    if padding not in ("valid", "same"):
        raise ValueError(f"{layer} padding must be 'valid' or 'same', got {padding!r}.")


def _window_geometry(layer, in_shape, window, strides, padding):
    """Output (height, width) and the (top, left) padding of a sliding window.

    "valid": windows inside the image only; "same": ``ceil(size / stride)`` windows,
    padded evenly (the extra cell at the bottom/right), as TensorFlow and Keras do.
    """
    if len(in_shape) != 3:
        raise ValueError(
            f"{layer!r} expects images of shape (height, width, channels), got "
            f"samples of shape {tuple(in_shape)}."
        )
    out, pads = [], []
    for size, k, s in zip(in_shape[:2], window, strides, strict=True):
        if padding == "valid":
            n_out = (size - k) // s + 1 if size >= k else 0
            pad = 0
        else:
            n_out = -(-size // s)
            pad = max((n_out - 1) * s + k - size, 0) // 2
        out.append(n_out)
        pads.append(pad)
    if min(out) < 1:
        raise ValueError(
            f"{layer!r} cannot slide a {window[0]}x{window[1]} window over images of "
            f"shape {tuple(in_shape)}: the output would be smaller than 1x1. Use "
            "padding='same', smaller windows or fewer layers."
        )
    return (out[0], out[1]), (pads[0], pads[1])


def _as_images(x, n, in_shape):
    """The first ``n`` samples of x as (n, height, width, channels): a view."""
    return x.reshape((n,) + tuple(in_shape))


class _SplitLayer:
    """An image layer whose step runs part by part (see ``sklearn_nn._threads``).

    Subclasses define ``forward_part`` / ``backward_part`` on the images
    ``[lo, hi)`` of a batch; a ``Network`` runs consecutive split layers part by
    part in one parallel region (a part's data stays in its core's cache), and
    ``forward`` / ``backward`` here run one layer alone.
    """

    splits_batch = True

    def backward_reduce(self, buffers, n, d_w, d_b):
        """Combine the parts' weight gradients (layers with parameters)."""

    def forward(self, x, w, b, buffers, n, training, rng):
        """Run the layer on ``n`` images; return the output view."""
        run_parts(
            n,
            buffers["threads"],
            lambda k, lo, hi: self.forward_part(x, w, b, buffers, n, lo, hi),
        )
        return buffers["a"][:n]

    def backward(self, x, w, b, buffers, n, d_w, d_b, d_x):
        """Gradients from ``buffers["d"][:n]``; ``d_x`` is None when not needed."""
        run_parts(
            n,
            buffers["threads"],
            lambda k, lo, hi: self.backward_part(k, w, buffers, n, lo, hi, d_x),
        )
        self.backward_reduce(buffers, n, d_w, d_b)


@dataclass(frozen=True)
class Conv2D(_SplitLayer):
    """2-D convolution layer ``f(conv(x, W) + b)`` over channels-last images.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or tuple of (int, int), default=3
        Height and width of the kernel.
    strides : int or tuple of (int, int), default=1
        Step of the kernel along height and width.
    padding : {"valid", "same"}, default="valid"
        "valid": no padding, the image shrinks by ``kernel_size - 1``; "same": zero
        padding so that the output has ``ceil(size / strides)`` pixels.
    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"}, \
            default="relu"
        Activation applied to the output.
    use_bias : bool, default=True
        Whether the layer has a bias per filter.

    Notes
    -----
    Weights have shape ``(kernel_h, kernel_w, in_channels, filters)``, as in Keras.
    """

    filters: int
    kernel_size: int | tuple = 3
    strides: int | tuple = 1
    padding: str = "valid"
    activation: str = "relu"
    use_bias: bool = True

    def __post_init__(self):
        if (
            not isinstance(self.filters, Integral)
            or isinstance(self.filters, bool)
            or self.filters < 1
        ):
            raise ValueError(
                f"Conv2D filters must be a positive int, got {self.filters!r}."
            )
        # lists become tuples: specs stay hashable and equal to their tuple form
        object.__setattr__(
            self,
            "kernel_size",
            _hashable(
                _pair(self.kernel_size, "kernel_size", "Conv2D"), self.kernel_size
            ),
        )
        object.__setattr__(
            self,
            "strides",
            _hashable(_pair(self.strides, "strides", "Conv2D"), self.strides),
        )
        _check_padding(self.padding, "Conv2D")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"Conv2D activation must be one of {sorted(ACTIVATIONS)}, "
                f"got {self.activation!r}."
            )

    def _geometry(self, in_shape):
        window = _pair(self.kernel_size, "kernel_size", "Conv2D")
        strides = _pair(self.strides, "strides", "Conv2D")
        (out_h, out_w), pads = _window_geometry(
            self, in_shape, window, strides, self.padding
        )
        return window, strides, (out_h, out_w), pads

    def output_shape(self, in_shape):
        """Shape of one output image for one input image of shape ``in_shape``."""
        _, _, (out_h, out_w), _ = self._geometry(in_shape)
        return (out_h, out_w, int(self.filters))

    def param_shapes(self, in_shape):
        """Shapes of (weights, bias); the bias shape is ``(0,)`` without a bias."""
        (kernel_h, kernel_w), _, _, _ = self._geometry(in_shape)
        filters = int(self.filters)
        weights = (kernel_h, kernel_w, in_shape[2], filters)
        return weights, ((filters,) if self.use_bias else (0,))

    def fans(self, in_shape):
        """(fan_in, fan_out) for Glorot initialisation, as Keras counts them."""
        (kernel_h, kernel_w), _, _, _ = self._geometry(in_shape)
        area = kernel_h * kernel_w
        return area * in_shape[2], area * int(self.filters)

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for up to ``n_rows`` images: im2col scratch, outputs, gradients."""
        (kernel_h, kernel_w), strides, (out_h, out_w), pads = self._geometry(in_shape)
        code = ACTIVATIONS[self.activation]
        a = np.empty((n_rows, out_h, out_w, int(self.filters)), dtype=dtype)
        buffers = {
            "code": code,
            "in_shape": tuple(in_shape),
            # im2col / col2im arguments after the arrays
            "geometry": (kernel_h, kernel_w) + strides + pads,
            "cols": np.empty(
                (n_rows, out_h, out_w, kernel_h * kernel_w * in_shape[2]), dtype=dtype
            ),
            "z": np.empty_like(a) if code in NEEDS_PREACTIVATION else a,
            "a": a,
            "d": np.empty_like(a),
        }
        if not self.use_bias:
            buffers["zero_bias"] = np.zeros(int(self.filters), dtype=dtype)
        # per-part weight gradients (see sklearn_nn._threads)
        weights, _ = self.param_shapes(in_shape)
        buffers["d_w_parts"] = np.empty((BATCH_PARTS,) + weights, dtype=dtype)
        buffers["d_b_parts"] = np.empty((BATCH_PARTS, int(self.filters)), dtype=dtype)
        return buffers

    def forward_part(self, x, w, b, buffers, n, lo, hi):
        """im2col, GEMM, bias and activation for images ``[lo, hi)`` of ``n``."""
        if not self.use_bias:
            b = buffers["zero_bias"]
        x = _as_images(x, n, buffers["in_shape"])[lo:hi]
        cols = buffers["cols"][lo:hi]
        im2col(x, *buffers["geometry"], cols)
        z, a = buffers["z"][lo:hi], buffers["a"][lo:hi]
        conv2d_forward(cols, w, b, buffers["code"], z, a)

    def backward_part(self, k, w, buffers, n, lo, hi, d_x):
        """Part ``k``'s weight gradients, and its input gradient unless d_x is None."""
        cols = buffers["cols"][lo:hi]
        conv2d_backward(
            cols,
            w,
            buffers["z"][lo:hi],
            buffers["a"][lo:hi],
            buffers["code"],
            buffers["d"][lo:hi],
            buffers["d_w_parts"][k],
            buffers["d_b_parts"][k],
            d_x is not None,
        )
        if d_x is not None:
            d_x = _as_images(d_x, n, buffers["in_shape"])[lo:hi]
            col2im(cols, *buffers["geometry"], d_x)

    def backward_reduce(self, buffers, n, d_w, d_b):
        """Sum the parts' gradients in a fixed order: independent of the threads."""
        n_parts = len(part_bounds(n))
        np.sum(buffers["d_w_parts"][:n_parts], axis=0, out=d_w)
        if self.use_bias:
            np.sum(buffers["d_b_parts"][:n_parts], axis=0, out=d_b)


@dataclass(frozen=True)
class _Pool2D(_SplitLayer):
    pool_size: int | tuple = 2
    strides: int | tuple | None = None
    padding: str = "valid"

    def __post_init__(self):
        name = type(self).__name__
        object.__setattr__(
            self,
            "pool_size",
            _hashable(_pair(self.pool_size, "pool_size", name), self.pool_size),
        )
        if self.strides is not None:
            object.__setattr__(
                self,
                "strides",
                _hashable(_pair(self.strides, "strides", name), self.strides),
            )
        _check_padding(self.padding, name)

    def _geometry(self, in_shape):
        name = type(self).__name__
        window = _pair(self.pool_size, "pool_size", name)
        strides = (
            window if self.strides is None else _pair(self.strides, "strides", name)
        )
        out, pads = _window_geometry(self, in_shape, window, strides, self.padding)
        return window, strides, out, pads

    def output_shape(self, in_shape):
        """Shape of one pooled image; channels are kept."""
        _, _, (out_h, out_w), _ = self._geometry(in_shape)
        return (out_h, out_w, in_shape[2])

    def param_shapes(self, in_shape):
        """Pooling has no parameters."""
        return None

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for up to ``n_rows`` images: outputs and gradients."""
        window, strides, (out_h, out_w), pads = self._geometry(in_shape)
        a = np.empty((n_rows, out_h, out_w, in_shape[2]), dtype=dtype)
        return {
            "in_shape": tuple(in_shape),
            "geometry": window + strides + pads,
            "a": a,
            "d": np.empty_like(a),
        }


class MaxPool2D(_Pool2D):
    """Max pooling over ``pool_size`` windows of channels-last images.

    Parameters
    ----------
    pool_size : int or tuple of (int, int), default=2
        Height and width of the window.
    strides : int or tuple of (int, int), default=None
        Step of the window; None means ``pool_size`` (windows do not overlap).
    padding : {"valid", "same"}, default="valid"
        "valid": windows inside the image only (a remainder row or column is
        dropped); "same": ``ceil(size / strides)`` windows, padded cells ignored.
    """

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers: outputs, gradients and the position of each window's max."""
        buffers = super().allocate(in_shape, n_rows, dtype)
        buffers["argmax"] = np.empty(buffers["a"].shape, dtype=np.intp)
        return buffers

    def forward_part(self, x, w, b, buffers, n, lo, hi):
        """Max of each window for images ``[lo, hi)`` of ``n``."""
        x = _as_images(x, n, buffers["in_shape"])[lo:hi]
        max_pool2d_forward(
            x, *buffers["geometry"], buffers["a"][lo:hi], buffers["argmax"][lo:hi]
        )

    def backward_part(self, k, w, buffers, n, lo, hi, d_x):
        """Route the gradient to each window's max."""
        if d_x is not None:
            max_pool2d_backward(
                buffers["d"][lo:hi],
                buffers["argmax"][lo:hi],
                *buffers["geometry"],
                _as_images(d_x, n, buffers["in_shape"])[lo:hi],
            )


class AvgPool2D(_Pool2D):
    """Average pooling over ``pool_size`` windows of channels-last images.

    Parameters
    ----------
    pool_size : int or tuple of (int, int), default=2
        Height and width of the window.
    strides : int or tuple of (int, int), default=None
        Step of the window; None means ``pool_size`` (windows do not overlap).
    padding : {"valid", "same"}, default="valid"
        "valid": windows inside the image only; "same": ``ceil(size / strides)``
        windows, each averaging over its real (unpadded) cells only.
    """

    def forward_part(self, x, w, b, buffers, n, lo, hi):
        """Mean of each window for images ``[lo, hi)`` of ``n``."""
        x = _as_images(x, n, buffers["in_shape"])[lo:hi]
        avg_pool2d_forward(x, *buffers["geometry"], buffers["a"][lo:hi])

    def backward_part(self, k, w, buffers, n, lo, hi, d_x):
        """Spread the gradient evenly over each window."""
        if d_x is not None:
            avg_pool2d_backward(
                buffers["d"][lo:hi],
                *buffers["geometry"],
                _as_images(d_x, n, buffers["in_shape"])[lo:hi],
            )


@dataclass(frozen=True)
class Flatten:
    """Flatten each sample to a vector (a view of the input, no copy)."""

    def output_shape(self, in_shape):
        """``(prod(in_shape),)``."""
        return (math.prod(in_shape),)

    def param_shapes(self, in_shape):
        """Flatten has no parameters."""
        return None

    def allocate(self, in_shape, n_rows, dtype):
        """The output gradient buffer (the output itself is a view)."""
        return {"d": np.empty((n_rows, math.prod(in_shape)), dtype=dtype)}

    def forward(self, x, w, b, buffers, n, training, rng):
        """The input, reshaped to (n, prod(in_shape))."""
        return x.reshape(n, -1)

    def backward(self, x, w, b, buffers, n, d_w, d_b, d_x):
        """Copy the gradient back in the input's shape."""
        if d_x is not None:
            d_x.reshape(n, -1)[...] = buffers["d"][:n]


@dataclass(frozen=True)
class ChannelsFirstToLast(_SplitLayer):
    """Internal first layer for ``data_format="channels_first"`` rows: transposes
    each sample from (channels, height, width) to (height, width, channels)."""

    def output_shape(self, in_shape):
        """(height, width, channels) for an input of shape (channels, height, width)."""
        if len(in_shape) != 3:
            raise ValueError(
                f"channels-first images need shape (channels, height, width), got "
                f"{tuple(in_shape)}."
            )
        channels, height, width = in_shape
        return (height, width, channels)

    def param_shapes(self, in_shape):
        """No parameters."""
        return None

    def allocate(self, in_shape, n_rows, dtype):
        """Output and gradient buffers."""
        a = np.empty((n_rows,) + self.output_shape(in_shape), dtype=dtype)
        return {"in_shape": tuple(in_shape), "a": a, "d": np.empty_like(a)}

    def forward_part(self, x, w, b, buffers, n, lo, hi):
        """Copy samples ``[lo, hi)`` of ``n``, transposed to channels-last."""
        x = _as_images(x, n, buffers["in_shape"])[lo:hi]
        np.copyto(buffers["a"][lo:hi], x.transpose(0, 2, 3, 1))

    def backward_part(self, k, w, buffers, n, lo, hi, d_x):
        """Transpose the gradient back (only needed if this is not the first layer)."""
        if d_x is not None:
            np.copyto(
                _as_images(d_x, n, buffers["in_shape"])[lo:hi],
                buffers["d"][lo:hi].transpose(0, 3, 1, 2),
            )
