"""Wall time of one MNIST training epoch of LeNet-5 (batches of 128, SGD with momentum), with
retrograd and with PyTorch on the same initial weights and the same batches, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.lenet_epoch [--batches N]
        [--threads T] [--rounds R] [--random-images]

The training images come from ``$RETROGRAD_DATA/mnist`` (or ``--data-dir``); without them the
benchmark uses random images of MNIST's size and says so (``--random-images`` asks for them):
the work per epoch is the same, only the losses mean nothing. Both frameworks' final losses are
printed, as a check that they did the same work. Each epoch runs in a fresh process holding one framework only (worker threads
of two libraries in one process slow each other down, see ``benchmarks/isolated.py``), on
``--threads`` threads (default ``$BENCH_THREADS`` or 2): retrograd through
``rg.set_num_threads`` (NumPy's BLAS), PyTorch through
``torch.set_num_threads``. ``--rounds`` epochs each, taking turns; the ratio is of the medians.
"""
import argparse
import json
import statistics
import time

import numpy as np

import retrograd as rg
import retrograd.nn.functional as F
from benchmarks.common import (bench_threads, blas_info, flags, json_from_fresh_process,
                               load_torch)
from retrograd.apps.vision.datasets import MNIST
from retrograd.apps.vision.models import lenet5

BATCH_SIZE, LR, MOMENTUM = 128, 0.05, 0.9


def training_images(data_dir, random_images=False):
    """(images (N, 1, 28, 28) float32, labels (N,) int64, where they came from)."""
    note = "random images of MNIST's size"
    if not random_images:
        try:
            train = MNIST(root=data_dir, train=True, download=False)
            return train.images.numpy(), train.targets.numpy(), "MNIST training set"
        except (OSError, ValueError) as error:
            note += f" (no MNIST files: {str(error).splitlines()[0]})"
    g = np.random.default_rng(0)
    return (g.standard_normal((60000, 1, 28, 28)).astype(np.float32), g.integers(0, 10, 60000),
            note)


def batches(images, labels, limit):
    order = np.random.default_rng(0).permutation(len(labels))
    for start in range(0, min(len(order), limit * BATCH_SIZE), BATCH_SIZE):
        rows = order[start:start + BATCH_SIZE]
        yield images[rows], labels[rows]


def retrograd_epoch(model, data):
    optimizer = rg.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    for x, y in data:
        loss = F.cross_entropy(model(rg.from_numpy(x)), rg.from_numpy(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def torch_lenet5(torch):
    """The same layers as ``retrograd.apps.vision.models.lenet5``, so state dicts match."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def torch_epoch(torch, model, data):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    for x, y in data:
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                                 torch.from_numpy(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


FRAMEWORKS = ("retrograd", "pytorch")


def epoch_here(framework, limit=None, threads=None, data_dir=None, random_images=False):
    """{"seconds", "loss", "batches", "source"} of one epoch with ``framework`` in this process
    (the same initial weights, retrograd's with seed 0, and batches for both)."""
    threads = bench_threads(threads)
    images, labels, source = training_images(data_dir, random_images)
    whole_epoch = -(-len(labels) // BATCH_SIZE)
    count = min(limit or whole_epoch, whole_epoch)
    rg.manual_seed(0)
    model = lenet5()
    data = batches(images, labels, count)
    if framework == "retrograd":
        rg.set_num_threads(threads)
        seconds, loss = timed(retrograd_epoch, model, data)
    else:
        torch = load_torch(threads)
        rival = torch_lenet5(torch)
        rival.load_state_dict({name: torch.from_numpy(t.numpy().copy())
                               for name, t in model.state_dict().items()})
        seconds, loss = timed(torch_epoch, torch, rival, data)
    return {"seconds": seconds, "loss": loss, "batches": count, "source": source}


def epoch_in_fresh_process(framework, limit=None, threads=None, data_dir=None,
                           random_images=False):
    """``epoch_here`` run by a new Python process."""
    arguments = ["--only", framework, *flags(batches=limit, threads=threads, data_dir=data_dir),
                 *(["--random-images"] if random_images else [])]
    return json_from_fresh_process("benchmarks.lenet_epoch", arguments, framework,
                                   f"LeNet-5 epoch with {framework}")


def compare(limit=None, threads=None, data_dir=None, rounds=1, torch_installed=True,
            fresh_processes=True, random_images=False):
    """{framework: [results of ``epoch_here``, one per round]}, the frameworks taking turns
    (PyTorch left out where it is not installed), each epoch in a fresh process unless
    ``fresh_processes`` is false (a smoke test's in-process run)."""
    frameworks = FRAMEWORKS if torch_installed else FRAMEWORKS[:1]
    run = epoch_in_fresh_process if fresh_processes else epoch_here
    results = {name: [] for name in frameworks}
    for _ in range(rounds):
        for name in frameworks:
            results[name].append(run(name, limit, threads, data_dir, random_images))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=None,
                        help="stop the epoch after this many batches (default: all 469)")
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both frameworks (default $BENCH_THREADS or 2)")
    parser.add_argument("--rounds", type=int, default=1, help="epochs per framework")
    parser.add_argument("--random-images", action="store_true",
                        help="random images of MNIST's size instead of MNIST's")
    parser.add_argument("--only", choices=FRAMEWORKS, default=None,
                        help="time one framework in this process and print JSON")
    args = parser.parse_args(argv)
    if args.only:
        print(json.dumps(epoch_here(args.only, args.batches, args.threads, args.data_dir,
                                    args.random_images)))
        return None
    torch_installed = load_torch() is not None
    rg.set_num_threads(bench_threads(args.threads))  # so that blas_info shows the epochs' count
    results = compare(args.batches, args.threads, args.data_dir, args.rounds, torch_installed,
                      random_images=args.random_images)
    first = results["retrograd"][0]
    print(f"LeNet-5, one epoch of {first['batches']} batches of {BATCH_SIZE} from the "
          f"{first['source']}; SGD lr {LR} momentum {MOMENTUM}; {bench_threads(args.threads)} "
          f"threads each, every epoch in a fresh process")
    print(f"NumPy BLAS: {blas_info()}")
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(r["seconds"] for r in runs)
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        images_per_second = first["batches"] * BATCH_SIZE / medians[name]
        print(f"{name:10s} {medians[name]:8.2f} s median   ({images_per_second:7.0f} images/s; "
              f"epochs: {times} s)  last batch loss {runs[-1]['loss']:.4f}")
    if "pytorch" not in medians:
        print("pytorch    not installed: pip install -e '.[oracle]' to compare")
        return medians
    print(f"ratio      {medians['retrograd'] / medians['pytorch']:8.2f} x PyTorch's time")
    return medians


if __name__ == "__main__":
    main()
