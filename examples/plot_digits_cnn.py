"""
=================================
A convolutional network on digits
=================================

Train ``CNNClassifier`` on the 8x8 digit images: X stays the ordinary 2-D array of
pixels, and ``input_shape=(8, 8)`` says how a row is an image, so the scaler, the
pipeline and cross-validation work as for any scikit-learn classifier. Then try
another architecture through ``layers``, look at the test images the network gets
wrong, and at its first convolution's filters.
"""

import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import CNNClassifier
from sklearn_nn.layers import AvgPool2D, Conv2D, Dense, Flatten

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"
if FAST:  # a few epochs cannot converge, and the fast mode knows it
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
if FAST:
    X, y = X[:500], y[:500]
epochs = 3 if FAST else 100
cv = StratifiedKFold(3 if FAST else 5, shuffle=True, random_state=0)

# the default architecture: conv32-pool-conv64-pool-dense128-dropout0.5
# early stopping ends each fit when the held-out 10% stops improving
cnn = CNNClassifier(
    input_shape=(8, 8),
    batch_size=32,
    max_iter=epochs,
    early_stopping=True,
    random_state=0,
)
scores = cross_val_score(make_pipeline(StandardScaler(), cnn), X, y, cv=cv)
print(f"default CNN: {scores.mean():.4f} +- {scores.std():.4f}")

# any other stack of layer specs; the output layer is added for the targets
small = CNNClassifier(
    layers=[Conv2D(8, 3, padding="same"), AvgPool2D(), Flatten(), Dense(32)],
    input_shape=(8, 8),
    batch_size=32,
    max_iter=epochs,
    early_stopping=True,
    random_state=0,
)
scores = cross_val_score(make_pipeline(StandardScaler(), small), X, y, cv=cv)
print(f"conv8-avgpool-dense32: {scores.mean():.4f} +- {scores.std():.4f}")

# %%
# The test images the default network gets wrong, with its two most probable
# classes: most are digits a person would hesitate over too.
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(StandardScaler(), cnn).fit(X_train, y_train)
print(f"held-out accuracy: {model.score(X_test, y_test):.4f}")
proba = model.predict_proba(X_test)
wrong = np.flatnonzero(model.predict(X_test) != y_test)[:12]
fig, axes = plt.subplots(2, 6, figsize=(9, 4.8))
for ax in axes.ravel():
    ax.set_axis_off()
for ax, i in zip(axes.ravel(), wrong, strict=False):
    first, second = model.classes_[np.argsort(proba[i])[::-1][:2]]
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"true {y_test[i]}\npred {first} ({second})", fontsize=9)
fig.suptitle(f"{len(wrong)} misclassified test images")
fig.tight_layout()

# %%
# The first layer's 32 filters: ``coefs_[0]`` has the layout
# (kernel_height, kernel_width, in_channels, filters).
filters = model[-1].coefs_[0]
fig, axes = plt.subplots(4, 8, figsize=(8, 4))
for k, ax in enumerate(axes.ravel()):
    ax.imshow(
        filters[:, :, 0, k],
        cmap="RdBu",
        vmin=-abs(filters).max(),
        vmax=abs(filters).max(),
    )
    ax.set_axis_off()
fig.suptitle("The 32 first-layer 3x3 filters (red < 0 < blue)")
plt.show()
