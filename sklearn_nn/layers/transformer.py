"""TransformerEncoder: self-attention and a feed-forward block, each with a residual
connection and layer normalisation, as one layer spec."""

from dataclasses import dataclass
from numbers import Real

import numpy as np

from .._threads import BATCH_PARTS, part_bounds
from .attention import MultiHeadSelfAttention, check_sequences, head_size
from .base import (
    Batch,
    Layer,
    LayerArrays,
    check_bool,
    check_positive_int,
    unprefixed,
)
from .core import Dense, Dropout, check_activation
from .normalization import LayerNormalization

__all__ = ["TransformerEncoder"]


#: buffers of the parts that are not per row (shared by every part)
_SHARED = frozenset({"zero_bias", "unused_d_b", "no_mask", "code", "d_weights"})


def _rows_of(value, name, n_alloc, lo, hi):
    """Rows ``[lo, hi)`` of a part's buffer allocated for ``n_alloc`` rows (an
    array of ``k * n_alloc`` entries holds k per row); other values as they are."""
    if (
        name in _SHARED
        or not isinstance(value, np.ndarray)
        or value.ndim == 0
        or value.shape[0] % n_alloc
    ):
        return value
    per_row = value.shape[0] // n_alloc
    return value[lo * per_row : hi * per_row]


