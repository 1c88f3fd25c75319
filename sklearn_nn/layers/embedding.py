"""Layers for sequences of tokens: Embedding and PositionalEncoding (Keras semantics).

A text model starts from token ids (e.g. from ``sklearn_nn.preprocessing.
TokenSequencer``), one row of ``timesteps`` ids per sample, stored as floats like
every X of this package. ``Embedding`` turns each id into a learned vector;
``PositionalEncoding`` adds where in the sequence each vector sits.
"""

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .._initializers import INITIALIZERS
from .._kernels.embedding import (
    count_bad_ids,
    embedding_backward,
    embedding_forward,
    embedding_mask,
)
from .base import Layer, ParamSpec, check_bool, check_positive_int

__all__ = ["Embedding", "PositionalEncoding", "sinusoidal_encoding"]

#: the initialisers ``Embedding`` takes: Keras's default "uniform", U(-0.05, 0.05),
#: and the variance-scaling ones (fans: input_dim, output_dim, as Keras counts them)
EMBEDDING_INITIALIZERS = ("uniform",) + tuple(INITIALIZERS)


@dataclass(frozen=True)
class Embedding(Layer):
    """Turn token ids into dense vectors: row ``id`` of a learned table.

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary: ids are integers in ``[0, input_dim)``. For ids from
        ``TokenSequencer(vocabulary_size=v)``, ``input_dim=v``.
    output_dim : int
        Length of each token's vector.
    mask_zero : bool, default=False
        Whether id 0 is padding: the layer then makes a mask (1.0 for real
        timesteps, 0.0 for padding) that the layers above get as ``batch.mask``
        (see ``Layer.makes_mask``), and ``input_dim`` must be >= 2. Id 0 still
        looks up its row of the table, as in Keras.
    embeddings_initializer : str, default="uniform"
        "uniform" (U(-0.05, 0.05), Keras's default) or one of
        ``sklearn_nn._initializers.INITIALIZERS``.
    trainable : bool, default=True
        False freezes the table (e.g. pretrained word vectors).

    Notes
    -----
    Samples have shape ``(timesteps,)`` (ids as floats); outputs ``(timesteps,
    output_dim)``. The table is the parameter ``"embeddings"`` of shape
    ``(input_dim, output_dim)``, penalised by ``alpha`` and ``l1``.

    Embedding must be the network's first layer: its input is data, never another
    layer's output, so it has no input gradient (``backward`` refuses a ``d_x``).
    Ids that are not integers in ``[0, input_dim)`` raise a ValueError, in
    ``check_input`` on the whole X and again in every forward pass. float32 X holds
    ids exactly up to 2**24 (16.7 million tokens).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import NeuralNetClassifier
    >>> from sklearn_nn.layers import Embedding, Flatten
    >>> Embedding(17, 4).output_shape((64,))  # 64 ids in, 64 vectors of 4 out
    (64, 4)
    >>> X, y = load_digits(return_X_y=True)  # pixel values 0-16 as token ids
    >>> clf = NeuralNetClassifier([Embedding(17, 4), Flatten()],
    ...                           learning_rate_init=0.01, random_state=0)
    >>> bool(clf.fit(X, y).score(X, y) > 0.9)
    True
    """

    input_dim: int
    output_dim: int
    mask_zero: bool = False
    embeddings_initializer: str = "uniform"

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.input_dim, "Embedding input_dim")
        check_positive_int(self.output_dim, "Embedding output_dim")
        check_bool(self, "mask_zero")
        if self.mask_zero and self.input_dim < 2:
            raise ValueError(
                "Embedding with mask_zero=True reserves id 0 for padding, so "
                f"input_dim must be >= 2 (vocabulary + 1), got {self.input_dim}."
            )
        if self.embeddings_initializer not in EMBEDDING_INITIALIZERS:
            raise ValueError(
                "Embedding embeddings_initializer must be one of "
                f"{', '.join(EMBEDDING_INITIALIZERS)}, got "
                f"{self.embeddings_initializer!r}."
            )

    @property
    def makes_mask(self):
        """With ``mask_zero``, forward writes ``buffers["mask"]``."""
        return self.mask_zero

    def output_shape(self, in_shape):
        """``(timesteps, output_dim)``; samples must be sequences ``(timesteps,)``."""
        if len(in_shape) != 1:
            raise ValueError(
                "Embedding expects samples of token ids of shape (timesteps,), got "
                f"samples of shape {tuple(in_shape)}."
            )
        return (in_shape[0], self.output_dim)

    def param_specs(self, in_shape):
        """``embeddings`` (input_dim, output_dim), penalised."""
        shape = (self.input_dim, self.output_dim)
        init = self.embeddings_initializer
        return [ParamSpec("embeddings", shape, init, shape, True)]

    def check_input(self, X):
        """A ValueError naming the values of X that are not ids in [0, input_dim)."""
        X = np.asarray(X)
        if X.dtype.kind not in "iuf":
            raise ValueError(
                f"{self._name} takes token ids as numbers, got an array of dtype "
                f"{X.dtype}; sklearn_nn.preprocessing.TokenSequencer maps text to ids."
            )
        if X.size == 0:
            return
        counts = count_bad_ids(
            X.reshape(X.shape[0] if X.ndim else 1, -1), self.input_dim
        )
        if any(counts):
            raise ValueError(self._bad_ids_message(X, counts))

    @property
    def _name(self):
        return f"Embedding(input_dim={self.input_dim})"

    def _bad_ids_message(self, X, counts):
        """What is wrong with the ids of X, by kind, with an example of each."""
        n_nan, n_negative, n_too_large, n_fractional = counts
        numbers = X[X == X]  # NaN left out
        problems = [f"NaN: {n_nan}"] if n_nan else []
        if n_negative:
            problems.append(f"negative: {n_negative} (smallest {numbers.min()})")
        if n_too_large:
            problems.append(f">= input_dim: {n_too_large} (largest {numbers.max()})")
        if n_fractional:
            finite = numbers[np.isfinite(numbers)]
            example = finite[finite != np.floor(finite)][0]
            problems.append(f"non-integer: {n_fractional} (e.g. {example})")
        return (
            f"{self._name} takes token ids, integers in [0, {self.input_dim}), as the "
            f"network's first layer; bad ids in the input: {'; '.join(problems)}. "
            "sklearn_nn.preprocessing.TokenSequencer maps text to valid ids."
        )

    def _refuse_bad_ids(self, ids):
        """Called when a kernel met bad ids: the ValueError naming them."""
        self.check_input(ids)
        raise ValueError(f"{self._name} met invalid token ids.")  # not reached

    def allocate(self, in_shape, n_rows, dtype):
        """Outputs, their gradients and, with ``mask_zero``, the mask."""
        a = np.empty((n_rows, in_shape[0], self.output_dim), dtype=dtype)
        buffers = {"a": a, "d": np.empty_like(a)}
        if self.mask_zero:
            buffers["mask"] = np.empty((n_rows, in_shape[0]), dtype=dtype)
        return buffers

    def forward(self, x, arrays, batch):
        """Look up each id's row; write the mask with ``mask_zero``."""
        buffers, n = arrays.buffers, batch.n
        ids = x.reshape(n, -1)
        out = buffers["a"][:n]
        if embedding_forward(ids, arrays.params["embeddings"], out):
            self._refuse_bad_ids(ids)
        if self.mask_zero:
            embedding_mask(ids, buffers["mask"][:n])
        return out

    def backward(self, x, arrays, batch, d_x):
        """Scatter-add the output gradient into the table's rows."""
        if d_x is not None:
            raise ValueError(
                f"{self._name} must be the network's first layer: it takes token ids, "
                "not another layer's output, and has no input gradient."
            )
        n = batch.n
        ids = x.reshape(n, -1)
        d = arrays.buffers["d"][:n]
        if embedding_backward(ids, d, arrays.grads["embeddings"]):
            self._refuse_bad_ids(ids)


