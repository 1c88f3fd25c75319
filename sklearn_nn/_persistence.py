"""What an estimator pickles (pickle, joblib, ``copy.deepcopy``) and how it loads.

The state records the sklearn_nn version that fitted the model; loading it under
another version warns (``InconsistentVersionWarning``), as scikit-learn does for
its own estimators: the model may load but behave differently, or not load.
Parameter views (``coefs_``, ``intercepts_``) are rebuilt on load rather than
pickled twice, and a quantised model stores its compact weights only.
"""

import warnings

import scipy.sparse as sp

from . import _quantized as compressed
from ._version import __version__
from .exceptions import InconsistentVersionWarning


def pickled_state(est):
    """``est.__dict__`` as pickled: the parameter buffer once, views left out."""
    state = est.__dict__.copy()
    for name in est._view_attributes:
        if not sp.issparse(state.get(name)):  # a sparsified coef_ is no view
            state.pop(name, None)
    if "_params" in state:  # fitted: record who fitted it
        state["_sklearn_nn_version"] = __version__
    return compressed.pickled_state(state)


def restore_state(est, state):
    """Load ``state`` into ``est``: warn on a version change, rebuild the views."""
    fitted_by = state.get("_sklearn_nn_version", __version__)
    if fitted_by != __version__:
        warnings.warn(
            InconsistentVersionWarning(type(est).__name__, fitted_by, __version__),
            stacklevel=3,
        )
    est.__dict__.update(state)
    compressed.restore_params(est)
    if "_params" in est.__dict__:
        est._set_param_views()
        for name in est._view_attributes:
            if sp.issparse(state.get(name)):
                setattr(est, name, state[name])
