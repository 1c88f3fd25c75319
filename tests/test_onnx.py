"""ONNX export: onnxruntime gives our predictions for every estimator and layer."""

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

import sklearn_nn.onnx  # noqa: E402, F401  (registers the converters)
from sklearn_nn import (  # noqa: E402
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
from sklearn_nn.compression import quantize  # noqa: E402
from sklearn_nn.layers import (  # noqa: E402
    GRU,
    LSTM,
    Activation,
    AvgPool2D,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    LayerNormalization,
    MaxPool1D,
    MaxPool2D,
    MultiHeadSelfAttention,
    PositionalEncoding,
    Reshape,
    SimpleRNN,
    TransformerEncoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
TOL = 1e-5


def _run(model, X):
    options = {"zipmap": False} if is_classifier(model) else None
    onx = skl2onnx.to_onnx(model, X[:1], options=options)
    session = ort.InferenceSession(onx.SerializeToString())
    return session.run(None, {session.get_inputs()[0].name: X})


def _digits(n=400):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(np.float32), y[:n]


def _check_classifier(model, X):
    labels, proba = _run(model, X)
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=TOL)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize(
    "activation", ["identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"]
)
def test_mlp_every_activation(activation):
    X, y = _digits()
    model = MLPClassifier((24, 12), activation=activation, max_iter=30, random_state=0)
    _check_classifier(model.fit(X, y), X)


@pytest.mark.parametrize(
    "layers",
    [
        [Conv2D(6, 3, padding="same"), MaxPool2D(), Flatten(), Dense(16)],
        [
            Conv2D(6, 3, strides=2, padding="same", activation="gelu"),
            AvgPool2D(padding="same"),
            Flatten(),
        ],
        [
            Conv2D(5, (3, 2)),
            BatchNormalization(),
            Activation("tanh"),
            MaxPool2D(3, 2, "same"),
            Flatten(),
        ],
        [
            Conv2D(4, 2, padding="same"),
            AvgPool2D(3, 2, "same"),
            Dropout(0.3),
            Flatten(),
            LayerNormalization(),
        ],
        [Flatten(), Reshape((16, 4)), Flatten(), Dense(8, "leaky_relu")],
    ],
    ids=[
        "conv-max",
        "strided-avg-same",
        "bn-odd-window",
        "avg-excludes-pad-ln",
        "reshape",
    ],
)
def test_every_image_layer_in_a_network(layers):
    X, y = _digits()
    model = NeuralNetClassifier(
        layers, input_shape=(8, 8, 1), max_iter=3, random_state=0
    )
    _check_classifier(model.fit(X, y), X)


def test_cnn_channels_first_and_default_stack():
    X, y = _digits()
    # two different channels (the image and its transpose), so that a channel-order
    # mistake in the exported transposes changes the outputs
    planes = X.reshape(-1, 8, 8)
    images = np.stack([planes, planes.transpose(0, 2, 1)], axis=1).reshape(len(X), -1)
    model = CNNClassifier(input_shape=(2, 8, 8), data_format="channels_first",
                          padding="same", max_iter=2, random_state=0)  # fmt: skip
    _check_classifier(model.fit(images, y), images)


def test_binary_multilabel_and_string_labels():
    X, y = make_classification(200, 10, random_state=0)
    X = X.astype(np.float32)
    for model in (
        LogisticRegression(),
        MLPClassifier((8,), max_iter=50, random_state=0),
    ):
        _check_classifier(model.fit(X, y), X)
    Y = np.stack([y, 1 - y, (X[:, 0] > 0).astype(int)], axis=1)
    multilabel = MLPClassifier((8,), max_iter=50, random_state=0).fit(X, Y)
    labels, proba = _run(multilabel, X)
    np.testing.assert_allclose(proba, multilabel.predict_proba(X), atol=TOL)
    np.testing.assert_array_equal(labels, multilabel.predict(X))
    names = np.array(["no", "yes"])[y]
    _check_classifier(MLPClassifier((8,), max_iter=50, random_state=0).fit(X, names), X)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressors_single_and_multi_output(loss):
    X, y = make_regression(200, 8, n_targets=2, random_state=0)
    X = X.astype(np.float32)
    y = np.abs(y) / 100 if loss == "poisson" else y / 100
    for target in (y[:, 0], y):
        model = MLPRegressor((16,), loss=loss, max_iter=50, random_state=0).fit(
            X, target
        )
        (out,) = _run(model, X)
        np.testing.assert_allclose(
            out, model.predict(X).reshape(len(X), -1), rtol=1e-5, atol=TOL
        )
    images = np.abs(X[:, :4].repeat(4, axis=1))
    cnn = CNNRegressor(conv_filters=(3,), kernel_size=2, input_shape=(4, 4, 1),
                       hidden_layer_sizes=(8,), max_iter=5, random_state=0)  # fmt: skip
    cnn.fit(images, y[:, 0])
    (out,) = _run(cnn, images)
    np.testing.assert_allclose(out.ravel(), cnn.predict(images), rtol=1e-5, atol=TOL)
    net = NeuralNetRegressor([Dense(8), LayerNormalization()], max_iter=20).fit(X, y)
    (out,) = _run(net, X)
    np.testing.assert_allclose(out, net.predict(X), rtol=1e-5, atol=TOL)


def test_pipeline_with_scaler_zipmap_and_float64():
    X, y = _digits()
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((16,), max_iter=30, random_state=0)
    )
    pipe.fit(X, y)
    labels, proba = _run(pipe, X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=TOL)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    onx = skl2onnx.to_onnx(pipe, X[:1])  # zipmap: a list of dicts, as skl2onnx
    session = ort.InferenceSession(onx.SerializeToString())
    _, dicts = session.run(None, {"X": X[:3]})
    assert dicts[0][int(pipe.classes_[0])] == pytest.approx(
        pipe.predict_proba(X[:3])[0, 0], abs=TOL
    )
    X64 = X.astype(np.float64)
    model64 = MLPClassifier((16,), max_iter=30, random_state=0).fit(X64, y)
    _check_classifier(model64, X64)


