"""
===================================================
Training and validation loss curves, early stopping
===================================================

A wide MLP trained on 400 digits learns its training set long before it stops
learning: the training loss falls to zero while the validation loss bottoms out and
creeps back up. ``LossCurveDisplay`` draws both curves (and the validation score)
from a fitted estimator. Passing ``X_val``/``y_val`` to ``fit`` records the
validation curves of a fixed validation set; with ``early_stopping=True`` training
stops ``n_iter_no_change`` epochs after the best validation score (accuracy by
default; ``scoring="loss"`` or any scikit-learn scorer name changes it) and
restores that epoch's parameters, marked by the vertical line. The two models end
with about the same accuracy: what early stopping saves here is most of the epochs,
and the accuracy of 400 validation images is a noisy signal to stop on.
"""

import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_nn import LossCurveDisplay, MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(
    X / 16, y, train_size=200 if FAST else 400, test_size=400, random_state=0
)
settings = dict(alpha=0.0, learning_rate_init=0.01, random_state=0)
if FAST:  # a smaller network; a loose tol ends training early instead of max_iter
    settings.update(hidden_layer_sizes=(32,), tol=1e-2)
else:
    settings.update(hidden_layer_sizes=(256,), max_iter=300)

full = MLPClassifier(**settings).fit(X_train, y_train, X_val=X_val, y_val=y_val)
stopped = MLPClassifier(early_stopping=True, **settings)
stopped.fit(X_train, y_train, X_val=X_val, y_val=y_val)
for name, model in [("without early stopping", full), ("early stopping", stopped)]:
    print(
        f"{name}: {model.n_iter_} epochs, "
        f"validation accuracy {model.score(X_val, y_val):.4f}"
    )

# %%
# Left: every epoch until the training loss stops improving. Right: the same model
# with early stopping, which kept the parameters of the marked epoch.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, model, title in [
    (axes[0], full, "without early stopping"),
    (axes[1], stopped, "early_stopping=True"),
]:
    display = LossCurveDisplay.from_estimator(model, ax=ax)
    display.score_ax_.set_ylim(0.8, 1.0)
    ax.set_title(title)
fig.tight_layout()
plt.show()
