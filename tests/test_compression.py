"""sklearn_nn.compression: pruning keeps its zeros through training; quantised
models predict as the same integer arithmetic does, pickle small, refuse training."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.metrics import check_scoring
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_nn import (
    CNNClassifier,
    CNNRegressor,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    RNNClassifier,
)
from sklearn_nn import _quantized as quantized_module
from sklearn_nn._kernels.vnni import HAS_VNNI
from sklearn_nn._predict import predict_outputs
from sklearn_nn._quantized import predict_constants, quantize_per_channel
from sklearn_nn.compression import dequantize, prune, quantize
from sklearn_nn.layers import Dense, Dropout, LayerNormalization

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _digits(n=300, dtype=np.float32):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(dtype), y[:n]


def _fitted(name, dtype=np.float32, solver="adam"):
    X, y = _digits(dtype=dtype)
    if name == "mlp":
        est = MLPClassifier((32, 16), solver=solver, max_iter=20, random_state=0)
    elif name == "mlpreg":
        est = MLPRegressor((16,), solver=solver, max_iter=20, random_state=0)
        y = X[:, 20] + X[:, 30]
    elif name == "logreg":
        est = LogisticRegression(solver=solver, max_iter=20, random_state=0)
    elif name == "cnn":
        est = CNNClassifier(
            conv_filters=(4,), hidden_layer_sizes=(16,), input_shape=(8, 8, 1),
            max_iter=3, random_state=0,
        )  # fmt: skip
    elif name == "cnnreg":
        est = CNNRegressor(
            conv_filters=(4,), hidden_layer_sizes=(8,), input_shape=(8, 8, 1),
            max_iter=3, random_state=0,
        )  # fmt: skip
        y = X[:, 20] + X[:, 30]
    elif name == "neuralnet":
        est = NeuralNetClassifier(
            [Dense(24), LayerNormalization(), Dropout(0.1), Dense(16, "tanh")],
            max_iter=10, random_state=0,
        )  # fmt: skip
    else:  # a GRU over the digits' 8 rows
        est = RNNClassifier(
            cell="gru", units=(8,), input_shape=(8, 8), max_iter=3, random_state=0
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y), X, y


ESTIMATORS = ["mlp", "mlpreg", "logreg", "cnn", "cnnreg", "neuralnet", "rnn"]


def _weights(est):
    from sklearn_nn._quantized import weight_mask

    return est._params[weight_mask(est._network)]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_prune_zeroes_the_smallest_weights_and_leaves_the_input(name):
    est, X, _ = _fitted(name)
    before = est._params.copy()
    pruned = prune(est, 0.6)
    assert_array_equal(est._params, before)  # the input is not changed
    w, w0 = _weights(pruned), _weights(est)
    assert pruned.sparsity_ == pytest.approx(0.6, abs=1 / w.size)
    assert (w == 0).mean() == pytest.approx(0.6, abs=1 / w.size)
    # the zeros are the smallest magnitudes
    assert np.abs(w0[w == 0]).max() <= np.abs(w0[w != 0]).min()
    # biases and normalisation parameters are untouched
    from sklearn_nn._quantized import weight_mask

    others = ~weight_mask(est._network)
    assert_array_equal(pruned._params[others], est._params[others])
    assert pruned.predict(X).shape == est.predict(X).shape


def test_prune_per_layer_prunes_each_layer_by_amount():
    est, _, _ = _fitted("mlp")
    pruned = prune(est, 0.5, scope="layer")
    for w in pruned.coefs_:
        assert (w == 0).mean() == pytest.approx(0.5, abs=1 / w.size)
    globally = prune(est, 0.5)
    assert not all(
        (w == 0).mean() == pytest.approx(0.5, abs=1 / w.size) for w in globally.coefs_
    )


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("name", ["mlp", "logreg", "cnn", "rnn"])
def test_pruned_weights_stay_zero_through_partial_fit(name, solver):
    est, X, y = _fitted(name, solver=solver)
    pruned = prune(est, 0.7)
    zeros = _weights(pruned) == 0
    for _ in range(3):
        pruned.partial_fit(X, y)
    w = _weights(pruned)
    assert np.all(w[zeros] == 0)
    assert np.any(w[~zeros] != _weights(prune(est, 0.7))[~zeros])  # it did train


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_pruned_weights_stay_zero_through_warm_start(solver):
    est, X, y = _fitted("mlp", solver=solver)
    pruned = prune(est, 0.8).set_params(warm_start=True, max_iter=5)
    zeros = _weights(pruned) == 0
    pruned.fit(X, y)
    assert np.all(_weights(pruned)[zeros] == 0)
    assert pruned.sparsity_ == pytest.approx(0.8, abs=1e-3)
    # prune -> fine-tune -> prune more keeps the first zeros and adds to them
    more = prune(pruned, 0.9)
    assert np.all(_weights(more)[zeros] == 0)
    assert (_weights(more) == 0).mean() == pytest.approx(0.9, abs=1e-3)
    # a new fit is a new model: the mask is gone
    fresh = more.set_params(warm_start=False).fit(X, y)
    assert not hasattr(fresh, "sparsity_")
    assert (_weights(fresh) == 0).mean() < 0.01


def test_pruning_mask_survives_pickle():
    est, X, y = _fitted("mlp")
    pruned = pickle.loads(pickle.dumps(prune(est, 0.7)))
    zeros = _weights(pruned) == 0
    pruned.partial_fit(X, y)
    assert np.all(_weights(pruned)[zeros] == 0)


def _reference_int8_mlp(est, X):
    """numpy: each Dense layer's inputs quantised per row to uint8, int8 weights
    per column, exact integer product, float32 rescaling, then the activation; the
    layers too small for int8 to pay in float32 with the dequantised weights."""
    a = X.astype(np.float32)
    for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        wq, sw = quantize_per_channel(w)
        if w.size < quantized_module.INT8_MIN_WEIGHTS:
            z = a @ (wq.astype(np.float64) * sw).astype(np.float32) + b
            a = np.maximum(z, 0) if i < len(est.coefs_) - 1 else z
            continue
        lo, hi = np.minimum(a.min(1), 0), np.maximum(a.max(1), 0)
        sx = ((hi - lo) / np.float32(255)).astype(np.float32)
        sx[sx == 0] = 1
        inv = (np.float32(1) / sx).astype(np.float32)
        zp = np.rint(-lo * inv).astype(np.int32)
        xq = np.clip(np.rint(a * inv[:, None]).astype(np.int32) + zp[:, None], 0, 255)
        acc = xq.astype(np.int64) @ wq.astype(np.int64)
        colsum = wq.astype(np.int64).sum(0)
        z = (acc - zp[:, None] * colsum).astype(np.float32) * (sx[:, None] * sw) + b
        a = np.maximum(z, 0) if i < len(est.coefs_) - 1 else z
    return a


@pytest.mark.skipif(not HAS_VNNI, reason="int8 kernels need avx512_vnni here")
def test_int8_predictions_equal_the_integer_reference():
    X, y = _digits()
    # 64x256 and 256x128 run int8, the 128x10 output layer float32
    est = MLPClassifier((256, 128), max_iter=10, random_state=0).fit(X, y)
    q = quantize(est)
    assert [bool(c) for c in predict_constants(q, X)] == [True, True, False]
    assert_allclose(q.decision_function(X), _reference_int8_mlp(q, X), atol=1e-5)
    # the quantised model does not predict with the float path
    float_path = dequantize(q).decision_function(X)
    assert not np.array_equal(q.decision_function(X), float_path)
    assert_allclose(q.decision_function(X), float_path, atol=0.05)


@pytest.mark.skipif(not HAS_VNNI, reason="int8 kernels need avx512_vnni here")
def test_int8_predictions_do_not_depend_on_threads():
    X, y = _digits()
    est = MLPClassifier((256,), max_iter=10, random_state=0).fit(X, y)
    q = quantize(est)
    constants = predict_constants(q, X)
    outputs = [
        predict_outputs(
            q._network, q._params, q._state, X, n_threads=n, constants=constants
        )
        for n in (1, 2, 3)  # lanes of batch parts, whatever the CPU count
    ]
    assert_array_equal(outputs[0], outputs[1])
    assert_array_equal(outputs[0], outputs[2])
    assert_array_equal(outputs[0], q.decision_function(X))
    with threadpool_limits(1):
        assert_array_equal(q.decision_function(X), outputs[0])


def test_int8_needs_vnni_on_the_target_numba_compiles_for(monkeypatch):
    # without VNNI (or when NUMBA_CPU_NAME names another CPU) int8 models predict
    # with their dequantised float32 weights; nothing compiles the intrinsic
    import subprocess
    import sys

    code = "from sklearn_nn._kernels.vnni import HAS_VNNI; print(HAS_VNNI)"
    env = {"NUMBA_CPU_NAME": "generic", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "False", out.stderr
    monkeypatch.setattr(quantized_module, "HAS_VNNI", False)
    est, X, _ = _fitted("mlp")
    q = quantize(est)
    assert predict_constants(q, X) is None
    assert_array_equal(q.decision_function(X), dequantize(q).decision_function(X))


def test_sparse_input_predicts_with_the_float_weights_in_every_layer():
    X, y = _digits()
    est = MLPClassifier((30,), max_iter=30, random_state=0).fit(X, y)
    q = quantize(est)
    float_path = dequantize(q).predict_proba(X)
    assert_allclose(q.predict_proba(sp.csr_matrix(X)), float_path, atol=1e-6)


def test_quantized_coefs_are_read_only_views():
    est, X, _ = _fitted("mlp")
    q = quantize(est)
    with pytest.raises(ValueError, match="read-only"):
        q.coefs_[0][0, 0] = 1.0
    q = pickle.loads(pickle.dumps(q))
    with pytest.raises(ValueError, match="read-only"):
        q.intercepts_[0][0] = 1.0
    trainable = dequantize(q)
    trainable.coefs_[0][0, 0] = 1.0
    assert trainable._params[0] == 1.0  # still a view of the trained buffer


@pytest.mark.parametrize("dtype", ["int8", "float16"])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_quantized_models_predict_close_and_round_trip(name, dtype):
    est, X, y = _fitted(name)
    q = quantize(est, dtype)
    assert type(q) is type(est)
    assert q.score(X, y) == pytest.approx(est.score(X, y), abs=0.05)
    loaded = pickle.loads(pickle.dumps(q))
    raw = q.decision_function if hasattr(q, "decision_function") else q.predict
    for copied in (loaded, copy.deepcopy(q)):
        copied_raw = getattr(copied, raw.__name__)
        assert_array_equal(copied_raw(X), raw(X))
    assert check_scoring(loaded)(loaded, X, y) == q.score(X, y)
    assert len(pickle.dumps(q)) < len(pickle.dumps(est))


def test_int8_pickle_is_under_a_third_of_float32():
    X, y = _digits()
    est = MLPClassifier((256, 128), max_iter=5, random_state=0).fit(X, y)
    assert len(pickle.dumps(quantize(est))) <= 0.3 * len(pickle.dumps(est))


def test_quantized_model_refuses_training_and_dequantize_trains():
    est, X, y = _fitted("mlp")
    q = quantize(est)
    before = q.predict_proba(X)
    warm = quantize(est).set_params(warm_start=True)
    for train in (lambda: q.partial_fit(X, y), lambda: warm.fit(X, y)):
        with pytest.raises(TypeError, match="dequantize"):
            train()
    assert_array_equal(q.predict_proba(X), before)  # the refused model is intact
    trainable = dequantize(q)
    assert_allclose(trainable.predict_proba(X), q.predict_proba(X), atol=0.02)
    trainable.partial_fit(X, y)
    clone(q).fit(X, y)  # an untrained copy fits as any estimator does
    # a new fit starts over, as fit does in scikit-learn: a float model again
    q.fit(X, y)
    assert not hasattr(q, "_quantized") and q.coefs_[0].flags.writeable
    q.partial_fit(X, y)


def test_quantized_model_in_a_pipeline():
    X, y = _digits()
    pipe = make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=200))
    float_score = pipe.fit(X, y).score(X, y)
    pipe.steps[-1] = ("mlpclassifier", quantize(pipe[-1]))
    assert float_score > 0.9
    assert pipe.score(X, y) == pytest.approx(float_score, abs=0.02)
    assert pickle.loads(pickle.dumps(pipe)).score(X, y) == pipe.score(X, y)


def test_quantize_a_pruned_model_keeps_its_zeros():
    est, X, _ = _fitted("mlp")
    q = quantize(prune(est, 0.5))
    assert (_weights(q) == 0).mean() >= 0.5
    assert q.sparsity_ == pytest.approx(0.5, abs=1e-3)


def test_compression_bad_input():
    est, X, y = _fitted("mlp")
    for amount in (-0.1, 1.0, 1.5, np.nan, "half", True):
        with pytest.raises(ValueError, match="amount"):
            prune(est, amount)
    with pytest.raises(ValueError, match="scope"):
        prune(est, 0.5, scope="row")
    with pytest.raises(ValueError, match="dtype"):
        quantize(est, "int4")
    with pytest.raises(ValueError, match="already quantised"):
        quantize(quantize(est))
    with pytest.raises(TypeError, match="quantised"):
        prune(quantize(est), 0.5)
    with pytest.raises(ValueError, match="not quantised"):
        dequantize(est)
    for function in (prune, quantize):
        args = (0.5,) if function is prune else ()
        with pytest.raises(TypeError, match="sklearn_nn estimator"):
            function(SklearnMLP().fit(X, y), *args)
        with pytest.raises(ValueError, match="not fitted"):
            function(MLPClassifier(), *args)
