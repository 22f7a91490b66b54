"""Measurements of one workload with one contender, each in a fresh process: the times of
training steps, and the peak memory of one step.

    python -m benchmarks.isolated time W2 retrograd [--batch 128] [--steps 100] [--repeats 7]
        [--min-seconds 0.5]
    python -m benchmarks.isolated memory W2 pytorch [--threads 2]

Why a process of its own: PyTorch's and OpenBLAS's worker threads keep spinning for a while
after each operation. Contenders taking turns inside one process, with two threads each, then
slow one another down (measured: several times, and unevenly), and two BLAS libraries in one
process do the same to each other. A fresh process holds one framework only.

Memory: the growth of the process's resident memory during one step, after two warm-up steps:
the high-water mark (VmHWM, reset through /proc/self/clear_refs) minus the resident size just
before the step. It counts whatever the step allocates, in NumPy or in PyTorch's allocator
alike: activations kept for backward, gradients, temporaries. Large blocks are returned to the
system as soon as they are freed (a fixed glibc mmap threshold), so that memory cached from the
warm-up steps does not hide what a step needs. Linux only; elsewhere the figure is None.
"""
import argparse
import gc
import json
import sys

from benchmarks.common import (bench_threads, flags, json_from_fresh_process, load_torch,
                               use_threads, wall_times)
from benchmarks.contenders import PYTORCH, make_steps
from benchmarks.workloads import WORKLOADS

_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(64 * 1024),
               "MALLOC_TRIM_THRESHOLD_": str(64 * 1024)}


def _step(key, contender, batch, steps, threads):
    threads = bench_threads(threads)
    use_threads(threads)
    torch = load_torch(threads) if contender == PYTORCH else None
    return make_steps(WORKLOADS[key], [contender], torch, batch, steps)[contender]


def step_times_here(key, contender, batch=None, steps=None, threads=None, repeats=7,
                    warmup=3, min_seconds=0.0):
    """{"loss": the first step's loss, "times": seconds of at least ``repeats`` steps (and of
    ``min_seconds`` in all) after warm-up}."""
    step = _step(key, contender, batch, steps, threads)
    loss = step()  # the first warm-up step
    return {"loss": loss, "times": wall_times(step, repeats, warmup - 1, min_seconds)}


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def peak_bytes_here(key, contender, batch=None, steps=None, threads=None):
    """{"peak": bytes the resident memory grows by during one training step}."""
    step = _step(key, contender, batch, steps, threads)
    step()
    step()
    gc.collect()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident size
    step()
    return {"peak": (_status_kib("VmHWM") - before) * 1024}


def in_fresh_process(measurement, key, contender, **options):
    """The result of ``measurement`` ("time" or "memory") measured by a new Python process."""
    return json_from_fresh_process(
        "benchmarks.isolated", [measurement, key, contender, *flags(**options)], contender,
        f"{measurement} of {key} with {contender}",
        _MALLOC_ENV if measurement == "memory" else None)


def step_times(key, contender, **options):
    """``step_times_here`` in a fresh process."""
    return in_fresh_process("time", key, contender, **options)


def step_peak_bytes(key, contender, batch=None, steps=None, threads=None):
    """Bytes of ``peak_bytes_here`` in a fresh process (None where it cannot be measured)."""
    if not sys.platform.startswith("linux"):
        return None
    return in_fresh_process("memory", key, contender, batch=batch, steps=steps,
                            threads=threads)["peak"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measurement", choices=["time", "memory"])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("contender")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="sequence length")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=7, help="timed steps")
    parser.add_argument("--min-seconds", type=float, default=0.0,
                        help="time more steps until they add up to this")
    parser.add_argument("--warmup", type=int, default=3, help="steps before timing")
    args = parser.parse_args(argv)
    common = dict(batch=args.batch, steps=args.steps, threads=args.threads)
    if args.measurement == "time":
        result = step_times_here(args.workload, args.contender, repeats=args.repeats,
                                 warmup=args.warmup, min_seconds=args.min_seconds, **common)
    else:
        result = peak_bytes_here(args.workload, args.contender, **common)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
