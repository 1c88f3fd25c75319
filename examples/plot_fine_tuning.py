"""
=================================================================
Fine-tuning: reuse a network's frozen convolutions on new classes
=================================================================

Train a small convolutional network (Conv2D -> BatchNormalization -> Activation) on
the digits 0-4, then classify the digits 5-9 from only 25 labelled images per class:
``Pretrained`` carries the learned convolution layers over, ``trainable=False`` keeps
them fixed, and only a new dense head learns. The same network trained from scratch
on the same 125 images is the baseline. The frozen weights do not move at all.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_nn import NeuralNetClassifier, Pretrained
from sklearn_nn.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
)

X, y = load_digits(return_X_y=True)
X = X / 16
old, new = y < 5, y >= 5

convolutions = [
    Conv2D(16, 3, padding="same", activation="identity"),
    BatchNormalization(),
    Activation("relu"),
    MaxPool2D(),
    Conv2D(32, 3, padding="same", activation="identity"),
    BatchNormalization(),
    Activation("relu"),
    MaxPool2D(),
    Flatten(),
]
settings = dict(input_shape=(8, 8), learning_rate_init=0.01, random_state=0)

# 1. learn the convolutions on the digits 0-4 (all of them)
base = NeuralNetClassifier(
    convolutions + [Dense(64)], max_iter=100, early_stopping=True, **settings
)
base.fit(X[old], y[old])

# 2. a few labelled images of the digits 5-9; the rest is the test set
X_train, X_test, y_train, y_test = train_test_split(
    X[new], y[new], train_size=125, stratify=y[new], random_state=0
)
pretrained = Pretrained(base, n_layers=len(convolutions))
frozen = pretrained.layers(trainable=False)
tuned = NeuralNetClassifier(
    frozen + [Dense(64)], pretrained=pretrained, max_iter=100, batch_size=25, **settings
).fit(X_train, y_train)
scratch = NeuralNetClassifier(
    convolutions + [Dense(64)], max_iter=100, batch_size=25, **settings
).fit(X_train, y_train)

change = max(
    np.abs(a - b).max() for a, b in zip(tuned.coefs_[:2], base.coefs_[:2], strict=True)
)
scores = {
    "from scratch": scratch.score(X_test, y_test),
    "frozen pretrained\nconvolutions": tuned.score(X_test, y_test),
}
for name, score in scores.items():
    print(f"{name.replace(chr(10), ' ')}: {score:.4f}")
print(f"largest change of a frozen convolution weight: {change}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.barh(list(scores), list(scores.values()))
ax.set_xlim(0.5, 1)
ax.set_xlabel("accuracy on the digits 5-9 (125 training images)")
fig.tight_layout()
plt.show()