@pytest.mark.parametrize(
    "layers",
    [
        [SimpleRNN(6, activation="relu", return_sequences=True), SimpleRNN(5)],
        [GRU(6, return_sequences=True), GRU(4)],
        [LSTM(6, return_sequences=True), LSTM(4)],
        [Bidirectional(GRU(5, return_sequences=True)), Bidirectional(LSTM(3))],
        [MultiHeadSelfAttention(2), MultiHeadSelfAttention(4, 3, causal=True),
         Flatten()],
        [TransformerEncoder(2, ff_units=12, activation="gelu", causal=True),
         GlobalMaxPooling1D()],
        [Conv1D(5, 3, padding="same"), MaxPool1D(2, padding="same"),
         Conv1D(4, 2, strides=2), GlobalAveragePooling1D()],
    ],
    ids=["rnn", "gru", "lstm", "bidirectional", "attention", "transformer", "conv1d"],
)  # fmt: skip
def test_every_sequence_layer_in_a_network(layers):
    X, y = _digits()  # each image 8 timesteps of 8 pixels
    model = NeuralNetClassifier(layers, input_shape=(8, 8), max_iter=2, random_state=0)
    _check_classifier(model.fit(X, y), X)


def test_text_and_rnn_estimators():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 30, (300, 10)).astype(np.float32)
    y = (ids[:, 0] > ids[:, -1]).astype(int)
    text = NeuralNetClassifier(
        [Embedding(30, 8), PositionalEncoding(), TransformerEncoder(2, ff_units=16),
         GlobalAveragePooling1D()],
        input_shape=(10,), max_iter=3, random_state=0,
    )  # fmt: skip
    _check_classifier(text.fit(ids, y), ids)
    X, digits = _digits()
    rnn = RNNClassifier(cell="lstm", units=(6,), bidirectional=True, input_shape=(8, 8),
                        max_iter=2, random_state=0)  # fmt: skip
    _check_classifier(rnn.fit(X, digits), X)
    reg = RNNRegressor(cell="gru", units=(6,), input_shape=(8, 8), max_iter=3)
    reg.fit(X, X[:, 5])
    (out,) = _run(reg, X)
    np.testing.assert_allclose(out.ravel(), reg.predict(X), rtol=1e-5, atol=TOL)


def test_export_errors_name_the_problem():
    X, y = _digits()
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(MLPClassifier(), X[:1])
    gelu_rnn = NeuralNetClassifier(
        [SimpleRNN(4, activation="gelu")], input_shape=(8, 8), max_iter=1
    ).fit(X, y)
    with pytest.raises(ValueError, match="no 'gelu' activation"):
        skl2onnx.to_onnx(gelu_rnn, X[:1])
    ids = np.random.default_rng(0).integers(0, 9, (len(X), 5)).astype(np.float32)
    masked = NeuralNetClassifier(
        [Embedding(9, 4, mask_zero=True), GRU(3)], input_shape=(5,), max_iter=1
    ).fit(ids, y)
    with pytest.raises(ValueError, match="GRU.*padding mask"):
        skl2onnx.to_onnx(masked, ids[:1])
    with pytest.raises(ValueError, match="dequantize"):
        skl2onnx.to_onnx(quantize(MLPClassifier((8,), max_iter=5).fit(X, y)), X[:1])


class _Unknown(Dense):
    """A user's layer with no converter."""


def test_a_layer_without_converter_is_named():
    X, y = _digits()
    model = NeuralNetClassifier([_Unknown(4)], max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="_Unknown.*no ONNX converter"):
        skl2onnx.to_onnx(model, X[:1])


