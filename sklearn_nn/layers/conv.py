"""Image layers: Conv2D and the channels-first transpose (pooling: ``pooling.py``).

Images are channels-last ``(height, width, channels)``; a ``(height, width)`` input
is one channel. These layers split their batch into parts run on threads
(``splits_batch``): ``forward`` / ``backward`` compute rows ``[batch.lo, batch.hi)``.
"""

from dataclasses import dataclass

import numpy as np

from .._initializers import check_initializer
from .._kernels.activations import ACTIVATIONS
from .._kernels.conv2d import col2im, conv2d_backward, conv2d_forward, im2col
from .._kernels.layout import channels_first_to_last
from .._threads import BATCH_PARTS, part_bounds
from ._geometry import (
    check_padding,
    image_shape,
    images,
    pair,
    store_hashable,
    window_geometry,
)
from .base import Layer, check_bool, check_positive_int
from .core import activation_buffers, check_activation, kernel_and_bias

# the pooling layers lived here: models saved before they moved name them so
from .pooling import AvgPool2D, MaxPool2D  # noqa: F401

__all__ = ["ChannelsFirstToLast", "Conv2D"]


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
        store_hashable(self, "kernel_size", "Conv2D")
        store_hashable(self, "strides", "Conv2D")
        check_padding(self.padding, "Conv2D")
        check_activation(self.activation, "Conv2D")
        check_bool(self, "use_bias")
        check_initializer(self.kernel_initializer, "Conv2D kernel_initializer")

    def _geometry(self, in_shape):
        window = pair(self.kernel_size, "kernel_size", "Conv2D")
        strides = pair(self.strides, "strides", "Conv2D")
        out, pads = window_geometry(self, in_shape, window, strides, self.padding)
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
        im2col(images(x, batch.n, in_shape, lo, hi), *buffers["geometry"], cols)
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
            col2im(cols, *buffers["geometry"], images(d_x, batch.n, in_shape, lo, hi))

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
        x = images(x, batch.n, arrays.in_shape, lo, hi)
        channels_first_to_last(x, arrays.buffers["a"][lo:hi])
        return arrays.buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Transpose the gradient back (only needed if this is not the first layer)."""
        if d_x is not None:
            lo, hi = batch.lo, batch.hi
            np.copyto(
                images(d_x, batch.n, arrays.in_shape, lo, hi),
                arrays.buffers["d"][lo:hi].transpose(0, 3, 1, 2),
            )
