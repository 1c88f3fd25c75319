"""
==============================================
Grid search over width and dropout: a heat map
==============================================

``GridSearchCV`` tunes sklearn_nn estimators as any other: here the width of an
``MLPClassifier``'s hidden layer against its ``dropout`` rate (a parameter
scikit-learn's MLP does not have), inside a pipeline with a scaler, with 3-fold
cross-validation on the digits. The heat map shows the mean validation accuracy
of each pair, and the fit time that ``cv_results_`` records beside it.
"""

import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"
if FAST:  # a few epochs cannot converge, and the fast mode knows it
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
if FAST:
    X, y = X[:600], y[:600]
widths = [16, 64, 256]
dropouts = [0.0, 0.2, 0.5]
model = make_pipeline(
    StandardScaler(),
    MLPClassifier(max_iter=10 if FAST else 300, early_stopping=True, random_state=0),
)
search = GridSearchCV(
    model,
    {
        "mlpclassifier__hidden_layer_sizes": [(width,) for width in widths],
        "mlpclassifier__dropout": dropouts,
    },
    cv=3,
).fit(X, y)
print(f"best: {search.best_params_}, accuracy {search.best_score_:.4f}")

# %%
# ``cv_results_`` lists the candidates in the grid's order (sorted parameter names:
# dropout first, then width), so the scores reshape into the table.
scores = search.cv_results_["mean_test_score"].reshape(len(dropouts), len(widths))
times = search.cv_results_["mean_fit_time"].reshape(len(dropouts), len(widths))
fig, ax = plt.subplots(figsize=(6, 4.5))
image = ax.imshow(scores, cmap="viridis")
for (i, j), score in np.ndenumerate(scores):
    ax.text(
        j,
        i,
        f"{score:.3f}\n{times[i, j]:.2f} s",
        ha="center",
        va="center",
        color="white" if score < scores.mean() else "black",
    )
ax.set(
    xticks=range(len(widths)),
    xticklabels=widths,
    yticks=range(len(dropouts)),
    yticklabels=dropouts,
    xlabel="hidden units",
    ylabel="dropout",
    title="Mean 3-fold accuracy (and fit time)",
)
fig.colorbar(image, ax=ax)
plt.show()
