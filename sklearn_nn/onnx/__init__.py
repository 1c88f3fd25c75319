"""ONNX export through skl2onnx: ``import sklearn_nn.onnx``, then ``to_onnx`` as usual.

Importing this module registers a shape calculator and a converter for every
sklearn_nn estimator with skl2onnx (``update_registered_converter``), so that
``skl2onnx.to_onnx(est, X[:1])`` and ``to_onnx(Pipeline([..., ("nn", est)]), X[:1])``
work and the model runs in onnxruntime. Registration is explicit, on import, rather
than automatic whenever skl2onnx is installed: importing sklearn_nn stays as fast
as it is, and skl2onnx is imported only by those who export. Install the extra with
``pip install "sklearn-nn[onnx]"`` (skl2onnx, onnx, onnxruntime).

Classifiers follow skl2onnx's conventions: a ``label`` output and a
``probabilities`` output, with the ``zipmap`` option (default True: a list of
dicts; ``options={"zipmap": False}`` gives a tensor). Regressors give ``variable``
of shape (n_samples, n_outputs). A layer without a converter, or a padding mask
into a recurrent layer, raises a ValueError naming it. float64 models export in
double, except networks with layers onnxruntime has no double kernels for (Conv,
AveragePool, RNN/GRU/LSTM, gelu's Erf), which compute in float32.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import load_digits
>>> import sklearn_nn.onnx  # registers the converters
>>> from sklearn_nn import MLPClassifier
>>> X, y = load_digits(return_X_y=True)
>>> X = (X / 16).astype(np.float32)
>>> model = MLPClassifier((32,), early_stopping=True, random_state=0).fit(X, y)
>>> onx = to_onnx(model, X[:1], options={"zipmap": False})
>>> session = ort.InferenceSession(onx.SerializeToString())
>>> labels, proba = session.run(None, {"X": X})
>>> bool(np.abs(proba - model.predict_proba(X)).max() < 1e-5)
True
"""

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx._parse import _parse_sklearn_classifier, _parse_sklearn_simple_model
from skl2onnx.common.data_types import Int64TensorType, guess_proto_type
from skl2onnx.common.shape_calculator import (
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)
from skl2onnx.common.utils_classifier import get_label_classes
from sklearn.utils.validation import check_is_fitted

