"""``DataLoader``: batches of samples from a dataset, in sequential or random order.

A sampler yields dataset indices, a ``BatchSampler`` groups them into lists, the loader fetches
each list's samples and ``collate_fn`` turns them into one batch (``default_collate`` stacks
tensors, arrays and numbers along a new first dimension, recursing into dicts, lists and
tuples).

Two things keep loading cheap:
 - a ``TensorDataset`` (also behind ``Subset``s, as ``random_split`` makes) with the default
   collate is sliced with one fancy index per tensor per batch, instead of building one tuple
   per sample and stacking them;
 - ``num_workers > 0`` prepares the next batches in a background thread (NumPy releases the
   interpreter lock while it copies), so that loading overlaps the training step.

Random orders come from ``retrograd.random``: pass ``generator=rg.Generator().manual_seed(s)``
or seed the global generator with ``rg.manual_seed(s)``. Samplers draw an epoch's order when
its iteration starts, in the calling thread, so background prefetching never changes it.
"""
import collections.abc
import itertools
import math
import queue
import threading

import numpy as np

from .. import random as _random
from ..ops.creation import multinomial, tensor
from ..tensor import Tensor
from .dataset import IterableDataset, Subset, TensorDataset

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


# ------------------------------------------------------------------------------- collation
_UNSUPPORTED_ARRAY_KINDS = "OSUV"  # objects, strings, raw bytes: no numeric tensor holds them


def _unsupported(found):
    return TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, "
                     f"dicts or lists; found {found}")


def _rebuilt(prototype, items):
    """``items`` (a list or dict) in ``prototype``'s container type when that type can be built
    from it; tuples become lists, as in PyTorch."""
    if type(prototype) in (list, dict) or isinstance(prototype, tuple):
        return items
    try:
        return type(prototype)(items)
    except TypeError:
        return items


def _stack(arrays):
    try:
        return Tensor._make(np.stack(arrays))
    except ValueError:
        first = np.shape(arrays[0])
        position, other = next((i, np.shape(a)) for i, a in enumerate(arrays)
                               if np.shape(a) != first)
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, but "
                           f"got {first} at entry 0 and {other} at entry {position}; pass a "
                           "collate_fn (e.g. one that pads) for samples of varying size"
                           ) from None


