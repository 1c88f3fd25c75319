"""What an estimator is given, checked and put in the form its network takes.

``InputsMixin`` validates X (at fit and at predict), y, sample_weight, the user's
validation set (``X_val``, ``y_val``) and the hyperparameters a fit cannot combine;
it turns X into the network's input (sparse X as ``CSRRows``) and holds the defaults
of the input hooks an estimator overrides (``_input_shape``, ``_accept_sparse``,
``_rows_from_input``, ``_stratify_validation``). It is apart from ``_base``, which
trains and predicts with what these methods return, so that what an estimator
accepts, and how that is checked, reads in one place. ``BaseNeuralNet`` is the only
class that inherits it.
"""

import math

import numpy as np
import scipy.sparse as sp

from ._fit_state import ValidationSet
from ._training import TrainingData
from ._validation import (
    _check_sample_weight,
    check_weights,
    targets_as,
    validate_data,
)
from .layers.base import CSRRows


class InputsMixin:
    """Validation of X, y, sample weights, validation set and hyperparameters.

    A mixin of ``BaseNeuralNet``, not for direct use. It calls the host class's
    target hooks (``_encode_targets``, ``_encode_validation_targets``) and
    ``_regularization``, and reads its hyperparameters and fitted ``_params``.
    """

    # ------------------------------------------------------------------ hooks
    def _input_shape(self, n_features):
        """Shape of one sample as the first layer sees it."""
        return (n_features,)

    def _accept_sparse(self):
        return ["csr", "csc"]

    def _rows_from_input(self, X, reset, fitted=None):
        """X as 2-D rows before validation (estimators with sample shapes accept
        X of higher rank: checked against ``fitted``, or the fitted model's input
        shape, unless ``reset``)."""
        return X

    def _stratify_validation(self, Y):
        return False

    # ------------------------------------------------------------- validation
    def _validate_X(self, X, reset, dtype=None):
        X = self._rows_from_input(X, reset)
        X = validate_data(
            self,
            X,
            accept_sparse=self._accept_sparse(),
            dtype=dtype or (np.float64, np.float32),
            order="C",
            reset=reset,
        )
        return self._as_network_input(X)

    @staticmethod
    def _as_network_input(X):
        if sp.issparse(X):
            X = X.tocsr()
            return CSRRows(X.data, X.indices, X.indptr, None)
        return X

    def _validate_fit_data(self, X, y, sample_weight, first_pass, incremental, classes):
        dtype = None if first_pass else self._params.dtype
        X = self._rows_from_input(X, reset=first_pass)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=self._accept_sparse(),
            dtype=dtype or (np.float64, np.float32),
            order="C",
            multi_output=True,
            y_numeric=False,
            reset=first_pass,
        )
        Y, class_weight = self._encode_targets(y, first_pass, incremental, classes)
        Y = targets_as(Y, X.dtype)
        if sample_weight is not None or class_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            if class_weight is not None:
                sample_weight = sample_weight * class_weight.astype(X.dtype)
            check_weights(sample_weight, class_weight is not None)
            sample_weight = np.ascontiguousarray(sample_weight)
        return X, y, Y, sample_weight

    def _validation_set(self, X_val, y_val, network, dtype):
        """The user's validation set, validated like the training data."""
        if X_val is None:
            return None
        X_val = self._rows_from_input(X_val, reset=False, fitted=network.in_shapes[0])
        X_val, y_val = validate_data(
            self,
            X_val,
            y_val,
            accept_sparse=self._accept_sparse(),
            dtype=dtype,
            order="C",
            multi_output=True,
            y_numeric=False,
            reset=False,
        )
        network.layers[0].check_input(X_val)
        Y_val = self._encode_validation_targets(y_val, math.prod(network.out_shape))
        Y_val = np.ascontiguousarray(Y_val, dtype=X_val.dtype)
        data = TrainingData(self._as_network_input(X_val), Y_val)
        return ValidationSet(data, X_val, y_val)

    def _check_hyperparameters(self, incremental, network):
        if isinstance(self.clip_norm, (bool, np.bool_)):
            raise ValueError(f"clip_norm must be a float > 0, got {self.clip_norm!r}.")
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.solver != "lbfgs":
            return
        if self._regularization()[1] > 0:
            raise ValueError(
                "An L1 penalty (l1 > 0, or l1_ratio > 0) needs solver='sgd' or 'adam' "
                "(proximal updates); L-BFGS cannot minimise the non-smooth L1 term."
            )
        if self.clip_norm is not None:
            raise ValueError(
                "clip_norm clips the steps of solver='sgd' or 'adam'; L-BFGS takes "
                "no gradient steps to clip. Set clip_norm=None."
            )
        for layer in network.layers:
            if layer.needs_rng:
                raise ValueError(
                    f"{layer!r} draws random numbers in training (dropout > 0): it "
                    "needs solver='sgd' or 'adam', not 'lbfgs'."
                )
            if not layer.row_chunks:
                raise ValueError(
                    f"{layer!r} uses batch statistics, which L-BFGS's full-batch "
                    "objective cannot keep: use solver='sgd' or 'adam'."
                )
