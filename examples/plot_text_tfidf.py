"""
====================================
Text classification on sparse TF-IDF
====================================

``MLPClassifier`` takes scipy sparse X as it is, so it sits behind a
``TfidfVectorizer`` in a pipeline with no densifying step. There is no download
here: the texts are scikit-learn's own documentation. Every paragraph of the
docstrings of the public classes and functions of five submodules
(``sklearn.cluster``, ``ensemble``, ``linear_model``, ``metrics`` and
``preprocessing``) is one document, labelled by its submodule. The task would be
trivial with the identifiers left in, so they are removed: the module names and
the names of every public class and function of the five modules (``KMeans``,
``r2_score``...), words starting with "sklearn", and the paragraphs of code
(doctest lines). What is left is English prose about parameters and methods.

We compare our MLP with scikit-learn's ``MLPClassifier`` (same architecture, both
with early stopping) and ``LogisticRegression``, on the same split.
"""

import inspect
import os
import re
import time
from importlib import import_module

import matplotlib.pyplot as plt
import numpy as np
from sklearn import linear_model, neural_network
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_nn import MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

# %%
# The corpus: one document per docstring paragraph of at least 12 words
MODULES = ["cluster", "ensemble", "linear_model", "metrics", "preprocessing"]
modules = {name: import_module(f"sklearn.{name}") for name in MODULES}
giveaways = set(MODULES) | {n.lower() for m in modules.values() for n in m.__all__}

texts, labels = [], []
for label, module in modules.items():
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        for paragraph in (inspect.getdoc(obj) or "").split("\n\n"):
            if ">>>" in paragraph:  # code of the Examples section
                continue
            words = [
                w
                for w in re.findall(r"\w+", paragraph)
                if w.lower() not in giveaways and not w.startswith("sklearn")
            ]
            if len(words) >= 12:
                texts.append(" ".join(words))
                labels.append(label)
texts, labels = np.array(texts), np.array(labels)
if FAST:
    keep = np.random.default_rng(0).permutation(len(texts))[:400]
    texts, labels = texts[keep], labels[keep]
counts = ", ".join(f"{m} {np.sum(labels == m)}" for m in MODULES)
print(f"{len(texts)} paragraphs ({counts})")
print(f"for instance ({labels[0]}): {texts[0][:120]}...")

X_train, X_test, y_train, y_test = train_test_split(
    texts, labels, test_size=0.25, stratify=labels, random_state=0
)

# %%
# Three classifiers behind the same vectorizer (unigrams, sublinear tf, 5000 words)
classifiers = {
    "sklearn_nn MLP": MLPClassifier((64,), early_stopping=True, random_state=0),
    "sklearn MLP": neural_network.MLPClassifier(
        (64,), early_stopping=True, random_state=0
    ),
    "sklearn LogisticRegression": linear_model.LogisticRegression(C=10),
}
accuracy, fit_time, models = {}, {}, {}
for name, clf in classifiers.items():
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=5000)
    model = make_pipeline(vectorizer, clf)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time[name] = time.perf_counter() - start
    accuracy[name] = model.score(X_test, y_test)
    models[name] = model
    print(f"{name:28s} accuracy {accuracy[name]:.3f}  fit {fit_time[name]:.2f} s")

# %%
# Accuracy, fit time (on the machine that built these docs, so only indicative)
# and our MLP's errors. The three models are about equally accurate: TF-IDF
# features of a few thousand documents are nearly linearly separable, so the hidden
# layer buys little here. Our MLP fits faster than scikit-learn's on sparse X (a
# Numba kernel for the first layer's sparse product). Most errors go to the
# largest class, linear_model: every module documents the same parameters (``X``,
# ``y``, ``sample_weight``...), and paragraphs about them say little about the
# module.
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
names = list(classifiers)
colors = ["C0", "C1", "C2"]
axes[0].barh(names, [accuracy[n] for n in names], color=colors)
axes[0].set(xlabel="test accuracy", xlim=(0.5, 1))
axes[1].barh(names, [fit_time[n] for n in names], color=colors)
axes[1].set(xlabel="fit time (s), vectorizer included")
for ax in axes[:2]:
    ax.invert_yaxis()
axes[1].set_yticklabels([])
ConfusionMatrixDisplay.from_estimator(
    models["sklearn_nn MLP"], X_test, y_test, ax=axes[2], colorbar=False
)
axes[2].set_title("sklearn_nn MLP, test set")
axes[2].tick_params(axis="x", labelrotation=30)
fig.tight_layout()
plt.show()
