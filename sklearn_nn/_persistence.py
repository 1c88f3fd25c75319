"""What an estimator pickles (pickle, joblib, ``copy.deepcopy``) and how it loads.

The state records the sklearn_nn version that fitted the model; loading it under
another version warns (``InconsistentVersionWarning``), as scikit-learn does for
its own estimators: the model may load but behave differently, or not load.
Parameter views (``coefs_``, ``intercepts_``) are rebuilt on load rather than
pickled twice, and a quantised model stores its compact weights only.

The state holds numpy arrays, builtins and public sklearn_nn classes only (the
estimator and its layer specs), so that ``skops.io`` loads it trusting just those:
the network plan, the optimizer and quantised weights are stored as dicts and
rebuilt on load.
"""

import warnings

import numpy as np
import scipy.sparse as sp

from . import _quantized as compressed
from ._network import Network
from ._optimizers import OPTIMIZERS
from ._version import __version__
from .exceptions import InconsistentVersionWarning

#: attributes stored as plain dicts, and how each is rebuilt
_PLAIN = ("_network", "_optimizer", "_quantized")


def _layout(network):
    """Each parameter's (layer, name, offset, shape) in the flat buffer."""
    return [
        [i, name, int(start), [int(d) for d in shape]]
        for i, slices in enumerate(network._param_slices)
        for name, (start, shape) in slices.items()
    ]


def _as_plain(name, value):
    if name == "_network":
        return {
            "layers": list(value.layers),
            "in_shape": list(value.in_shapes[0]),
            "layout": _layout(value),
        }
    if name == "_optimizer":
        return {"optimizer": type(value).__name__, **value.__dict__}
    state = value.__getstate__()
    return {**state, "param_dtype": np.dtype(state["param_dtype"]).str}


def _rebuilt(name, plain):
    if name == "_network":
        with warnings.catch_warnings():  # warned about when it was built
            warnings.filterwarnings("ignore", "(?s).*padding mask", UserWarning)
            network = Network(plain["layers"], tuple(plain["in_shape"]))
        if "layout" in plain and _layout(network) != plain["layout"]:
            # another version lays the parameters out differently: loading the
            # buffer into this layout would scramble the weights
            raise ValueError(
                "This model's parameters were saved in a layout this version of "
                "sklearn_nn does not use; load it with the version that fitted it "
                "(the InconsistentVersionWarning names it)."
            )
        return network
    plain = dict(plain)
    cls = (
        OPTIMIZERS[plain.pop("optimizer")]
        if name == "_optimizer"
        else compressed.QuantizedWeights
    )
    obj = cls.__new__(cls)
    if name == "_quantized":
        plain["param_dtype"] = np.dtype(plain["param_dtype"])
    obj.__dict__.update(plain)
    return obj


def pickled_state(est):
    """``est.__dict__`` as pickled: the parameter buffer once, views left out."""
    state = est.__dict__.copy()
    for name in est._view_attributes:
        if not sp.issparse(state.get(name)):  # a sparsified coef_ is no view
            state.pop(name, None)
    if "_params" in state:  # fitted: record who fitted it
        state["_sklearn_nn_version"] = __version__
    for name in _PLAIN:
        if state.get(name) is not None:
            state[name] = _as_plain(name, state[name])
    return compressed.pickled_state(state)


def restore_state(est, state):
    """Load ``state`` into ``est``: warn on a version change, rebuild the views."""
    fitted_by = state.get("_sklearn_nn_version", __version__)
    if fitted_by != __version__:
        warnings.warn(
            InconsistentVersionWarning(type(est).__name__, fitted_by, __version__),
            stacklevel=3,
        )
    state = dict(state)
    for name in _PLAIN:
        if isinstance(state.get(name), dict):  # older pickles hold the objects
            state[name] = _rebuilt(name, state[name])
    est.__dict__.update(state)
    compressed.restore_params(est)
    if "_params" in est.__dict__:
        est._set_param_views()
        for name in est._view_attributes:
            if sp.issparse(state.get(name)):
                setattr(est, name, state[name])