@dataclass(frozen=True)
class TransformerEncoder(Layer):
    """One Transformer encoder block (Vaswani et al., 2017; post-norm, as
    ``torch.nn.TransformerEncoderLayer`` and Keras Hub's ``TransformerEncoder``).

    ``y = LayerNorm(x + Dropout(MultiHeadSelfAttention(x)))``, then
    ``out = LayerNorm(y + Dropout(Dense(Dense(y, ff_units, activation))))``, the
    dense layers applied at each timestep. Padded timesteps of a mask get no
    attention; the mask is passed on.

    Parameters
    ----------
    num_heads : int
        Attention heads.
    key_dim : int or None, default=None
        Size of each head; None is the model width (the input's features) over
        ``num_heads``, which must divide it.
    ff_units : int, default=128
        Width of the feed-forward block's hidden layer.
    dropout : float, default=0.0
        Dropout rate after the attention and after the feed-forward block.
    activation : str, default="relu"
        The feed-forward block's hidden activation.
    causal : bool, default=False
        Causal attention (each timestep sees itself and earlier ones only).
    epsilon : float, default=1e-5
        The layer normalisations' epsilon (PyTorch's default).
    kernel_initializer : str or None, default=None
        Initialiser of every projection (None: the estimator's ``weight_init``).
    trainable : bool, default=True
        False freezes the block (see ``Layer``).

    Notes
    -----
    The parameters are those of its parts, prefixed: ``attention_`` (see
    ``MultiHeadSelfAttention``), ``norm1_``, ``ff1_``, ``ff2_`` (``kernel`` and
    ``bias``), ``norm2_`` (``gamma`` and ``beta``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import NeuralNetClassifier
    >>> from sklearn_nn.layers import Flatten, TransformerEncoder
    >>> TransformerEncoder(num_heads=2, ff_units=16).output_shape((8, 8))
    (8, 8)
    >>> X, y = load_digits(return_X_y=True)  # rows as 8 timesteps of 8 pixels
    >>> clf = NeuralNetClassifier([TransformerEncoder(2, ff_units=16), Flatten()],
    ...     input_shape=(8, 8), learning_rate_init=0.01, random_state=0)
    >>> bool(clf.fit(X[:300] / 16, y[:300]).score(X[:300] / 16, y[:300]) > 0.9)
    True
    """

    num_heads: int
    key_dim: int | None = None
    ff_units: int = 128
    dropout: float = 0.0
    activation: str = "relu"
    causal: bool = False
    epsilon: float = 1e-5
    kernel_initializer: str | None = None

    uses_mask = True
    passes_mask = True

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.ff_units, "TransformerEncoder ff_units")
        check_activation(self.activation, "TransformerEncoder")
        check_bool(self, "causal")
        if isinstance(self.dropout, bool) or not (
            isinstance(self.dropout, Real) and 0 <= self.dropout < 1
        ):
            raise ValueError(
                f"TransformerEncoder dropout must be in [0, 1), got {self.dropout!r}."
            )
        # the parts check their own arguments
        MultiHeadSelfAttention(
            self.num_heads, self.key_dim, self.causal, self.kernel_initializer
        )
        LayerNormalization(self.epsilon)

    @property
    def needs_rng(self):
        """Dropout draws masks in training when ``dropout > 0``."""
        return self.dropout > 0

    def _parts(self, in_shape):
        """(prefix, layer, sample shape it sees, rows per sample) of each part."""
        n_steps, width = in_shape
        sequence, row = (n_steps, width), (width,)
        init = self.kernel_initializer
        attention = MultiHeadSelfAttention(
            self.num_heads, self.key_dim, self.causal, init
        )
        return [
            ("attention_", attention, sequence, 1),
            ("drop1_", Dropout(self.dropout), sequence, 1),
            ("norm1_", LayerNormalization(self.epsilon), sequence, 1),
            ("ff1_", Dense(self.ff_units, self.activation, True, init), row, n_steps),
            ("ff2_", Dense(width, "identity", True, init), (self.ff_units,), n_steps),
            ("drop2_", Dropout(self.dropout), sequence, 1),
            ("norm2_", LayerNormalization(self.epsilon), sequence, 1),
        ]

    def output_shape(self, in_shape):
        """The input's shape, ``(timesteps, features)``."""
        check_sequences(self, in_shape)
        head_size(self, in_shape[1])
        return tuple(in_shape)

    def param_specs(self, in_shape):
        """Every part's parameters, prefixed by the part."""
        return [
            spec._replace(name=prefix + spec.name)
            for prefix, layer, shape, _ in self._parts(in_shape)
            for spec in layer.param_specs(shape)
        ]

    def allocate(self, in_shape, n_rows, dtype):
        """Each part's buffers (the parts' gradients chained: each part's ``"d"``
        is where the part above writes), and the residual sums."""
        parts = {
            prefix: layer.allocate(shape, n_rows * rows, dtype)
            for prefix, layer, shape, rows in self._parts(in_shape)
        }
        sequences = (n_rows,) + tuple(in_shape)
        parts["sum1"] = np.empty(sequences, dtype=dtype)  # x + attention
        parts["sum2"] = np.empty(sequences, dtype=dtype)  # y + feed-forward
        parts["d_sum1"] = parts["drop1_"]["d"]
        parts["d_sum2"] = parts["drop2_"]["d"]
        parts["d"] = parts["norm2_"]["d"]
        parts["n_rows"] = n_rows
        # the attention's backward scratch, one per batch part
        n_steps = in_shape[0]
        parts["part_scratch"] = np.empty((BATCH_PARTS, n_steps, n_steps), dtype=dtype)
        parts["cache"] = {}  # per part, filled by _local
        parts["part_grads"] = {
            spec.name: np.empty((BATCH_PARTS,) + tuple(spec.shape), dtype=dtype)
            for spec in self.param_specs(in_shape)
        }
        return parts

    @property
    def splits_batch(self):
        """Without dropout the block runs its batch in parts on threads (each part
        through the whole block); dropout draws from one generator per batch."""
        return self.dropout == 0

    def _local(self, arrays, batch):
        """The parts' LayerArrays (by prefix, with rows per sample) and the
        block's own buffers, for rows ``[lo, hi)`` of the batch, and the batch as
        those rows see it. Made once per part and kept in the buffers."""
        buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
        split = self.splits_batch
        key = (lo, hi, batch.part, split)
        cached = buffers["cache"].get(key)
        if cached is None:
            cached = buffers["cache"][key] = self._make_local(arrays, batch, split)
        parts, own = cached
        mask = None if batch.mask is None else batch.mask[lo:hi]
        local = Batch(hi - lo, 0, hi - lo, 0, batch.training, batch.rng, mask)
        return parts, own, local

    def _make_local(self, arrays, batch, split):
        buffers, lo, hi = arrays.buffers, batch.lo, batch.hi
        n_rows = buffers["n_rows"]
        grads = arrays.grads
        if split and grads:  # this part's gradients, summed by reduce_gradients
            grads = {k: v[batch.part] for k, v in buffers["part_grads"].items()}
        parts = {}
        for prefix, layer, shape, rows in self._parts(arrays.in_shape):
            sub = {
                k: _rows_of(v, k, n_rows * rows, lo * rows, hi * rows)
                for k, v in buffers[prefix].items()
            }
            if prefix == "attention_":
                k = batch.part
                sub["d_weights"] = buffers["part_scratch"][k : k + 1]
            params = unprefixed(arrays.params, prefix)
            part = LayerArrays(params, unprefixed(grads, prefix), {}, sub, shape)
            parts[prefix] = (layer, part, rows)
        own = {k: buffers[k][lo:hi] for k in ("sum1", "sum2", "d_sum1", "d_sum2")}
        return parts, own

    def reduce_gradients(self, arrays, n):
        """Sum the parts' parameter gradients, in part order."""
        n_parts = len(part_bounds(n))
        for name, parts in arrays.buffers["part_grads"].items():
            np.sum(parts[:n_parts], axis=0, out=arrays.grads[name])

    @staticmethod
    def _batch(batch, rows):
        """The batch as a part sees it: ``rows`` rows per sample (the dense
        layers run on every timestep of every sample)."""
        if rows == 1:
            return batch
        return Batch(batch.n * rows, 0, batch.n * rows, 0, batch.training, None)

    def forward(self, x, arrays, batch):
        """Attention block, then feed-forward block, each residual and normed,
        for rows ``[lo, hi)``; returns the output of all rows."""
        parts, own, local = self._local(arrays, batch)
        x = x.reshape((batch.n,) + tuple(arrays.in_shape))[batch.lo : batch.hi]
        self._forward_rows(x, parts, own, local)
        return arrays.buffers["norm2_"]["a"][: batch.n]

    def _forward_rows(self, x, parts, own, batch):
        n = batch.n
        outputs = {}
        h = x
        for prefix in ("attention_", "drop1_"):
            layer, part, rows = parts[prefix]
            h = outputs[prefix] = layer.forward(h, part, self._batch(batch, rows))
        sum1 = own["sum1"][:n]
        np.add(x, h, out=sum1)
        layer, part, _ = parts["norm1_"]
        y = outputs["norm1_"] = layer.forward(sum1, part, batch)
        h = y.reshape(-1, y.shape[-1])
        for prefix in ("ff1_", "ff2_", "drop2_"):
            layer, part, rows = parts[prefix]
            if prefix == "drop2_":
                h = h.reshape(y.shape)
            h = outputs[prefix] = layer.forward(h, part, self._batch(batch, rows))
        sum2 = own["sum2"][:n]
        np.add(y, h, out=sum2)
        layer, part, _ = parts["norm2_"]
        layer.forward(sum2, part, batch)

    def backward(self, x, arrays, batch, d_x):
        """Back through both blocks for rows ``[lo, hi)``; residual gradients
        added where they join."""
        parts, b, local = self._local(arrays, batch)
        full = (batch.n,) + tuple(arrays.in_shape)
        x = x.reshape(full)[batch.lo : batch.hi]
        if d_x is not None:
            d_x = d_x.reshape(full)[batch.lo : batch.hi]
        batch, n = local, local.n
        shape = (n,) + tuple(arrays.in_shape)
        sum1, sum2 = b["sum1"][:n], b["sum2"][:n]
        d_sum1, d_sum2 = b["d_sum1"][:n], b["d_sum2"][:n]

        def run(prefix, inputs, d_in):
            layer, part, rows = parts[prefix]
            layer.backward(inputs, part, self._batch(batch, rows), d_in)

        norm1_out = parts["norm1_"][1].buffers["a"][:n]
        ff1_out = parts["ff1_"][1].buffers["a"][: n * shape[1]]
        ff2_out = parts["ff2_"][1].buffers["a"][: n * shape[1]]
        d_y = parts["norm1_"][1].buffers["d"][:n]
        run("norm2_", sum2, d_sum2)
        d_ff2 = parts["ff2_"][1].buffers["d"][: n * shape[1]]
        run("drop2_", ff2_out.reshape(shape), d_ff2)
        run("ff2_", ff1_out, parts["ff1_"][1].buffers["d"][: n * shape[1]])
        run("ff1_", norm1_out.reshape(-1, shape[2]), d_y.reshape(-1, shape[2]))
        d_y += d_sum2.reshape(d_y.shape)  # the residual around the feed-forward
        run("norm1_", sum1, d_sum1)
        attention_out = parts["attention_"][1].buffers["out"][:n]
        run("drop1_", attention_out, parts["attention_"][1].buffers["d"][:n])
        run("attention_", x, d_x)
        if d_x is not None:
            d_x.reshape(shape)[...] += d_sum1.reshape(shape)
