"""``LossCurveDisplay``: a picture of training, after scikit-learn's Display API."""

import numpy as np

from ._validation import check_is_fitted, check_matplotlib_support

__all__ = ["LossCurveDisplay"]


def _last_epochs(epochs, curve):
    """The epochs of a curve that covers the last ``len(curve)`` of them."""
    return epochs[len(epochs) - len(curve) :]


class LossCurveDisplay:
    """Training curves of a network: loss, validation loss and score per epoch.

    Build it with ``LossCurveDisplay.from_estimator(fitted)``; the constructor takes
    the curves themselves. matplotlib is imported only by ``plot``.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss after each epoch.
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Validation loss after each epoch.
    validation_scores : array-like of shape (n_epochs,), default=None
        Validation score after each epoch, drawn on a second y axis.
    best_epoch : int, default=None
        The epoch whose model early stopping kept (1-based), marked by a line.
    estimator_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the losses.
    score_ax_ : matplotlib Axes or None
        The twin axes of the validation scores.
    figure_ : matplotlib Figure
        The figure.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_nn import LossCurveDisplay, MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(early_stopping=True, random_state=0).fit(X / 16, y)
    >>> display = LossCurveDisplay.from_estimator(clf)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        validation_scores=None,
        best_epoch=None,
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """Plot the curves of a network fitted with "sgd" or "adam".

        Parameters
        ----------
        estimator : fitted estimator of sklearn_nn
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_is_fitted(estimator)
        if getattr(estimator, "loss_curve_", None) is None:
            raise ValueError(
                f"{type(estimator).__name__} has no loss_curve_: only solver='sgd' "
                "or 'adam' records one per epoch (lbfgs does not)."
            )
        scores = getattr(estimator, "validation_scores_", None)
        best = None
        if getattr(estimator, "best_validation_score_", None) is not None:
            # the scores are of the last len(scores) epochs
            best = len(estimator.loss_curve_) - len(scores) + int(np.argmax(scores)) + 1
        return cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            validation_scores=scores,
            best_epoch=best,
            estimator_name=type(estimator).__name__,
        ).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : LossCurveDisplay
            With ``ax_``, ``score_ax_`` and ``figure_`` set.
        """
        check_matplotlib_support("LossCurveDisplay.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        handles = ax.plot(epochs, self.loss_curve, label="training loss")
        if self.validation_loss_curve is not None:
            # validation may have begun later (a warm start's early stopping, or
            # X_val from some partial_fit call on): the curves end together
            handles += ax.plot(
                _last_epochs(epochs, self.validation_loss_curve),
                self.validation_loss_curve,
                label="validation loss",
            )
        self.score_ax_ = None
        if self.validation_scores is not None:
            self.score_ax_ = ax.twinx()
            handles += self.score_ax_.plot(
                _last_epochs(epochs, self.validation_scores),
                self.validation_scores,
                color="C2",
                label="validation score",
            )
            self.score_ax_.set_ylabel("validation score")
        if self.best_epoch is not None:
            handles.append(
                ax.axvline(
                    self.best_epoch,
                    color="gray",
                    linestyle="--",
                    label=f"kept epoch ({self.best_epoch})",
                )
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(handles=handles, loc="upper right")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_, self.figure_ = ax, ax.figure
        return self
