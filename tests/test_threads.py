"""The thread driver of the image layers: every sample in exactly one part, in any
thread count, exceptions propagated."""

import threading

import numpy as np
import pytest

from sklearn_nn._threads import BATCH_PARTS, part_bounds, run_parts


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
