"""Running an image layer's kernels over a batch on several threads.

The Numba kernels release the GIL (``nogil=True``), and so does numpy's ``np.dot`` (the
dense and convolution GEMMs), so plain Python threads run them in parallel. An image
layer cuts its batch into ``BATCH_PARTS`` contiguous parts and runs its whole step
(im2col, GEMM, pooling, col2im) on each part; the threads share out the parts. The
parts, and so the results, do not depend on the number of threads: weight gradients are
summed over the parts in a fixed order.

While any network trains, and while a network with split layers predicts, BLAS is
limited to one thread (``kernel_threads``). For the split layers, each part's GEMM is
large enough for one core, and a second BLAS thread would spin on the core another
part needs. For the dense layers it is what makes the model independent of the thread
count: OpenBLAS's multithreaded GEMM cuts the summed dimension into other blocks than
its single-threaded one (measured: products over 784 inputs, or over 1797 rows,
rounded differently at 1 and 2 threads).

The thread count follows the BLAS limit in force (``threadpoolctl``), which joblib
lowers in each worker of ``GridSearchCV(n_jobs=...)``: the two never oversubscribe the
cores together. The pool is process-wide and rebuilt after a fork.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import threadpoolctl
from threadpoolctl import ThreadpoolController

#: parts a batch is cut into, whatever the number of threads (so results are too)
BATCH_PARTS = 8

_executor = None
_lock = threading.Lock()


def _after_fork():
    # a forked child has one thread, the one that forked: a new pool and a free
    # lock. A fit running on that thread goes on in the child and keeps its pin;
    # the fits of the other threads do not, so without one BLAS gets back the
    # limits the first fit saved (the child would keep one thread for good)
    global _executor, _lock, _saved_blas_threads, _pins_by_thread
    ident = threading.get_ident()
    held = _pins_by_thread.get(ident, 0)
    restore = None if held else _saved_blas_threads
    _executor, _lock = None, threading.Lock()
    _pins_by_thread = {ident: held} if held else {}
    if not held:
        _saved_blas_threads = None
    if restore is not None:
        try:
            _set_blas_threads(restore)
        except Exception:
            # an at-fork hook cannot raise to anyone: the child is then only
            # slower (BLAS on one thread), not wrong
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


_blas = None


def _blas_controller():
    """threadpoolctl's controller of the loaded BLAS libraries, made once.

    Making one scans every shared library of the process (5-7 ms, which was most of
    a one-row CNN predict); its limits and thread counts are live calls into the
    libraries, so it sees limits set later by anyone (joblib, the user). It holds
    the BLAS libraries loaded when it is made: numpy's, which the dense and
    convolution GEMMs and the recurrent layers' GEMMs outside their time loop call,
    and scipy's, which ``np.dot`` inside the recurrent time loops and the attention
    kernels calls.
    """
    global _blas
    if _blas is None:
        # the BLAS Numba's np.dot calls: loaded here if nothing has loaded it yet
        import scipy.linalg.cython_blas  # noqa: F401

        _blas = ThreadpoolController().select(user_api="blas")
    return _blas


def _threads_for(blas_threads):
    """The lowest of the BLAS thread limits in force, capped at the CPUs."""
    if not blas_threads:
        return 1
    return max(1, min(min(blas_threads), os.cpu_count() or 1))


def _set_blas_threads(counts):
    """Set each BLAS library's thread count, from whichever thread calls.

    threadpoolctl >= 3.8 lets one "controlling" thread at a time change
    OpenBLAS's process-wide pool and silently ignores the others; the pin below
    starts and ends on whichever threads run the first and the last fit, so it
    takes that role for each change and gives it back (a user's or joblib's
    ``threadpool_limits`` on any thread then works as before).
    """
    openblas = getattr(threadpoolctl, "OpenBLASController", None)
    release = getattr(openblas, "clear_controlling_thread", None)
    for lib, count in zip(_blas_controller().lib_controllers, counts, strict=True):
        if release is not None:
            release(force=True)
        lib.set_num_threads(count)
    if release is not None:
        release(force=True)


# BLAS is pinned to one thread while any fit, or a predict of a network with split
# layers, runs in this process; the first to start saves the user's limits, the last to
# end restores them (threadpoolctl's limits are process-wide, so concurrent fits must
# share one pin)
_saved_blas_threads = None
_pinned_user_threads = 1
#: pins held by each thread (its ident); none held: BLAS is the user's. A fork keeps
#: the forking thread's only
_pins_by_thread = {}


@contextmanager
def kernel_threads():
    """Context giving the threads for the split kernels, with BLAS on one thread.

    Yields the user's BLAS thread limit (capped at the CPUs): the threads the layers
    that split their batch run their parts on. Inside the context every GEMM runs
    on one BLAS thread, so that the GEMMs, and the model, never depend on the
    thread count.
    """
    global _saved_blas_threads, _pinned_user_threads
    with _lock:
        libs = _blas_controller().lib_controllers
        live = [lib.num_threads for lib in libs]
        if not _pins_by_thread:
            _saved_blas_threads = live
            _pinned_user_threads = _threads_for(live)
        # on every entry: a limit raised on another thread during a pinned fit
        # must not reach the GEMMs of the fits that start after it
        if any(count != 1 for count in live):
            _set_blas_threads([1] * len(libs))
        ident = threading.get_ident()
        _pins_by_thread[ident] = _pins_by_thread.get(ident, 0) + 1
        n_threads = _pinned_user_threads
    try:
        yield n_threads
    finally:
        with _lock:
            ident = threading.get_ident()
            _pins_by_thread[ident] -= 1
            if not _pins_by_thread[ident]:
                del _pins_by_thread[ident]
            if not _pins_by_thread:
                libs = _blas_controller().lib_controllers
                if [lib.num_threads for lib in libs] != _saved_blas_threads:
                    _set_blas_threads(_saved_blas_threads)
                _saved_blas_threads = None


def _get_executor():
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=max(1, (os.cpu_count() or 1) - 1),
                thread_name_prefix="sklearn_nn",
            )
        return _executor


def part_bounds(n):
    """Start and stop of each part of a batch of ``n`` samples."""
    parts = min(BATCH_PARTS, n)
    return [(n * k // parts, n * (k + 1) // parts) for k in range(parts)]


def run_parts(n, n_threads, task):
    """Run ``task(part, start, stop)`` for each part of ``[0, n)``.

    Thread ``j`` runs parts ``j, j + n_threads, ...`` in order; the calling thread is
    one of them. Exceptions propagate.
    """
    bounds = part_bounds(n)
    n_lanes = max(1, min(n_threads, len(bounds)))

    def lane(j):
        for k in range(j, len(bounds), n_lanes):
            task(k, *bounds[k])

    if n_lanes == 1:
        lane(0)
        return
    executor = _get_executor()
    futures = [executor.submit(lane, j) for j in range(n_lanes - 1)]
    lane(n_lanes - 1)
    for future in futures:
        future.result()
