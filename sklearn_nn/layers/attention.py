"""Multi-head self-attention on sequences ``(timesteps, features)``."""

from dataclasses import dataclass

import numpy as np

from .._initializers import check_initializer
from .._kernels.activations import IDENTITY
from .._kernels.attention import attention_backward, attention_forward
from .._kernels.dense import dense_backward, dense_forward
from .base import Layer, ParamSpec, check_bool, check_mask, check_positive_int

__all__ = ["MultiHeadSelfAttention", "check_sequences", "head_size"]


def check_sequences(layer, in_shape):
    """``in_shape`` if it is (timesteps, features), else a ValueError naming layer."""
    if len(in_shape) != 2:
        raise ValueError(
            f"{type(layer).__name__} expects sequences of shape (timesteps, "
            f"features), got samples of shape {tuple(in_shape)}."
        )
    return in_shape


def head_size(layer, width):
    """A head's key size: ``layer.key_dim``, or the model width over the heads."""
    if layer.key_dim is not None:
        return layer.key_dim
    if width % layer.num_heads:
        raise ValueError(
            f"{type(layer).__name__} num_heads={layer.num_heads} does not divide the "
            f"model width {width} (the features of each timestep); choose a divisor "
            "or set key_dim."
        )
    return width // layer.num_heads


