"""
============================================
ROC, precision-recall and calibration curves
============================================

sklearn_nn classifiers plug into scikit-learn's evaluation displays unchanged:
``RocCurveDisplay`` and ``PrecisionRecallDisplay`` read ``decision_function`` (our
networks return the output layer's logits), ``CalibrationDisplay`` reads
``predict_proba``. On the breast-cancer data we compare our ``MLPClassifier`` and
``LogisticRegression`` with scikit-learn's ``MLPClassifier``, then recalibrate our
MLP with ``CalibratedClassifierCV``. In float64 our MLP starts from scikit-learn's
initialisation and takes the same steps, so the two MLPs' curves coincide.
"""

import matplotlib.pyplot as plt
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import LogisticRegression, MLPClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0
)
# the data set is small: every fit here takes well under a second (so no fast mode)
models = {
    "sklearn_nn MLP": MLPClassifier((64,), max_iter=300, random_state=0),
    "sklearn_nn LogisticRegression": LogisticRegression(),
    "scikit-learn MLP": SklearnMLP((64,), max_iter=300, random_state=0),
}
models = {
    name: make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    for name, model in models.items()
}
for name, model in models.items():
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"{name}: accuracy {model.score(X_test, y_test):.3f}, ROC AUC {auc:.4f}")

# %%
# ROC and precision-recall curves on the held-out 40%
fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
for name, model in models.items():
    RocCurveDisplay.from_estimator(model, X_test, y_test, name=name, ax=roc_ax)
    PrecisionRecallDisplay.from_estimator(model, X_test, y_test, name=name, ax=pr_ax)
roc_ax.set_title("ROC curves")
pr_ax.set_title("Precision-recall curves")
fig.tight_layout()

# %%
# Calibration: a network trained with log loss is often over-confident; sigmoid
# calibration on cross-validation folds (Platt scaling of the logits) corrects that.
calibrated = CalibratedClassifierCV(
    make_pipeline(
        StandardScaler(),
        MLPClassifier((64,), max_iter=500, random_state=0),
    ),
    method="sigmoid",
    cv=3,
).fit(X_train, y_train)
fig, ax = plt.subplots(figsize=(5.5, 5))
for name, model in [
    ("sklearn_nn MLP", models["sklearn_nn MLP"]),
    ("sklearn_nn MLP, sigmoid-calibrated", calibrated),
]:
    CalibrationDisplay.from_estimator(model, X_test, y_test, n_bins=5, name=name, ax=ax)
ax.set_title("Calibration on the held-out 40%")
plt.show()
