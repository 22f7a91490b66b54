"""BLAS's axpy, ``y += alpha * x`` in one pass over memory, from the BLAS library NumPy loaded.

NumPy has no fused multiply-add: ``y += alpha * x`` writes ``alpha * x`` somewhere first and
then reads it again, two passes where one would do. An optimizer's update is that operation on
every parameter at every step. BLAS has it as one routine (axpy). The library is found through
threadpoolctl (its path) and the routine called through ctypes; where threadpoolctl, the
library or the routine is missing, ``axpy`` says so and the caller uses NumPy. BLAS may round
``y + alpha * x`` once (a fused multiply-add) where NumPy rounds twice: results can differ in
the last bit.

The routine runs with BLAS on one thread: memory, not arithmetic, bounds it, and OpenBLAS
spreading it over its threads made whole processes slow on two cores (W1's step took 4.3-4.7
ms instead of 2.5 ms in half of the processes started, against 2.55-2.62 ms in all but two of
twelve on one thread).
"""
import ctypes

import numpy as np

from .threads import _blas_libraries, one_blas_thread

# Names of the routine in the order tried ("s" or "d" for the dtype), with the integer type of
# its length and strides: the OpenBLAS that NumPy and SciPy bundle (64-bit and 32-bit integer
# builds), then any CBLAS.
_NAMES = (("scipy_cblas_{}axpy64_", ctypes.c_int64), ("cblas_{}axpy64_", ctypes.c_int64),
          ("scipy_cblas_{}axpy", ctypes.c_int32), ("cblas_{}axpy", ctypes.c_int32))
_SCALARS = {np.dtype(np.float32): ("s", ctypes.c_float),
            np.dtype(np.float64): ("d", ctypes.c_double)}
# Below this many elements NumPy is faster: a call through ctypes costs about 5 us (measured:
# 16384 float32, 6.7 us against NumPy's 4.4; 65536, 9.9 against 16.8).
MIN_SIZE = 2 ** 15

_routines = None  # dtype -> (routine, largest length it takes); found on first use


def _find_routines():
    routines = {}
    for lib in _blas_libraries():  # in load order: NumPy's BLAS first
        try:
            library = ctypes.CDLL(lib.filepath)
        except OSError:
            continue
        for dtype, (letter, scalar) in _SCALARS.items():
            for name, integer in _NAMES:
                routine = getattr(library, name.format(letter), None)
                if routine is not None and dtype not in routines:
                    routine.restype = None
                    routine.argtypes = [integer, scalar, ctypes.c_void_p, integer,
                                        ctypes.c_void_p, integer]
                    routines[dtype] = (routine, 2 ** (8 * ctypes.sizeof(integer) - 1) - 1)
                    break
    return routines


def axpy(alpha, x, y):
    """``y += alpha * x`` in place through BLAS; True if done, False (nothing done) where BLAS
    cannot: no routine for the dtype, arrays small, of other shapes or dtypes, not C-contiguous,
    or sharing memory."""
    global _routines
    if _routines is None:
        _routines = _find_routines()
    found = _routines.get(y.dtype)
    if (found is None or y.size < MIN_SIZE or y.size > found[1] or x.dtype != y.dtype
            or x.shape != y.shape or not (x.flags.c_contiguous and y.flags.c_contiguous
                                          and y.flags.writeable)
            or np.may_share_memory(x, y)):
        return False
    with one_blas_thread():
        found[0](y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
    return True
