"""The one module that imports scikit-learn's private helpers.

A scikit-learn release that moves one of them is then a one-file fix.
"""

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
