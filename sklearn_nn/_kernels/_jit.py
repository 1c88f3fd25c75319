"""The one decorator policy shared by every kernel.

``error_model="numpy"`` lets float divisions vectorise (Numba's default "python" model
adds a zero check to each one: 10x slower on the Adam step here); non-finite values are
detected explicitly by the callers instead. ``cache=True`` keeps a second process's
first fit fast. No ``fastmath``: a NaN must reach the divergence check.
"""

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
