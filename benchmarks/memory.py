"""Peak memory of one training step, each contender measured in a fresh process.

    python -m benchmarks.memory W2 retrograd [--batch 128] [--steps 100]

The figure is the growth of the process's resident memory during one step (after two warm-up
steps): the high-water mark (VmHWM, reset through /proc/self/clear_refs) minus the resident size
just before the step. It counts whatever the step allocates, in NumPy or in PyTorch's allocator
alike: activations kept for backward, gradients, temporaries. Large blocks are returned to the
system as soon as they are freed (a fixed glibc mmap threshold), so that memory cached from the
warm-up steps does not hide what a step needs. Linux only; elsewhere the figure is None.
"""
import argparse
import gc
import os
import subprocess
import sys

from benchmarks.common import bench_threads, load_torch, pin_blas_threads
from benchmarks.contenders import PYTORCH, make_steps
from benchmarks.workloads import WORKLOADS

_ENV = {"MALLOC_MMAP_THRESHOLD_": str(64 * 1024), "MALLOC_TRIM_THRESHOLD_": str(64 * 1024)}


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def measure_here(key, contender, batch=None, steps=None, threads=None):
    """Bytes the resident memory grows by during one training step in this process."""
    threads = bench_threads(threads)
    pin_blas_threads(threads)
    torch = load_torch(threads) if contender == PYTORCH else None
    step = make_steps(WORKLOADS[key], [contender], torch, batch, steps)[contender]
    step()
    step()
    gc.collect()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident size
    step()
    return (_status_kib("VmHWM") - before) * 1024


def step_peak_bytes(key, contender, batch=None, steps=None, threads=None):
    """``measure_here`` in a fresh process (None where it cannot be measured)."""
    if not sys.platform.startswith("linux"):
        return None
    command = [sys.executable, "-m", "benchmarks.memory", key, contender]
    for flag, value in (("--batch", batch), ("--steps", steps), ("--threads", threads)):
        if value is not None:
            command += [flag, str(value)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, capture_output=True, text=True, cwd=root,
                          env={**os.environ, **_ENV})
    if done.returncode != 0:
        raise RuntimeError(f"memory measurement of {key} with {contender} failed:\n"
                           f"{done.stderr}")
    return int(done.stdout.split()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("contender")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="sequence length")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    print(measure_here(args.workload, args.contender, args.batch, args.steps, args.threads))


if __name__ == "__main__":
    main()
