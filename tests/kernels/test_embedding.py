"""Tests of the embedding kernels (gather, scatter-add, mask, id checks) against
numpy, bad ids included."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.embedding import (
    count_bad_ids,
    embedding_backward,
    embedding_forward,
    embedding_mask,
)

DTYPES = [np.float32, np.float64]
N, STEPS, N_TOKENS, DIM = 4, 6, 7, 3


def _problem(rng, dtype):
    """Valid ids (as floats, with repeats and zeros), a table, an output gradient."""
    ids = rng.integers(0, N_TOKENS, (N, STEPS)).astype(dtype)
    ids[0, :3] = 5  # the same id three times in a row, and in other rows
    ids[1, -2:] = 0
    table = rng.standard_normal((N_TOKENS, DIM)).astype(dtype)
    d_out = rng.standard_normal((N, STEPS, DIM)).astype(dtype)
    return ids, table, d_out


def _ref_backward(ids, d_out, n_tokens):
    d_table = np.zeros((n_tokens, d_out.shape[-1]))
    np.add.at(d_table, ids.astype(int).ravel(), d_out.reshape(-1, d_out.shape[-1]))
    return d_table


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_forward_gathers_rows(dtype):
    rng = np.random.default_rng(0)
    ids, table, _ = _problem(rng, dtype)
    out = np.full((N, STEPS, DIM), np.nan, dtype=dtype)
    assert embedding_forward(ids, table, out) == 0
    assert_array_equal(out, table[ids.astype(int)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_backward_accumulates_repeated_ids(dtype):
    rng = np.random.default_rng(0)
    ids, _, d_out = _problem(rng, dtype)
    d_table = np.full((N_TOKENS, DIM), np.nan, dtype=dtype)  # zeroed by the kernel
    assert embedding_backward(ids, d_out, d_table) == 0
    expected = _ref_backward(ids, d_out, N_TOKENS)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(d_table, expected, rtol=tol, atol=tol)
    # id 5 appears at least three times: its row is the sum of all its gradients
    assert_allclose(d_table[5], d_out[ids == 5].sum(axis=0), rtol=tol, atol=tol)
    assert (ids == 5).sum() >= 3


def test_embedding_backward_is_the_adjoint_of_forward():
    # <forward(table), d_out> = <table, backward(d_out)> for every table
    rng = np.random.default_rng(0)
    ids, table, d_out = _problem(rng, np.float64)
    out = np.empty((N, STEPS, DIM))
    d_table = np.empty((N_TOKENS, DIM))
    embedding_forward(ids, table, out)
    embedding_backward(ids, d_out, d_table)
    assert_allclose(np.sum(out * d_out), np.sum(table * d_table), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_kernels_count_and_never_read_bad_ids(dtype):
    rng = np.random.default_rng(0)
    ids, _, d_out = _problem(rng, dtype)
    bad = [-1.0, float(N_TOKENS), 2.5, np.nan, np.inf, -np.inf, 1e30]
    where = [(0, 3), (1, 0), (2, 2), (2, 5), (3, 1), (3, 4), (0, 5)]
    for value, (i, t) in zip(bad, where, strict=True):
        ids[i, t] = value
    # the table is the middle of a larger array whose rows on either side are
    # sentinels: reading or writing at a bad id (-1 wraps around, N_TOKENS is one
    # past the end) would show there
    big = np.full((N_TOKENS + 2, DIM), 99.0, dtype=dtype)
    big[1:-1] = rng.standard_normal((N_TOKENS, DIM))
    table = big[1:-1]
    out = np.full((N, STEPS, DIM), np.nan, dtype=dtype)
    assert embedding_forward(ids, table, out) == len(bad)
    is_bad = np.zeros((N, STEPS), dtype=bool)
    is_bad[tuple(np.array(where).T)] = True
    assert_array_equal(out[is_bad], 0)
    assert_array_equal(out[~is_bad], table[ids[~is_bad].astype(int)])

    assert embedding_backward(ids, d_out, table) == len(bad)
    assert_array_equal(big[[0, -1]], 99.0)
    good = ids.copy()
    good[is_bad] = 0
    d_good = d_out.copy()
    d_good[is_bad] = 0
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(table, _ref_backward(good, d_good, N_TOKENS), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES + [np.int64])
def test_count_bad_ids_by_kind(dtype):
    ids = np.array([[0, 1, 6, 7, -1, 8]], dtype=dtype)
    expected = (0, 1, 2, 0)
    if dtype != np.int64:
        ids = np.concatenate([ids, [[np.nan, 2.5, -np.inf, np.inf, 3.0, 0.5]]])
        ids = ids.astype(dtype)
        expected = (1, 2, 3, 2)
    assert count_bad_ids(ids, N_TOKENS) == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_mask_marks_nonzero_ids(dtype):
    ids = np.array([[3, 0, 1, 0], [0, 0, 0, 0]], dtype=dtype)
    mask = np.full(ids.shape, np.nan, dtype=dtype)
    embedding_mask(ids, mask)
    assert_array_equal(mask, [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_embedding_float32_matches_float64():
    rng = np.random.default_rng(0)
    ids, table, d_out = _problem(rng, np.float64)
    out64, out32 = np.empty((N, STEPS, DIM)), np.empty((N, STEPS, DIM), np.float32)
    embedding_forward(ids, table, out64)
    embedding_forward(ids.astype(np.float32), table.astype(np.float32), out32)
    assert_array_equal(out32, out64.astype(np.float32))  # a gather rounds nothing
    d64, d32 = np.empty((N_TOKENS, DIM)), np.empty((N_TOKENS, DIM), np.float32)
    embedding_backward(ids, d_out, d64)
    embedding_backward(ids.astype(np.float32), d_out.astype(np.float32), d32)
    assert d32.dtype == np.float32
    assert_allclose(d32, d64, rtol=1e-5, atol=1e-6)
