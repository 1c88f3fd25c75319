"""Set-up for every test session: the tests, the docstrings and the guide's pages."""

import os
import tempfile

# pytest-xdist's workers would compile into one Numba cache at the same time, and
# Numba's cache index takes no lock (two new entries can claim one data file): each
# worker gets a cache directory of its own, kept between runs so that the next run
# loads what this one compiled. Numba reads the variable when it is imported, which
# is after this file.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _parent = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "sklearn_nn-numba-cache"
    )
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(_parent, _worker)