def default_collate(batch):
    """Turns a list of samples into one batch: tensors, arrays and NumPy scalars are stacked
    along a new first dimension (keeping their dtype), Python floats become a float32 tensor,
    ints int64, bools bool; strings stay a list; dicts, lists, tuples and namedtuples are
    collated field by field (a tuple sample gives a list, as in PyTorch)."""
    if not batch:
        raise IndexError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t.array for t in batch])
    if isinstance(elem, (np.ndarray, np.generic)):
        if elem.dtype.kind in _UNSUPPORTED_ARRAY_KINDS:
            raise _unsupported(elem.dtype)
        return _stack(batch) if isinstance(elem, np.ndarray) else Tensor._make(np.array(batch))
    if isinstance(elem, (int, float)):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuilt(elem, {key: default_collate([sample[key] for sample in batch])
                               for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        lengths = {len(sample) for sample in batch}
        if len(lengths) > 1:
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               f"equal size, got lengths {sorted(lengths)}")
        return _rebuilt(elem, [default_collate(list(field)) for field in zip(*batch)])
    raise _unsupported(type(elem))


def default_convert(data):
    """The collate of a loader with ``batch_size=None``: arrays become tensors (sharing memory),
    containers are converted field by field, anything else is passed through."""
    if isinstance(data, (np.ndarray, np.generic)):
        if data.dtype.kind in _UNSUPPORTED_ARRAY_KINDS:
            return data
        return Tensor._make(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(field) for field in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt(data, [default_convert(item) for item in data])
    return data


# --------------------------------------------------------------------------------- samplers
def _check_positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")


def _check_bool(owner, name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")


def _chunked(items, size, drop_last):
    """Lists of ``size`` consecutive items of the iterator ``items``; a shorter last list is
    kept unless ``drop_last``."""
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk or (drop_last and len(chunk) < size):
            return
        yield chunk


class Sampler:
    """Yields dataset indices (or, for a batch sampler, lists of them)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (``num_samples`` beyond the dataset's length chains
    fresh permutations), or ``num_samples`` independent draws with ``replacement``."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool("RandomSampler", "replacement", replacement)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, wanted = len(self.data_source), self.num_samples
        draw = _random.rng(self.generator)
        if self.replacement:
            return iter(draw.integers(0, n, size=wanted).tolist())
        whole, rest = divmod(wanted, n)
        parts = [draw.permutation(n) for _ in range(whole)]
        if rest:
            parts.append(draw.permutation(n)[:rest])
        return iter(np.concatenate(parts).tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = _random.rng(self.generator).permutation(len(self.indices))
        return iter(np.asarray(self.indices)[order].tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError("WeightedRandomSampler: weights should be a 1d sequence but given "
                             f"weights have shape {weights.shape}")
        self.weights = Tensor._make(weights)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        draws = multinomial(self.weights, self.num_samples, self.replacement, self.generator)
        return iter(draws.array.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        return _chunked(iter(self.sampler), self.batch_size, self.drop_last)

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


# ------------------------------------------------------------------------------- fetching
def _tensor_rows_fetcher(dataset):
    """For a ``TensorDataset``, possibly behind ``Subset``s, a function from a list of indices
    to exactly the batch ``default_collate`` would build from those samples, taken with one
    fancy index per tensor; None for any other dataset (subclasses included: they may override
    ``__getitem__``)."""
    positions = None  # maps loader indices to rows of the TensorDataset
    while type(dataset) is Subset:
        level = np.asarray(dataset.indices, dtype=np.intp)
        positions = level if positions is None else level[positions]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    arrays = [t.array for t in dataset.tensors]

    def fetch(indices):
        rows = np.asarray(indices, dtype=np.intp)
        if positions is not None:
            rows = positions[rows]
        return [Tensor._make(a[rows]) for a in arrays]
    return fetch


def _map_fetcher(dataset, collate_fn, auto_collation):
    """A function from what the index sampler yields (an index, or a list of them) to a batch."""
    if not auto_collation:
        return lambda index: collate_fn(dataset[index])
    if collate_fn is default_collate:
        fast = _tensor_rows_fetcher(dataset)
        if fast is not None:
            return fast
    fetch_many = getattr(dataset, "__getitems__", None)
    if callable(fetch_many):
        return lambda indices: collate_fn(fetch_many(indices))
    return lambda indices: collate_fn([dataset[i] for i in indices])


def get_worker_info():
    """None: samples are always loaded in this process (at most in one prefetch thread, which
    reads the dataset once), so an ``IterableDataset`` never needs to split itself."""
    return None


# ---------------------------------------------------------------------- background prefetch
_BATCH, _ERROR, _END = range(3)


def _produce(batches, out, stop, worker_init_fn):
    """The prefetch thread: puts ``(_BATCH, batch)`` messages into the bounded queue ``out``,
    then ``(_END, None)`` or ``(_ERROR, exception)``, unless ``stop`` is set first. It holds no
    reference to the iterator, so dropping the iterator closes it."""
    try:
        if worker_init_fn is not None:
            worker_init_fn(0)
        for batch in batches:
            if stop.is_set():
                return
            out.put((_BATCH, batch))
        last = (_END, None)
    except BaseException as exc:  # noqa: BLE001 - re-raised in the consuming thread
        last = (_ERROR, exc)
    if not stop.is_set():
        out.put(last)


class _PrefetchIterator:
    """Iterates batches that a daemon thread collates ahead, at most ``depth`` at a time."""

    def __init__(self, batches, depth, timeout, worker_init_fn):
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._timeout = timeout
        self._finished = False
        self._thread = threading.Thread(
            target=_produce, args=(batches, self._queue, self._stop, worker_init_fn),
            name="retrograd-data-prefetch", daemon=True)
        self._thread.start()

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        try:
            kind, payload = self._queue.get(timeout=self._timeout or None)
        except queue.Empty:
            self.close()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds waiting "
                               "for the next batch") from None
        if kind == _BATCH:
            return payload
        self.close()
        if kind == _ERROR:
            raise payload
        raise StopIteration

    def close(self):
        """Stops the thread: after ``stop`` is set it makes at most one more ``put``, which the
        drained queue has room for, so it can never block forever."""
        self._finished = True
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def __del__(self):
        self.close()


# ------------------------------------------------------------------------------ DataLoader
class DataLoader:
    """Iterates over ``dataset`` in batches (PyTorch's ``torch.utils.data.DataLoader``).

    ``shuffle`` draws a new order every epoch from ``generator`` (default: the global one).
    ``num_workers > 0`` collates up to ``num_workers * prefetch_factor`` batches ahead in a
    background thread; ``timeout`` then bounds the wait for one batch and ``worker_init_fn(0)``
    runs in that thread first. ``pin_memory``, ``pin_memory_device``, ``persistent_workers``,
    ``multiprocessing_context`` and ``in_order`` are accepted for compatibility and change
    nothing: arrays live in host memory and batches always come in order.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             "num_workers=0 to load in the calling thread")
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified with "
                             "num_workers > 0; otherwise set prefetch_factor to None")
        if prefetch_factor is not None and prefetch_factor <= 0:
            raise ValueError(f"DataLoader: prefetch_factor should be positive, got "
                             f"{prefetch_factor}")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value is not None and value is not False:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        elif sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (
            isinstance(self.dataset, IterableDataset) and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self):
        if not isinstance(self.dataset, IterableDataset):
            return len(self._index_sampler)
        samples = len(self.dataset)
        if self.batch_size is None:
            return samples
        if self.drop_last:
            return samples // self.batch_size
        return math.ceil(samples / self.batch_size)

    def _batches(self):
        """An iterator of batches. Its indices (or stream) are drawn here, in the calling
        thread; the samples are fetched and collated as it is advanced."""
        if isinstance(self.dataset, IterableDataset):
            samples = iter(self.dataset)
            if self.batch_size is None:
                return map(self.collate_fn, samples)
            return map(self.collate_fn, _chunked(samples, self.batch_size, self.drop_last))
        fetch = _map_fetcher(self.dataset, self.collate_fn, self._auto_collation)
        return map(fetch, iter(self._index_sampler))

    def __iter__(self):
        if self.num_workers == 0:
            return self._batches()
        return _PrefetchIterator(self._batches(), self.num_workers * self.prefetch_factor,
                                 self.timeout, self.worker_init_fn)
