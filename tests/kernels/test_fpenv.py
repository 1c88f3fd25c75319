"""flush_denormals / restore_fp_state: denormals are zero inside, untouched outside.

No backward (these change the CPU's floating-point mode); the float32 and float64
cases are both checked.
"""

import platform

import numpy as np
import pytest

from sklearn_nn._kernels._jit import jit
from sklearn_nn._kernels.fpenv import flush_denormals, restore_fp_state

x86 = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"),
    reason="FTZ/DAZ are x86 MXCSR bits; elsewhere the functions are no-ops",
)


@jit
def _scaled(x, factor, flush):
    out = np.empty_like(x)
    old = flush_denormals() if flush else np.int32(0)
    for i in range(x.size):
        out[i] = x[i] * factor
    if flush:
        restore_fp_state(old)
    return out


@x86
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_denormal_results_are_zero_only_inside(dtype):
    tiny = np.finfo(dtype).tiny
    x = np.array([tiny, -tiny, 1.0], dtype=dtype)
    half = dtype(0.5)
    plain = _scaled(x, half, False)
    assert plain[0] != 0 and plain[1] != 0  # denormal results, kept
    flushed = _scaled(x, half, True)
    np.testing.assert_array_equal(flushed, np.array([0, 0, 0.5], dtype=dtype))
    # the thread's mode is restored: numpy (and the next kernel) see denormals
    assert (x * half)[0] != 0
    assert _scaled(x, half, False)[0] != 0
    # denormal inputs read as zero inside
    denormal = np.array([tiny / 4], dtype=dtype)
    assert _scaled(denormal, dtype(4), False)[0] == tiny
    assert _scaled(denormal, dtype(4), True)[0] == 0
