"""
===============================================
Imbalanced classes: ``class_weight="balanced"``
===============================================

A binary problem with one positive sample in twenty: a network trained on the raw
counts learns to favour the majority class, so at the default 0.5 threshold it
misses many positives. ``class_weight="balanced"`` (as in scikit-learn's linear
models and trees, which scikit-learn's ``MLPClassifier`` does not offer) weighs each
class by the inverse of its frequency, which trades some precision for recall.
The confusion matrices show the trade at the default threshold. The
precision-recall curves show its other side: weighting does not rank the samples
better (on this data its average precision is lower), it mostly moves the decision
threshold. When only the threshold matters, tuning the threshold of the unweighted
model, e.g. with scikit-learn's ``TunedThresholdClassifierCV``, is the alternative.
"""

import os

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    average_precision_score,
    balanced_accuracy_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

X, y = make_classification(
    n_samples=2000 if FAST else 10000,
    n_features=20,
    n_informative=6,
    weights=[0.95],
    class_sep=0.7,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.5, random_state=0
)
models = {}
for class_weight in [None, "balanced"]:
    mlp = MLPClassifier(
        (64,), class_weight=class_weight, early_stopping=True, random_state=0
    )
    models[str(class_weight)] = make_pipeline(StandardScaler(), mlp).fit(
        X_train, y_train
    )
    y_pred = models[str(class_weight)].predict(X_test)
    scores = models[str(class_weight)].decision_function(X_test)
    print(
        f"class_weight={class_weight}: recall {recall_score(y_test, y_pred):.3f}, "
        f"balanced accuracy {balanced_accuracy_score(y_test, y_pred):.3f}, "
        f"average precision {average_precision_score(y_test, scores):.3f}"
    )

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, (name, model) in zip(axes[:2], models.items(), strict=True):
    ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, ax=ax, colorbar=False)
    ax.set_title(f"class_weight={name}")
for name, model in models.items():
    PrecisionRecallDisplay.from_estimator(
        model, X_test, y_test, name=f"class_weight={name}", ax=axes[2]
    )
axes[2].set_title("Precision-recall")
fig.tight_layout()
plt.show()
