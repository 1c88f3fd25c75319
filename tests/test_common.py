"""scikit-learn's estimator checks over every public estimator, several configs."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_nn import (
    CNNClassifier,
    CNNRegressor,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
)
from sklearn_nn.layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten

# max_iter is kept small so the suite stays fast, as scikit-learn does for its MLPs
ESTIMATORS = [
    MLPClassifier(max_iter=100),
    MLPRegressor(max_iter=100),
    MLPClassifier(solver="sgd", dropout=0.2, max_iter=100),
    MLPRegressor(solver="sgd", dropout=0.2, max_iter=100),
    MLPClassifier(solver="lbfgs", hidden_layer_sizes=(20,), max_iter=100),
    MLPRegressor(solver="lbfgs", hidden_layer_sizes=(20,), max_iter=100),
    MLPClassifier(hidden_layer_sizes=(), l1=1e-4, learning_rate_init=0.1, max_iter=100),
    MLPClassifier(hidden_layer_sizes=(20,), activation="gelu", max_iter=100),
    LogisticRegression(),
    LogisticRegression(solver="adam", l1_ratio=0.5, C=10.0, learning_rate_init=0.05),
    LogisticRegression(solver="sgd", batch_size=32),
    CNNClassifier(),
    CNNRegressor(),
    CNNClassifier(conv_filters=(4,), hidden_layer_sizes=(16,), dropout=0.0),
    CNNRegressor(solver="lbfgs", conv_filters=(4,), dropout=0.0, max_iter=100),
    CNNClassifier(
        layers=[
            Conv2D(4, 2, padding="same", activation="tanh"),
            AvgPool2D(padding="same"),
            Flatten(),
            Dense(16),
        ],
        learning_rate_init=0.01,
    ),
]

# Dropout draws one mask per row: a row repeated twice sees two masks where a row of
# weight 2 sees one, so weights equal repetition only in expectation, not bit for bit.
DROPOUT_SAMPLE_WEIGHT_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": "dropout masks are per row",
    "check_sample_weight_equivalence_on_sparse_data": "dropout masks are per row",
}


def _uses_dropout(estimator):
    if getattr(estimator, "layers", None) is not None:  # `dropout` is then unused
        return any(isinstance(layer, Dropout) for layer in estimator.layers)
    return getattr(estimator, "dropout", 0) > 0


def expected_failed_checks(estimator):
    """Checks that cannot pass by design, with the reason."""
    if _uses_dropout(estimator):
        return DROPOUT_SAMPLE_WEIGHT_CHECKS
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
