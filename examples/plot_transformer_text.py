"""
======================================
A Transformer where word order matters
======================================

``TokenSequencer`` turns each document into a fixed-length row of token ids, and
``NeuralNetClassifier`` runs a Transformer on them: ``Embedding`` (with id 0 as
padding, masked), ``PositionalEncoding``, one ``TransformerEncoder`` block and an
average over the real tokens. All of it is one scikit-learn pipeline on raw text.

The reviews are generated so that order is the whole task: two clauses joined by
"but", of opposite sentiment, each maybe negated ("the food was not good"), and
the label is the sentiment of the clause after "but". Swapping the two clauses
keeps every word and flips the label, and both orders are equally likely: no model
of word counts, however flexible, can beat chance. Word pairs help little, as the
two clauses are built alike.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_nn import NeuralNetClassifier
from sklearn_nn.layers import (
    Embedding,
    GlobalAveragePooling1D,
    PositionalEncoding,
    TransformerEncoder,
)
from sklearn_nn.preprocessing import TokenSequencer

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"

# %%
# The reviews: 3000 (600 in fast mode), up to 17 words
rng = np.random.default_rng(0)
ASPECTS = ["food", "service", "staff", "music", "room", "price", "view", "wine"]
GOOD = ["good", "great", "excellent", "lovely", "fine", "superb"]
BAD = ["bad", "awful", "poor", "terrible", "bland", "rude"]
ADVERBS = ["", "", "very ", "really ", "so ", "that "]
TAILS = ["", " today", " overall", " at first", " as usual", " this time"]


def clause(positive):
    negated = rng.random() < 0.5
    adjective = rng.choice(GOOD if positive != negated else BAD)
    return (
        f"the {rng.choice(ASPECTS)} was {'not ' if negated else ''}"
        f"{rng.choice(ADVERBS)}{adjective}{rng.choice(TAILS)}"
    )


y = rng.choice(["negative", "positive"], 600 if FAST else 3000)
reviews = [
    f"{clause(label == 'negative')} but {clause(label == 'positive')}" for label in y
]
print("\n".join(f"{y[i]}: {reviews[i]}" for i in range(4)))
X_train, X_test, y_train, y_test = train_test_split(reviews, y, random_state=0)


# %%
# The Transformer, a neural bag of words (the same without attention and positions)
# and TF-IDF baselines. The vocabulary has 36 words (ids 2 to 37): 64 ids suffice.
def network(layers):
    net = NeuralNetClassifier(
        layers, learning_rate_init=0.01, early_stopping=True, random_state=0
    )
    return make_pipeline(TokenSequencer(max_length=20, vocabulary_size=64), net)


models = {
    "Transformer": network(
        [
            Embedding(64, 16, mask_zero=True),
            PositionalEncoding(),
            TransformerEncoder(num_heads=2, ff_units=32),
            GlobalAveragePooling1D(),
        ]
    ),
    "Embedding + average": network(
        [Embedding(64, 16, mask_zero=True), GlobalAveragePooling1D()]
    ),
    "TF-IDF words + LR": make_pipeline(TfidfVectorizer(), LogisticRegression()),
    "TF-IDF words, pairs + LR": make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression()
    ),
}
accuracy = {}
for name, model in models.items():
    accuracy[name] = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name:25s} test accuracy {accuracy[name]:.3f}")

# %%
# Left: test accuracy. Right: P(positive) for hand-written pairs of sentences with
# the same words in another order; the unigram model cannot tell them apart, the
# Transformer (in full mode) reads which clause comes after "but".
sentences = [
    "the food was good but the service was bad",
    "the service was bad but the food was good",
    "the wine was not great but the view was not bad",
    "the view was not bad but the wine was not great",
    "the staff was rude at first but the room was lovely",
    "the room was lovely but the staff was rude at first",
]
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), width_ratios=[1, 1.6])
names = list(models)
colors = dict(zip(names, ["C0", "C1", "C2", "C3"], strict=True))
left.barh(names, [accuracy[n] for n in names], color=colors.values())
left.axvline(0.5, color="gray", ls="--")
left.set(xlabel="test accuracy", xlim=(0, 1))
left.invert_yaxis()
rows = np.arange(len(sentences))
for offset, name in [(-0.2, "Transformer"), (0.2, "TF-IDF words + LR")]:
    proba = models[name].predict_proba(sentences)[:, 1]  # classes_: neg, pos
    right.barh(rows + offset, proba, height=0.4, color=colors[name], label=name)
    print(f"{name}: P(positive) = {np.round(proba, 2)}")
right.set(yticks=rows, yticklabels=sentences, xlim=(0, 1), xlabel="P(positive)")
right.invert_yaxis()
right.axvline(0.5, color="gray", ls="--")
right.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, frameon=False)
fig.tight_layout()
plt.show()
