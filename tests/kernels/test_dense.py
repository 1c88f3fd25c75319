"""Tests of the dense-layer kernels (dense and CSR input) against numpy."""

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import numeric_gradient
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import erf, expit

from sklearn_nn._kernels.activations import ACTIVATIONS, NEEDS_PREACTIVATION
from sklearn_nn._kernels.dense import (
    as_matrix,
    csr_dense_backward,
    csr_dense_forward,
    dense_backward,
    dense_forward,
)

DTYPES = [np.float32, np.float64]
NAMES = sorted(ACTIVATIONS)
N, N_IN, N_OUT = 5, 4, 3
N_ROWS = 8  # rows of the sparse X; a mini-batch of N of them is selected


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-13}


def _ref_activation(name, z):
    if name == "identity":
        return z.copy()
    if name == "logistic":
        return expit(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))


def _ref_derivative(name, z):
    if name == "identity":
        return np.ones_like(z)
    if name == "logistic":
        return expit(z) * (1.0 - expit(z))
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    cdf = 0.5 * (1.0 + erf(z / np.sqrt(2.0)))
    return cdf + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def _buffers(name, n, n_out, dtype):
    """z and a per the contract: a is z itself unless the derivative needs z."""
    z = np.full((n, n_out), np.nan, dtype=dtype)
    if ACTIVATIONS[name] in NEEDS_PREACTIVATION:
        return z, np.full((n, n_out), np.nan, dtype=dtype)
    return z, z


def _dense_problem(rng, dtype=np.float64):
    """x, w, b with every pre-activation |z| > 1e-2, away from the relu kink."""
    while True:
        x = rng.normal(size=(N, N_IN))
        w = rng.normal(size=(N_IN, N_OUT))
        b = rng.normal(size=N_OUT)
        if np.abs(x @ w + b).min() > 1e-2:
            return x.astype(dtype), w.astype(dtype), b.astype(dtype)


def _csr_problem(rng, dtype=np.float64):
    """A CSR X with an empty selected row, shuffled intp rows, w, b; |z| > 1e-2."""
    while True:
        dense = rng.normal(size=(N_ROWS, N_IN)) * (rng.random((N_ROWS, N_IN)) < 0.5)
        rows = rng.permutation(N_ROWS)[:N].astype(np.intp)
        dense[rows[1]] = 0.0  # an empty row: indptr[row] == indptr[row + 1]
        w = rng.normal(size=(N_IN, N_OUT))
        b = rng.normal(size=N_OUT)
        if np.abs(dense[rows] @ w + b).min() > 1e-2:
            x = sp.csr_matrix(dense.astype(dtype))
            return x, rows, w.astype(dtype), b.astype(dtype)


def _dense_output(x, w, b, name):
    z, a = _buffers(name, x.shape[0], w.shape[1], x.dtype)
    dense_forward(x, w, b, ACTIVATIONS[name], z, a)
    return z, a


def _csr_output(x, rows, w, b, name):
    z, a = _buffers(name, rows.shape[0], w.shape[1], w.dtype)
    csr_dense_forward(x.data, x.indices, x.indptr, rows, w, b, ACTIVATIONS[name], z, a)
    return z, a


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_matches_numpy(dtype, name):
    rng = np.random.default_rng(0)
    x, w, b = _dense_problem(rng, dtype)
    z, a = _dense_output(x, w, b, name)
    z_ref = x.astype(np.float64) @ w.astype(np.float64) + b.astype(np.float64)
    assert a.dtype == dtype
    assert_allclose(a, _ref_activation(name, z_ref), **_tol(dtype))
    if a is not z:  # gelu keeps the pre-activation for the backward pass
        assert_allclose(z, z_ref, **_tol(dtype))
    a64 = _dense_output(
        x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), name
    )[1]
    assert_allclose(a, a64, **_tol(dtype))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_matches_numpy(dtype, name):
    rng = np.random.default_rng(0)
    x, w, b = _dense_problem(rng, dtype)
    r = rng.normal(size=(N, N_OUT)).astype(dtype)
    z, a = _dense_output(x, w, b, name)
    d_a = r.copy()
    d_w = np.full((N_IN, N_OUT), np.nan, dtype=dtype)
    d_b = np.full(N_OUT, np.nan, dtype=dtype)
    d_x = np.full((N, N_IN), np.nan, dtype=dtype)
    dense_backward(x, w, z, a, ACTIVATIONS[name], d_a, d_w, d_b, d_x, True)

    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    d_z = r * _ref_derivative(name, x64 @ w64 + b.astype(np.float64))
    tol = _tol(dtype)
    assert_allclose(d_a, d_z, **tol)  # d_a is overwritten with d_z
    assert_allclose(d_w, x64.T @ d_z, **tol)
    assert_allclose(d_b, d_z.sum(axis=0), **tol)
    assert_allclose(d_x, d_z @ w64.T, **tol)