def sinusoidal_encoding(timesteps, features, max_wavelength=10000.0):
    """The sinusoidal position encoding of "Attention is all you need".

    ``PE[t, 2i] = sin(t / max_wavelength**(2i / features))`` and ``PE[t, 2i + 1] =
    cos(t / max_wavelength**(2i / features))``; with an odd number of features the
    last column is a sine.

    Parameters
    ----------
    timesteps : int
        Number of positions, from 0.
    features : int
        Number of features of each position.
    max_wavelength : float, default=10000.0
        The base of the wavelengths' geometric progression.

    Returns
    -------
    ndarray of shape (timesteps, features)
        In float64.
    """
    t = np.arange(timesteps, dtype=np.float64)[:, None]
    column = np.arange(features)
    even = column - column % 2  # 2i for both columns of a sine/cosine pair
    angle = t / max_wavelength ** (even / features)
    return np.where(column % 2 == 0, np.sin(angle), np.cos(angle))


@dataclass(frozen=True)
class PositionalEncoding(Layer):
    """Add the sinusoidal encoding of each timestep's position to a sequence.

    ``out[t, f] = x[t, f] + PE[t, f]`` with ``PE`` of ``sinusoidal_encoding``, the
    encoding of "Attention is all you need" (Keras Hub's ``SinePositionEncoding``,
    added to its input). Positions start at 0.

    Parameters
    ----------
    max_wavelength : float, default=10000.0
        The base of the wavelengths (10000 in the paper).

    Notes
    -----
    Samples have shape ``(timesteps, features)``, e.g. the output of
    ``Embedding``; the output has the same shape. No parameters; a padding mask
    passes through (``passes_mask``): padded timesteps are encoded too, as in Keras.

    Examples
    --------
    >>> from sklearn_nn.layers import Embedding, PositionalEncoding
    >>> PositionalEncoding().output_shape(Embedding(1000, 16).output_shape((20,)))
    (20, 16)
    """

    max_wavelength: float = 10000.0

    passes_mask = True

    def __post_init__(self):
        super().__post_init__()
        w = self.max_wavelength
        if isinstance(w, bool) or not isinstance(w, Real) or not 1 < w < math.inf:
            raise ValueError(
                f"PositionalEncoding max_wavelength must be a float > 1, got {w!r}."
            )

    def output_shape(self, in_shape):
        """The input's shape; samples must be sequences ``(timesteps, features)``."""
        if len(in_shape) != 2:
            raise ValueError(
                "PositionalEncoding expects sequences, samples of shape (timesteps, "
                f"features), got samples of shape {tuple(in_shape)}."
            )
        return tuple(in_shape)

    def allocate(self, in_shape, n_rows, dtype):
        """The encoding table ``"pe"``, outputs and their gradients."""
        a = np.empty((n_rows,) + tuple(in_shape), dtype=dtype)
        pe = sinusoidal_encoding(*in_shape, self.max_wavelength).astype(dtype)
        return {"pe": pe, "a": a, "d": np.empty_like(a)}

    def forward(self, x, arrays, batch):
        """``x + PE``, the table broadcast over the batch."""
        out = arrays.buffers["a"][: batch.n]
        np.add(x.reshape(out.shape), arrays.buffers["pe"], out=out)
        return out

    def backward(self, x, arrays, batch, d_x):
        """``d_x = d``: the encoding is a constant."""
        if d_x is not None:
            d = arrays.buffers["d"][: batch.n]
            d_x.reshape(d.shape)[...] = d
