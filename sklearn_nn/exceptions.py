"""Warnings of sklearn_nn (its errors are scikit-learn's ValueError and TypeError)."""

__all__ = ["DivergenceWarning", "InconsistentVersionWarning"]


class InconsistentVersionWarning(UserWarning):
    """A model pickled by one version of sklearn_nn was loaded by another.

    As scikit-learn's own ``InconsistentVersionWarning``: the model may predict
    differently or fail; refit it, or load it with the version that fitted it.

    Attributes
    ----------
    estimator_name : str
    original_version, current_version : str
        The sklearn_nn versions that fitted and that loaded the model.

    Examples
    --------
    >>> from sklearn_nn.exceptions import InconsistentVersionWarning
    >>> issubclass(InconsistentVersionWarning, UserWarning)
    True
    >>> w = InconsistentVersionWarning("MLPClassifier", "0.0.1", "0.1.0")
    >>> print(w)  # what pickle.load warns for a model of 0.0.1 loaded by 0.1.0
    Trying to load MLPClassifier from sklearn_nn version 0.0.1 when using version
    0.1.0. This might lead to breaking code or invalid results; ...
    """

    def __init__(self, estimator_name, original_version, current_version):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"Trying to load {self.estimator_name} from sklearn_nn version "
            f"{self.original_version} when using version {self.current_version}. "
            "This might lead to breaking code or invalid results; refit the model "
            "with this version, or load it with the one that fitted it."
        )


class DivergenceWarning(UserWarning):
    """Training made the model worse than predicting zeros: the learning rate is
    too high for the data's scale, most often.

    Raised as a warning, not an error, because the fitted model is still usable;
    a model whose outputs are not finite is an error instead (ValueError).

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_nn import MLPClassifier
    >>> from sklearn_nn.exceptions import DivergenceWarning
    >>> X, y = load_iris(return_X_y=True)
    >>> model = MLPClassifier(learning_rate_init=10, max_iter=5, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = model.fit(X * 1000, y)  # unscaled data, too high a rate
    >>> DivergenceWarning in [w.category for w in caught]
    True
    """
