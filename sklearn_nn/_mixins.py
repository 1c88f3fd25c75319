"""Classifier and regressor behaviour shared by every network estimator.

Target encoding, the loss to train with, predictions and ``partial_fit``: what makes a
network a scikit-learn classifier or regressor, whatever its architecture.
"""

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._validation import _fit_context

__all__ = ["NeuralNetClassifierMixin", "NeuralNetRegressorMixin"]


def _labels(y):
    """The sorted unique labels of y; a TypeError naming the types if they mix."""
    try:
        return unique_labels(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in np.asarray(y, dtype=object).ravel()})
        raise TypeError(
            f"y mixes labels of different types ({', '.join(kinds)}); use labels "
            "of one type, e.g. all str or all int."
        ) from None


class NeuralNetClassifierMixin(ClassifierMixin):
    """Targets, probabilities and decisions of a network classifier.

    Shared by every classifier of the package; needs ``class_weight``.
    """

    def _encode_targets(self, y, first_pass, incremental, classes):
        labels = _labels(y)  # mixed label types fail here, with a clear message
        y_type = type_of_target(y)
        multilabel = y_type.startswith("multilabel")
        if not multilabel and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if first_pass:
            binarizer = LabelBinarizer()
            if incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit."
                    )
                binarizer.fit(y if multilabel else np.asarray(classes))
                unknown = np.setdiff1d(_labels(y), binarizer.classes_)
                if not multilabel and len(unknown):
                    raise ValueError(
                        f"`y` has classes {unknown!r} that are not in `classes`="
                        f"{binarizer.classes_!r}."
                    )
            elif multilabel:
                binarizer.fit(y)
            else:
                # LabelBinarizer.fit's state from the checks above (fit would run
                # both again: a fifth of a small fit)
                binarizer.classes_, binarizer.y_type_ = labels, y_type
                binarizer.sparse_input_ = False
            if not multilabel and len(binarizer.classes_) < 2:
                raise ValueError(
                    "Classifier can't train when only one class is present: got "
                    f"the single class {binarizer.classes_[0]!r}."
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        else:
            labels = unique_labels(y)
            if (
                incremental
                and classes is not None
                and not np.array_equal(np.unique(classes), self.classes_)
            ):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the first "
                    f"partial_fit call, {self.classes_!r}."
                )
            if self.warm_start and not incremental:
                if set(labels) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes "
                        f"as in the previous call to fit. Previously got "
                        f"{self.classes_}, `y` has {labels}"
                    )
            elif len(np.setdiff1d(labels, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {labels}."
                )
        Y = self._label_binarizer.transform(y) if multilabel else self._one_hot(y)
        return Y, self._class_sample_weight(y, multilabel, incremental)

    def _one_hot(self, y):
        # LabelBinarizer.transform's result for labels known to be in classes_,
        # without its second pass of target-type checks (a third of a small fit)
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return index.reshape(-1, 1)
        Y = np.zeros((len(y), len(self.classes_)), dtype=int)
        Y[np.arange(len(y)), index] = 1
        return Y

    def _encode_validation_targets(self, y, n_outputs):
        """``y_val`` encoded as the training targets; unknown labels refused."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y)
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y_val has labels {unknown!r} that are not among the training "
                f"classes {self.classes_!r}."
            )
        return self._label_binarizer.transform(y)

    def _class_sample_weight(self, y, multilabel, incremental):
        if self.class_weight is None:
            return None
        if multilabel:
            raise ValueError("class_weight is not supported for multilabel y.")
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: the class "
                "frequencies of one batch are not those of the data. Pass a dict."
            )
        return compute_sample_weight(self.class_weight, y)

    def _multiclass(self):
        return self._label_binarizer.y_type_ == "multiclass"

    def _loss_name(self, n_outputs):
        return "softmax_log_loss" if self._multiclass() else "sigmoid_log_loss"

    def _stratify_validation(self, Y):
        return self._label_binarizer.y_type_ != "multilabel-indicator"

    def _decode(self, outputs):
        if self._multiclass():
            return self.classes_[np.argmax(outputs, axis=1)]
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return (outputs > 0).astype(int)
        return self.classes_[(outputs[:, 0] > 0).astype(int)]

    def _score_outputs(self, outputs, y, sample_weight):
        return accuracy_score(y, self._decode(outputs), sample_weight=sample_weight)

    def predict(self, X):
        """Predict class labels (or label indicators for multilabel y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        return self._decode(self._raw_outputs(X))

    def decision_function(self, X):
        """Raw scores (logits) of the output layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Logit of the positive class for binary y (shape (n_samples,), as
            ``roc_curve`` expects), per-class logits otherwise.
        """
        outputs = self._raw_outputs(X)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in ``classes_`` order; for multilabel y, each label's
            probability, strictly inside (0, 1).
        """
        outputs = self._raw_outputs(X)
        if self._multiclass():
            outputs = outputs - outputs.max(axis=1, keepdims=True)
            np.exp(outputs, out=outputs)
            outputs /= outputs.sum(axis=1, keepdims=True)
            return outputs
        proba = expit(outputs)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            eps = np.finfo(proba.dtype).eps
            return np.clip(proba, eps, 1 - eps, out=proba)
        return np.hstack([1 - proba, proba])

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in ``classes_`` order.
        """
        # log of predict_proba, as scikit-learn's MLP: consistent with it everywhere
        return np.log(self.predict_proba(X))

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X, y, sample_weight=None, classes=None, X_val=None, y_val=None
    ):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array-like of shape (n_classes,), default=None
            All the classes, needed on the first call only.
        X_val, y_val : array-like, default=None
            A validation set: this epoch's validation score and loss are appended
            to ``validation_scores_`` and ``validation_loss_curve_`` (NaN for the
            calls without one, once a call had one).

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()  # every call: see NeuralNetRegressorMixin.partial_fit
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=True,
            classes=classes,
            X_val=X_val,
            y_val=y_val,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NeuralNetRegressorMixin(RegressorMixin):
    """Targets and predictions of a network regressor; needs ``loss``."""

    def _encode_targets(self, y, first_pass, incremental, classes):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(Y < 0):
            raise ValueError("loss='poisson' needs non-negative y.")
        if not first_pass and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, the fitted model {self.n_outputs_}."
            )
        return Y, None

    def _encode_validation_targets(self, y, n_outputs):
        """``y_val`` as a matrix; it must have the training targets' outputs."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != n_outputs:
            raise ValueError(f"y_val has {Y.shape[1]} outputs, y has {n_outputs}.")
        return Y

    def _loss_name(self, n_outputs):
        return self.loss

    @staticmethod
    def _predict_outputs(outputs, loss):
        if loss == "poisson":
            outputs = np.exp(outputs)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def _score_outputs(self, outputs, y, sample_weight):
        # called during fit: the loss of this fit
        predictions = self._predict_outputs(outputs, self.loss)
        return r2_score(y, predictions, sample_weight=sample_weight)

    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        # the fitted model's loss (its link), not a later set_params(loss=...)
        return self._predict_outputs(self._raw_outputs(X), self._loss)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, X_val=None, y_val=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. The CNN estimators take dense X only, 2-D rows or
            3-D/4-D images (see their ``input_shape``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val, y_val : array-like, default=None
            A validation set: this epoch's validation score and loss are appended
            to ``validation_scores_`` and ``validation_loss_curve_`` (NaN for the
            calls without one, once a call had one).

        Returns
        -------
        self : object
            The updated estimator.
        """
        # scikit-learn validates partial_fit's parameters on the first call only;
        # a set_params between calls must not reach the kernels unchecked
        self._validate_params()
        return self._fit(
            X, y, sample_weight, incremental=True, X_val=X_val, y_val=y_val
        )
