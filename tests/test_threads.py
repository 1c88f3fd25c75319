"""The thread driver of the image layers: every sample in exactly one part, in any
thread count, exceptions propagated; BLAS pinned and restored across threads."""

import ast
import os
import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_nn import MLPClassifier
from sklearn_nn._threads import BATCH_PARTS, kernel_threads, part_bounds, run_parts


@pytest.mark.parametrize("n", [1, 2, 3, BATCH_PARTS, 65])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_run_parts_covers_each_sample_once(n, n_threads):
    hits = np.zeros(n, dtype=int)
    parts = []

    def task(k, lo, hi):
        hits[lo:hi] += 1
        parts.append((k, lo, hi))

    run_parts(n, n_threads, task)
    assert np.all(hits == 1)
    assert sorted(parts) == [(k, *b) for k, b in enumerate(part_bounds(n))]


def test_run_parts_uses_other_threads_and_propagates_errors():
    names = set()

    def task(k, lo, hi):
        names.add(threading.current_thread().name)
        if k == 0:
            raise RuntimeError("part 0 failed")

    with pytest.raises(RuntimeError, match="part 0 failed"):
        run_parts(8, 2, task)
    assert len(names) == 2


def _blas_threads():
    return [
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"
    ]


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="BLAS runs one thread on one CPU: nothing to pin"
)
def test_kernel_threads_pin_spans_threads_and_restores_blas():
    # two overlapping fits on two threads: the pin starts on one and ends on the
    # other; BLAS is back at the user's count after, and a limit set later on yet
    # another thread still takes effect (threadpoolctl >= 3.8 ignores limits from a
    # thread other than the one that last changed OpenBLAS, unless it let go)
    with threadpool_limits(2, user_api="blas"):  # something to pin and restore
        before = _blas_threads()
        first_in, second_in, first_out = (threading.Event() for _ in range(3))
        seen = {}

        def first():
            with kernel_threads() as n:
                seen["first"] = (n, _blas_threads())
                first_in.set()
                second_in.wait(5)
            first_out.set()

        def second():
            first_in.wait(5)
            with kernel_threads():
                second_in.set()
                first_out.wait(5)
                seen["second"] = _blas_threads()

        threads = [threading.Thread(target=f) for f in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert seen["first"] == (min(min(before), os.cpu_count()), [1] * len(before))
        assert seen["second"] == [1] * len(before)
        assert _blas_threads() == before

        def limited():
            with threadpool_limits(1, user_api="blas"):
                seen["limited"] = _blas_threads()

        thread = threading.Thread(target=limited)
        thread.start()
        thread.join(10)
        assert seen["limited"] == [1] * len(before)
        assert _blas_threads() == before


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="BLAS runs one thread on one CPU: nothing to pin"
)
def test_kernel_threads_repins_a_limit_raised_during_a_fit():
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        with kernel_threads():
            with threadpool_limits(2, user_api="blas"):  # raised on the way
                assert _blas_threads() == before
                with kernel_threads():  # a fit starting now
                    assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == before


def test_kernel_threads_leaves_a_one_thread_blas_alone(monkeypatch):
    import sklearn_nn._threads as threads_module

    calls = []
    monkeypatch.setattr(threads_module, "_set_blas_threads", calls.append)
    with threadpool_limits(1, user_api="blas"):
        with kernel_threads() as n:
            assert n == 1
        assert _blas_threads() == [1] * len(_blas_threads())
    assert calls == []


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="one CPU: BLAS has one thread either way"
)
@pytest.mark.parametrize(
    "dtype, n_features, solver, weight_init, hidden",
    # OpenBLAS's 2-thread GEMMs rounded otherwise than its 1-thread ones here for
    # products over 784 inputs (float32), weight gradients over 512 rows (float64)
    # and the QR of an orthogonal initialisation (float64, 784 x 256)
    [
        (np.float32, 784, "adam", "glorot_uniform", (100, 10)),
        (np.float64, 64, "lbfgs", "glorot_uniform", (100, 10)),
        (np.float64, 784, "adam", "orthogonal", (256,)),
    ],
)
def test_dense_network_same_seed_same_model_whatever_the_threads(
    dtype, n_features, solver, weight_init, hidden
):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(512, n_features)).astype(dtype)
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            assert max(_blas_threads()) == threads  # so both counts are tested
            clf = MLPClassifier(
                hidden,
                solver=solver,
                weight_init=weight_init,
                max_iter=3,
                batch_size=128,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs
                fits.append(clf.fit(X, y)._params)
    np.testing.assert_array_equal(fits[0], fits[1])


def _forked_report(child):
    """Run ``child()`` in a forked process; return what it returned (a literal)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave at once, whatever happens
        try:
            os.write(write_end, repr(child()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        report = reader.read()
    os.waitpid(pid, 0)
    assert report, "the child reported nothing"
    return ast.literal_eval(report)


needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
    reason="needs os.fork, and 2 CPUs for a BLAS limit above one to restore",
)
# Python >= 3.12 warns on any fork of a process with threads (BLAS's, here); the
# children only report and exit
ignore_fork_warning = pytest.mark.filterwarnings(
    "ignore:This process .* multi-threaded:DeprecationWarning"
)


@needs_fork
@ignore_fork_warning
def test_fork_during_another_threads_fit_gives_the_child_its_blas_threads():
    # the fit runs on another thread, which the child does not have: its pin must
    # not keep the child's BLAS on one thread for good
    pinned, release = threading.Event(), threading.Event()

    def fit():
        with kernel_threads():
            pinned.set()
            release.wait(30)

    with threadpool_limits(2, user_api="blas"):
        fitting = threading.Thread(target=fit)
        fitting.start()
        try:
            assert pinned.wait(30)
            assert set(_blas_threads()) == {1}
            child = _forked_report(_blas_threads)
            assert set(_blas_threads()) == {1}  # the parent's fit keeps its pin
        finally:
            release.set()
            fitting.join()
        assert set(_blas_threads()) == {2}
    assert set(child) == {2}


@needs_fork
@ignore_fork_warning
def test_fork_from_the_fitting_thread_keeps_the_pin_for_its_fit():
    # a fork from the fit's own thread (a callback, say): the fit goes on in the
    # child on one BLAS thread, and its end gives the child back two

    def child():
        during = _blas_threads()
        pinned.__exit__(None, None, None)
        return during, _blas_threads()

    with threadpool_limits(2, user_api="blas"):
        pinned = kernel_threads()
        pinned.__enter__()
        try:
            during, after = _forked_report(child)
            assert set(_blas_threads()) == {1}
        finally:
            pinned.__exit__(None, None, None)
        assert set(_blas_threads()) == {2}
    assert set(during) == {1}
    assert set(after) == {2}
