"""The benchmark suite: retrograd against PyTorch (CPU, eager) and against a hand-written NumPy
forward/backward of the same networks, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks [--threads 2] [--quick]

A training step is forward, softmax cross-entropy, backward and a plain SGD update, in float32,
with the same initial weights and batch for every contender. Each contender runs in a fresh
process of its own (``benchmarks.isolated``: worker threads of different libraries in one
process slow each other down), in rounds where the contenders take turns, so that a change of
load on the machine affects them alike; each figure is the median of at least ``--repeats``
timed steps over the rounds, after warm-up (short steps are repeated until each process has
timed half a second of them), and the spread (interquartile range over median) says how noisy
the run was. ``--in-process`` times them instead in this process, taking turns step by step.
Every contender runs on the same number of threads (NumPy's BLAS pinned with threadpoolctl,
PyTorch with ``set_num_threads``).

Sections: the training steps of W1-W5 (time, examples/s, ratios, peak memory of a step, first
loss as a check that all did the same work); W6, a 2048^3 float32 matrix product (the machine's
limit); the engine's per-op overhead; scaling with batch size and sequence length; one MNIST
epoch of LeNet-5 through the real training loop (the median of three per framework); and which
performance targets are met.
``--quick`` runs everything on tiny sizes, in this process (a smoke test, not a measurement).
"""
import argparse
import os
import platform
import statistics
import textwrap
import time
from dataclasses import dataclass

import numpy as np

import retrograd as rg
from benchmarks import lenet_epoch, overhead
from benchmarks.common import (bench_threads, blas_info, interleaved_times, load_torch,
                               spread, use_threads, wall_times)
from benchmarks.contenders import NUMPY, PYTORCH, RETROGRAD, initial_weights, make_steps
from benchmarks.isolated import step_peak_bytes, step_times
from benchmarks.workloads import WORKLOADS

# (target on retrograd's time / PyTorch's, workloads)
PYTORCH_TARGETS = [(1.0, ["W1"]), (1.5, ["W2", "W3", "W4", "W5"])]
NUMPY_TARGET = 1.15    # framework overhead: retrograd's time / the NumPy reference's
MEMORY_TARGET = 1.5    # retrograd's peak memory of a step / PyTorch's
EPOCH_TARGET = 1.5     # the LeNet-5 MNIST epoch, retrograd's time / PyTorch's
SCALING_TARGET = 1.2   # slowest / fastest time per example (or per time step) across sizes

_BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Sizes:
    """How big and how long each section runs."""
    repeats: int
    min_seconds: float       # each process times steps until they add up to at least this
    warmup: int
    rounds: int              # fresh processes per contender (``isolated``)
    isolated: bool           # each contender in processes of its own, else in this one
    batch: dict              # workload -> batch (None: the workload's own)
    seq_len: dict            # recurrent workload -> sequence length (None: its own)
    gemm: int
    overhead_ops: int
    epoch_batches: int       # None: the whole epoch
    epoch_rounds: int        # epochs per framework, taking turns; the ratio is of the medians
    scaling_batches: tuple
    scaling_lengths: tuple


FULL = Sizes(repeats=21, min_seconds=0.5, warmup=3, rounds=3, isolated=True, batch={},
             seq_len={}, gemm=2048, overhead_ops=999, epoch_batches=None, epoch_rounds=3,
             scaling_batches=(32, 128, 512),
             scaling_lengths=(50, 100, 200))
QUICK = Sizes(repeats=3, min_seconds=0.0, warmup=1, rounds=1, isolated=False,
              batch={"W1": 4, "W2": 4, "W3": 2, "W4": 2, "W5": 2}, seq_len={"W4": 5, "W5": 5},
              gemm=64, overhead_ops=30, epoch_batches=2, epoch_rounds=1, scaling_batches=(2, 4),
              scaling_lengths=(3, 6))


