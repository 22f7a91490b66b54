"""Wall time of one MNIST training epoch of LeNet-5 (batches of 128, SGD with momentum), with
retrograd and with PyTorch on the same initial weights and the same batches, in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.lenet_epoch [--batches N]

The training images come from ``$RETROGRAD_DATA/mnist`` (or ``--data-dir``); without them the
benchmark uses random images of MNIST's size and says so: the time per epoch is the same, only
the losses mean nothing. Both frameworks' final losses are printed, as a check that they did
the same work. PyTorch runs on ``$BENCH_THREADS`` threads (default 2), NumPy's BLAS on its own
default (``OPENBLAS_NUM_THREADS``); on a busy machine, spinning BLAS threads can slow either by
orders of magnitude, so compare on an idle one.
"""
import argparse
import time

import numpy as np

import retrograd as rg
import retrograd.nn.functional as F
from benchmarks.common import blas_info, load_torch
from retrograd.apps.vision.datasets import MNIST
from retrograd.apps.vision.models import lenet5

BATCH_SIZE, LR, MOMENTUM = 128, 0.05, 0.9


def training_images(data_dir):
    """(images (N, 1, 28, 28) float32, labels (N,) int64, where they came from)."""
    try:
        train = MNIST(root=data_dir, train=True, download=False)
        return train.images.numpy(), train.targets.numpy(), "MNIST training set"
    except (OSError, ValueError) as error:
        g = np.random.default_rng(0)
        note = f"random images of MNIST's size (no MNIST files: {str(error).splitlines()[0]})"
        return (g.standard_normal((60000, 1, 28, 28)).astype(np.float32),
                g.integers(0, 10, 60000), note)


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=None,
                        help="stop the epoch after this many batches (default: all 469)")
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/")
    args = parser.parse_args(argv)
    images, labels, source = training_images(args.data_dir)
    whole_epoch = -(-len(labels) // BATCH_SIZE)
    limit = count = min(args.batches or whole_epoch, whole_epoch)
    print(f"LeNet-5, one epoch of {count} batches of {BATCH_SIZE} from the {source}; "
          f"SGD lr {LR} momentum {MOMENTUM}")
    print(f"NumPy BLAS: {blas_info()}")

    rg.manual_seed(0)
    model = lenet5()
    initial = {name: t.numpy().copy() for name, t in model.state_dict().items()}
    seconds, loss = timed(retrograd_epoch, model, batches(images, labels, limit))
    print(f"retrograd  {seconds:8.2f} s   ({count * BATCH_SIZE / seconds:7.0f} images/s)  "
          f"last batch loss {loss:.4f}")

    torch = load_torch()
    if torch is None:
        print("pytorch    not installed: pip install -e '.[oracle]' to compare")
        return
    rival = torch_lenet5(torch)
    rival.load_state_dict({name: torch.from_numpy(a) for name, a in initial.items()})
    rival_seconds, rival_loss = timed(torch_epoch, torch, rival,
                                      batches(images, labels, limit))
    print(f"pytorch    {rival_seconds:8.2f} s   ({count * BATCH_SIZE / rival_seconds:7.0f} "
          f"images/s)  last batch loss {rival_loss:.4f}  ({torch.get_num_threads()} threads)")
    print(f"ratio      {seconds / rival_seconds:8.2f} x PyTorch's time")


if __name__ == "__main__":
    main()
