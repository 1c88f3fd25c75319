"""Each pytest-xdist worker compiles into a Numba cache of its own (conftest.py)."""

import os

import numba
import pytest


@pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" not in os.environ, reason="one process: nothing to share"
)
def test_each_xdist_worker_has_its_own_numba_cache():
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert os.path.basename(numba.config.CACHE_DIR) == worker
