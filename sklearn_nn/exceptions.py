"""Warnings of sklearn_nn (its errors are scikit-learn's ValueError and TypeError)."""

__all__ = ["DivergenceWarning"]


class DivergenceWarning(UserWarning):
    """Training made the model worse than predicting zeros: the learning rate is
    too high for the data's scale, most often.

    Raised as a warning, not an error, because the fitted model is still usable;
    a model whose outputs are not finite is an error instead (ValueError).
    """
