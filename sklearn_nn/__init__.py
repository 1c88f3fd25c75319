"""sklearn_nn: neural-network estimators for scikit-learn, on Numba kernels."""

from ._cnn import CNNClassifier, CNNRegressor
from ._linear import LogisticRegression
from ._mlp import MLPClassifier, MLPRegressor
from ._neuralnet import NeuralNetClassifier, NeuralNetRegressor
from ._plotting import LossCurveDisplay
from ._pretrained import Pretrained
from ._rnn import RNNClassifier, RNNRegressor
from ._version import __version__  # noqa: F401  (the package version)

__all__ = [
    "CNNClassifier",
    "CNNRegressor",
    "LogisticRegression",
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPRegressor",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "Pretrained",
    "RNNClassifier",
    "RNNRegressor",
]
