"""
==========================================
A convolutional network on digits
==========================================

Train ``CNNClassifier`` on the 8x8 digit images: X stays the ordinary 2-D array of
pixels, and ``input_shape=(8, 8)`` says how a row is an image, so the scaler, the
pipeline and cross-validation work as for any scikit-learn classifier. Then look at the
first convolution's filters and try another architecture through ``layers``.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import CNNClassifier
from sklearn_nn.layers import AvgPool2D, Conv2D, Dense, Flatten

X, y = load_digits(return_X_y=True)
cv = StratifiedKFold(5, shuffle=True, random_state=0)

# the default architecture: conv32-pool-conv64-pool-dense128-dropout0.5
cnn = CNNClassifier(input_shape=(8, 8), batch_size=32, max_iter=30, random_state=0)
scores = cross_val_score(make_pipeline(StandardScaler(), cnn), X, y, cv=cv)
print(f"default CNN: {scores.mean():.4f} +- {scores.std():.4f}")

# any other stack of layer specs; the output layer is added for the targets
small = CNNClassifier(
    layers=[Conv2D(8, 3, padding="same"), AvgPool2D(), Flatten(), Dense(32)],
    input_shape=(8, 8),
    batch_size=32,
    max_iter=30,
    random_state=0,
)
scores = cross_val_score(make_pipeline(StandardScaler(), small), X, y, cv=cv)
print(f"conv8-avgpool-dense32: {scores.mean():.4f} +- {scores.std():.4f}")

model = make_pipeline(StandardScaler(), cnn).fit(X, y)
filters = model[-1].coefs_[0]  # (kernel_h, kernel_w, in_channels, filters)
fig, axes = plt.subplots(4, 8, figsize=(8, 4))
for k, ax in enumerate(axes.ravel()):
    ax.imshow(filters[:, :, 0, k], cmap="gray")
    ax.set_axis_off()
fig.suptitle("The 32 first-layer 3x3 filters")
plt.show()
