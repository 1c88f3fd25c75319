"""
==========================================
MLP and logistic regression on digits
==========================================

Train ``MLPClassifier`` (with dropout and early stopping) and ``LogisticRegression``
in a scikit-learn pipeline, compare them by cross-validation, and plot the MLP's
training loss and validation score per epoch.
"""

import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import LogisticRegression, MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

X, y = load_digits(return_X_y=True)
if FAST:
    X, y = X[:600], y[:600]
models = {
    "MLP (256, 128), dropout 0.2": MLPClassifier(
        hidden_layer_sizes=(256, 128), dropout=0.2, early_stopping=True, random_state=0
    ),
    "LogisticRegression": LogisticRegression(max_iter=1000),
}
for name, model in models.items():
    scores = cross_val_score(
        make_pipeline(StandardScaler(), model), X, y, cv=3 if FAST else 5
    )
    print(f"{name}: {scores.mean():.4f} +- {scores.std():.4f}")

mlp = make_pipeline(StandardScaler(), models["MLP (256, 128), dropout 0.2"]).fit(X, y)
net = mlp[-1]
fig, ax = plt.subplots()
ax.plot(net.loss_curve_, label="training loss")
ax.plot(net.validation_loss_curve_, label="validation loss")
ax.plot(net.validation_scores_, label="validation accuracy")
ax.set_xlabel("epoch")
ax.legend()
plt.show()
