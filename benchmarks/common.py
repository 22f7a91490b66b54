"""Timing helpers shared by the benchmarks."""
import os
import statistics
import time


def median_time(fn, repeats=20, warmup=3):
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_torch(threads=None):
    """PyTorch if installed (the rival), limited to ``threads`` threads; else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads or int(os.environ.get("BENCH_THREADS", "2")))
    return torch


def blas_info():
    """Which BLAS kernel NumPy uses (threadpoolctl), for the record."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to report it)"
    infos = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
             f"{i.get('num_threads')} threads)" for i in threadpool_info()
             if i.get("user_api") == "blas"]
    return "; ".join(infos) or "none found"
