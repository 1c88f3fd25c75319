"""Sequence layers: Conv1D, MaxPool1D, GlobalAveragePooling1D, GlobalMaxPooling1D.

Sequences are ``(timesteps, features)``, as in Keras. Conv1D and MaxPool1D run the 2-D
image layers on each sequence seen as a ``1 x timesteps`` image with ``features``
channels (the same memory, reshaped): a Conv1D is a Conv2D with a ``(1, kernel_size)``
kernel, a MaxPool1D a MaxPool2D with ``(1, pool_size)`` windows, so they share its
kernels (im2col + one GEMM), threads and "same" padding (the extra cell at the end).
The global poolings reduce over time with the kernels of ``_kernels/pooling1d.py``;
GlobalAveragePooling1D leaves out the padding steps of ``batch.mask``.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .._initializers import check_initializer
from .._kernels.pooling1d import (
    global_avg_pool1d_backward,
    global_avg_pool1d_forward,
    global_max_pool1d_backward,
    global_max_pool1d_forward,
)
from ._geometry import check_padding
from .base import Layer, LayerArrays, check_bool, check_positive_int
from .conv import Conv2D
from .core import check_activation
from .pooling import MaxPool2D

__all__ = ["Conv1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPool1D"]


def sequence_shape(layer, in_shape):
    """``in_shape`` as (timesteps, features), or a ValueError naming ``layer``."""
    if len(in_shape) != 2:
        raise ValueError(
            f"{layer!r} expects sequences of shape (timesteps, features), got "
            f"samples of shape {tuple(in_shape)}; use Reshape((timesteps, -1)) to "
            "make them."
        )
    return (int(in_shape[0]), int(in_shape[1]))


def _store_int(spec, name, layer):
    """Store ``spec.name`` as a positive int (a 1-tuple as in Keras is accepted)."""
    value = getattr(spec, name)
    single = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(single, Integral) or isinstance(single, bool) or single < 1:
        raise ValueError(
            f"{layer} {name} must be a positive int or a tuple of one, got {value!r}."
        )
    object.__setattr__(spec, name, int(single))


def _steps_out(layer, steps, window, stride, padding):
    """Output timesteps of a window sliding over ``steps`` (Keras's formulae)."""
    if padding == "same":
        return -(-steps // stride)
    if window > steps:
        raise ValueError(
            f"{layer!r} cannot slide a window of {window} timesteps over sequences "
            f"of {steps} with padding='valid'. Use padding='same', a smaller "
            "window or fewer layers."
        )
    return (steps - window) // stride + 1


@dataclass(frozen=True)
class _OnImageLayer(Layer):
    """A sequence layer that runs the 2-D layer ``self._image`` (set by
    ``__post_init__``) on its samples seen as 1 x timesteps images.

    The buffers hold the 2-D layer's own (``"image"``) and sequence-shaped views of
    its "a" and "d". The 2-D layer gets the arrays as a ``LayerArrays`` of reshaped
    views (the kernel (k, features, filters) as (1, k, features, filters)), made on
    the first call of a bind and kept in the buffers.
    """

    splits_batch = True

    def _image_in_shape(self, in_shape):
        return (1,) + sequence_shape(self, in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        """The 2-D layer's buffers, and sequence-shaped views of "a" and "d"."""
        image = self._image.allocate(self._image_in_shape(in_shape), n_rows, dtype)
        out = (n_rows,) + self.output_shape(in_shape)
        return {
            "image": image,
            "a": image["a"].reshape(out),
            "d": image["d"].reshape(out),
            "image_arrays": None,
        }

    def _image_arrays(self, arrays):
        cached = arrays.buffers["image_arrays"]
        if cached is not None and cached[0] is arrays:
            return cached[1]
        params, grads = (
            {k: v.reshape((1,) + v.shape) if k == "kernel" else v for k, v in d.items()}
            for d in (arrays.params, arrays.grads)
        )
        in_shape = self._image_in_shape(arrays.in_shape)
        image = LayerArrays(
            params, grads, arrays.state, arrays.buffers["image"], in_shape
        )
        # two parts' threads may both get here first: each stores an equal copy
        arrays.buffers["image_arrays"] = (arrays, image)
        return image

    def forward(self, x, arrays, batch):
        """The 2-D layer's forward for samples ``[lo, hi)``."""
        self._image.forward(x, self._image_arrays(arrays), batch)
        return arrays.buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """The 2-D layer's backward for samples ``[lo, hi)``."""
        self._image.backward(x, self._image_arrays(arrays), batch, d_x)

    def reduce_gradients(self, arrays, n):
        """The 2-D layer's sum of the parts' gradients."""
        self._image.reduce_gradients(self._image_arrays(arrays), n)


@dataclass(frozen=True)
class Conv1D(_OnImageLayer):
    """1-D convolution layer ``f(conv(x, W) + b)`` over sequences.

    Parameters
    ----------
    filters : int
        Number of output features (channels).
    kernel_size : int
        Length of the kernel, in timesteps.
    strides : int, default=1
        Step of the kernel along time.
    padding : {"valid", "same"}, default="valid"
        "valid": no padding, ``(timesteps - kernel_size) // strides + 1`` output
        steps; "same": zero padding so that there are ``ceil(timesteps / strides)``
        (the extra padding step at the end, as in Keras).
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
    Input samples are ``(timesteps, features)``, outputs ``(new_steps, filters)``.
    The kernel has Keras's shape ``(kernel_size, features, filters)``; it is
    penalised by ``alpha`` and ``l1``, the bias is not. The layer is a Conv2D with a
    ``(1, kernel_size)`` kernel over ``1 x timesteps`` images (same kernels, same
    initial weights).

    Examples
    --------
    >>> from sklearn_nn.layers import Conv1D
    >>> Conv1D(16, kernel_size=3).output_shape((100, 8))  # 100 timesteps
    (98, 16)
    >>> Conv1D(16, kernel_size=3, padding="same", strides=2).output_shape((100, 8))
    (50, 16)
    """

    filters: int
    kernel_size: int
    strides: int = 1
    padding: str = "valid"
    activation: str = "relu"
    use_bias: bool = True
    kernel_initializer: str | None = None

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.filters, "Conv1D filters")
        _store_int(self, "kernel_size", "Conv1D")
        _store_int(self, "strides", "Conv1D")
        check_padding(self.padding, "Conv1D")
        check_activation(self.activation, "Conv1D")
        check_bool(self, "use_bias")
        check_initializer(self.kernel_initializer, "Conv1D kernel_initializer")
        window, strides = (1, self.kernel_size), (1, self.strides)
        rest = (self.padding, self.activation, self.use_bias, self.kernel_initializer)
        image = Conv2D(self.filters, window, strides, *rest, trainable=self.trainable)
        object.__setattr__(self, "_image", image)

    def output_shape(self, in_shape):
        """``(new_steps, filters)`` for sequences of shape ``in_shape``."""
        steps = sequence_shape(self, in_shape)[0]
        k, s = self.kernel_size, self.strides
        return (_steps_out(self, steps, k, s, self.padding), int(self.filters))

    def param_specs(self, in_shape):
        """``kernel`` (kernel_size, features, filters) and ``bias`` (filters,)."""
        self.output_shape(in_shape)
        specs = self._image.param_specs(self._image_in_shape(in_shape))
        # Keras's Conv1D kernel: the Conv2D kernel without its height axis of 1
        return [
            s._replace(shape=s.shape[1:]) if s.name == "kernel" else s for s in specs
        ]


@dataclass(frozen=True)
class MaxPool1D(_OnImageLayer):
    """Max pooling over windows of ``pool_size`` timesteps.

    Parameters
    ----------
    pool_size : int, default=2
        Length of the window, in timesteps.
    strides : int, default=None
        Step of the window; None means ``pool_size`` (windows do not overlap).
    padding : {"valid", "same"}, default="valid"
        "valid": windows inside the sequence only (a remainder is dropped);
        "same": ``ceil(timesteps / strides)`` windows, padded steps ignored.

    Notes
    -----
    Input samples are ``(timesteps, features)``, outputs ``(new_steps, features)``
    (Keras's formulae). The layer is a MaxPool2D with ``(1, pool_size)`` windows.

    Examples
    --------
    >>> from sklearn_nn.layers import MaxPool1D
    >>> MaxPool1D(pool_size=2).output_shape((98, 16))
    (49, 16)
    """

    pool_size: int = 2
    strides: int | None = None
    padding: str = "valid"

    def __post_init__(self):
        super().__post_init__()
        _store_int(self, "pool_size", "MaxPool1D")
        if self.strides is not None:
            _store_int(self, "strides", "MaxPool1D")
        check_padding(self.padding, "MaxPool1D")
        strides = None if self.strides is None else (1, self.strides)
        image = MaxPool2D((1, self.pool_size), strides, self.padding)
        object.__setattr__(self, "_image", image)

    def output_shape(self, in_shape):
        """``(new_steps, features)`` for sequences of shape ``in_shape``."""
        steps, features = sequence_shape(self, in_shape)
        p, s = self.pool_size, self.strides or self.pool_size
        return (_steps_out(self, steps, p, s, self.padding), features)


@dataclass(frozen=True)
class _GlobalPool1D(Layer):
    splits_batch = True

    def output_shape(self, in_shape):
        """``(features,)``: time is pooled away."""
        return (sequence_shape(self, in_shape)[1],)

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs and their gradients, (n_rows, features)."""
        features = sequence_shape(self, in_shape)[1]
        a = np.empty((n_rows, features), dtype=dtype)
        return {"a": a, "d": np.empty_like(a)}

    def _rows(self, x, arrays, batch):
        """Samples ``[lo, hi)`` of x as (hi - lo, timesteps, features): a view."""
        return x.reshape((batch.n,) + tuple(arrays.in_shape))[batch.lo : batch.hi]


@dataclass(frozen=True)
class GlobalAveragePooling1D(_GlobalPool1D):
    """Mean over time of each feature; padding steps of a mask are left out.

    With a padding mask (``batch.mask``, e.g. below ``Embedding(mask_zero=True)``)
    each sample's output is ``sum_t mask[t] * x[t] / max(sum_t mask[t], 1)``: the
    mean of its real steps, 0 for a sequence of padding only. The mask ends here
    (``passes_mask`` is False: the time axis is gone). Input samples are
    ``(timesteps, features)``, outputs ``(features,)``.

    Examples
    --------
    >>> from sklearn_nn.layers import GlobalAveragePooling1D
    >>> GlobalAveragePooling1D().output_shape((49, 16))
    (16,)
    """

    uses_mask = True

    def _mask(self, arrays, batch):
        """Rows ``[lo, hi)`` of the padding mask, or None; checked against x."""
        mask, shape = batch.mask, (batch.n, arrays.in_shape[0])
        if mask is not None and getattr(mask, "shape", None) != shape:
            got = getattr(mask, "shape", mask)
            raise ValueError(
                f"{self!r} needs a padding mask of shape {shape}, got {got}."
            )
        return None if mask is None else mask[batch.lo : batch.hi]

    def forward(self, x, arrays, batch):
        """The (masked) mean over time of samples ``[lo, hi)``."""
        out = arrays.buffers["a"]
        global_avg_pool1d_forward(
            self._rows(x, arrays, batch),
            self._mask(arrays, batch),
            out[batch.lo : batch.hi],
        )
        return out[: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Spread the gradient over the (real) steps."""
        if d_x is not None:
            global_avg_pool1d_backward(
                arrays.buffers["d"][batch.lo : batch.hi],
                self._mask(arrays, batch),
                self._rows(d_x, arrays, batch),
            )


@dataclass(frozen=True)
class GlobalMaxPooling1D(_GlobalPool1D):
    """Max over time of each feature.

    A padding mask is ignored, as in Keras: padded steps take part in the max.
    Input samples are ``(timesteps, features)``, outputs ``(features,)``.

    Examples
    --------
    >>> from sklearn_nn.layers import GlobalMaxPooling1D
    >>> GlobalMaxPooling1D().output_shape((49, 16))
    (16,)
    """

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs, their gradients and the step of each max."""
        buffers = super().allocate(in_shape, n_rows, dtype)
        buffers["argmax"] = np.empty(buffers["a"].shape, dtype=np.intp)
        return buffers

    def forward(self, x, arrays, batch):
        """The max over time of samples ``[lo, hi)``."""
        buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
        global_max_pool1d_forward(
            self._rows(x, arrays, batch), buffers["a"][lo:hi], buffers["argmax"][lo:hi]
        )
        return buffers["a"][: batch.n]

    def backward(self, x, arrays, batch, d_x):
        """Route the gradient to the step of each max."""
        if d_x is not None:
            buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
            global_max_pool1d_backward(
                buffers["d"][lo:hi],
                buffers["argmax"][lo:hi],
                self._rows(d_x, arrays, batch),
            )
