"""Tests of the optimizer kernels against numpy ports of scikit-learn's optimizers."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_nn._kernels.optim import (
    adam_update,
    add_penalty_gradient,
    clip_by_global_norm,
    penalty_value,
    sgd_update,
)

DTYPES = [np.float32, np.float64]
N_PARAMS, N_PENALIZED = 12, 8  # 8 weights first, then 4 biases
LR, MOMENTUM = 0.1, 0.9
ADAM_LR, BETA_1, BETA_2, EPS = 0.01, 0.9, 0.999, 1e-8


def _tol(dtype):
    if dtype == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-14}


def _soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


class _SGDReference:
    """scikit-learn's SGDOptimizer (constant learning rate) over [weights, biases].

    L2 is added to the weights' gradients as MLP._backprop does; L1 is the
    cumulative penalty of SGDClassifier (Tsuruoka et al. 2009) on the weights after
    the step, each step's share ``LR l1 / (1 - MOMENTUM)``.
    """

    def __init__(self, params, n_penalized, l2, l1, nesterov):
        self.params = [params[:n_penalized].copy(), params[n_penalized:].copy()]
        self.velocities = [np.zeros_like(p) for p in self.params]
        self.l2, self.l1, self.nesterov = l2, l1, nesterov
        self.l1_total, self.l1_received = 0.0, np.zeros(n_penalized)

    def step(self, grads):
        n_penalized = self.params[0].size
        grads = [grads[:n_penalized] + self.l2 * self.params[0], grads[n_penalized:]]
        updates = [
            MOMENTUM * v - LR * g for v, g in zip(self.velocities, grads, strict=True)
        ]
        self.velocities = updates
        if self.nesterov:
            updates = [
                MOMENTUM * v - LR * g
                for v, g in zip(self.velocities, grads, strict=True)
            ]
        for p, u in zip(self.params, updates, strict=True):
            p += u
        if self.l1 > 0:
            self.l1_total += LR * self.l1 / (1 - MOMENTUM)
            w = self.params[0]
            owed = self.l1_total + np.where(w > 0, 1, -1) * self.l1_received
            shrunk = np.sign(w) * np.maximum(np.abs(w) - owed, 0.0)
            self.l1_received += shrunk - w
            self.params[0] = shrunk
        return np.concatenate(self.params)


class _AdamReference:
    """scikit-learn's AdamOptimizer over [weights, biases], with the same penalties.

    The L1 threshold is scaled per entry by Adam's step lr_t / (sqrt(v) + eps).
    """

    def __init__(self, params, n_penalized, l2, l1):
        self.params = [params[:n_penalized].copy(), params[n_penalized:].copy()]
        self.ms = [np.zeros_like(p) for p in self.params]
        self.vs = [np.zeros_like(p) for p in self.params]
        self.l2, self.l1, self.t = l2, l1, 0

    def step(self, grads):
        n_penalized = self.params[0].size
        grads = [grads[:n_penalized] + self.l2 * self.params[0], grads[n_penalized:]]
        self.t += 1
        self.ms = [
            BETA_1 * m + (1 - BETA_1) * g for m, g in zip(self.ms, grads, strict=True)
        ]
        self.vs = [
            BETA_2 * v + (1 - BETA_2) * g**2
            for v, g in zip(self.vs, grads, strict=True)
        ]
        self.learning_rate = (
            ADAM_LR * np.sqrt(1 - BETA_2**self.t) / (1 - BETA_1**self.t)
        )
        # with L1 the penalised scale is floored at l1 (see adam_update)
        floors = [self.l1, 0.0]
        scales = [
            np.maximum(np.sqrt(v), f) + EPS
            for v, f in zip(self.vs, floors, strict=True)
        ]
        for p, s, m in zip(self.params, scales, self.ms, strict=True):
            p -= self.learning_rate * m / s
        if self.l1 > 0:
            self.params[0] = _soft_threshold(
                self.params[0], self.learning_rate * self.l1 / scales[0]
            )
        return np.concatenate(self.params)


def _run_sgd(params, grads_seq, n_penalized, l2, l1, nesterov, dtype):
    params = params.astype(dtype)
    velocity = np.zeros_like(params)
    l1_received, l1_total = np.zeros(n_penalized), 0.0
    t = params.dtype.type  # scalars in the params dtype: no float64 promotion
    for grads in grads_seq:
        g = grads.astype(dtype)
        g_before = g.copy()
        l1_total += LR * l1 / (1 - MOMENTUM)
        sgd_update(
            params,
            g,
            velocity,
            l1_received,
            n_penalized,
            t(l2),
            l1_total,
            t(LR),
            t(MOMENTUM),
            nesterov,
        )
        assert_array_equal(g, g_before)  # grads are read-only
    return params


def _run_adam(params, grads_seq, n_penalized, l2, l1, dtype):
    params = params.astype(dtype)
    m, v = np.zeros_like(params), np.zeros_like(params)
    t = params.dtype.type  # scalars in the params dtype: no float64 promotion
    for step, grads in enumerate(grads_seq, start=1):
        # the kernel takes the bias-corrected learning rate
        lr_t = ADAM_LR * np.sqrt(1 - BETA_2**step) / (1 - BETA_1**step)
        g = grads.astype(dtype)
        g_before = g.copy()
        adam_update(
            params,
            g,
            m,
            v,
            n_penalized,
            t(l2),
            t(l1),
            t(lr_t),
            t(BETA_1),
            t(BETA_2),
            t(EPS),
        )
        assert_array_equal(g, g_before)
    return params


def _problem(rng, n_steps=4):
    params = rng.normal(size=N_PARAMS)
    return params, [rng.normal(size=N_PARAMS) for _ in range(n_steps)]


def _small_weight_problem(rng, n_steps=3):
    """Alternate large and tiny entries; tiny ones get (almost) no gradient.

    Under L1 the tiny penalised weights must end at exactly 0; the tiny biases in
    the unpenalised suffix must stay non-zero.
    """
    tiny = np.arange(N_PARAMS) % 2 == 0
    sign = rng.choice([-1.0, 1.0], size=N_PARAMS)
    # large entries: |w| in [1, 2] and small gradients, so they never near zero
    params = np.where(tiny, 1e-4, rng.uniform(1.0, 2.0, size=N_PARAMS)) * sign
    grads_seq = []
    for _ in range(n_steps):
        g = rng.normal(size=N_PARAMS) * np.where(tiny, 1e-6, 0.1)
        grads_seq.append(g)
    return params, grads_seq, tiny


@pytest.mark.parametrize("n_penalized", [0, N_PENALIZED, N_PARAMS])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_update_matches_sklearn_with_l2(dtype, nesterov, n_penalized):
    rng = np.random.default_rng(0)
    params, grads_seq = _problem(rng)
    ref = _SGDReference(params, n_penalized, l2=0.3, l1=0.0, nesterov=nesterov)
    for grads in grads_seq:
        expected = ref.step(grads)
    result = _run_sgd(params, grads_seq, n_penalized, 0.3, 0.0, nesterov, dtype)
    assert result.dtype == dtype
    assert_allclose(result, expected, **_tol(dtype))
    result64 = _run_sgd(params, grads_seq, n_penalized, 0.3, 0.0, nesterov, np.float64)
    assert_allclose(result, result64, **_tol(dtype))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_update_nesterov_differs_from_plain_momentum(nesterov):
    # Guards against the flag being ignored: the two references differ here.
    rng = np.random.default_rng(0)
    params, grads_seq = _problem(rng)
    result = _run_sgd(params, grads_seq, N_PENALIZED, 0.0, 0.0, nesterov, np.float64)
    other = _run_sgd(params, grads_seq, N_PENALIZED, 0.0, 0.0, not nesterov, np.float64)
    assert not np.allclose(result, other)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_update_l1_soft_thresholds_penalized_prefix(dtype, nesterov):
    rng = np.random.default_rng(0)
    params, grads_seq, tiny = _small_weight_problem(rng)
    ref = _SGDReference(params, N_PENALIZED, l2=0.0, l1=0.01, nesterov=nesterov)
    for grads in grads_seq:
        expected = ref.step(grads)
    result = _run_sgd(params, grads_seq, N_PENALIZED, 0.0, 0.01, nesterov, dtype)
    assert_allclose(result, expected, **_tol(dtype))

    prefix = np.arange(N_PARAMS) < N_PENALIZED
    assert np.all(result[tiny & prefix] == 0)  # exact zeros, not just small
    assert np.all(result[~tiny & prefix] != 0)
    assert np.all(result[tiny & ~prefix] != 0)
    # the penalty never touches the suffix: identical to the run without L1
    no_l1 = _run_sgd(params, grads_seq, N_PENALIZED, 0.0, 0.0, nesterov, dtype)
    assert_array_equal(result[~prefix], no_l1[~prefix])


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_update_l1_zero_is_optimal_exactly_where_gradient_below_l1(dtype, nesterov):
    # L1's optimality condition at w = 0 is |g| <= l1. With momentum the steady step
    # is LR g / (1 - MOMENTUM); a penalty not scaled by the same factor would let
    # weights with (1 - MOMENTUM) l1 < |g| < l1 leave 0 (a 10x weaker penalty)
    l1 = 0.5
    grads = np.concatenate([np.array([0.9, -0.9, 1.1, -1.1]) * l1, np.zeros(4)])
    zero_start = np.concatenate([np.zeros(4), np.ones(4)])
    result = _run_sgd(zero_start, [grads] * 200, 4, 0.0, l1, nesterov, dtype)
    assert np.all(result[:2] == 0)
    assert result[2] < 0 < result[3]  # beyond l1 the weights move off 0, downhill


@pytest.mark.parametrize("n_penalized", [0, N_PENALIZED, N_PARAMS])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_matches_sklearn_with_l2(dtype, n_penalized):
    rng = np.random.default_rng(0)
    params, grads_seq = _problem(rng)
    ref = _AdamReference(params, n_penalized, l2=0.3, l1=0.0)
    for grads in grads_seq:
        expected = ref.step(grads)
    result = _run_adam(params, grads_seq, n_penalized, 0.3, 0.0, dtype)
    assert result.dtype == dtype
    assert_allclose(result, expected, **_tol(dtype))
    result64 = _run_adam(params, grads_seq, n_penalized, 0.3, 0.0, np.float64)
    assert_allclose(result, result64, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_l1_soft_thresholds_penalized_prefix(dtype):
    rng = np.random.default_rng(0)
    params, grads_seq, tiny = _small_weight_problem(rng)
    ref = _AdamReference(params, N_PENALIZED, l2=0.0, l1=0.01)
    for grads in grads_seq:
        expected = ref.step(grads)
    result = _run_adam(params, grads_seq, N_PENALIZED, 0.0, 0.01, dtype)
    assert_allclose(result, expected, **_tol(dtype))

    prefix = np.arange(N_PARAMS) < N_PENALIZED
    assert np.all(result[tiny & prefix] == 0)
    assert np.all(result[~tiny & prefix] != 0)
    assert np.all(result[tiny & ~prefix] != 0)
    no_l1 = _run_adam(params, grads_seq, N_PENALIZED, 0.0, 0.0, dtype)
    assert_array_equal(result[~prefix], no_l1[~prefix])


@pytest.mark.parametrize("dtype", DTYPES)
def test_penalty_value_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    params = rng.normal(size=N_PARAMS).astype(dtype)
    params[N_PENALIZED:] = 100.0  # huge biases: any leak past the prefix shows
    t = params.dtype.type
    value = penalty_value(params, N_PENALIZED, t(0.3), t(0.05))
    w = params[:N_PENALIZED].astype(np.float64)
    l2, l1 = np.float64(t(0.3)), np.float64(t(0.05))
    expected = 0.5 * l2 * np.sum(w**2) + l1 * np.sum(np.abs(w))
    assert_allclose(value, expected, **_tol(dtype))
    assert penalty_value(params, 0, t(0.3), t(0.05)) == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_penalty_gradient_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    params = rng.normal(size=N_PARAMS).astype(dtype)
    grads = rng.normal(size=N_PARAMS).astype(dtype)
    expected = grads.astype(np.float64)
    expected[:N_PENALIZED] += 0.3 * params[:N_PENALIZED].astype(np.float64)
    suffix_before = grads[N_PENALIZED:].copy()
    add_penalty_gradient(params, N_PENALIZED, params.dtype.type(0.3), grads)
    assert_allclose(grads, expected, **_tol(dtype))
    assert_array_equal(grads[N_PENALIZED:], suffix_before)


def test_add_penalty_gradient_matches_finite_differences():
    # With l1 = 0 the penalty is smooth: its gradient is what L-BFGS adds.
    rng = np.random.default_rng(0)
    params = rng.normal(size=N_PARAMS)
    h = 1e-6
    numeric = np.empty_like(params)
    for i in range(N_PARAMS):
        saved = params[i]
        params[i] = saved + h
        f_plus = penalty_value(params, N_PENALIZED, 0.3, 0.0)
        params[i] = saved - h
        f_minus = penalty_value(params, N_PENALIZED, 0.3, 0.0)
        params[i] = saved
        numeric[i] = (f_plus - f_minus) / (2 * h)
    grads = np.zeros_like(params)
    add_penalty_gradient(params, N_PENALIZED, 0.3, grads)
    assert_allclose(grads, numeric, rtol=1e-6, atol=1e-9)
    assert np.all(grads[N_PENALIZED:] == 0)


def test_adam_update_l1_bounded_when_gradient_is_zero():
    # a weight that never had a gradient (v = 0) shrinks by at most lr, not lr*l1/eps
    params = np.array([0.5, 3.0])
    zeros = np.zeros(2)
    lr = 1e-3
    adam_update(
        params,
        zeros.copy(),
        zeros.copy(),
        zeros.copy(),
        2,
        0.0,
        1e-4,
        lr,
        BETA_1,
        BETA_2,
        EPS,
    )
    np.testing.assert_allclose(params, [0.5 - lr, 3.0 - lr], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 3, 4, 1001])
def test_clip_by_global_norm_matches_numpy(dtype, n):
    rng = np.random.default_rng(0)
    grads = rng.standard_normal(n).astype(dtype)
    norm = float(np.linalg.norm(grads.astype(np.float64)))
    max_norm = 0.5 * norm
    expected = grads.astype(np.float64) * (max_norm / norm)
    returned = clip_by_global_norm(grads, max_norm)
    assert_allclose(returned, norm, rtol=1e-12)
    assert grads.dtype == dtype
    assert_allclose(grads, expected, **_tol(dtype))
    assert_allclose(np.linalg.norm(grads.astype(np.float64)), max_norm, rtol=1e-6)


def test_clip_by_global_norm_leaves_small_and_nan_gradients_alone():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal(10)
    before = grads.copy()
    clip_by_global_norm(grads, 2 * np.linalg.norm(grads))
    assert_array_equal(grads, before)
    grads[3] = np.nan
    before = grads.copy()
    assert np.isnan(clip_by_global_norm(grads, 1e-3))
    assert_array_equal(grads, before)
