"""Behaviour of CNNClassifier / CNNRegressor: accuracy, input shapes, layers."""

import pickle
import time
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nn import CNNClassifier, CNNRegressor
from sklearn_nn.layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D

# a small network: these tests check behaviour, not accuracy
SMALL = dict(conv_filters=(4,), hidden_layer_sizes=(8,), max_iter=3, random_state=0)


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _images(n=40, shape=(6, 5, 2), seed=0):
    """Random channels-last images and a label that depends on one channel."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((n,) + shape)
    y = (images[..., 0].mean(axis=(1, 2)) > 0).astype(int)
    return images, y


def test_cnn_digits_cross_validation_accuracy():
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        CNNClassifier(input_shape=(8, 8), batch_size=32, max_iter=30, random_state=0),
    )
    start = time.perf_counter()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=cv)
    seconds = time.perf_counter() - start
    print(f"digits 5-fold CV accuracy {scores.mean():.4f} in {seconds:.1f} s")
    assert scores.mean() >= 0.98


def test_3d_and_4d_input_equal_2d_rows_with_input_shape():
    images, y = _images()
    rows = images.reshape(len(images), -1)
    ref = CNNClassifier(input_shape=(6, 5, 2), **SMALL).fit(rows, y)
    from_4d = CNNClassifier(**SMALL).fit(images, y)
    assert from_4d.input_shape_ == ref.input_shape_ == (6, 5, 2)
    assert_array_equal(from_4d.predict_proba(images), ref.predict_proba(rows))
    assert_array_equal(from_4d.predict_proba(rows), ref.predict_proba(rows))
    one_channel = images[..., 0]
    from_3d = CNNClassifier(**SMALL).fit(one_channel, y)
    ref_3d = CNNClassifier(input_shape=(6, 5), **SMALL).fit(
        one_channel.reshape(40, -1), y
    )
    assert from_3d.input_shape_ == (6, 5, 1)
    assert_array_equal(
        from_3d.decision_function(one_channel),
        ref_3d.decision_function(one_channel.reshape(40, -1)),
    )


def test_channels_first_rows_give_the_channels_last_model():
    # without dropout: its masks are keyed by the rows as stored, and a
    # channels-first row stores the same values in another order
    images, y = _images()
    last = images.reshape(len(images), -1)
    first = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    small = dict(SMALL, dropout=0.0)
    ref = CNNClassifier(input_shape=(6, 5, 2), **small).fit(last, y)
    clf = CNNClassifier(input_shape=(6, 5, 2), data_format="channels_first", **small)
    clf.fit(first, y)
    assert clf.input_shape_ == (6, 5, 2)
    assert_array_equal(clf.predict_proba(first), ref.predict_proba(last))
    # 4-D channels-first X: shape (n, channels, height, width)
    clf4 = CNNClassifier(data_format="channels_first", **small)
    clf4.fit(images.transpose(0, 3, 1, 2), y)
    assert clf4.input_shape_ == (6, 5, 2)
    assert_array_equal(clf4.predict_proba(first), ref.predict_proba(last))


@pytest.mark.parametrize(
    "n_features, expected", [(1, (1, 1, 1)), (16, (4, 4, 1)), (7, (1, 7, 1))]
)
def test_inferred_input_shape_fits_any_number_of_features(n_features, expected):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, n_features))
    y = np.arange(20) % 2
    clf = CNNClassifier(**SMALL).fit(X, y)
    assert clf.input_shape_ == expected
    assert clf.predict(X).shape == (20,)


def test_input_shape_mismatch_names_both_shapes():
    X, y = np.zeros((10, 30)), np.arange(10) % 2
    with pytest.raises(ValueError, match=r"\(5, 5, 1\).*25 values.*30 features"):
        CNNClassifier(input_shape=(5, 5), **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="input_shape must be"):
        CNNClassifier(input_shape=(5, 0, 6), **SMALL).fit(X, y)


def test_architecture_too_deep_for_the_image_names_the_shapes():
    X, y = np.zeros((10, 36)), np.arange(10) % 2
    clf = CNNClassifier(conv_filters=(4, 4, 4), padding="valid", input_shape=(6, 6))
    with pytest.raises(ValueError, match=r"images of shape \(6, 6, 1\).*smaller than"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_predict_rejects_images_of_another_shape():
    images, y = _images()
    clf = CNNClassifier(**SMALL).fit(images, y)
    with pytest.raises(ValueError, match=r"images of shape \(5, 6, 2\)"):
        clf.predict(images.transpose(0, 2, 1, 3))
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((3, 7)))


def test_layers_parameter_is_used_cloned_and_grid_searchable():
    images, y = _images()
    layers = [Conv2D(3, 2, padding="same"), AvgPool2D(), Flatten(), Dense(5)]
    clf = CNNClassifier(layers=layers, max_iter=3, random_state=0).fit(images, y)
    # the output layer (and nothing else) is appended for the targets
    assert [c.shape for c in clf.coefs_] == [(2, 2, 2, 3), (18, 5), (5, 1)]
    cloned = clone(clf)
    assert cloned.layers == layers and cloned.layers is not layers
    grid = GridSearchCV(
        CNNClassifier(input_shape=(6, 5, 2), max_iter=2, random_state=0),
        {"layers": [layers, [Conv2D(2, 3, padding="same"), MaxPool2D(), Dropout(0.2)]]},
        cv=2,
    ).fit(images.reshape(40, -1), y)
    assert grid.best_params_["layers"] in grid.param_grid["layers"]
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


def test_layers_rejects_what_is_not_a_layer_spec():
    images, y = _images()
    with pytest.raises(TypeError, match="layer specs"):
        CNNClassifier(layers=[Conv2D(2), "relu"]).fit(images, y)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(2, kernel_size=(3, 0))
    with pytest.raises(ValueError, match="filters"):
        Conv2D(True)
    with pytest.raises(ValueError, match="padding"):
        MaxPool2D(padding="full")


def test_same_random_state_gives_bit_identical_model_with_dropout():
    images, y = _images()
    a = CNNClassifier(dropout=0.5, **SMALL).fit(images, y)
    b = CNNClassifier(dropout=0.5, **SMALL).fit(images, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert_array_equal(wa, wb)
    c = CNNClassifier(dropout=0.5, **{**SMALL, "random_state": 1}).fit(images, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_float32_images_train_in_float32_and_pickle():
    images, y = _images()
    clf = CNNClassifier(**SMALL).fit(images.astype(np.float32), y)
    assert all(w.dtype == np.float32 for w in clf.coefs_)
    assert clf.predict_proba(images.astype(np.float32)).dtype == np.float32
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(images), clf.predict_proba(images))


def test_cnn_regressor_learns_a_convolution():
    # y is a fixed 3x3 filter applied at the image's centre: a linear conv net fits it
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 25))
    kernel = rng.standard_normal((3, 3))
    y = np.einsum("nij,ij->n", X.reshape(-1, 5, 5)[:, 1:4, 1:4], kernel)
    reg = CNNRegressor(
        conv_filters=(4,),
        pool_size=None,
        hidden_layer_sizes=(),
        activation="identity",
        padding="valid",
        solver="lbfgs",
        dropout=0.0,
        random_state=0,
    ).fit(X, y)
    assert reg.score(X, y) > 0.999


def test_partial_fit_streams_batches():
    images, y = _images(n=60)
    clf = CNNClassifier(**SMALL)
    for start in range(0, 60, 20):
        clf.partial_fit(
            images[start : start + 20], y[start : start + 20], classes=[0, 1]
        )
    assert clf.n_iter_ == 1 and clf.t_ == 60
    assert_array_equal(clf.classes_, [0, 1])


def test_model_does_not_depend_on_the_number_of_threads():
    # the batch is cut into the same parts whatever the threads (sklearn_nn._threads)
    from threadpoolctl import threadpool_limits

    images, y = _images(n=70)
    params = dict(SMALL, conv_filters=(4, 4), batch_size=35)
    with threadpool_limits(limits=1):
        one = CNNClassifier(**params).fit(images, y)
        proba_one = one.predict_proba(images)
    two = CNNClassifier(**params).fit(images, y)
    pairs = zip(one.coefs_ + one.intercepts_, two.coefs_ + two.intercepts_, strict=True)
    for w1, w2 in pairs:
        assert_array_equal(w1, w2)
    assert_array_equal(two.predict_proba(images), proba_one)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_grid_search_in_parallel_workers(backend):
    # the kernel threads must neither deadlock nor oversubscribe under joblib: in
    # threads they share one pool; in processes joblib's BLAS limit makes them serial
    from joblib import parallel_backend

    images, y = _images()
    grid = GridSearchCV(
        CNNClassifier(**SMALL), {"conv_filters": [(2,), (4,)]}, cv=2, n_jobs=2
    )
    with parallel_backend(backend):
        grid.fit(images.reshape(40, -1), y)
    serial = GridSearchCV(CNNClassifier(**SMALL), {"conv_filters": [(2,), (4,)]}, cv=2)
    serial.fit(images.reshape(40, -1), y)
    assert_array_equal(
        grid.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_warm_start_with_another_image_shape_raises_and_keeps_model():
    X = np.random.default_rng(0).standard_normal((30, 16))
    y = np.arange(30) % 2
    clf = CNNClassifier(input_shape=(4, 4), warm_start=True, **SMALL).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(input_shape=(2, 8))
    with pytest.raises(ValueError, match="architecture of the previous fit"):
        clf.fit(X, y)
    assert_array_equal(clf.predict_proba(X), before)


def test_binary_decision_function_roc_and_calibration():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.metrics import roc_auc_score

    images, y = _images(n=80)
    clf = CNNClassifier(
        **{**SMALL, "max_iter": 50}, learning_rate_init=0.01, dropout=0.0
    )
    clf.fit(images, y)
    scores = clf.decision_function(images)
    assert scores.shape == (80,)
    assert roc_auc_score(y, scores) > 0.9
    calibrated = CalibratedClassifierCV(CNNClassifier(**SMALL), cv=2).fit(
        images.reshape(80, -1), y
    )
    proba = calibrated.predict_proba(images.reshape(80, -1))
    assert proba.shape == (80, 2) and np.allclose(proba.sum(axis=1), 1)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return sorted(
        i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
    )


def test_concurrent_fits_and_predicts_restore_the_blas_limit():
    # threadpoolctl's limits are process-wide: concurrent users must share one pin
    from concurrent.futures import ThreadPoolExecutor

    images, y = _images()
    clf = CNNClassifier(**SMALL).fit(images, y)
    before = _blas_threads()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: clf.predict(images), range(60)))
        list(pool.map(lambda _: CNNClassifier(**SMALL).fit(images, y), range(3)))
    assert _blas_threads() == before


def test_model_does_not_depend_on_other_thread_limits():
    # BLAS is pinned to one thread whatever limits are in force, so an OpenMP-only
    # limit (kernel threads from BLAS's limit) gives the same model
    from threadpoolctl import threadpool_limits

    images, y = _images(n=300, shape=(12, 12, 3))  # GEMMs large enough for 2 threads
    params = dict(
        conv_filters=(16, 32), hidden_layer_sizes=(64,), batch_size=100, max_iter=2
    )
    params["random_state"] = 0
    ref = CNNClassifier(**params).fit(images, y)
    with threadpool_limits(limits=1, user_api="openmp"):
        other = CNNClassifier(**params).fit(images, y)
    for w1, w2 in zip(ref.coefs_, other.coefs_, strict=True):
        assert_array_equal(w1, w2)


def test_images_of_x_must_agree_with_input_shape():
    images = np.zeros((20, 3, 8, 8))  # NCHW, but data_format is channels_last
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"\(3, 8, 8\).*input_shape=\(8, 8, 3\)"):
        CNNClassifier(input_shape=(8, 8, 3), **SMALL).fit(images, y)
    clf = CNNClassifier(input_shape=(8, 8, 3), data_format="channels_first", **SMALL)
    assert clf.fit(images, y).input_shape_ == (8, 8, 3)


def test_custom_layers_initialise_whatever_the_unused_activation():
    images, y = _images()
    layers = [Conv2D(3, 2), Flatten()]
    relu = CNNClassifier(layers=layers, activation="relu", **SMALL).fit(images, y)
    logistic = CNNClassifier(layers=layers, activation="logistic", **SMALL)
    logistic.fit(images, y)
    assert_array_equal(relu.coefs_[0], logistic.coefs_[0])


def test_max_pooling_layers_keep_int32_argmax():
    # half the bytes of intp: what the pooling kernels write and read per output
    from sklearn_nn.layers import MaxPool1D, MaxPool2D

    buffers = MaxPool2D().allocate((6, 6, 2), 4, np.float32)
    assert buffers["argmax"].dtype == np.int32
    assert buffers["argmax"].shape == (4, 3, 3, 2)
    # a MaxPool1D is a MaxPool2D over 1 x timesteps images: its buffers hold that one's
    buffers = MaxPool1D().allocate((8, 3), 4, np.float32)
    assert buffers["image"]["argmax"].dtype == np.int32
