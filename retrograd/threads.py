"""Thread count of the BLAS library that runs NumPy's matrix products, and of the optional
numba kernels (PyTorch's ``set_num_threads``/``get_num_threads``); the BLAS part needs
threadpoolctl, else it reports and changes nothing. The numba kernels run on one thread until
``set_num_threads`` asks for more (see ``_apply_to_numba``)."""
import os

_limiter = None
_requested = 1  # the last set_num_threads, applied to numba when its kernels load


def set_num_threads(n):
    """Limits BLAS and the numba kernels to ``n`` threads for the rest of the process."""
    global _limiter, _requested
    _requested = int(n)
    _apply_to_numba()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _limiter = threadpool_limits(limits=int(n), user_api="blas")


def _apply_to_numba():
    """Gives the numba kernels, once loaded, the requested thread count (numba cannot start more
    than NUMBA_NUM_THREADS; the count is per calling thread, as in numba). One by default, not
    BLAS's count: numba's OpenMP workers spin after each kernel, and on a 2-core machine with
    other work they made a 2-thread LeNet step three times slower than NumPy alone (see
    docs/performance.md), so more threads must be asked for."""
    from . import backends
    if backends.numba._module is None:
        return
    import numba
    numba.set_num_threads(max(1, min(_requested, numba.config.NUMBA_NUM_THREADS)))


def get_num_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts) if counts else 1
