"""Reference helpers shared by the kernel tests: finite differences and the
"valid"/"same" window geometry as TensorFlow defines it."""

import numpy as np


def numeric_gradient(f, array, h=1e-6):
    """Central differences of the scalar f() w.r.t. every entry of array (in place)."""
    grad = np.empty_like(array)
    for idx in np.ndindex(array.shape):
        saved = array[idx]
        array[idx] = saved + h
        f_plus = f()
        array[idx] = saved - h
        f_minus = f()
        array[idx] = saved
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def window_geometry(size, window, stride, padding):
    """(output size, padding before) of a sliding window over ``size`` cells."""
    if padding == "valid":
        return (size - window) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + window - size, 0) // 2
