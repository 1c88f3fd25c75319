"""Weight initialisers: moments of the draws against their formulas, determinism,
and which initialiser each layer gets."""

import numpy as np
import pytest

from sklearn_nn import MLPClassifier
from sklearn_nn._initializers import INITIALIZERS, draw
from sklearn_nn._network import Network
from sklearn_nn.layers import Conv2D, Dense

FAN_IN, FAN_OUT = 300, 200
VARIANCE = {
    "glorot_uniform": 2 / (FAN_IN + FAN_OUT),
    "glorot_normal": 2 / (FAN_IN + FAN_OUT),
    "he_uniform": 2 / FAN_IN,
    "he_normal": 2 / FAN_IN,
    "lecun_normal": 1 / FAN_IN,
    "orthogonal": 1 / FAN_IN,  # unit columns of FAN_IN entries
}


@pytest.mark.parametrize("name", INITIALIZERS)
def test_initializer_moments_match_formula(name):
    w = draw(name, (FAN_IN, FAN_OUT), (FAN_IN, FAN_OUT), np.random.RandomState(0))
    # 60000 draws: the sample variance is within ~1% of the true one
    assert abs(w.mean()) < 4 * np.sqrt(VARIANCE[name] / w.size)
    np.testing.assert_allclose(w.var(), VARIANCE[name], rtol=0.03)


@pytest.mark.parametrize("shape", [(300, 200), (200, 300), (3, 3, 4, 8)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    w = draw("orthogonal", shape, (1, 1), np.random.RandomState(0))
    flat = w.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)


def test_uniform_initializers_stay_within_bound():
    w = draw(
        "he_uniform", (FAN_IN, FAN_OUT), (FAN_IN, FAN_OUT), np.random.RandomState(0)
    )
    assert np.abs(w).max() <= np.sqrt(6 / FAN_IN)


def test_unknown_initializer_is_refused():
    with pytest.raises(ValueError, match="kernel_initializer must be one of"):
        Dense(3, kernel_initializer="xavier")
    with pytest.raises(ValueError, match="Conv2D kernel_initializer"):
        Conv2D(3, kernel_initializer="zeros")
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="weight_init"):
        MLPClassifier(weight_init="xavier").fit(X, y)


def _xy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_weight_init_is_deterministic_and_sets_the_draw(name):
    X, y = _xy()
    fits = [
        MLPClassifier((8,), weight_init=name, max_iter=1, random_state=0).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])
    glorot = MLPClassifier((8,), max_iter=1, random_state=0).fit(X, y)
    assert (name == "glorot_uniform") == np.array_equal(
        fits[0].coefs_[0], glorot.coefs_[0]
    )
    # biases start at zero except for scikit-learn's glorot_uniform draw
    start = MLPClassifier(
        (8,), weight_init=name, max_iter=1, random_state=0, learning_rate_init=1e-12
    ).fit(X, y)
    assert (name != "glorot_uniform") == np.allclose(start.intercepts_[0], 0, atol=1e-9)


def test_layer_initializer_overrides_weight_init():
    def draw_kernels(layers, weight_init):
        network = Network(layers + [Dense(2, "identity")], (6,))
        params = network.init_params(np.random.RandomState(0), np.float64, weight_init)
        return [views["kernel"] for views in network.views(params)]

    mixed = draw_kernels(
        [Dense(8, kernel_initializer="he_normal"), Dense(8)], "lecun_normal"
    )
    he = draw_kernels([Dense(8), Dense(8)], "he_normal")
    lecun = draw_kernels([Dense(8), Dense(8)], "lecun_normal")
    # one stream, layer by layer: layer 0 drawn as he_normal, the rest lecun_normal
    np.testing.assert_array_equal(mixed[0], he[0])
    np.testing.assert_array_equal(mixed[1], lecun[1])
    assert not np.allclose(he[1], lecun[1])
