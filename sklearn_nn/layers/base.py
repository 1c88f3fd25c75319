"""The layer contract: what every layer spec declares, and what the engine gives it.

A layer spec is a small frozen dataclass of hyperparameters (no arrays), so an estimator
holding a list of them stays ``clone``-able, picklable and grid-searchable. The engine
(``sklearn_nn._network``) never asks which class a layer is: it reads the declarations
and flags below, and calls the same four methods on every layer.
"""

from dataclasses import dataclass, field
from numbers import Integral
from typing import NamedTuple

import numpy as np

__all__ = ["Batch", "Layer", "LayerArrays", "ParamSpec", "StateSpec"]


class CSRRows(NamedTuple):
    """A mini-batch of a CSR matrix: the rows ``rows`` of (data, indices, indptr)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    rows: np.ndarray


class ParamSpec(NamedTuple):
    """One trainable parameter array of a layer.

    Attributes
    ----------
    name : str
        Its name within the layer: "kernel" and "bias" for Dense-like layers (the
        estimators' ``coefs_`` / ``intercepts_`` are views of these), "gamma" and
        "beta" for normalisation layers.
    shape : tuple of int
        Its shape.
    init : str
        The initialiser: a key of ``sklearn_nn._initializers.INITIALIZERS``, or
        None for the estimator's ``weight_init``.
    fans : tuple of (int, int)
        ``(fan_in, fan_out)`` for the variance-scaling initialisers.
    penalized : bool
        Whether ``alpha`` (L2) and ``l1`` apply to it.

    Examples
    --------
    >>> from sklearn_nn.layers import Dense
    >>> kernel, bias = Dense(4).param_specs((3,))
    >>> kernel
    ParamSpec(name='kernel', shape=(3, 4), init=None, fans=(3, 4), penalized=True)
    >>> bias.name, bias.shape, bias.penalized
    ('bias', (4,), False)
    """

    name: str
    shape: tuple
    init: str | None
    fans: tuple = (1, 1)
    penalized: bool = False


class StateSpec(NamedTuple):
    """One non-trainable state array of a layer (e.g. a running mean).

    Attributes
    ----------
    name : str
        Its name within the layer.
    shape : tuple of int
        Its shape.
    fill : float
        Its initial value.

    Examples
    --------
    >>> from sklearn_nn.layers import BatchNormalization
    >>> BatchNormalization().state_specs((8,))
    [StateSpec(name='moving_mean', shape=(8,), fill=0.0),
     StateSpec(name='moving_variance', shape=(8,), fill=1.0)]
    """

    name: str
    shape: tuple
    fill: float = 0.0


class Batch(NamedTuple):
    """Which rows a ``forward`` / ``backward`` call handles.

    Attributes
    ----------
    n : int
        Rows in the whole batch; the layer's buffers hold at least this many.
    lo, hi : int
        The rows ``[lo, hi)`` of it this call computes: ``(0, n)`` for a layer that
        does not split its batch, one part of it (see ``sklearn_nn._threads``) for
        one that does.
    part : int
        Index of that part (0 when not split): where a split layer puts its part's
        parameter gradients before ``reduce_gradients`` sums them.
    training : bool
        Training mode (dropout active, batch statistics) or inference.
    rng : RowRandom or None
        Random numbers for layers that need them in training:
        ``rng.uniform(out)`` fills ``out`` (n, m) with draws on [0, 1) keyed by
        each sample's content, the seed and the epoch (see
        ``sklearn_nn._training.RowRandom``); call it once per forward.
    mask : ndarray of shape (n, timesteps) or None
        Which timesteps of each sequence are real (1.0) and which are padding
        (0.0), when a layer below makes a mask (``Embedding(mask_zero=True)``)
        and every layer between passes it on (``passes_mask``); else None.
        Layers that pool or attend over time leave padding out.
    n_threads : int
        Threads the network runs on (a layer may cut its own work into parts).

    Examples
    --------
    >>> from sklearn_nn.layers import Batch
    >>> batch = Batch(n=8, lo=0, hi=4, training=True)  # rows [0, 4) of 8
    >>> batch
    Batch(n=8, lo=0, hi=4, part=0, training=True, rng=None, mask=None, n_threads=1)
    """

    n: int
    lo: int
    hi: int
    part: int = 0
    training: bool = False
    rng: object = None
    mask: object = None
    n_threads: int = 1


class LayerArrays:
    """One layer's arrays during one fit or predict, as the engine hands them over.

    Attributes
    ----------
    params : dict of str to ndarray
        Views into the network's flat parameter buffer, by ``ParamSpec.name``.
    grads : dict of str to ndarray
        The same views into the gradient buffer (empty at predict time).
    state : dict of str to ndarray
        Views into the network's flat state buffer, by ``StateSpec.name``.
    buffers : dict of str to ndarray
        What ``Layer.allocate`` returned.
    in_shape : tuple of int
        Shape of one input sample.
    constants : dict
        Arrays a compressed model's layer predicts with besides its parameters
        (a quantised Dense layer's int8 weights: ``{"int8": ...}``); else empty.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn.layers import Batch, Dense, LayerArrays
    >>> dense = Dense(2, activation="identity")
    >>> params = {"kernel": np.ones((3, 2)), "bias": np.zeros(2)}
    >>> arrays = LayerArrays(params, {}, {}, dense.allocate((3,), 4, float), (3,))
    >>> dense.forward(np.ones((4, 3)), arrays, Batch(n=4, lo=0, hi=4)).tolist()
    [[3.0, 3.0], [3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]
    """

    __slots__ = ("params", "grads", "state", "buffers", "in_shape", "out", "constants")

    def __init__(self, params, grads, state, buffers, in_shape, constants=None):
        self.params = params
        self.grads = grads
        self.state = state
        self.buffers = buffers
        self.in_shape = in_shape
        self.constants = {} if constants is None else constants
        self.out = None  # the last forward's output, kept for backward


def unprefixed(named, prefix):
    """The entries of ``named`` whose names start with ``prefix``, without it: a
    composite layer's view of one part's parameters (e.g. ``forward_kernel``)."""
    return {k[len(prefix) :]: v for k, v in named.items() if k.startswith(prefix)}


def check_positive_int(value, what):
    """``value`` if it is an int >= 1 (bools refused), else a ValueError."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}.")
    return value


def check_mask(layer, mask, n, n_steps):
    """A ValueError unless ``mask`` is (n, n_steps): a kernel indexes it so."""
    if getattr(mask, "shape", None) != (n, n_steps):
        raise ValueError(
            f"{layer!r} needs a padding mask of shape {(n, n_steps)}, got "
            f"{getattr(mask, 'shape', mask)}."
        )


def check_bool(layer, name):
    """Store ``layer.name`` as a bool (numpy bools too), or a TypeError."""
    value = getattr(layer, name)
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{type(layer).__name__} {name} must be a bool, got {value!r}.")
    object.__setattr__(layer, name, bool(value))


@dataclass(frozen=True)
class Layer:
    """Base class of every layer spec: the contract between a layer and the engine.

    A subclass is a frozen dataclass of hyperparameters; it declares its arrays and
    flags, and implements ``output_shape``, ``allocate``, ``forward`` and
    ``backward`` (plus ``param_specs`` / ``state_specs`` if it has arrays).

    **Shapes** exclude the batch axis: ``(n_features,)`` for vectors,
    ``(timesteps, features)`` for sequences, ``(height, width, channels)`` for
    images (channels-last). Inputs arrive as ``(n, *in_shape)`` arrays or as the
    same memory with fewer axes (e.g. flat rows ``(n, prod(in_shape))``): reshape
    them, it is a view.

    **Parameters** (``param_specs``) live in one flat buffer shared by the whole
    network: penalised trainable ones first (so the L2/L1 penalty is one prefix),
    then the other trainable ones, then those of frozen layers. Each gets its
    initialiser from its ``ParamSpec``. **State** (``state_specs``), e.g. running
    statistics, lives in a second flat buffer: not trained, not penalised, saved
    with the fitted model and copied wherever parameters are (rollback of a failed
    fit, best epoch under early stopping, last epoch after an interrupt,
    warm_start and partial_fit).

    **Buffers**: ``allocate`` returns a dict of arrays for up to ``n_rows``
    samples, made once per fit (nothing allocates in the batch loop). It must hold
    ``"d"``, of shape ``(n_rows, *output_shape)`` (or the same size flat): the
    gradient of the loss w.r.t. the layer's output, which the layer above (or the
    loss) writes before ``backward`` runs. Any other key is the layer's own.

    **Calls**: ``forward(x, arrays, batch)`` computes rows ``[batch.lo,
    batch.hi)`` of the output and returns the output array for all ``batch.n``
    rows (a buffer, a view of ``x``, or ``x`` itself); ``backward(x, arrays,
    batch, d_x)`` reads ``buffers["d"]`` (and may overwrite it), writes the
    parameter gradients into ``arrays.grads`` and, unless ``d_x`` is None (no
    trainable parameter below), the input gradient into rows ``[lo, hi)`` of
    ``d_x``. A layer that splits its batch writes part ``batch.part``'s parameter
    gradients into its own buffers, and ``reduce_gradients`` sums them once all
    parts are done.

    Parameters
    ----------
    trainable : bool, default=True
        False freezes the layer: its parameters are neither updated nor
        penalised (fine-tuning a pretrained network; see ``sklearn_nn.Pretrained``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nn.layers import Dense, Layer
    >>> layer = Dense(4)  # a Layer: one sample of 3 features in, 4 out
    >>> isinstance(layer, Layer), layer.output_shape((3,))
    (True, (4,))
    >>> layer.allocate((3,), 10, np.float32)["d"].shape  # buffers for 10 rows
    (10, 4)
    """

    trainable: bool = field(default=True, kw_only=True)

    #: draws random numbers in training (gets ``batch.rng``); L-BFGS refuses it
    needs_rng = False
    #: gives the same result over row chunks of a batch as over the whole batch
    #: (False for batch statistics); L-BFGS's objective runs over row chunks
    row_chunks = True
    #: runs its batch in parts on threads: consecutive such layers run part by part
    #: in one parallel region (see ``sklearn_nn._threads``)
    splits_batch = False
    #: takes a sparse CSR input (``CSRRows``) as the network's first layer
    accepts_sparse = False
    #: writes a padding mask ``buffers["mask"][:n]`` (n, timesteps) in forward
    #: (1.0 real, 0.0 padding), handed to the layers above as ``batch.mask``
    makes_mask = False
    #: keeps the time axis position by position, so a mask of its input is also
    #: one of its output; the first layer that does not ends the mask
    passes_mask = False
    #: reads ``batch.mask`` and leaves padding out (pooling, attention, recurrence);
    #: a mask reaching a layer that neither uses nor passes it draws a warning
    uses_mask = False

    def __post_init__(self):
        check_bool(self, "trainable")

    def output_shape(self, in_shape):
        """Shape of one output sample; a ValueError naming the layer if it cannot
        take inputs of shape ``in_shape``."""
        raise NotImplementedError

    def param_specs(self, in_shape):
        """The trainable parameters, a list of ``ParamSpec`` (none by default)."""
        return []

    def state_specs(self, in_shape):
        """The non-trainable state arrays, a list of ``StateSpec`` (none by
        default)."""
        return []

    def check_input(self, X):
        """A ValueError if the network's input ``X`` (all rows, as 2-D or of the
        samples' shape) is not valid for this layer as the first layer (e.g.
        token ids out of range); run on the whole X before any kernel."""

    def min_training_rows(self, in_shape):
        """Fewest samples a training batch may have (2 for batch statistics over
        rows: one sample has no variance); checked before training starts."""
        return 1

    def allocate(self, in_shape, n_rows, dtype):
        """Buffers for up to ``n_rows`` samples: a dict holding at least ``"d"``."""
        raise NotImplementedError

    def forward(self, x, arrays, batch):
        """Output rows ``[batch.lo, batch.hi)``; return the output for all rows."""
        raise NotImplementedError

    def backward(self, x, arrays, batch, d_x):
        """Parameter gradients and (unless ``d_x`` is None) the input gradient."""
        raise NotImplementedError

    def reduce_gradients(self, arrays, n):
        """Combine the parts' parameter gradients (split layers with parameters)."""
