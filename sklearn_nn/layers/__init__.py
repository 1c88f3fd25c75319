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
``conv.py``         Conv2D, MaxPool2D, AvgPool2D   conv2d, pooling
``normalization``   BatchNormalization,            normalization
                    LayerNormalization
=================== ============================== =================================
"""

from .base import Batch, Layer, LayerArrays, ParamSpec, StateSpec
from .conv import AvgPool2D, Conv2D, MaxPool2D
from .core import Activation, Dense, Dropout, Flatten, Reshape
from .normalization import BatchNormalization, LayerNormalization

__all__ = [
    "Activation",
    "AvgPool2D",
    "Batch",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "LayerArrays",
    "LayerNormalization",
    "MaxPool2D",
    "ParamSpec",
    "Reshape",
    "StateSpec",
]
