"""Starting a network from another one's learned layers (transfer learning).

``Pretrained(fitted)`` copies a fitted network's layers and weights; an estimator given
it as ``pretrained=`` starts every layer it shares with it (the longest common prefix
of the two stacks) from those weights, and draws the rest (e.g. a new output layer) as
usual. With ``trainable=False`` on the shared layers, only the new ones learn.
"""

import dataclasses

import numpy as np

from ._validation import check_is_fitted
from .layers.conv import ChannelsFirstToLast

__all__ = ["Pretrained"]


def _comparable(layer):
    """The spec without what transfer ignores: trainability and the initialiser."""
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
        check_is_fitted(estimator)
        network = estimator._network
        stop = len(network.layers) - 1 if n_layers is None else n_layers
        if not 1 <= stop <= len(network.layers) - 1:
            raise ValueError(
                f"n_layers must be between 1 and {len(network.layers) - 1} (the "
                f"layers before the output layer), got {n_layers!r}."
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

        Returns the number of layers copied; a ValueError if none matches.
        """
        views, state_views = network.views(params), network.state_views(state)
        copied = 0
        for i, (layer, in_shape, arrays, layer_state) in enumerate(self._layers):
            if (
                i >= len(network.layers) - 1  # never the new network's output layer
                or _comparable(network.layers[i]) != _comparable(layer)
                or tuple(network.in_shapes[i]) != tuple(in_shape)
            ):
                break
            for name, value in arrays.items():
                views[i][name][...] = value
            for name, value in layer_state.items():
                state_views[i][name][...] = value
            copied += 1
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
