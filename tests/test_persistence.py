"""Pickling: the version that fitted a model is recorded and checked on load."""

import pickle
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_digits

import sklearn_nn
import sklearn_nn.layers
from sklearn_nn import MLPClassifier, _persistence
from sklearn_nn.exceptions import InconsistentVersionWarning


@pytest.fixture
def fitted():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y), X


def test_same_version_loads_silently(fitted):
    model, X = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(model))
    assert loaded._sklearn_nn_version == sklearn_nn.__version__
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_another_version_warns_and_names_both(fitted, monkeypatch):
    model, X = fitted
    data = pickle.dumps(model)
    monkeypatch.setattr(_persistence, "__version__", "99.0")
    with pytest.warns(
        InconsistentVersionWarning, match="version 0.1.0 when using version 99.0"
    ) as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert (warning.estimator_name, warning.original_version) == (
        "MLPClassifier",
        sklearn_nn.__version__,
    )
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_unfitted_estimators_record_no_version():
    state = MLPClassifier().__getstate__()
    assert "_sklearn_nn_version" not in state


def test_loading_and_copying_do_not_repeat_fit_warnings():
    import copy

    from sklearn_nn import NeuralNetClassifier
    from sklearn_nn.layers import Embedding, Flatten

    ids = np.random.default_rng(0).integers(0, 9, (60, 5)).astype(float)
    with pytest.warns(UserWarning, match="padding mask"):
        model = NeuralNetClassifier(
            [Embedding(9, 4, mask_zero=True), Flatten()], input_shape=(5,), max_iter=2
        ).fit(ids, np.arange(60) % 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(model))
        copy.deepcopy(model)
        copy.copy(model)


def test_a_changed_parameter_layout_is_refused_not_scrambled(fitted):
    model, _ = fitted
    state = model.__getstate__()
    state["_network"]["layout"][0][2] += 1  # as if another version moved a kernel
    restored = MLPClassifier()
    with pytest.raises(ValueError, match="layout"):
        restored.__setstate__(state)


def test_truncated_files_are_the_loaders_error(fitted):
    # nothing of ours runs on a half file: the loader's error, no estimator
    model, _ = fitted
    data = pickle.dumps(model)
    with pytest.raises((pickle.UnpicklingError, EOFError, ValueError)):
        pickle.loads(data[: len(data) // 2])
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(model)
    estimator = f"{type(model).__module__}.{type(model).__name__}"
    with pytest.raises(zipfile.BadZipFile):  # a .skops file is a zip archive
        sio.loads(data[: len(data) // 2], trusted=[estimator])


def _fitted_models():
    from sklearn_nn import CNNClassifier, LogisticRegression, RNNRegressor
    from sklearn_nn.compression import prune, quantize

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((8,), solver="sgd", l1=1e-3, max_iter=2, random_state=0)
        models = {
            "mlp": mlp.fit(X, y),
            "cnn": CNNClassifier(input_shape=(8, 8, 1), max_iter=1, random_state=0).fit(
                X, y
            ),
            "logreg": LogisticRegression().fit(X, y),
            "rnn": RNNRegressor(
                cell="lstm", units=(4,), input_shape=(8, 8), max_iter=1, random_state=0
            ).fit(X, X[:, 3]),
        }
    models["quantized"] = quantize(models["mlp"])
    models["pruned"] = prune(models["cnn"], 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models["channels_first"] = CNNClassifier(
            input_shape=(1, 8, 8), data_format="channels_first", max_iter=1
        ).fit(X, y)
    return models, X, y


@pytest.mark.parametrize("name", ["mlp", "cnn", "logreg", "rnn", "quantized", "pruned"])
def test_skops_trusts_only_the_estimator_and_public_layers(name):
    sio = pytest.importorskip("skops.io")
    models, X, _ = _fitted_models()
    model = models[name]
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    estimator = f"{type(model).__module__}.{type(model).__name__}"
    assert estimator in untrusted
    public = {
        f"{cls.__module__}.{cls.__name__}"
        for cls in (
            getattr(sklearn_nn.layers, name) for name in sklearn_nn.layers.__all__
        )
    }
    assert set(untrusted) <= public | {estimator}
    loaded = sio.loads(data, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("round_trip", ["pickle", "skops"])
@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn", "pruned"])
def test_training_continues_exactly_after_a_round_trip(name, round_trip):
    models, X, y = _fitted_models()
    model = models[name]
    target = X[:, 3] if name == "rnn" else y
    if round_trip == "pickle":
        copy = pickle.loads(pickle.dumps(model))
    else:
        sio = pytest.importorskip("skops.io")
        data = sio.dumps(model)
        copy = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est in (model, copy):
            est.partial_fit(X, target)
            est.set_params(warm_start=True, max_iter=2).fit(X, target)
    np.testing.assert_array_equal(copy._params, model._params)


@pytest.mark.parametrize("name", ["MaxPool2D", "AvgPool2D"])
def test_pooling_layers_pickled_under_their_old_module_load(name, monkeypatch):
    # the pooling layers moved from layers/conv.py to layers/pooling.py; a pickle
    # (or skops file) written before names them sklearn_nn.layers.conv.<name>
    layer_class = getattr(sklearn_nn.layers, name)
    monkeypatch.setattr(layer_class, "__module__", "sklearn_nn.layers.conv")
    blob = pickle.dumps(layer_class(pool_size=3))
    monkeypatch.undo()
    assert b"sklearn_nn.layers.conv" in blob
    loaded = pickle.loads(blob)
    assert type(loaded) is layer_class
    assert loaded == layer_class(pool_size=3)
