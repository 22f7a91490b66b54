"""Thread count of the BLAS library that runs NumPy's matrix products (PyTorch's
``set_num_threads``/``get_num_threads``); needs threadpoolctl, else reports and changes
nothing."""
import os

_limiter = None


def set_num_threads(n):
    """Limits BLAS to ``n`` threads for the rest of the process."""
    global _limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _limiter = threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts) if counts else 1
