"""Image layers: Conv2D, MaxPool2D, AvgPool2D, and the channels-first transpose.

Images are channels-last ``(height, width, channels)``; a ``(height, width)`` input
is one channel. These layers split their batch into parts run on threads
(``splits_batch``): ``forward`` / ``backward`` compute rows ``[batch.lo, batch.hi)``.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .._initializers import check_initializer
from .._kernels.activations import ACTIVATIONS
from .._kernels.conv2d import col2im, conv2d_backward, conv2d_forward, im2col
from .._kernels.layout import channels_first_to_last
from .._kernels.pooling import (
    argmax_dtype,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from .._threads import BATCH_PARTS, part_bounds
from .base import Layer, check_bool, check_positive_int
from .core import activation_buffers, check_activation, kernel_and_bias

__all__ = ["AvgPool2D", "ChannelsFirstToLast", "Conv2D", "MaxPool2D"]


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


def _hashable(spec, attribute, layer):
    """Store ``spec.attribute`` validated, lists as tuples: specs stay hashable."""
    value = getattr(spec, attribute)
    pair = _pair(value, attribute, layer)
    object.__setattr__(
        spec, attribute, int(value) if isinstance(value, Integral) else pair
    )


def check_padding(padding, layer):
    if padding not in ("valid", "same"):
        raise ValueError(f"{layer} padding must be 'valid' or 'same', got {padding!r}.")


def image_shape(layer, in_shape):
    """``in_shape`` as (height, width, channels): (h, w) is one channel."""
    if len(in_shape) == 2:
        return (in_shape[0], in_shape[1], 1)
    if len(in_shape) != 3:
        raise ValueError(
            f"{layer!r} expects images of shape (height, width, channels), got "
            f"samples of shape {tuple(in_shape)}."
        )
    return tuple(in_shape)


def _window_geometry(layer, in_shape, window, strides, padding):
    """Output (height, width) and the (top, left) padding of a sliding window.

    "valid": windows inside the image only; "same": ``ceil(size / stride)`` windows,
    padded evenly (the extra cell at the bottom/right), as TensorFlow and Keras do.
    """
    in_shape = image_shape(layer, in_shape)
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


def _images(x, n, in_shape, lo, hi):
    """Images ``[lo, hi)`` of the ``n`` samples in x, as (hi - lo, h, w, c): a view."""
    return x.reshape((n,) + tuple(in_shape))[lo:hi]


@dataclass(frozen=True)
class Conv2D(Layer):
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
    kernel_initializer : str or None, default=None
        As for ``Dense``; None uses the estimator's ``weight_init``.
    trainable : bool, default=True
        False freezes the layer's weights (see ``Layer``).

    Notes
    -----
    The kernel has shape ``(kernel_h, kernel_w, in_channels, filters)``, as in Keras.

    Examples
    --------
    >>> from sklearn_nn.layers import Conv2D
    >>> Conv2D(16).output_shape((28, 28, 1))  # 3 x 3 kernel, "valid" padding
    (26, 26, 16)
    """

    filters: int
    kernel_size: int | tuple = 3
    strides: int | tuple = 1
    padding: str = "valid"
    activation: str = "relu"
    use_bias: bool = True
    kernel_initializer: str | None = None

    splits_batch = True

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.filters, "Conv2D filters")
        _hashable(self, "kernel_size", "Conv2D")
        _hashable(self, "strides", "Conv2D")
        check_padding(self.padding, "Conv2D")
        check_activation(self.activation, "Conv2D")
        check_bool(self, "use_bias")
        check_initializer(self.kernel_initializer, "Conv2D kernel_initializer")

    def _geometry(self, in_shape):
        window = _pair(self.kernel_size, "kernel_size", "Conv2D")
        strides = _pair(self.strides, "strides", "Conv2D")
        out, pads = _window_geometry(self, in_shape, window, strides, self.padding)
        return window, strides, out, pads

    def output_shape(self, in_shape):
        """Shape of one output image for one input image of shape ``in_shape``."""
        _, _, (out_h, out_w), _ = self._geometry(in_shape)
        return (out_h, out_w, int(self.filters))

    def param_specs(self, in_shape):
        """``kernel`` (kernel_h, kernel_w, in_channels, filters) and ``bias``."""
        (kernel_h, kernel_w), _, _, _ = self._geometry(in_shape)
        channels, filters = image_shape(self, in_shape)[2], int(self.filters)
        area = kernel_h * kernel_w
        # fans as Keras counts them: inputs and outputs of one pixel's receptive field
        fans = (area * channels, area * filters)
        return kernel_and_bias(
            self, (kernel_h, kernel_w, channels, filters), fans, filters
        )

    def allocate(self, in_shape, n_rows, dtype):
        """im2col scratch, outputs, gradients, and the parts' weight gradients."""
        (kernel_h, kernel_w), strides, (out_h, out_w), pads = self._geometry(in_shape)
        in_shape = image_shape(self, in_shape)
        filters = int(self.filters)
        buffers = activation_buffers(
            ACTIVATIONS[self.activation], (out_h, out_w, filters), n_rows, dtype
        )
        # im2col / col2im arguments after the arrays
        buffers["geometry"] = (kernel_h, kernel_w) + strides + pads
        buffers["cols"] = np.empty(
            (n_rows, out_h, out_w, kernel_h * kernel_w * in_shape[2]), dtype=dtype
        )
        if not self.use_bias:
            buffers["zero_bias"] = np.zeros(filters, dtype=dtype)
        # per-part weight gradients (see sklearn_nn._threads)
        buffers["d_w_parts"] = np.empty(
            (BATCH_PARTS, kernel_h, kernel_w, in_shape[2], filters), dtype=dtype
        )
        buffers["d_b_parts"] = np.empty((BATCH_PARTS, filters), dtype=dtype)
        return buffers

    def forward(self, x, arrays, batch):
        """im2col, GEMM, bias and activation for images ``[lo, hi)``."""
        buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
        w = arrays.params["kernel"]
        b = arrays.params["bias"] if self.use_bias else buffers["zero_bias"]
        in_shape = image_shape(self, arrays.in_shape)
        cols = buffers["cols"][lo:hi]
        im2col(_images(x, batch.n, in_shape, lo, hi), *buffers["geometry"], cols)
        z, a = buffers["z"][lo:hi], buffers["a"][lo:hi]
        conv2d_forward(cols, w, b, buffers["code"], z, a)
        return buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """The part's weight gradients, and its input gradient unless d_x is None."""
        buffers, lo, hi, k = arrays.buffers, batch.lo, batch.hi, batch.part
        cols = buffers["cols"][lo:hi]
        conv2d_backward(
            cols,
            arrays.params["kernel"],
            buffers["z"][lo:hi],
            buffers["a"][lo:hi],
            buffers["code"],
            buffers["d"][lo:hi],
            buffers["d_w_parts"][k],
            buffers["d_b_parts"][k],
            d_x is not None,
        )
        if d_x is not None:
            in_shape = image_shape(self, arrays.in_shape)
            col2im(cols, *buffers["geometry"], _images(d_x, batch.n, in_shape, lo, hi))

    def reduce_gradients(self, arrays, n):
        """Sum the parts' gradients in a fixed order: independent of the threads."""
        n_parts = len(part_bounds(n))
        np.sum(
            arrays.buffers["d_w_parts"][:n_parts], axis=0, out=arrays.grads["kernel"]
        )
        if self.use_bias:
            np.sum(
                arrays.buffers["d_b_parts"][:n_parts], axis=0, out=arrays.grads["bias"]
            )


