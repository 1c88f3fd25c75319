"""The one module that imports scikit-learn's private helpers (a scikit-learn
release that moves one of them is then a one-file fix), and the input checks the
estimators add to scikit-learn's.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "check_weights",
    "positive_ints",
    "targets_as",
    "Interval",
    "Options",
    "SparseCoefMixin",
    "StrOptions",
    "_check_optimize_result",
    "_check_sample_weight",
    "_fit_context",
    "check_matplotlib_support",
    "check_is_fitted",
    "validate_data",
]


def targets_as(Y, dtype):
    """Encoded targets in the training dtype; a clear error for what cannot be."""
    try:
        Y64 = np.asarray(Y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y must be numeric for a regressor: {exc}") from None
    if not np.all(np.isfinite(Y64)):
        raise ValueError("Input y contains NaN or infinity.")
    Y = np.ascontiguousarray(Y64, dtype=dtype)
    if not np.all(np.isfinite(Y)):
        raise ValueError(
            f"y has values too large for {np.dtype(dtype).name} (largest |y| = "
            f"{np.abs(Y64).max():.3g}): scale y, or pass float64 X."
        )
    return Y


def check_weights(weights, with_class_weight):
    """Finite, non-negative sample weights (after class_weight), not all zero."""
    what = "sample_weight * class_weight" if with_class_weight else "sample_weight"
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"{what} contains NaN or infinity.")
    if np.any(weights < 0):
        raise ValueError(f"{what} has negative values: weights must be >= 0.")
    if not weights.sum() > 0:
        raise ValueError(
            f"{what} is zero for every sample: nothing to learn from. Check "
            "class_weight and sample_weight."
        )


def positive_ints(value):
    """``value`` as a non-empty tuple of positive ints (bools refused), or None if
    it is not one (callers name what it should have been)."""
    try:
        values = tuple(value)
    except TypeError:
        return None
    if not values or not all(
        isinstance(v, (int, np.integer))
        and not isinstance(v, (bool, np.bool_))
        and v >= 1
        for v in values
    ):
        return None
    return tuple(int(v) for v in values)
