"""Layers on vectors (or any shape): Dense, Activation, Dropout, Flatten."""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .._initializers import check_initializer
from .._kernels.activations import (
    ACTIVATIONS,
    BACKWARD_KERNELS,
    FORWARD_KERNELS,
    NEEDS_PREACTIVATION,
)
from .._kernels.dense import (
    csr_dense_backward,
    csr_dense_forward,
    dense_backward,
    dense_forward,
)
from .._kernels.dropout import dropout_backward, dropout_forward
from .._kernels.quantized import int8_scratch, quantized_dense_forward
from .._kernels.vnni import ROWS
from .._threads import BATCH_PARTS, run_parts
from .base import CSRRows, Layer, ParamSpec, check_bool, check_positive_int

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Reshape"]


def check_activation(name, layer):
    """``name`` if it is a known activation, else a ValueError naming ``layer``."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"{layer} activation must be one of {sorted(ACTIVATIONS)}, got {name!r}."
        )
    return name


def kernel_and_bias(layer, kernel_shape, fans, n_bias):
    """The ``kernel`` (penalised) and ``bias`` specs of a Dense-like layer."""
    specs = [ParamSpec("kernel", kernel_shape, layer.kernel_initializer, fans, True)]
    if layer.use_bias:
        specs.append(ParamSpec("bias", (n_bias,), "bias", fans, False))
    return specs


def activation_buffers(code, out_shape, n_rows, dtype):
    """Output ``a``, pre-activation ``z`` (``a`` itself unless f' needs z), gradient."""
    a = np.empty((n_rows,) + tuple(out_shape), dtype=dtype)
    z = np.empty_like(a) if code in NEEDS_PREACTIVATION else a
    return {"code": code, "z": z, "a": a, "d": np.empty_like(a)}


@dataclass(frozen=True)
class Dense(Layer):
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
    kernel_initializer : str or None, default=None
        One of ``sklearn_nn._initializers.INITIALIZERS`` ("glorot_uniform",
        "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "orthogonal");
        None uses the estimator's ``weight_init``.
    trainable : bool, default=True
        False freezes the layer's weights (see ``Layer``).

    Notes
    -----
    The kernel has shape ``(n_inputs, units)``, as scikit-learn's ``coefs_``; it is
    penalised by ``alpha`` and ``l1``, the bias is not.

    Examples
    --------
    >>> from sklearn_nn.layers import Dense
    >>> Dense(32).output_shape((64,)), Dense(32).param_specs((64,))[0].shape
    ((32,), (64, 32))
    """

    units: int
    activation: str = "relu"
    use_bias: bool = True
    kernel_initializer: str | None = None

    accepts_sparse = True

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.units, "Dense units")
        check_activation(self.activation, "Dense")
        check_bool(self, "use_bias")
        check_initializer(self.kernel_initializer, "Dense kernel_initializer")

    def output_shape(self, in_shape):
        """``(units,)``; vectors only."""
        if len(in_shape) != 1:
            raise ValueError(
                f"Dense expects vector inputs, got samples of shape {tuple(in_shape)};"
                " put a Flatten layer before it."
            )
        return (self.units,)

    def param_specs(self, in_shape):
        """``kernel`` (n_inputs, units) and, with ``use_bias``, ``bias`` (units,)."""
        return kernel_and_bias(
            self, (in_shape[0], self.units), (in_shape[0], self.units), self.units
        )

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs, pre-activations (for gelu) and gradients."""
        buffers = activation_buffers(
            ACTIVATIONS[self.activation], (self.units,), n_rows, dtype
        )
        if not self.use_bias:
            buffers["zero_bias"] = np.zeros(self.units, dtype=dtype)
            buffers["unused_d_b"] = np.empty(self.units, dtype=dtype)
        return buffers

    def forward(self, x, arrays, batch):
        """``f(x @ W + b)`` for the batch."""
        buffers, n = arrays.buffers, batch.n
        w = arrays.params["kernel"]
        b = arrays.params["bias"] if self.use_bias else buffers["zero_bias"]
        z, a = buffers["z"][:n], buffers["a"][:n]
        int8 = arrays.constants.get("int8")
        if isinstance(x, CSRRows):
            code = buffers["code"]
            csr_dense_forward(x.data, x.indices, x.indptr, x.rows, w, b, code, z, a)
        elif int8 is not None:
            self._int8_forward(np.ascontiguousarray(x), int8, b, buffers, batch)
        else:
            dense_forward(x, w, b, buffers["code"], z, a)
        return a

    def _int8_forward(self, x, int8, b, buffers, batch):
        # a quantised model (sklearn_nn.compression.quantize): int8 weights, inputs
        # quantised per row; parts of the batch on threads, each with its own
        # scratch rows (whole tiles), so results do not depend on the thread count
        packed, colsum, scales = int8
        n, code = batch.n, buffers["code"]
        scratch = buffers.get("int8")
        if scratch is None:
            scratch = buffers["int8"] = int8_scratch(
                buffers["a"].shape[0], x.shape[1], packed.shape[0], BATCH_PARTS
            )
        xq, sx, zp, acc = (scratch[k] for k in ("xq", "sx", "zp", "acc"))
        z, a = buffers["z"], buffers["a"]

        def part(k, lo, hi):
            s = lo + k * ROWS  # see int8_scratch
            quantized_dense_forward(
                x[lo:hi],
                packed,
                colsum,
                scales,
                b,
                code,
                xq[s:],
                sx[s:],
                zp[s:],
                acc[s:],
                z[lo:hi],
                a[lo:hi],
            )

        run_parts(n, batch.n_threads, part)

    def backward(self, x, arrays, batch, d_x):
        """Kernel, bias and (unless ``d_x`` is None) input gradients."""
        buffers, n = arrays.buffers, batch.n
        code, w = buffers["code"], arrays.params["kernel"]
        d_w = arrays.grads["kernel"]
        d_b = arrays.grads["bias"] if self.use_bias else buffers["unused_d_b"]
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
class Activation(Layer):
    """An activation function as a layer of its own, e.g. after BatchNormalization.

    Parameters
    ----------
    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"}
        The function, applied element-wise; the shape is kept.

    Examples
    --------
    >>> from sklearn_nn.layers import Activation
    >>> Activation("tanh").output_shape((8, 8, 3))
    (8, 8, 3)
    """

    activation: str

    passes_mask = True

    def __post_init__(self):
        super().__post_init__()
        check_activation(self.activation, "Activation")

    def output_shape(self, in_shape):
        """The input's shape."""
        return tuple(in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs, inputs kept for gelu's derivative, and gradients (flat rows)."""
        return activation_buffers(
            ACTIVATIONS[self.activation], (math.prod(in_shape),), n_rows, dtype
        )

    def forward(self, x, arrays, batch):
        """``f(x)``, element-wise."""
        buffers, n = arrays.buffers, batch.n
        z, a = buffers["z"][:n], buffers["a"][:n]
        if z is not a:  # f' needs z: keep a copy of the input
            z[...] = x.reshape(z.shape)
        FORWARD_KERNELS[buffers["code"]](x.reshape(a.shape), a)
        return a.reshape(x.shape)

    def backward(self, x, arrays, batch, d_x):
        """``d_x = d * f'(x)``."""
        if d_x is None:
            return
        buffers, n = arrays.buffers, batch.n
        d = buffers["d"][:n]
        BACKWARD_KERNELS[buffers["code"]](buffers["z"][:n], buffers["a"][:n], d)
        d_x.reshape(d.shape)[...] = d


@dataclass(frozen=True)
class Dropout(Layer):
    """Inverted dropout: in training, zero each input unit with probability ``rate``.

    Parameters
    ----------
    rate : float
        Fraction of units dropped, in [0, 1). Inactive at predict time.

    Examples
    --------
    >>> from sklearn_nn.layers import Dropout
    >>> Dropout(0.5).output_shape((64,)), Dropout(0.5).needs_rng
    ((64,), True)
    """

    rate: float

    passes_mask = True

    def __post_init__(self):
        super().__post_init__()
        if (
            isinstance(self.rate, bool)
            or not isinstance(self.rate, Real)
            or not 0 <= self.rate < 1
        ):
            raise ValueError(f"Dropout rate must be in [0, 1), got {self.rate!r}.")

    @property
    def needs_rng(self):
        """Masks are drawn in training when ``rate > 0``."""
        return self.rate > 0

    def output_shape(self, in_shape):
        """Dropout keeps the shape."""
        return tuple(in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for the uniform draws, the output and its gradient."""
        shape = (n_rows, math.prod(in_shape))
        return {
            "u": np.empty(shape, dtype=dtype),
            "a": np.empty(shape, dtype=dtype),
            "d": np.empty(shape, dtype=dtype),
        }

    def forward(self, x, arrays, batch):
        """Drop units in training (masks from ``batch.rng``, keyed by each sample's
        content: identical samples get identical masks in an epoch); identity
        otherwise."""
        if not batch.training or self.rate == 0:
            return x
        u, a = arrays.buffers["u"][: batch.n], arrays.buffers["a"][: batch.n]
        batch.rng.uniform(u)  # keyed by each row's content (see RowRandom)
        dropout_forward(x.reshape(u.shape), u, self.rate, a)
        return a.reshape(x.shape)

    def backward(self, x, arrays, batch, d_x):
        """Route the gradient through the kept units."""
        if d_x is None:
            return
        d_out = arrays.buffers["d"][: batch.n]
        if self.rate == 0 or not batch.training:  # forward was the identity
            d_x.reshape(d_out.shape)[...] = d_out
        else:
            u = arrays.buffers["u"][: batch.n]
            dropout_backward(u, self.rate, d_out, d_x.reshape(d_out.shape))


@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten each sample to a vector (a view of the input, no copy).

    Examples
    --------
    >>> from sklearn_nn.layers import Flatten
    >>> Flatten().output_shape((8, 8, 3))
    (192,)
    """

    def output_shape(self, in_shape):
        """``(prod(in_shape),)``."""
        return (math.prod(in_shape),)

    def allocate(self, in_shape, n_rows, dtype):
        """The output gradient buffer (the output itself is a view)."""
        return {"d": np.empty((n_rows, math.prod(in_shape)), dtype=dtype)}

    def forward(self, x, arrays, batch):
        """The input, reshaped to (n, prod(in_shape))."""
        return x.reshape(batch.n, -1)

    def backward(self, x, arrays, batch, d_x):
        """Copy the gradient back in the input's shape."""
        if d_x is not None:
            d_x.reshape(batch.n, -1)[...] = arrays.buffers["d"][: batch.n]


@dataclass(frozen=True)
class Reshape(Layer):
    """Give each sample another shape with the same values (a view, no copy).

    Parameters
    ----------
    target_shape : tuple of int
        The new shape of one sample; one entry may be -1, inferred from the input's
        size (e.g. ``(1, -1, 1)``: any vector as a one-row, one-channel image).

    Examples
    --------
    >>> from sklearn_nn.layers import Reshape
    >>> Reshape((8, 8, -1)).output_shape((64,))
    (8, 8, 1)
    """

    target_shape: tuple

    def __post_init__(self):
        super().__post_init__()
        shape = (
            tuple(self.target_shape)
            if isinstance(self.target_shape, (tuple, list))
            else None
        )
        if (
            not shape
            or not all(
                isinstance(v, Integral)
                and not isinstance(v, bool)
                and (v >= 1 or v == -1)
                for v in shape
            )
            or shape.count(-1) > 1
        ):
            raise ValueError(
                "Reshape target_shape must be a tuple of positive ints with at most "
                f"one -1, got {self.target_shape!r}."
            )
        object.__setattr__(self, "target_shape", tuple(int(v) for v in shape))

    def output_shape(self, in_shape):
        """``target_shape`` with its -1 resolved; a ValueError if sizes differ."""
        size, known = math.prod(in_shape), -math.prod(self.target_shape)
        shape = self.target_shape
        if -1 in shape and known > 0 and size % known == 0:
            shape = tuple(size // known if v == -1 else v for v in shape)
        if math.prod(shape) != size:
            raise ValueError(
                f"{self!r} cannot hold samples of shape {tuple(in_shape)} "
                f"({size} values)."
            )
        return shape

    def allocate(self, in_shape, n_rows, dtype):
        """The output gradient buffer (the output itself is a view)."""
        return {"d": np.empty((n_rows,) + self.output_shape(in_shape), dtype=dtype)}

    def forward(self, x, arrays, batch):
        """The input, reshaped."""
        return x.reshape((batch.n,) + self.output_shape(arrays.in_shape))

    def backward(self, x, arrays, batch, d_x):
        """Copy the gradient back in the input's shape."""
        if d_x is not None:
            d = arrays.buffers["d"][: batch.n]
            d_x.reshape(d.shape)[...] = d
