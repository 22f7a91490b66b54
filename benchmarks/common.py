"""Timing helpers shared by the benchmarks."""
import json
import os
import statistics
import subprocess
import sys
import time

import retrograd as rg


def wall_times(fn, repeats=20, warmup=3, min_seconds=0.0):
    """Wall times of ``fn()`` in seconds after ``warmup`` runs: ``repeats`` runs, or more until
    the timed runs add up to ``min_seconds`` (short steps get more samples, so that their
    median is as steady as a long step's)."""
    for _ in range(warmup):
        fn()
    times = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_time(fn, repeats=20, warmup=3):
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    return statistics.median(wall_times(fn, repeats, warmup))


def interleaved_times(steps, repeats, warmup=3):
    """Wall times (seconds) of each named step over ``repeats`` rounds after ``warmup`` rounds.
    The steps take turns within each round, so that a change of load on the machine affects
    all of them alike."""
    for _ in range(warmup):
        for fn in steps.values():
            fn()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def spread(times):
    """Interquartile range relative to the median: how noisy a measurement was."""
    q1, median, q3 = statistics.quantiles(times, n=4)
    return (q3 - q1) / median


def fresh_process_env(contender):
    """The environment of a fresh process timing ``contender``: PyTorch keeps glibc's default
    allocator, as its users have it, although the harness imports retrograd (which tunes the
    allocator at import, retrograd/_malloc.py); retrograd and the NumPy reference get the
    tuning."""
    return {**os.environ, **({"RETROGRAD_KEEP_FREED_MEMORY": "0"} if contender == "pytorch"
                             else {})}


def flags(**options):
    """Command-line flags ``--name value`` for the options that are not None."""
    return [text for name, value in options.items() if value is not None
            for text in (f"--{name.replace('_', '-')}", str(value))]


def json_from_fresh_process(module, arguments, contender, what, extra_env=None):
    """What ``python -m module *arguments`` prints as its last line (JSON), run by a new Python
    process in the project's root, in the environment ``fresh_process_env(contender)`` plus
    ``extra_env``; ``what`` names the run in the error raised if it fails."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-m", module, *arguments], capture_output=True,
                          text=True, cwd=root,
                          env={**fresh_process_env(contender), **(extra_env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def bench_threads(threads=None):
    """The thread count for every contender: ``threads``, else $BENCH_THREADS, else 2."""
    return threads or int(os.environ.get("BENCH_THREADS", "2"))


def use_threads(threads):
    """``threads`` threads for the rest of the process, for retrograd's ops and NumPy's BLAS
    (``rg.set_num_threads``, retrograd/threads.py)."""
    rg.set_num_threads(threads)


def load_torch(threads=None):
    """PyTorch if installed (the rival), limited to ``threads`` threads; else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(bench_threads(threads))
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
