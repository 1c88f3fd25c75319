"""Public layer specifications, all on the one contract of ``Layer``.

A layer spec holds hyperparameters only (no arrays), so an estimator that takes a list
of them stays ``clone``-able, picklable and grid-searchable. At fit time the engine asks
each spec for its parameters, state and buffers (``Layer.param_specs``,
``Layer.state_specs``, ``Layer.allocate``) and calls its ``forward`` / ``backward``,
which run the Numba kernels of ``sklearn_nn._kernels``.

=================== ============================== =================================
module              layers                         kernels
=================== ============================== =================================
``base.py``         Layer (the contract)           --
``core.py``         Dense, Activation, Dropout,    dense, activations, dropout
                    Flatten, Reshape
``conv.py``         Conv2D, ChannelsFirstToLast    conv2d, layout
``pooling.py``      MaxPool2D, AvgPool2D           pooling
``normalization``   BatchNormalization,            normalization
                    LayerNormalization
``recurrent.py``    SimpleRNN, GRU, LSTM           recurrent
``bidirectional``   Bidirectional                  recurrent
``sequence_conv``   Conv1D, MaxPool1D,             conv2d, pooling (as 1 x timesteps
                    GlobalAveragePooling1D,        images), pooling1d
                    GlobalMaxPooling1D
``embedding.py``    Embedding, PositionalEncoding  embedding
``attention.py``    MultiHeadSelfAttention         attention, dense
``transformer.py``  TransformerEncoder             attention, dense, normalization,
                                                   dropout (through its parts)
=================== ============================== =================================
"""

from .attention import MultiHeadSelfAttention
from .base import Batch, Layer, LayerArrays, ParamSpec, StateSpec
from .bidirectional import Bidirectional
from .conv import ChannelsFirstToLast, Conv2D
from .core import Activation, Dense, Dropout, Flatten, Reshape
from .embedding import Embedding, PositionalEncoding
from .normalization import BatchNormalization, LayerNormalization
from .pooling import AvgPool2D, MaxPool2D
from .recurrent import GRU, LSTM, SimpleRNN
from .sequence_conv import (
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPool1D,
)
from .transformer import TransformerEncoder

__all__ = [
    "Activation",
    "AvgPool2D",
    "Batch",
    "BatchNormalization",
    "ChannelsFirstToLast",
    "Bidirectional",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LSTM",
    "Layer",
    "LayerArrays",
    "LayerNormalization",
    "MaxPool1D",
    "MaxPool2D",
    "MultiHeadSelfAttention",
    "ParamSpec",
    "PositionalEncoding",
    "Reshape",
    "SimpleRNN",
    "StateSpec",
    "TransformerEncoder",
]
