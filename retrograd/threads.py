"""How many threads retrograd uses, and running an op's independent parts on them at once.

Two kinds of threads share the cores. NumPy's BLAS runs each large matrix product on threads
of its own. And an op whose work splits into independent parts of a millisecond or more (a
convolution's slices of the batch) runs those parts at once on retrograd's worker threads:
NumPy releases the interpreter lock while it computes, so they really run in parallel. Waking
a worker takes tens of microseconds, which is why small parts stay on one thread.
``set_num_threads(n)`` sets both counts, as PyTorch's does for its intra-op threads; the
default is what BLAS had when retrograd was imported (the number of cores, or
``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` where set).

While an op's parts run, BLAS is held to one thread, so that n parts do not start n BLAS
threads each. One more thing keeps the two apart: after each product, OpenBLAS's threads spin
for about 0.1 s waiting for the next one, on the very cores the parts need. retrograd has
them wait 2^22 cycles (about a millisecond) instead, through OpenBLAS's
``OPENBLAS_THREAD_TIMEOUT`` (unless that is set already): the spin still bridges the gaps
between the products of a recurrent layer's steps, and a training step of LeNet-5 on two
threads became a fifth faster (docs/performance.md).

BLAS's thread count is read and set through threadpoolctl; without it, BLAS keeps its own
count and ops run their parts one after another.
"""
import contextlib
import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

BLAS_SPIN_LOG2_CYCLES = 22

_threads = 1
_blas = None       # threadpoolctl's handles on the BLAS libraries NumPy loaded
_pool, _pool_size = None, 0  # the worker threads (the calling thread is one more)
_local = threading.local()


def _forget_pool():
    """In a forked child the pool's threads do not exist: start a new pool when needed."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _blas_libraries():
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas = []
        else:
            _blas = [lib for lib in ThreadpoolController().lib_controllers
                     if lib.user_api == "blas"]
    return _blas


def set_num_threads(n):
    """Uses ``n`` threads from now on: in BLAS and for the parts of ops."""
    global _threads
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n!r}")
    _threads = int(n)
    for lib in _blas_libraries():
        lib.set_num_threads(_threads)


def get_num_threads():
    return _threads


def _shorten_blas_spin():
    """Sets OpenBLAS's spin time (see above). OpenBLAS reads it when it starts its threads,
    so they are restarted, which is safe here because nothing else runs a product yet."""
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(BLAS_SPIN_LOG2_CYCLES)
    for lib in _blas_libraries():
        if lib.internal_api != "openblas" or lib.threading_layer != "pthreads":
            continue
        try:
            openblas = ctypes.CDLL(lib.filepath)
            read_environment, stop_threads = openblas.openblas_read_env, \
                openblas.blas_thread_shutdown_
        except (OSError, AttributeError):
            continue
        read_environment()
        stop_threads()  # the next multi-threaded product starts them again


def _start():
    """At import: retrograd's thread count is BLAS's."""
    counts = [lib.num_threads for lib in _blas_libraries()]
    _shorten_blas_spin()
    set_num_threads(max(counts) if counts else 1)


def worker_count(parts, nbytes, bytes_per_worker):
    """Over how many threads ``parts`` independent parts of an op, ``nbytes`` of work in all,
    are spread: no more than one per ``bytes_per_worker`` (less work per thread than waking it
    costs is done faster on fewer), and one inside a worker (no nesting) or where BLAS's thread
    count is not under control."""
    if getattr(_local, "is_worker", False) or not _blas_libraries():
        return 1
    return max(1, min(_threads, parts, nbytes // bytes_per_worker))


def _as_worker(fn, share):
    _local.is_worker = True
    try:
        return fn(share)
    finally:
        _local.is_worker = False


def in_parallel(fn, shares):
    """``[fn(share) for share in shares]``, the shares running at once on as many threads (the
    calling thread takes the first) with BLAS on one thread meanwhile; use at most
    ``worker_count(...)`` shares."""
    global _pool, _pool_size
    if len(shares) <= 1:
        return [fn(share) for share in shares]
    if _pool_size < len(shares) - 1:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool_size = len(shares) - 1
        _pool = ThreadPoolExecutor(_pool_size, thread_name_prefix="retrograd-worker")
    with one_blas_thread():
        futures = [_pool.submit(_as_worker, fn, share) for share in shares[1:]]
        try:
            first = _as_worker(fn, shares[0])
        finally:
            wait(futures)  # even when the first share failed: its arrays stay in use until then
    return [first] + [future.result() for future in futures]


@contextlib.contextmanager
def one_blas_thread():
    """BLAS on one thread inside the block, on its previous count again after it (which may
    be a user's threadpoolctl limit rather than retrograd's count)."""
    counts = [(lib, lib.num_threads) for lib in _blas_libraries()] if _threads > 1 else ()
    for lib, count in counts:
        if count != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in counts:
            if count != 1:
                lib.set_num_threads(count)


# Input bytes per thread of an elementwise op (e.g. pooling) below which another thread costs
# more than it saves.
BATCH_BYTES_PER_WORKER = 2 ** 19


def batch_shares(size, nbytes):
    """The batch (of ``size`` samples, ``nbytes`` of input) as even slices, one per thread
    where the work is large enough to share."""
    count = worker_count(size, nbytes, BATCH_BYTES_PER_WORKER)
    bounds = [size * k // count for k in range(count + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