@dataclass(frozen=True)
class MultiHeadSelfAttention(Layer):
    """Multi-head scaled dot-product self-attention (Vaswani et al., 2017).

    Every timestep attends to every other (or, with ``causal``, to itself and the
    ones before it): per head, ``softmax(Q K^T / sqrt(key_dim)) V`` with ``Q, K, V``
    linear projections of the input; the heads' outputs, side by side, are
    projected back to the input's width. Padded timesteps of a mask (see
    ``Embedding(mask_zero=True)``) get no attention.

    Parameters
    ----------
    num_heads : int
        Number of attention heads.
    key_dim : int or None, default=None
        Size of each head's queries, keys and values; None is the input's width
        over ``num_heads`` (which must divide it).
    causal : bool, default=False
        Whether a timestep attends only to itself and earlier ones.
    kernel_initializer : str or None, default=None
        Initialiser of the projections (None: the estimator's ``weight_init``).
    trainable : bool, default=True
        False freezes the layer (see ``Layer``).

    Notes
    -----
    Parameters: ``qkv_kernel`` (features, 3 num_heads key_dim), the query, key and
    value projections side by side (PyTorch's ``in_proj_weight``, transposed), with
    ``qkv_bias``; ``output_kernel`` (num_heads key_dim, features) with
    ``output_bias``. The kernels are penalised. Output samples have the input's
    shape.

    Examples
    --------
    >>> from sklearn_nn.layers import MultiHeadSelfAttention
    >>> attention = MultiHeadSelfAttention(num_heads=2)  # key_dim = 16 / 2 = 8
    >>> attention.output_shape((20, 16))  # 20 timesteps of 16 features
    (20, 16)
    >>> [(s.name, s.shape) for s in attention.param_specs((20, 16))]
    [('qkv_kernel', (16, 48)), ('output_kernel', (16, 16)),
     ('qkv_bias', (48,)), ('output_bias', (16,))]
    """

    num_heads: int
    key_dim: int | None = None
    causal: bool = False
    kernel_initializer: str | None = None

    uses_mask = True
    passes_mask = True

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.num_heads, "MultiHeadSelfAttention num_heads")
        if self.key_dim is not None:
            check_positive_int(self.key_dim, "MultiHeadSelfAttention key_dim")
        check_bool(self, "causal")
        check_initializer(
            self.kernel_initializer, "MultiHeadSelfAttention kernel_initializer"
        )

    def output_shape(self, in_shape):
        """The input's shape, ``(timesteps, features)``."""
        check_sequences(self, in_shape)
        head_size(self, in_shape[1])
        return tuple(in_shape)

    def param_specs(self, in_shape):
        """The fused query/key/value projection and the output projection."""
        width = in_shape[1]
        inner = self.num_heads * head_size(self, width)
        init = self.kernel_initializer
        return [
            ParamSpec("qkv_kernel", (width, 3 * inner), init, (width, inner), True),
            ParamSpec("output_kernel", (inner, width), init, (inner, width), True),
            ParamSpec("qkv_bias", (3 * inner,), "zeros"),
            ParamSpec("output_bias", (width,), "zeros"),
        ]

    def allocate(self, in_shape, n_rows, dtype):
        """Projections, per-head queries/keys/values, weights, and gradients."""
        n_steps, width = in_shape
        key_dim = head_size(self, width)
        inner = self.num_heads * key_dim
        heads = (n_rows, self.num_heads, n_steps, key_dim)
        rows = n_rows * n_steps
        buffers = {
            name: np.empty(heads, dtype=dtype)
            for name in ("q", "k", "v", "context_h", "d_context_h", "d_q", "d_k", "d_v")
        }
        buffers.update(
            qkv=np.empty((rows, 3 * inner), dtype=dtype),
            d_qkv=np.empty((rows, 3 * inner), dtype=dtype),
            weights=np.empty((n_rows, self.num_heads, n_steps, n_steps), dtype),
            d_weights=np.empty((1, n_steps, n_steps), dtype=dtype),  # scratch
            context=np.empty((rows, inner), dtype=dtype),
            d_context=np.empty((rows, inner), dtype=dtype),
            out=np.empty((n_rows, n_steps, width), dtype=dtype),
            d=np.empty((n_rows, n_steps, width), dtype=dtype),
            no_mask=np.ones((1, 1), dtype=dtype),
        )
        return buffers

    def forward(self, x, arrays, batch):
        """Project, attend per head, project back."""
        b, p, n = arrays.buffers, arrays.params, batch.n
        n_steps, width = arrays.in_shape
        rows = n * n_steps
        masked = batch.mask is not None
        if masked:
            check_mask(self, batch.mask, n, n_steps)
        qkv, context = b["qkv"][:rows], b["context"][:rows]
        dense_forward(
            x.reshape(rows, width), p["qkv_kernel"], p["qkv_bias"], IDENTITY, qkv, qkv
        )
        attention_forward(
            qkv,
            self.num_heads,
            head_size(self, width),
            batch.mask if masked else b["no_mask"],
            masked,
            self.causal,
            b["q"][:n],
            b["k"][:n],
            b["v"][:n],
            b["weights"][:n],
            b["context_h"][:n],
            context,
        )
        out = b["out"][:n]
        out_rows = out.reshape(rows, width)
        dense_forward(
            context, p["output_kernel"], p["output_bias"], IDENTITY, out_rows, out_rows
        )
        return out

    def backward(self, x, arrays, batch, d_x):
        """Projection gradients and (unless ``d_x`` is None) ``d_x``."""
        b, p, g, n = arrays.buffers, arrays.params, arrays.grads, batch.n
        n_steps, width = arrays.in_shape
        rows = n * n_steps
        d_rows = b["d"][:n].reshape(rows, width)
        out_rows = b["out"][:n].reshape(rows, width)
        d_context, d_qkv = b["d_context"][:rows], b["d_qkv"][:rows]
        dense_backward(
            b["context"][:rows],
            p["output_kernel"],
            out_rows,
            out_rows,
            IDENTITY,
            d_rows,
            g["output_kernel"],
            g["output_bias"],
            d_context,
            True,
        )
        attention_backward(
            d_context,
            self.num_heads,
            head_size(self, width),
            b["q"][:n],
            b["k"][:n],
            b["v"][:n],
            b["weights"][:n],
            b["d_context_h"][:n],
            b["d_weights"][0],
            b["d_q"][:n],
            b["d_k"][:n],
            b["d_v"][:n],
            d_qkv,
        )
        qkv = b["qkv"][:rows]
        want = d_x is not None
        dense_backward(
            x.reshape(rows, width),
            p["qkv_kernel"],
            qkv,
            qkv,
            IDENTITY,
            d_qkv,
            g["qkv_kernel"],
            g["qkv_bias"],
            d_x.reshape(rows, width) if want else d_rows,
            want,
        )