@pytest.mark.parametrize("name", NAMES)
def test_dense_backward_matches_finite_differences(name):
    rng = np.random.default_rng(0)
    x, w, b = _dense_problem(rng)
    r = rng.normal(size=(N, N_OUT))

    def loss():
        return np.sum(_dense_output(x, w, b, name)[1] * r)

    num_x = numeric_gradient(loss, x)
    num_w = numeric_gradient(loss, w)
    num_b = numeric_gradient(loss, b)

    z, a = _dense_output(x, w, b, name)
    d_a = r.copy()
    d_w, d_b, d_x = np.empty_like(w), np.empty_like(b), np.empty_like(x)
    dense_backward(x, w, z, a, ACTIVATIONS[name], d_a, d_w, d_b, d_x, True)
    assert_allclose(d_x, num_x, rtol=1e-6, atol=1e-8)
    assert_allclose(d_w, num_w, rtol=1e-6, atol=1e-8)
    assert_allclose(d_b, num_b, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_dense_backward_without_d_x_leaves_d_x_untouched(name):
    rng = np.random.default_rng(0)
    x, w, b = _dense_problem(rng)
    r = rng.normal(size=(N, N_OUT))
    z, a = _dense_output(x, w, b, name)
    d_a = r.copy()
    d_w, d_b = np.empty_like(w), np.empty_like(b)
    sentinel = rng.normal(size=x.shape)
    d_x = sentinel.copy()
    dense_backward(x, w, z, a, ACTIVATIONS[name], d_a, d_w, d_b, d_x, False)
    assert_array_equal(d_x, sentinel)
    # the other gradients are still computed
    d_z = r * _ref_derivative(name, x @ w + b)
    assert_allclose(d_w, x.T @ d_z, rtol=1e-12, atol=1e-13)
    assert_allclose(d_b, d_z.sum(axis=0), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_csr_dense_forward_matches_numpy(dtype, name):
    rng = np.random.default_rng(0)
    x, rows, w, b = _csr_problem(rng, dtype)
    assert x.indices.dtype == np.int32  # scipy's default index type is what we get
    z, a = _csr_output(x, rows, w, b, name)
    z_ref = x.toarray().astype(np.float64)[rows] @ w.astype(np.float64) + b
    assert a.dtype == dtype
    assert_allclose(a, _ref_activation(name, z_ref), **_tol(dtype))
    if a is not z:
        assert_allclose(z, z_ref, **_tol(dtype))
    x64 = sp.csr_matrix(x, dtype=np.float64)
    a64 = _csr_output(x64, rows, w.astype(np.float64), b.astype(np.float64), name)[1]
    assert_allclose(a, a64, **_tol(dtype))


@pytest.mark.parametrize("name", NAMES)
def test_csr_dense_forward_matches_dense_forward(name):
    # Same layer, two input formats: the sparse path must read exactly X[rows].
    rng = np.random.default_rng(0)
    x, rows, w, b = _csr_problem(rng)
    a_sparse = _csr_output(x, rows, w, b, name)[1]
    a_dense = _dense_output(np.ascontiguousarray(x.toarray()[rows]), w, b, name)[1]
    assert_allclose(a_sparse, a_dense, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_csr_dense_backward_matches_numpy(dtype, name):
    rng = np.random.default_rng(0)
    x, rows, w, b = _csr_problem(rng, dtype)
    r = rng.normal(size=(N, N_OUT)).astype(dtype)
    z, a = _csr_output(x, rows, w, b, name)
    d_a = r.copy()
    d_w = np.full((N_IN, N_OUT), np.nan, dtype=dtype)  # must be fully overwritten
    d_b = np.full(N_OUT, np.nan, dtype=dtype)
    csr_dense_backward(
        x.data, x.indices, x.indptr, rows, z, a, ACTIVATIONS[name], d_a, d_w, d_b
    )
    x_batch = x.toarray().astype(np.float64)[rows]
    d_z = r * _ref_derivative(name, x_batch @ w.astype(np.float64) + b)
    tol = _tol(dtype)
    assert_allclose(d_a, d_z, **tol)
    assert_allclose(d_w, x_batch.T @ d_z, **tol)
    assert_allclose(d_b, d_z.sum(axis=0), **tol)


@pytest.mark.parametrize("name", NAMES)
def test_csr_dense_backward_matches_finite_differences(name):
    rng = np.random.default_rng(0)
    x, rows, w, b = _csr_problem(rng)
    r = rng.normal(size=(N, N_OUT))

    def loss():
        return np.sum(_csr_output(x, rows, w, b, name)[1] * r)

    num_w = numeric_gradient(loss, w)
    num_b = numeric_gradient(loss, b)

    z, a = _csr_output(x, rows, w, b, name)
    d_a = r.copy()
    d_w, d_b = np.empty_like(w), np.empty_like(b)
    csr_dense_backward(
        x.data, x.indices, x.indptr, rows, z, a, ACTIVATIONS[name], d_a, d_w, d_b
    )
    assert_allclose(d_w, num_w, rtol=1e-6, atol=1e-8)
    assert_allclose(d_b, num_b, rtol=1e-6, atol=1e-8)


def test_csr_dense_backward_ignores_unselected_rows():
    # Rows outside the mini-batch must not leak into d_w, even with huge values.
    rng = np.random.default_rng(0)
    x, rows, w, b = _csr_problem(rng)
    dense = x.toarray()
    unselected = np.setdiff1d(np.arange(N_ROWS), rows)
    dense[unselected] = 1e6
    x_big = sp.csr_matrix(dense)
    d_ws = []
    for mat in (x, x_big):
        z, a = _csr_output(mat, rows, w, b, "tanh")
        d_w, d_b = np.empty_like(w), np.empty_like(b)
        d_a = np.ones((N, N_OUT))
        code = ACTIVATIONS["tanh"]
        csr_dense_backward(
            mat.data, mat.indices, mat.indptr, rows, z, a, code, d_a, d_w, d_b
        )
        d_ws.append(d_w)
    assert_allclose(d_ws[1], d_ws[0], rtol=1e-12, atol=1e-13)


def test_as_matrix_refuses_a_non_contiguous_array():
    # numpy's reshape would copy it, and a kernel's writes into the copy be lost
    array = np.zeros((4, 6), dtype=np.float32)
    assert np.shares_memory(as_matrix(array, 6, 4), array)
    with pytest.raises(ValueError, match="C-contiguous"):
        as_matrix(array[:, ::2], 4, 3)
