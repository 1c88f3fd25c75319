"""Starting a network from another one's learned layers (transfer learning).

``Pretrained(fitted)`` copies a fitted network's layers and weights; an estimator given
it as ``pretrained=`` starts every layer it shares with it (the longest common prefix
of the two stacks) from those weights, and draws the rest (e.g. a new output layer) as
usual. With ``trainable=False`` on the shared layers, only the new ones learn.
"""

import dataclasses

import numpy as np

from ._network import Network
from ._validation import check_is_fitted
from .layers.conv import ChannelsFirstToLast

__all__ = ["Pretrained"]


def _comparable(layer, has_arrays):
    """What must match for a layer to take over another's weights.

    A layer with parameters or state: the spec, but for its trainability and
    initialiser. One without (dropout, pooling, activations): its type only.
    """
    if not has_arrays:
        return type(layer)
    changes = {"trainable": True}
    if any(f.name == "kernel_initializer" for f in dataclasses.fields(layer)):
        changes["kernel_initializer"] = None
    return dataclasses.replace(layer, **changes)


class Pretrained:
    """The learned layers of a fitted network, to start another network from.

    Pass it as ``pretrained=`` to an MLP, CNN or NeuralNet estimator: at ``fit``,
    each layer of the new network that matches the layer at the same position here
    (same spec, ignoring ``trainable`` and ``kernel_initializer``, and same input
    shape) starts from these weights, up to the first layer that does not match.
    It holds copies of the arrays, not the estimator, so ``clone`` and grid search
    copy it like any other parameter value.

    Parameters
    ----------
    estimator : fitted estimator of sklearn_nn
        Its layers except the output layer are taken.
    n_layers : int, default=None
        Take only its first ``n_layers`` layers (None: all but the output layer).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import NeuralNetClassifier, Pretrained
    >>> from sklearn_nn.layers import Dense
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> base = NeuralNetClassifier([Dense(32)], max_iter=50, random_state=0)
    >>> base = base.fit(X[y < 5], y[y < 5])
    >>> pre = Pretrained(base)
    >>> new = NeuralNetClassifier(pre.layers(trainable=False), pretrained=pre,
    ...                           max_iter=50, random_state=0).fit(X[y >= 5], y[y >= 5])
    >>> bool((new.coefs_[0] == base.coefs_[0]).all())
    True
    """

    def __init__(self, estimator, n_layers=None):
        network = getattr(estimator, "_network", None)
        if not isinstance(network, Network):
            check_is_fitted(estimator)
            raise TypeError(
                f"Pretrained takes a fitted estimator of sklearn_nn, got "
                f"{type(estimator).__name__}."
            )
        available = len(network.layers) - 1
        if available < 1:
            raise ValueError(
                f"{type(estimator).__name__} has no layer before its output layer "
                "to transfer."
            )
        stop = available if n_layers is None else n_layers
        if (
            isinstance(stop, (bool, np.bool_))
            or not isinstance(stop, (int, np.integer))
            or not 1 <= stop <= available
        ):
            raise ValueError(
                f"n_layers must be an int between 1 and {available} (the layers "
                f"before the output layer), got {n_layers!r}."
            )
        params = network.views(estimator._params)
        state = network.state_views(estimator._state)
        self._layers = [
            (
                network.layers[i],
                network.in_shapes[i],
                {k: np.array(v) for k, v in params[i].items()},
                {k: np.array(v) for k, v in state[i].items()},
            )
            for i in range(stop)
        ]
        self._source = type(estimator).__name__

    def layers(self, trainable=True):
        """The layer specs, to build a new stack on (internal layers left out).

        Parameters
        ----------
        trainable : bool, default=True
            False freezes them: their weights stay those copied here.

        Returns
        -------
        list of Layer
        """
        return [
            dataclasses.replace(layer, trainable=trainable)
            for layer, _, _, _ in self._layers
            if not isinstance(layer, ChannelsFirstToLast)
        ]

    def copy_into(self, network, params, state):
        """Copy the weights of the layers ``network`` shares into its buffers.

        Returns the number of layers copied. A ValueError if none matches, or if a
        frozen layer with weights would keep its random start.
        """
        views, state_views = network.views(params), network.state_views(state)
        copied = 0
        for i, (layer, in_shape, arrays, layer_state) in enumerate(self._layers):
            has_arrays = bool(arrays or layer_state)
            if (
                i >= len(network.layers) - 1  # never the new network's output layer
                or _comparable(network.layers[i], has_arrays)
                != _comparable(layer, has_arrays)
                or tuple(network.in_shapes[i]) != tuple(in_shape)
            ):
                break
            for name, value in arrays.items():
                views[i][name][...] = value
            for name, value in layer_state.items():
                state_views[i][name][...] = value
            copied += 1
        for i in range(copied, len(network.layers)):
            if not network.layers[i].trainable and (views[i] or state_views[i]):
                raise ValueError(
                    f"Layer {i}, {network.layers[i]!r}, is frozen but pretrained "
                    f"has no weights for it (the layers matched up to layer "
                    f"{copied}; layer {i} there is "
                    f"{self._layers[i][0] if i < len(self._layers) else None!r}): "
                    "it would keep its random start. Make it trainable or match "
                    "the pretrained layers."
                )
        if copied == 0:
            raise ValueError(
                f"pretrained shares no layer with this network: its first layer is "
                f"{self._layers[0][0]!r} on inputs of shape {self._layers[0][1]}, "
                f"this network's is {network.layers[0]!r} on "
                f"{network.in_shapes[0]}."
            )
        return copied

    def __repr__(self):
        return f"Pretrained(<{self._source}: {len(self._layers)} layers>)"