@dataclass(frozen=True)
class _Pool2D(Layer):
    pool_size: int | tuple = 2
    strides: int | tuple | None = None
    padding: str = "valid"

    splits_batch = True

    def __post_init__(self):
        super().__post_init__()
        name = type(self).__name__
        _hashable(self, "pool_size", name)
        if self.strides is not None:
            _hashable(self, "strides", name)
        check_padding(self.padding, name)

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
        return (out_h, out_w, image_shape(self, in_shape)[2])

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for up to ``n_rows`` images: outputs and gradients."""
        window, strides, _, pads = self._geometry(in_shape)
        a = np.empty((n_rows,) + self.output_shape(in_shape), dtype=dtype)
        return {"geometry": window + strides + pads, "a": a, "d": np.empty_like(a)}


@dataclass(frozen=True)
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

    Examples
    --------
    >>> from sklearn_nn.layers import MaxPool2D
    >>> MaxPool2D().output_shape((26, 26, 16))  # 2 x 2 windows
    (13, 13, 16)
    """

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers: outputs, gradients and the position of each window's max."""
        buffers = super().allocate(in_shape, n_rows, dtype)
        height, width, _ = image_shape(self, in_shape)
        buffers["argmax"] = np.empty(
            buffers["a"].shape, dtype=argmax_dtype(height, width)
        )
        return buffers

    def forward(self, x, arrays, batch):
        """Max of each window for images ``[lo, hi)``."""
        buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
        x = _images(x, batch.n, image_shape(self, arrays.in_shape), lo, hi)
        max_pool2d_forward(
            x, *buffers["geometry"], buffers["a"][lo:hi], buffers["argmax"][lo:hi]
        )
        return buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Route the gradient to each window's max."""
        if d_x is not None:
            buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
            max_pool2d_backward(
                buffers["d"][lo:hi],
                buffers["argmax"][lo:hi],
                *buffers["geometry"],
                _images(d_x, batch.n, image_shape(self, arrays.in_shape), lo, hi),
            )


