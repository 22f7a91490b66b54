"""Where a training step's time goes: forward, loss, backward and update timed apart, for
retrograd and for the hand-written NumPy reference, on a feed-forward workload (W1-W3).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.phases W1 [--batch 1]
        [--threads 1] [--steps 300]

The difference between the two, phase by phase, is the framework's own cost there: at batch 1
the matrix products are nearly free and what is left is graph nodes, tensors, modules,
gradient accumulation and the optimizer's bookkeeping. Both contenders run in this process,
taking turns step by step (neither starts threads of another library); each figure is the
median over ``--steps`` steps after warm-up. The update includes retrograd's ``zero_grad``.
"""
import argparse
import statistics
import time

import retrograd as rg
from benchmarks.common import bench_threads, use_threads
from benchmarks.contenders import framework_step, initial_weights, reference_step
from benchmarks.workloads import WORKLOADS

PHASES = ("forward", "loss", "backward", "update")
FEED_FORWARD = ("W1", "W2", "W3")


class PhaseClock:
    """Collects the seconds between consecutive ``mark(phase)`` calls, per phase."""

    def __init__(self):
        self.seconds = {phase: [] for phase in PHASES}
        self.last = None

    def start(self):
        self.last = time.perf_counter()

    def mark(self, phase):
        now = time.perf_counter()
        self.seconds[phase].append(now - self.last)
        self.last = now

    def medians(self):
        return {phase: statistics.median(times) for phase, times in self.seconds.items()}


def phase_times(key, batch=None, steps=300, warmup=20):
    """{contender: {phase: median seconds}} for workload ``key``, the contenders taking turns
    step by step (so that a change of load on the machine hits both)."""
    workload = WORKLOADS[key]
    weights, data = initial_weights(workload), workload.batch_data(batch)
    contenders = {"retrograd": framework_step(rg, workload, weights, data),
                  "numpy reference": reference_step(workload, weights, data)}
    clocks = {}
    for count in range(warmup + steps):
        if count in (0, warmup):
            clocks = {name: PhaseClock() for name in contenders}
        for name, step in contenders.items():
            clocks[name].start()
            step(mark=clocks[name].mark)
    return {name: clock.medians() for name, clock in clocks.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=FEED_FORWARD)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    threads = bench_threads(args.threads)
    use_threads(threads)
    results = phase_times(args.workload, args.batch, args.steps)
    batch = args.batch or WORKLOADS[args.workload].batch
    print(f"{args.workload} {WORKLOADS[args.workload].title}, batch {batch}, {threads} threads: "
          f"median us per phase over {args.steps} steps")
    print(f"{'':16s}" + "".join(f"{phase:>10s}" for phase in PHASES) + f"{'sum':>10s}")
    for name, medians in results.items():
        print(f"{name:16s}" + "".join(f"{medians[p] * 1e6:10.1f}" for p in PHASES)
              + f"{sum(medians.values()) * 1e6:10.1f}")
    ours, theirs = results["retrograd"], results["numpy reference"]
    print(f"{'difference':16s}" + "".join(f"{(ours[p] - theirs[p]) * 1e6:+10.1f}" for p in PHASES)
          + f"{(sum(ours.values()) - sum(theirs.values())) * 1e6:+10.1f}")
    return results


if __name__ == "__main__":
    main()