# ---------------------------------------------------------------------------- measurements
def time_steps(key, sizes, torch, threads, batch=None, seq_len=None):
    """({contender: (median seconds, spread)}, {contender: first loss}) for one workload."""
    contenders = [RETROGRAD, NUMPY] + ([PYTORCH] if torch is not None else [])
    if sizes.isolated:
        times, losses = {name: [] for name in contenders}, {}
        for round_ in range(sizes.rounds):
            turn = round_ % len(contenders)  # a different contender goes first each round
            for name in contenders[turn:] + contenders[:turn]:
                result = step_times(key, name, batch=batch, steps=seq_len, threads=threads,
                                    repeats=-(-sizes.repeats // sizes.rounds),
                                    min_seconds=sizes.min_seconds,
                                    warmup=sizes.warmup)
                times[name] += result["times"]
                losses[name] = result["loss"]
    else:
        steps = make_steps(WORKLOADS[key], contenders, torch, batch, seq_len)
        losses = {name: step() for name, step in steps.items()}
        times = interleaved_times(steps, sizes.repeats, sizes.warmup)
    return {name: (statistics.median(t), spread(t)) for name, t in times.items()}, losses


def workload_rows(keys, sizes, torch, threads, memory):
    rows = []
    for key in keys:
        workload = WORKLOADS[key]
        batch = sizes.batch.get(key) or workload.batch
        seq_len = sizes.seq_len.get(key) or workload.steps or None
        timings, first_loss = time_steps(key, sizes, torch, threads, batch, seq_len)
        for name, (seconds, noise) in timings.items():
            peak = (step_peak_bytes(key, name, batch, seq_len, threads) if memory else None)
            rows.append(dict(key=key, title=workload.title, batch=batch, seq_len=seq_len,
                             contender=name, seconds=seconds, spread=noise, peak=peak,
                             loss=first_loss[name]))
    return rows


def gemm_rows(size, sizes, torch):
    """W6: one float32 size^3 matrix product per contender (retrograd's matmul included, to
    show it adds nothing to NumPy's)."""
    g = np.random.default_rng(0)
    a, b = (g.standard_normal((size, size)).astype(np.float32) for _ in range(2))
    products = {RETROGRAD: (lambda x=rg.from_numpy(a), y=rg.from_numpy(b): x @ y),
                "numpy": lambda: a @ b}
    if torch is not None:
        products[PYTORCH] = lambda x=torch.from_numpy(a), y=torch.from_numpy(b): x @ y
    repeats = max(3, sizes.repeats // 2)  # each product is long: fewer repeats suffice
    times = interleaved_times(products, repeats, 1)
    return {name: statistics.median(t) for name, t in times.items()}


def scaling_rows(sizes, torch, threads):
    """Time per example at several batch sizes (W1, W2) and per time step at several sequence
    lengths (W4): {(key, size): {contender: seconds per example or per time step}}."""
    results = {}
    for key in ("W1", "W2"):
        for batch in sizes.scaling_batches:
            timings, _ = time_steps(key, sizes, torch, threads, batch)
            results[key, batch] = {name: t / batch for name, (t, _) in timings.items()}
    for length in sizes.scaling_lengths:
        timings, _ = time_steps("W4", sizes, torch, threads, sizes.batch.get("W4"), length)
        results["W4", length] = {name: t / length for name, (t, _) in timings.items()}
    return results


def mlp_product_times(sizes):
    """{batch: seconds per example} of W1's matrix products alone, in NumPy on this process's
    threads: each layer's forward, weight gradient and (but the first) input gradient. What
    no framework on NumPy can go below, at each batch size of the scaling section."""
    weights = [w for name, w in initial_weights(WORKLOADS["W1"]).items()
               if name.endswith("weight")]
    g = np.random.default_rng(0)
    results = {}
    for batch in sizes.scaling_batches:
        inputs = [g.standard_normal((batch, w.shape[1]), dtype=np.float32) for w in weights]
        grads = [g.standard_normal((batch, w.shape[0]), dtype=np.float32) for w in weights]

        def products():
            for layer, (x, w, dy) in enumerate(zip(inputs, weights, grads)):
                np.matmul(x, w.T)
                np.matmul(dy.T, x)
                if layer:
                    np.matmul(dy, w)
        results[batch] = statistics.median(wall_times(products, sizes.repeats, sizes.warmup,
                                                      sizes.min_seconds)) / batch
    return results


def epoch_times(sizes, torch, threads):
    """({framework: seconds of each epoch}, batches, data source) for LeNet-5 epochs through
    ``benchmarks.lenet_epoch``'s loops, on the same weights and batches, each in a fresh
    process where ``sizes.isolated``, ``sizes.epoch_rounds`` epochs per framework."""
    results = lenet_epoch.compare(sizes.epoch_batches, threads, rounds=sizes.epoch_rounds,
                                  torch_installed=torch is not None,
                                  fresh_processes=sizes.isolated)
    first = results["retrograd"][0]
    return ({name: [r["seconds"] for r in runs] for name, runs in results.items()},
            first["batches"], first["source"])


# ------------------------------------------------------------------------------- reporting
def _over(value, other):
    return None if value is None or not other else value / other


def _rivals(rows, key):
    """{contender: row} for one workload."""
    return {r["contender"]: r for r in rows if r["key"] == key}


def _retrograd_over(rows, key, field, contender):
    rivals = _rivals(rows, key)
    if RETROGRAD not in rivals or contender not in rivals:
        return None
    return _over(rivals[RETROGRAD][field], rivals[contender][field])


def _fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def print_header(threads, torch):
    print(f"retrograd benchmark suite, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"  machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  Python {platform.python_version()}, NumPy {np.__version__}, "
          f"PyTorch {torch.__version__ if torch is not None else 'not installed'}")
    print(f"  NumPy BLAS: {blas_info()}; PyTorch threads: "
          f"{torch.get_num_threads() if torch is not None else '-'} (asked for {threads})")
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load + threads > cpus + 0.5:
        print(f"  NOTE: the machine is busy (load {load:.1f} on {cpus} CPUs): the contenders' "
              f"{threads} threads compete with other work, so times are inflated and noisy; "
              "the ratios, measured taking turns, hold up better")
    stray = [name for name in _BLAS_ENV if name in os.environ]
    if stray:
        print(f"  WARNING: {', '.join(stray)} set: NumPy's GEMM may run at half speed; rerun "
              f"with env -u {' -u '.join(stray)}")


def print_workloads(rows, sizes):
    how = (f"each contender in {sizes.rounds} fresh processes, taking turns, each timing at "
           f"least {sizes.min_seconds:g} s of steps" if sizes.isolated
           else "contenders taking turns step by step in one process")
    print(f"\nTraining step (forward, cross-entropy, backward, SGD), float32: median of at "
          f"least {sizes.repeats} steps after {sizes.warmup} warm-up steps, {how}")
    print(f"{'workload':38s} {'contender':16s} {'ms/step':>9s} {'spread':>7s} {'examples/s':>11s}"
          f" {'x PyTorch':>9s} {'x NumPy':>8s} {'peak MB':>8s} {'mem x PT':>8s} {'1st loss':>9s}")
    for r in rows:
        shape = f"batch {r['batch']}" + (f", T={r['seq_len']}" if r["seq_len"] else "")
        label = f"{r['key']} {r['title']} ({shape})" if r["contender"] == RETROGRAD else ""
        rivals = _rivals(rows, r["key"])
        torch_row, numpy_row = rivals.get(PYTORCH, {}), rivals.get(NUMPY, {})
        peak_mb = None if r["peak"] is None else r["peak"] / 2 ** 20
        print(f"{label:38s} {r['contender']:16s} {r['seconds'] * 1e3:9.2f} "
              f"{r['spread'] * 100:6.0f}% {r['batch'] / r['seconds']:11.0f} "
              f"{_fmt(_over(r['seconds'], torch_row.get('seconds')), '9.2f'):>9s} "
              f"{_fmt(_over(r['seconds'], numpy_row.get('seconds')), '8.2f'):>8s} "
              f"{_fmt(peak_mb, '8.1f'):>8s} "
              f"{_fmt(_over(r['peak'], torch_row.get('peak')), '8.2f'):>8s} {r['loss']:9.4f}")


def print_gemm(size, times):
    flops = 2 * size ** 3
    print(f"\nW6 float32 GEMM {size}x{size} @ {size}x{size} (the machine's limit)")
    for name, seconds in times.items():
        print(f"  {name:16s} {seconds * 1e3:9.2f} ms   {flops / seconds / 1e9:7.1f} GFLOP/s")


def print_overhead(results, n_ops):
    print(f"\nPer-op overhead: chain of {n_ops} elementwise ops on 16 floats, forward + backward")
    for name, seconds in results.items():
        print(f"  {name:18s} {seconds / n_ops * 1e6:7.2f} us/op   "
              f"retrograd / this = {results['retrograd'] / seconds:5.2f}x")


def scaling_spreads(results):
    """{(key, contender): slowest / fastest time per unit across sizes}."""
    grouped = {}
    for (key, _), per_contender in results.items():
        for name, seconds in per_contender.items():
            grouped.setdefault((key, name), []).append(seconds)
    return {k: max(v) / min(v) for k, v in grouped.items()}


def print_scaling(results):
    print("\nScaling: time per example (W1, W2, by batch size) and per time step (W4, by "
          "sequence length), in us")
    for (key, size), per_contender in results.items():
        unit = "T" if key == "W4" else "batch"
        print(f"  {key} {unit}={size:<5d} " + "   ".join(
            f"{name} {seconds * 1e6:9.1f}" for name, seconds in per_contender.items()))
    spreads = scaling_spreads(results)
    for key in dict.fromkeys(key for key, _ in spreads):
        print(f"  {key} slowest / fastest: " + "   ".join(
            f"{name} {ratio:.2f}" for (k, name), ratio in spreads.items() if k == key))


def print_product_floor(per_example):
    print("  W1's matrix products alone (NumPy, no framework), us per example: " + "   ".join(
        f"batch={batch} {seconds * 1e6:.1f}" for batch, seconds in per_example.items())
          + f"   slowest / fastest {max(per_example.values()) / min(per_example.values()):.2f}")


def print_epoch(epochs, count, source):
    """Prints each framework's median epoch and their ratio; returns the ratio (None without
    PyTorch)."""
    rounds = len(epochs["retrograd"])
    print(f"\nLeNet-5, one epoch of {count} batches of {lenet_epoch.BATCH_SIZE}, SGD with "
          f"momentum, the real training loop, median of {rounds} epochs each; data: "
          f"{textwrap.shorten(source, 60)}")
    medians = {name: statistics.median(times) for name, times in epochs.items()}
    for name, times in epochs.items():
        print(f"  {name:9s} {medians[name]:8.2f} s   (epochs: "
              f"{', '.join(f'{t:.2f}' for t in times)} s)")
    if "pytorch" not in medians:
        return None
    ratio = medians["retrograd"] / medians["pytorch"]
    print(f"  retrograd / pytorch = {ratio:.2f}x")
    return ratio


def target_checks(rows, scaling, epoch_ratio):
    """[(target, measured, met)] for every target that this run measured."""
    checks = []
    keys = sorted({r["key"] for r in rows})
    for key in keys:
        ratio = _retrograd_over(rows, key, "seconds", NUMPY)
        if ratio is not None:
            checks.append((f"{key} time <= {NUMPY_TARGET}x NumPy reference", ratio,
                           ratio <= NUMPY_TARGET))
    for limit, targets in PYTORCH_TARGETS:
        for key in targets:
            ratio = _retrograd_over(rows, key, "seconds", PYTORCH)
            if ratio is not None:
                checks.append((f"{key} time <= {limit}x PyTorch", ratio, ratio <= limit))
    if epoch_ratio is not None:
        checks.append((f"MNIST epoch <= {EPOCH_TARGET}x PyTorch", epoch_ratio,
                       epoch_ratio <= EPOCH_TARGET))
    for key in keys:
        ratio = _retrograd_over(rows, key, "peak", PYTORCH)
        if ratio is not None:
            checks.append((f"{key} peak memory <= {MEMORY_TARGET}x PyTorch", ratio,
                           ratio <= MEMORY_TARGET))
    for (key, name), ratio in (scaling or {}).items():
        if name == RETROGRAD:
            what = "time per time step, T" if key == "W4" else "time per example, batch"
            checks.append((f"{key} {what} sizes within {SCALING_TARGET}x", ratio,
                           ratio <= SCALING_TARGET))
    return checks


def print_targets(checks):
    print("\nTargets")
    for target, measured, met in checks:
        print(f"  {'met   ' if met else 'MISSED'}  {target:48s} measured {measured:.2f}")


# -------------------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every contender (default $BENCH_THREADS or 2)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per figure")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated subset of " + ",".join(WORKLOADS))
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--in-process", action="store_true",
                        help="time the contenders in this process, taking turns step by step")
    for section in ("memory", "gemm", "overhead", "scaling", "epoch"):
        parser.add_argument(f"--no-{section}", action="store_true", help=f"skip {section}")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.repeats:
        sizes = Sizes(**{**sizes.__dict__, "repeats": args.repeats})
    if args.in_process:
        sizes = Sizes(**{**sizes.__dict__, "isolated": False})
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    unknown = [k for k in keys if k not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")

    threads = bench_threads(args.threads)
    use_threads(threads)
    torch = load_torch(threads)
    print_header(threads, torch)
    rows = workload_rows(keys, sizes, torch, threads, memory=not args.no_memory)
    print_workloads(rows, sizes)
    if not args.no_gemm:
        print_gemm(sizes.gemm, gemm_rows(sizes.gemm, sizes, torch))
    if not args.no_overhead:
        print_overhead(overhead.run(sizes.overhead_ops, 16, sizes.repeats, threads),
                       sizes.overhead_ops)
    scaling = None
    if not args.no_scaling:
        per_size = scaling_rows(sizes, torch, threads)
        print_scaling(per_size)
        print_product_floor(mlp_product_times(sizes))
        scaling = scaling_spreads(per_size)
    epoch_ratio = None
    if not args.no_epoch:
        epoch_ratio = print_epoch(*epoch_times(sizes, torch, threads))
    checks = target_checks(rows, scaling, epoch_ratio)
    print_targets(checks)
    return rows, checks


if __name__ == "__main__":
    main()