from .. import (
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
from ._layers import DOUBLE_OK, EMITTERS, MASKED_EMITTERS, Graph, network_outputs
from ._sequences import (
    MASKED_SEQUENCE_EMITTERS,
    SEQUENCE_DOUBLE_OK,
    SEQUENCE_EMITTERS,
)

__all__ = ["EMITTERS", "register"]

CLASSIFIERS = (
    CNNClassifier,
    LogisticRegression,
    MLPClassifier,
    NeuralNetClassifier,
    RNNClassifier,
)
REGRESSORS = (CNNRegressor, MLPRegressor, NeuralNetRegressor, RNNRegressor)


def double_supported(network):
    """Whether onnxruntime can run ``network`` in double (no gelu's Erf either)."""
    return all(
        isinstance(layer, DOUBLE_OK + SEQUENCE_DOUBLE_OK)
        and getattr(layer, "activation", None) != "gelu"
        for layer in network.layers
    )


def _graph(scope, operator, container):
    """The network's outputs in the graph, and the element type of the outputs."""
    model = operator.raw_operator
    if getattr(model, "_quantized", None) is not None:
        raise ValueError(
            "A quantised model is exported with its dequantised float weights: "
            "export sklearn_nn.compression.dequantize(model)."
        )
    given = guess_proto_type(operator.inputs[0].type)
    out_proto = TensorProto.DOUBLE if given == TensorProto.DOUBLE else TensorProto.FLOAT
    # onnxruntime has no double Conv, AveragePool, RNN/GRU/LSTM or Erf: such
    # networks compute in float32 and cast their outputs back
    proto = out_proto if double_supported(model._network) else TensorProto.FLOAT
    np_dtype = np.float64 if proto == TensorProto.DOUBLE else np.float32
    g = Graph(scope, container, proto, np_dtype)
    x = operator.inputs[0].full_name
    if given != proto:
        x = g.op("Cast", [x], to=proto)
    z = network_outputs(g, model._network, model._params, model._state, x)
    return model, g, z, out_proto


def _finish(g, value, output, out_proto):
    """``value`` as the graph output ``output``, cast to its declared type."""
    if g.proto_dtype == out_proto:
        return g.op("Identity", [value], output=output)
    return g.op("Cast", [value], output=output, to=out_proto)


def _convert_classifier(scope, operator, container):
    model, g, z, out_proto = _graph(scope, operator, container)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    multilabel = model._label_binarizer.y_type_ == "multilabel-indicator"
    if model._multiclass():
        p = g.op("Softmax", [z], axis=1)
    elif multilabel:
        p = g.op("Sigmoid", [z])
    else:  # binary: the positive class's logit
        positive = g.op("Sigmoid", [z])
        negative = g.op("Sub", [g.const("one", 1.0), positive])
        p = g.op("Concat", [negative, positive], axis=1)
    _finish(g, p, proba, out_proto)
    if multilabel:
        above = g.op("Greater", [p, g.const("half", 0.5)])
        g.op("Cast", [above], output=label, to=TensorProto.INT64)
        return
    best = g.op("ArgMax", [p], axis=1, keepdims=0)
    classes = np.asarray(get_label_classes(scope, model))  # indices under nocl
    if np.issubdtype(classes.dtype, np.floating):
        if not np.all(classes == np.round(classes)):
            raise ValueError(
                "ONNX labels are int64 or strings: these classes_ are not whole "
                f"numbers ({classes!r})."
            )
        classes = classes.astype(np.int64)
    if np.issubdtype(classes.dtype, np.integer) or classes.dtype == np.bool_:
        table = g.const("classes", classes, TensorProto.INT64, np.int64)
    else:
        names = np.array([str(c).encode("utf-8") for c in classes])
        table = g.const("classes", names, TensorProto.STRING, object)
    g.op("Gather", [table, best], output=label)


def _convert_regressor(scope, operator, container):
    model, g, z, out_proto = _graph(scope, operator, container)
    if model.out_activation_ == "exp":  # Poisson: the log link's inverse
        z = g.op("Exp", [z])
    _finish(g, z, operator.outputs[0].full_name, out_proto)


def _classifier_shapes(operator):
    calculate_linear_classifier_output_shapes(operator)
    model = operator.raw_operator
    if model._label_binarizer.y_type_ == "multilabel-indicator":
        # one 0/1 label per output, (n, n_labels), not one label per row
        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n, len(model.classes_)])


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    # skl2onnx's parser reads classes_ first: an unfitted model must fail here,
    # with scikit-learn's NotFittedError, not skl2onnx's "number of classes"
    check_is_fitted(model)
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers)


def _parse_regressor(scope, model, inputs, custom_parsers=None):
    check_is_fitted(model)
    return _parse_sklearn_simple_model(scope, model, inputs, custom_parsers)


_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
}


def register():
    """Register the converters with skl2onnx (done on import; safe to repeat).

    Examples
    --------
    >>> from skl2onnx import supported_converters
    >>> from sklearn_nn.onnx import register
    >>> register()  # again: importing sklearn_nn.onnx already did
    >>> "SklearnNNMLPClassifier" in supported_converters()
    True
    """
    for cls in CLASSIFIERS:
        update_registered_converter(
            cls,
            f"SklearnNN{cls.__name__}",
            _classifier_shapes,
            _convert_classifier,
            parser=_parse_classifier,
            options=_CLASSIFIER_OPTIONS,
        )
    for cls in REGRESSORS:
        update_registered_converter(
            cls,
            f"SklearnNN{cls.__name__}",
            calculate_linear_regressor_output_shapes,
            _convert_regressor,
            parser=_parse_regressor,
        )


EMITTERS.update(SEQUENCE_EMITTERS)
MASKED_EMITTERS.update(MASKED_SEQUENCE_EMITTERS)
register()
