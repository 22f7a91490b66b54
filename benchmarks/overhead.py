"""Per-op overhead of the engine: a chain of elementwise ops on a small tensor, forward and
backward, against PyTorch's eager mode and against bare NumPy (no graph at all).

    python -m benchmarks.overhead [--ops 1000] [--size 16]

On tiny tensors the arithmetic is negligible, so the time per op is the framework's own cost:
creating the output tensor and the graph node, and walking the graph backwards.
"""
import argparse

import numpy as np

import retrograd as rg
from benchmarks.common import load_torch, median_time


def chain(x, n_ops):
    """n_ops elementwise ops alternating mul/add/tanh (values stay bounded)."""
    y = x
    for i in range(n_ops // 3):
        y = (y * 0.9 + 0.1).tanh()
    return y


def numpy_chain(x, n_ops):
    """The same chain with a hand-written backward: the floor for any NumPy framework."""
    tanhs = []
    y = x
    for _ in range(n_ops // 3):
        y = np.tanh(y * 0.9 + 0.1)
        tanhs.append(y)
    grad = np.ones_like(y)
    for t in reversed(tanhs):
        grad = grad * (1 - t * t) * 0.9
    return grad


def run(n_ops=1000, size=16, repeats=20, threads=None):
    data = np.random.default_rng(0).standard_normal(size).astype(np.float32)
    results = {}

    def rg_step():
        x = rg.tensor(data, requires_grad=True)
        chain(x, n_ops).backward(rg.ones(size))

    results["retrograd"] = median_time(rg_step, repeats)
    results["numpy (no graph)"] = median_time(lambda: numpy_chain(data, n_ops), repeats)
    torch = load_torch(threads)
    if torch is not None:
        def torch_step():
            x = torch.tensor(data, requires_grad=True)
            chain(x, n_ops).backward(torch.ones(size))
        results["pytorch"] = median_time(torch_step, repeats)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=999, help="ops in the chain (multiple of 3)")
    parser.add_argument("--size", type=int, default=16, help="elements per tensor")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    results = run(args.ops, args.size, args.repeats)
    print(f"chain of {args.ops} elementwise ops on {args.size} float32 elements, "
          f"forward + backward (median of {args.repeats})")
    ours = results["retrograd"]
    for name, seconds in results.items():
        per_op = seconds / args.ops * 1e6
        print(f"  {name:18s} {seconds * 1e3:8.2f} ms   {per_op:6.2f} us/op   "
              f"retrograd / this = {ours / seconds:5.2f}x")
    return results


if __name__ == "__main__":
    main()