@dataclass(frozen=True)
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

    Examples
    --------
    >>> from sklearn_nn.layers import AvgPool2D
    >>> AvgPool2D(3, padding="same").output_shape((8, 8, 3))
    (3, 3, 3)
    """

    def forward(self, x, arrays, batch):
        """Mean of each window for images ``[lo, hi)``."""
        buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
        x = _images(x, batch.n, image_shape(self, arrays.in_shape), lo, hi)
        avg_pool2d_forward(x, *buffers["geometry"], buffers["a"][lo:hi])
        return buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Spread the gradient evenly over each window."""
        if d_x is not None:
            buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
            avg_pool2d_backward(
                buffers["d"][lo:hi],
                *buffers["geometry"],
                _images(d_x, batch.n, image_shape(self, arrays.in_shape), lo, hi),
            )


@dataclass(frozen=True)
class ChannelsFirstToLast(Layer):
    """Transpose each sample from (channels, height, width) to (height, width,
    channels): the first layer the CNN and NeuralNet estimators put below the
    others for ``data_format="channels_first"`` rows.

    Examples
    --------
    >>> from sklearn_nn.layers import ChannelsFirstToLast
    >>> ChannelsFirstToLast().output_shape((3, 32, 32))
    (32, 32, 3)
    """

    splits_batch = True

    def output_shape(self, in_shape):
        """(height, width, channels) for an input of shape (channels, height, width)."""
        if len(in_shape) != 3:
            raise ValueError(
                f"channels-first images need shape (channels, height, width), got "
                f"{tuple(in_shape)}."
            )
        channels, height, width = in_shape
        return (height, width, channels)

    def allocate(self, in_shape, n_rows, dtype):
        """Output and gradient buffers."""
        a = np.empty((n_rows,) + self.output_shape(in_shape), dtype=dtype)
        return {"a": a, "d": np.empty_like(a)}

    def forward(self, x, arrays, batch):
        """Copy samples ``[lo, hi)``, transposed to channels-last."""
        lo, hi = batch.lo, batch.hi
        x = _images(x, batch.n, arrays.in_shape, lo, hi)
        channels_first_to_last(x, arrays.buffers["a"][lo:hi])
        return arrays.buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Transpose the gradient back (only needed if this is not the first layer)."""
        if d_x is not None:
            lo, hi = batch.lo, batch.hi
            np.copyto(
                _images(d_x, batch.n, arrays.in_shape, lo, hi),
                arrays.buffers["d"][lo:hi].transpose(0, 3, 1, 2),
            )
