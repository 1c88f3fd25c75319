"""sklearn_nn: neural-network estimators for scikit-learn, on Numba kernels."""

from ._cnn import CNNClassifier, CNNRegressor
from ._linear import LogisticRegression
from ._mlp import MLPClassifier, MLPRegressor

__all__ = [
    "CNNClassifier",
    "CNNRegressor",
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
]
__version__ = "0.1.0"
