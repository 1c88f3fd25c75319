"""scikit-learn's estimator checks over every public estimator, several configs."""

from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_nn import (
    CNNClassifier,
    CNNRegressor,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
    RNNClassifier,
    RNNRegressor,
)
from sklearn_nn.layers import (
    Activation,
    AvgPool2D,
    BatchNormalization,
    Conv1D,
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    LayerNormalization,
    MaxPool1D,
    PositionalEncoding,
    Reshape,
    TransformerEncoder,
)


def _neural_net_configs(estimator):
    """The same stacks for the classifier and the regressor."""
    return [
        estimator([Dense(16, "identity"), BatchNormalization(), Activation("relu")]),
        estimator([Dense(16, "tanh"), LayerNormalization()], solver="lbfgs"),
        estimator(
            [
                Reshape((1, -1, 1)),  # any n_features as a one-row image
                Conv2D(4, 3, padding="same", activation="identity"),
                BatchNormalization(),
                Activation("relu"),
            ],
            learning_rate_init=0.01,
        ),
        estimator(weight_init="he_normal", max_iter=100),
        estimator([Dense(16, trainable=False), Dense(16)], clip_norm=5.0),
    ]


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
    *_neural_net_configs(NeuralNetClassifier),
    *_neural_net_configs(NeuralNetRegressor),
    RNNClassifier(),
    RNNRegressor(),
    RNNClassifier(cell="gru", bidirectional=True, units=(8, 8), dropout=0.1),
    RNNRegressor(cell="rnn", solver="lbfgs", max_iter=100),
    NeuralNetClassifier(
        [
            Reshape((-1, 1)),  # any n_features as a sequence of one feature
            Conv1D(4, 2, padding="same"),
            MaxPool1D(padding="same"),
            GlobalAveragePooling1D(),
        ],
        learning_rate_init=0.01,
    ),
    NeuralNetRegressor(
        [Reshape((-1, 1)), Conv1D(4, 2, padding="same"), Flatten()],
        learning_rate_init=0.01,
    ),
    NeuralNetClassifier(
        [
            Reshape((-1, 1)),
            Conv1D(8, 1, activation="identity"),  # each feature a timestep of width 8
            PositionalEncoding(),
            TransformerEncoder(2, ff_units=16),
            GlobalAveragePooling1D(),
        ],
        learning_rate_init=0.01,
    ),
    # Embedding takes token ids, and refuses the real-valued X of the checks: here
    # they are binned into ids first, each feature's bin a token
    make_pipeline(
        KBinsDiscretizer(
            n_bins=5, encode="ordinal", quantile_method="averaged_inverted_cdf"
        ),
        NeuralNetClassifier(
            [
                Embedding(5, 8),
                PositionalEncoding(),
                TransformerEncoder(2, ff_units=16),
                GlobalAveragePooling1D(),
            ],
            learning_rate_init=0.01,
            random_state=0,  # check_estimator seeds only a top-level random_state
        ),
    ),
]

# Batch statistics are unweighted means over a batch's rows (as in Keras and
# PyTorch): a row of weight 0 still moves them, a row of weight 2 counts once. (Dropout
# passes: its masks are keyed by each row's content, so a row twice is a row of
# weight 2.)
SAMPLE_WEIGHT_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)


def expected_failed_checks(estimator):
    """Checks that cannot pass by design, with the reason."""
    if isinstance(estimator, Pipeline):
        reason = "a Pipeline fits its steps in place (scikit-learn's own does too)"
        return dict.fromkeys(
            ("check_estimators_overwrite_params", "check_dont_overwrite_parameters"),
            reason,
        )
    layers = getattr(estimator, "layers", None) or []
    if any(isinstance(layer, BatchNormalization) for layer in layers):
        return dict.fromkeys(
            SAMPLE_WEIGHT_CHECKS, "batch statistics ignore sample weights"
        )
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