def test_one_channel_images_given_as_height_by_width():
    X, y = _digits()
    for layers in (
        [Conv2D(3, 3), Flatten()],
        [MaxPool2D(), Flatten()],
        [Reshape((4, 16)), AvgPool2D(2, padding="same"), Flatten()],
    ):
        model = NeuralNetClassifier(layers, input_shape=(8, 8), max_iter=2).fit(X, y)
        _check_classifier(model, X)  # fmt: skip


@pytest.mark.parametrize(
    "layers",
    [[Conv2D(4, 3), AvgPool2D(), Flatten()], [GRU(4)], [LSTM(3)],
     [Dense(8, "gelu")], [Bidirectional(SimpleRNN(3))]],
    ids=["conv-avg", "gru", "lstm", "gelu", "bi-rnn"],
)  # fmt: skip
def test_float64_models_export_runnable_graphs(layers):
    # onnxruntime has no double Conv/AveragePool/RNN/Erf: computed in float32
    X, y = _digits()
    X64 = X.astype(np.float64)
    shape = (8, 8, 1) if isinstance(layers[0], Conv2D) else (8, 8)
    if isinstance(layers[0], Dense):
        shape = None
    model = NeuralNetClassifier(layers, input_shape=shape, max_iter=2).fit(X64, y)
    labels, proba = _run(model, X64)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, model.predict_proba(X64), atol=TOL)
    np.testing.assert_array_equal(labels, model.predict(X64))


def test_nocl_gives_class_indices_and_float_labels_become_ints():
    X, y = _digits(200)
    labels_of = {
        "ints": np.array([-5, 0, 7])[y % 3],
        "strings": np.array(["a", "b", "c"])[y % 3],
    }
    for kind, target in labels_of.items():
        model = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, target)
        onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False, "nocl": True})
        session = ort.InferenceSession(onx.SerializeToString())
        labels, _ = session.run(None, {"X": X})
        expected = np.searchsorted(model.classes_, model.predict(X))
        np.testing.assert_array_equal(labels, expected, err_msg=kind)
        onx = skl2onnx.to_onnx(model, X[:1], options={"nocl": True})  # with zipmap
        _, dicts = ort.InferenceSession(onx.SerializeToString()).run(None, {"X": X[:2]})
        assert sorted(dicts[0]) == [0, 1, 2]
    floats = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, (y % 3) * 1.0)
    labels, _ = _run(floats, X)
    np.testing.assert_array_equal(labels, floats.predict(X).astype(np.int64))


def test_older_opsets_and_multilabel_shapes():
    onnx = pytest.importorskip("onnx")
    X, y = _digits()
    for layers in (
        [GRU(4)],
        [SimpleRNN(3, return_sequences=True), Flatten()],
        [Conv1D(3, 2), MaxPool1D(), Flatten()],
    ):
        model = NeuralNetClassifier(layers, input_shape=(8, 8), max_iter=1).fit(X, y)
        onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False}, target_opset=12)
        session = ort.InferenceSession(onx.SerializeToString())
        _, proba = session.run(None, {"X": X})
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=TOL)  # fmt: skip
    Xb, yb = make_classification(100, 6, random_state=0)
    Y = np.stack([yb, 1 - yb], axis=1)
    multilabel = MLPClassifier((4,), max_iter=20).fit(Xb.astype(np.float32), Y)
    onx = skl2onnx.to_onnx(
        multilabel, Xb[:1].astype(np.float32), options={"zipmap": False}
    )
    onnx.shape_inference.infer_shapes(onx, strict_mode=True)
    label_dims = onx.graph.output[0].type.tensor_type.shape.dim
    assert len(label_dims) == 2 and label_dims[1].dim_value == 2


@pytest.mark.parametrize(
    "layers",
    [
        [Embedding(12, 8, mask_zero=True), PositionalEncoding(),
         TransformerEncoder(2, ff_units=8), GlobalAveragePooling1D()],
        [Embedding(12, 6, mask_zero=True), MultiHeadSelfAttention(2, causal=True),
         Dropout(0.2), GlobalAveragePooling1D()],
    ],
    ids=["transformer", "causal-attention"],
)  # fmt: skip
def test_padding_masks_of_text_models(layers):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 12, (200, 9)).astype(np.float32)
    lengths = rng.integers(0, 10, 200)  # padding at the end, some rows all padding
    ids[np.arange(9) >= lengths[:, None]] = 0
    ids[:5, :3] = 0  # and padding first, in a few
    y = (ids[:, 0] > 5).astype(int)
    model = NeuralNetClassifier(layers, input_shape=(9,), max_iter=3, random_state=0)
    _check_classifier(model.fit(ids, y), ids)
