"""Smaller fitted models: magnitude pruning and int8 / float16 quantisation.

Each function takes a fitted ``sklearn_nn`` estimator and returns a new fitted
estimator of the same class; the input is not changed. The result predicts, scores,
pickles and cross-validates as the original does.

- ``prune`` sets the smallest-magnitude weights to exactly zero and keeps them there
  while the model trains on (``partial_fit``, ``warm_start``), so that prune,
  fine-tune, prune more works.
- ``quantize`` stores the weights as int8 (one scale per output channel) or float16.
  int8 Dense layers of float32 models predict on int8 kernels where the CPU has
  VNNI; other layers (and float16 models) predict with the dequantised weights, so
  the pickle shrinks but not the memory a loaded model uses. A quantised model is
  not trained further: ``dequantize`` gives a trainable float copy.

"Weights" are the penalised parameters (kernels, recurrent and attention kernels,
embeddings); biases and normalisation parameters are never pruned or quantised.
"""

import copy
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from ._base import BaseNeuralNet
from ._quantized import QuantizedWeights, prune_keep, weight_mask

__all__ = ["dequantize", "prune", "quantize"]


def _check_fitted_model(estimator, action):
    if not isinstance(estimator, BaseNeuralNet):
        raise TypeError(
            f"{action} takes a fitted sklearn_nn estimator, got "
            f"{type(estimator).__module__}.{type(estimator).__name__}."
        )
    check_is_fitted(estimator)


def prune(estimator, amount, *, scope="global"):
    """Set the ``amount`` fraction of smallest-magnitude weights to exactly zero.

    Parameters
    ----------
    estimator : fitted sklearn_nn estimator
        Not changed.
    amount : float in [0, 1)
        Fraction of the weights that are zero in the result. Weights pruned before
        stay pruned, so the fraction never falls below an earlier ``amount``.
    scope : {"global", "layer"}, default="global"
        Rank magnitudes over all weights together, or within each layer.

    Returns
    -------
    pruned : estimator of the same class
        With the attribute ``sparsity_``, the fraction of weights pruned. Its
        pruned weights stay exactly zero when it trains further with
        ``partial_fit`` or ``warm_start=True``; a new ``fit`` starts a new model.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import MLPClassifier
    >>> from sklearn_nn.compression import prune
    >>> X, y = load_digits(return_X_y=True)
    >>> model = MLPClassifier((32,), early_stopping=True, random_state=0).fit(X / 16, y)
    >>> small = prune(model, 0.8)
    >>> round(small.sparsity_, 2)
    0.8
    >>> bool((small.coefs_[0] == 0).mean() > 0.5)
    True
    """
    _check_fitted_model(estimator, "prune")
    if getattr(estimator, "_quantized", None) is not None:
        raise TypeError(
            "prune takes a float model; this one is quantised: prune before "
            "quantize, or prune sklearn_nn.compression.dequantize(model)."
        )
    if (
        not isinstance(amount, Real)
        or isinstance(amount, bool)
        or not (0 <= amount < 1)
    ):
        raise ValueError(f"amount must be a float in [0, 1), got {amount!r}.")
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}.")
    pruned = copy.deepcopy(estimator)
    network, params = pruned._network, pruned._params
    weights = weight_mask(network)
    before = prune_keep(pruned)
    mask = np.zeros(network.n_params, dtype=bool) if before is None else ~before
    if scope == "global":
        groups = [np.flatnonzero(weights)]
    else:
        groups = [
            np.flatnonzero(layer_weights)
            for layer_weights in map(
                lambda i: weight_mask(network, i), range(len(network.layers))
            )
            if layer_weights.any()
        ]
    for entries in groups:
        n_pruned = int(round(amount * entries.size))
        # stable: among equal magnitudes the earliest go first (same result always)
        order = np.argsort(np.abs(params[entries]), kind="stable")
        mask[entries[order[:n_pruned]]] = True
    params[mask] = 0
    if getattr(pruned, "_optimizer", None) is not None:
        pruned._optimizer.forget(mask[: network.n_trainable])
    if sp.issparse(getattr(pruned, "coef_", None)):  # LogisticRegression.sparsify
        pruned._set_param_views()
        pruned.sparsify()
    pruned._prune_mask = np.packbits(mask)
    pruned.sparsity_ = float(mask[weights].mean()) if weights.any() else 0.0
    return pruned


def quantize(estimator, dtype="int8"):
    """Store the weights of a fitted model as int8 or float16.

    Parameters
    ----------
    estimator : fitted sklearn_nn estimator
        Not changed.
    dtype : {"int8", "float16"}, default="int8"
        "int8": symmetric, one float32 scale per output channel (the weights'
        last axis); Dense layers of float32 models then predict on int8 kernels
        (inputs quantised per row to uint8, int32 accumulation) where the CPU has
        VNNI, and every other layer with the dequantised weights. "float16":
        storage only.

    Returns
    -------
    quantized : estimator of the same class
        Predicts with the quantised weights; ``fit`` and ``partial_fit`` refuse it
        (see ``dequantize``).

    Examples
    --------
    >>> import pickle
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import MLPClassifier
    >>> from sklearn_nn.compression import quantize
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype("float32")
    >>> model = MLPClassifier((64,), early_stopping=True, random_state=0).fit(X, y)
    >>> small = quantize(model, "int8")
    >>> bool(abs(small.score(X, y) - model.score(X, y)) < 0.02)
    True
    >>> len(pickle.dumps(small)) < 0.5 * len(pickle.dumps(model))
    True
    """
    _check_fitted_model(estimator, "quantize")
    if dtype not in ("int8", "float16"):
        raise ValueError(f"dtype must be 'int8' or 'float16', got {dtype!r}.")
    if getattr(estimator, "_quantized", None) is not None:
        raise ValueError(
            f"This model is already quantised ({estimator._quantized.dtype}); "
            "quantise the float model instead."
        )
    quantized = copy.deepcopy(estimator)
    network = quantized._network
    quantized._quantized = QuantizedWeights(network, quantized._params, dtype)
    quantized._params = quantized._quantized.dequantize(network)
    quantized._optimizer = None  # not trained further
    quantized._set_param_views()
    if sp.issparse(getattr(estimator, "coef_", None)):
        quantized.sparsify()
    return quantized


def dequantize(estimator):
    """A trainable float copy of a quantised model, with its quantised weights.

    Parameters
    ----------
    estimator : fitted sklearn_nn estimator
        Quantised by ``quantize``; not changed.

    Returns
    -------
    model : estimator of the same class
        Predicts as the quantised model's float path does, and trains on with
        ``partial_fit`` or ``warm_start=True`` (from a new optimizer state).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import MLPClassifier
    >>> from sklearn_nn.compression import dequantize, quantize
    >>> X, y = load_digits(return_X_y=True)
    >>> model = MLPClassifier((32,), learning_rate_init=0.01, random_state=0)
    >>> small = quantize(model.fit(X / 16, y), "int8")  # its partial_fit raises
    >>> trainable = dequantize(small).partial_fit(X / 16, y)  # one more epoch
    >>> bool(trainable.score(X / 16, y) > 0.9)
    True
    """
    _check_fitted_model(estimator, "dequantize")
    if getattr(estimator, "_quantized", None) is None:
        raise ValueError("This model is not quantised: there is nothing to undo.")
    model = copy.deepcopy(estimator)
    del model._quantized
    model._set_param_views()  # writeable again
    if sp.issparse(getattr(estimator, "coef_", None)):
        model.sparsify()
    return model
