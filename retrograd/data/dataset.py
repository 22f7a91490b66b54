"""Datasets: what a ``DataLoader`` draws samples from.

A map-style ``Dataset`` answers ``dataset[i]`` for ``0 <= i < len(dataset)``; an
``IterableDataset`` yields its samples in order. ``TensorDataset`` serves row ``i`` of several
tensors at once, ``Subset`` re-indexes a dataset, ``ConcatDataset``/``ChainDataset`` join
datasets end to end and ``random_split`` partitions one into disjoint random subsets.

Datasets hold data, not parameters: the samples of a ``TensorDataset`` are rows of its arrays,
cut off from any autograd graph.
"""
import bisect
import itertools
import math
import warnings

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` (and usually ``__len__``).

    A subclass may also define ``__getitems__(indices) -> list of samples`` to fetch a whole
    batch in one call; the ``DataLoader`` then uses it."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample ``i`` is the tuple ``(t[i] for t in tensors)``; all tensors share dimension 0."""

    def __init__(self, *tensors):
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected Tensors, got {type(t).__name__} at "
                                f"position {position}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor at position {position} is 0-d; every "
                                 "tensor needs a first (sample) dimension")
        if len({t.shape[0] for t in tensors}) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError("TensorDataset: size mismatch between tensors: all must have the "
                             f"same size in dimension 0, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(Tensor._make(t.array[index]) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0] if self.tensors else 0


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Map-style datasets one after the other: index ``i`` falls in the first dataset whose
    cumulative size exceeds ``i``."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; use "
                                "ChainDataset to join streams")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        length = len(self)
        if index < 0:
            if -index > length:
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not "
                                 f"exceed dataset length {length}")
            index += length
        if index >= length:
            raise IndexError(f"ConcatDataset: index {index} is out of range for a dataset of "
                             f"length {length}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets read one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got "
                                f"{type(d).__name__}")

    def __iter__(self):
        return itertools.chain.from_iterable(self.datasets)

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def _lengths_from_fractions(fractions, total):
    """``floor(total * f)`` each, then the remainder handed out one by one from the first split
    (PyTorch's rule, so that the same fractions give the same sizes)."""
    for i, f in enumerate(fractions):
        if not 0 <= f <= 1:
            raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1, "
                             f"got {f}")
    lengths = [math.floor(total * f) for f in fractions]
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, n in enumerate(lengths):
        if n == 0:
            warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                          "result in an empty dataset", stacklevel=3)
    return lengths


def random_split(dataset, lengths, generator=None):
    """Splits ``dataset`` into disjoint random ``Subset``s of the given ``lengths`` (ints that
    sum to ``len(dataset)``, or fractions that sum to 1). ``generator`` (default: the global
    one) makes the split reproducible."""
    lengths = list(lengths)
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, total)
    if any(not isinstance(n, (int, np.integer)) or n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != total:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({total})")
    order = _random.rng(generator).permutation(total).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, order[end - n:end]) for n, end in zip(lengths, ends)]
