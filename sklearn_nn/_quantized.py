"""What a pruned or quantised model stores, between the estimator and the engine.

A quantised model keeps its weights (the penalised parameters: kernels, recurrent
and attention kernels, embeddings) as int8 with one symmetric float32 scale per
output channel (the last axis), or as float16; every other parameter (biases,
normalisation) stays as it was. It pickles that storage only and rebuilds the float
parameter buffer on load (``dequantize``), which the layers without an int8 kernel
predict with. Dense layers of float32 models predict on int8 kernels where the CPU
has VNNI (``constants``).
"""

import numpy as np
import scipy.sparse as sp

from ._kernels.quantized import MAX_INPUTS
from ._kernels.vnni import HAS_VNNI, pack_weights
from .layers.base import CSRRows
from .layers.core import Dense


def weight_mask(network, layer=None):
    """Bool mask over the flat parameter buffer: the weights (penalised specs), of
    every layer or of layer index ``layer`` only."""
    mask = np.zeros(network.n_params, dtype=bool)
    for i, (specs, slices) in enumerate(
        zip(network._param_specs, network._param_slices, strict=True)
    ):
        if layer is not None and i != layer:
            continue
        for spec in specs:
            if spec.penalized:
                start, shape = slices[spec.name]
                mask[start : start + int(np.prod(shape))] = True
    return mask


def quantize_per_channel(w):
    """int8 ``wq`` and float32 ``scales`` (last axis) with ``w ~ wq * scales``."""
    w = np.asarray(w, dtype=np.float64)
    amax = np.abs(w.reshape(-1, w.shape[-1])).max(axis=0)
    scales = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    wq = np.clip(np.rint(w / scales), -127, 127).astype(np.int8)
    return wq, scales


#: fewest weights for which a Dense layer's int8 kernel beats float32 BLAS here:
#: quantising the input rows and rescaling cost per row what the GEMM saves per
#: weight (4096 rows, 1 thread: 784x256 6.5 ms against 12.6; 256x128 1.9 against
#: 2.2; 128x10 0.8 against 0.3)
INT8_MIN_WEIGHTS = 16384


def _int8_pays(shape):
    n_inputs, n_outputs = shape
    return n_inputs * n_outputs >= INT8_MIN_WEIGHTS and n_inputs <= MAX_INPUTS


class QuantizedWeights:
    """The int8 or float16 weights of a quantised model.

    Parameters
    ----------
    network : Network
    params : ndarray of shape (n_params,)
        The float parameter buffer to quantise.
    dtype : {"int8", "float16"}
    """

    def __init__(self, network, params, dtype):
        self.dtype = dtype
        self.param_dtype = params.dtype
        weights = weight_mask(network)
        self.rest = params[~weights].copy()
        self.values, self.scales = [], []
        for specs, views in zip(
            network._param_specs, network.views(params), strict=True
        ):
            for spec in specs:
                if not spec.penalized:
                    continue
                w = views[spec.name]
                if dtype == "int8":
                    wq, scales = quantize_per_channel(w)
                else:
                    wq, scales = w.astype(np.float16), None
                self.values.append(wq)
                self.scales.append(scales)
        self._constants = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_constants"] = None  # packed copies, rebuilt on first predict
        return state

    @property
    def nbytes(self):
        """Bytes of the stored weights and the other parameters."""
        arrays = [self.rest, *self.values, *(s for s in self.scales if s is not None)]
        return sum(a.nbytes for a in arrays)

    def dequantize(self, network):
        """The float parameter buffer: weights from their int8 / float16 values."""
        params = np.empty(network.n_params, dtype=self.param_dtype)
        params[~weight_mask(network)] = self.rest
        views = network.views(params)
        weights = iter(zip(self.values, self.scales, strict=True))
        for specs, layer_views in zip(network._param_specs, views, strict=True):
            for spec in specs:
                if spec.penalized:
                    wq, scales = next(weights)
                    w = wq.astype(np.float64)
                    layer_views[spec.name][...] = w if scales is None else w * scales
        return params

    def constants(self, network):
        """Per layer, what its int8 kernel reads (``{}`` for the others).

        A Dense layer gets ``{"int8": (packed weights, column sums, scales)}`` in
        float32 int8 models on CPUs with VNNI, when it has enough weights for int8
        to pay (``INT8_MIN_WEIGHTS``) and inputs that int32 accumulation holds;
        everything else predicts with the dequantised float weights.
        """
        if self._constants is None:
            self._constants = [{} for _ in network.layers]
            if self.dtype == "int8" and self.param_dtype == np.float32 and HAS_VNNI:
                index = 0
                for i, specs in enumerate(network._param_specs):
                    for spec in specs:
                        if not spec.penalized:
                            continue
                        wq, scales = self.values[index], self.scales[index]
                        index += 1
                        layer = network.layers[i]
                        if type(layer) is Dense and _int8_pays(wq.shape):
                            colsum = wq.astype(np.int32).sum(axis=0)
                            packed = pack_weights(wq)
                            self._constants[i]["int8"] = (packed, colsum, scales)
        return self._constants


def check_trainable(est, incremental):
    """A TypeError for training a quantised model further (``warm_start`` or
    ``partial_fit``), saying how to get one to train; a new ``fit`` starts over."""
    if getattr(est, "_quantized", None) is not None and (incremental or est.warm_start):
        raise TypeError(
            f"This {type(est).__name__} is quantised ({est._quantized.dtype} "
            "weights) and cannot be trained further. Use "
            "sklearn_nn.compression.dequantize(model) for a trainable float copy "
            "of it, or sklearn.base.clone(model) for an untrained one."
        )


def prune_keep(est):
    """The pruning mask a fit continuing ``est`` keeps in force (None: not pruned)."""
    packed = getattr(est, "_prune_mask", None)
    if packed is None:
        return None
    return ~np.unpackbits(packed, count=est._network.n_params).astype(bool)


def pickled_state(state):
    """A quantised model's pickled ``__dict__``: its float parameters are rebuilt
    from the stored weights on load, not saved."""
    if state.get("_quantized") is not None:
        state.pop("_params", None)
    return state


def restore_params(est):
    """Rebuild a loaded quantised model's float parameter buffer."""
    if getattr(est, "_quantized", None) is not None and "_params" not in est.__dict__:
        est._params = est._quantized.dequantize(est._network)


def predict_constants(est, X):
    """The per-layer int8 arrays ``est`` predicts ``X`` with, or None (all float).

    Sparse X predicts with the dequantised float weights in every layer, so that
    no prediction mixes float and int8 layers.
    """
    quantized = getattr(est, "_quantized", None)
    if quantized is None or sp.issparse(X) or isinstance(X, CSRRows):
        return None
    constants = quantized.constants(est._network)
    return constants if any(constants) else None


def viewed_params(est):
    """What ``coefs_`` / ``intercepts_`` view: the parameter buffer, read-only in a
    quantised model (whose int8 kernels and pickle would not see an edit)."""
    if getattr(est, "_quantized", None) is None:
        return est._params
    params = est._params.view()
    params.flags.writeable = False
    return params
