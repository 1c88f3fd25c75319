"""Image pooling layers: MaxPool2D and AvgPool2D over channels-last images.

They split their batch into parts run on threads (``splits_batch``): ``forward`` /
``backward`` compute rows ``[batch.lo, batch.hi)``. Kernels: ``_kernels/pooling.py``.
"""

from dataclasses import dataclass

import numpy as np

from .._kernels.pooling import (
    argmax_dtype,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from ._geometry import (
    check_padding,
    image_shape,
    images,
    pair,
    store_hashable,
    window_geometry,
)
from .base import Layer

__all__ = ["AvgPool2D", "MaxPool2D"]


@dataclass(frozen=True)
class _Pool2D(Layer):
    pool_size: int | tuple = 2
    strides: int | tuple | None = None
    padding: str = "valid"

    splits_batch = True

    def __post_init__(self):
        super().__post_init__()
        name = type(self).__name__
        store_hashable(self, "pool_size", name)
        if self.strides is not None:
            store_hashable(self, "strides", name)
        check_padding(self.padding, name)

    def _geometry(self, in_shape):
        name = type(self).__name__
        window = pair(self.pool_size, "pool_size", name)
        strides = (
            window if self.strides is None else pair(self.strides, "strides", name)
        )
        out, pads = window_geometry(self, in_shape, window, strides, self.padding)
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
        x = images(x, batch.n, image_shape(self, arrays.in_shape), lo, hi)
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
                images(d_x, batch.n, image_shape(self, arrays.in_shape), lo, hi),
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
        x = images(x, batch.n, image_shape(self, arrays.in_shape), lo, hi)
        avg_pool2d_forward(x, *buffers["geometry"], buffers["a"][lo:hi])
        return buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Spread the gradient evenly over each window."""
        if d_x is not None:
            buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
            avg_pool2d_backward(
                buffers["d"][lo:hi],
                *buffers["geometry"],
                images(d_x, batch.n, image_shape(self, arrays.in_shape), lo, hi),
            )
