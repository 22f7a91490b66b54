"""DataLoader, samplers and collation: batches, orders, errors and background prefetch,
checked against PyTorch's torch.utils.data where it is installed."""
import collections
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler,
                            SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                            WeightedRandomSampler, default_collate, default_convert,
                            get_worker_info, random_split)

try:
    import torch
    import torch.utils.data as torch_data
except ImportError:
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is not "
                                    "installed")

Point = collections.namedtuple("Point", "x y")


class Records(Dataset):
    """Sample i is ``make(i)``; remembers which indices were read."""

    def __init__(self, n, make=lambda i: i):
        self.n, self.make, self.reads = n, make, []

    def __getitem__(self, index):
        self.reads.append(index)
        return self.make(index)

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n, sized=True):
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.sized:
            raise TypeError("unsized stream")
        return self.n


def _xy(n=10, seed=0):
    g = np.random.default_rng(seed)
    return (rg.tensor(g.standard_normal((n, 3)).astype(np.float32)),
            rg.tensor(np.arange(n, dtype=np.int64)))


def _tree(x):
    """A comparable form of a batch from either framework: containers by kind, tensors as
    (dtype name, array)."""
    if isinstance(x, rg.Tensor):
        return ("tensor", x.dtype.name, x.numpy().tolist())
    if torch is not None and isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype).removeprefix("torch."), x.numpy().tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _tree(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", [_tree(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_tree(v) for v in x])
    return x


def _flat_indices(loader):
    return [i for batch in loader for i in batch.tolist()]


# ------------------------------------------------------------------------------ collation
_SAMPLES = {
    "ndarrays": lambda i: np.full((2, 3), i, dtype=np.float32),
    "int16 arrays": lambda i: np.arange(3, dtype=np.int16) + i,
    "0-d arrays": lambda i: np.array(i * 1.5),
    "numpy scalars": lambda i: np.float32(i) / 4,
    "ints": lambda i: i,
    "bools": lambda i: i % 2 == 0,
    "strings": lambda i: f"s{i}",
    "tuple": lambda i: (np.ones(2, dtype=np.float64) * i, i),
    "list": lambda i: [i, i + 1, i + 2],
    "dict": lambda i: {"image": np.full(4, i, dtype=np.uint8), "label": i, "name": str(i)},
    "ordered dict": lambda i: collections.OrderedDict(a=i, b=np.int32(i)),
    "namedtuple": lambda i: Point(np.zeros(2, dtype=np.float32) + i, i),
    "nested": lambda i: {"pair": (i, [np.int64(i), np.int64(2 * i)]), "meta": {"id": i}},
}


@requires_torch
@pytest.mark.parametrize("kind", sorted(_SAMPLES))
@pytest.mark.parametrize("batch_size", [1, 3])
def test_default_collate_matches_pytorch(kind, batch_size):
    batch = [_SAMPLES[kind](i) for i in range(batch_size)]
    ours = default_collate(batch)
    theirs = torch_data.default_collate(batch)
    assert _tree(ours) == _tree(theirs)


@pytest.mark.parametrize("batch, dtype", [([1.0, 2.5], np.float32), ([1, 2], np.int64),
                                          ([True, False], np.bool_), ([1, 2.5], np.float32)])
def test_default_collate_python_numbers(batch, dtype):
    """Python floats become float32, retrograd's default dtype (PyTorch gives float64)."""
    out = default_collate(batch)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), np.array(batch, dtype=dtype))


def test_default_collate_stacks_tensors_keeping_dtype():
    batch = [rg.tensor(np.full((2,), i, dtype=np.float64)) for i in range(4)]
    out = default_collate(batch)
    assert out.shape == (4, 2) and out.dtype == np.float64
    assert not out.requires_grad


def test_default_collate_mismatched_shapes_name_them():
    batch = [rg.zeros(3), rg.zeros(3), rg.zeros(5)]
    with pytest.raises(RuntimeError, match=r"\(3,\) at entry 0 and \(5,\) at entry 2.*collate_fn"):
        default_collate(batch)


@pytest.mark.parametrize("batch, error, match", [
    ([[1, 2], [3]], RuntimeError, "equal size"),
    ([object(), object()], TypeError, "found <class 'object'>"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
    ([], IndexError, "empty batch"),
])
def test_default_collate_errors(batch, error, match):
    with pytest.raises(error, match=match):
        default_collate(batch)


def test_default_convert():
    out = default_convert((np.arange(3), 7, "s", {"a": np.float32(1)}))
    assert isinstance(out, list)
    assert isinstance(out[0], rg.Tensor) and out[0].dtype == np.int64
    assert out[1:3] == [7, "s"]
    assert isinstance(out[3]["a"], rg.Tensor)
    array = np.zeros(2)
    assert np.shares_memory(default_convert(array).numpy(), array)


# ------------------------------------------------------------------------------- samplers
def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


@pytest.mark.parametrize("n, num_samples", [(7, None), (5, 12), (5, 3), (1, 4)])
def test_random_sampler_chains_permutations(n, num_samples):
    order = list(RandomSampler(range(n), num_samples=num_samples,
                               generator=rg.Generator().manual_seed(0)))
    wanted = n if num_samples is None else num_samples
    assert len(order) == wanted
    for start in range(0, wanted, n):
        block = order[start:start + n]
        assert len(set(block)) == len(block) and all(0 <= i < n for i in block)
    assert all(type(i) is int for i in order)


def test_random_sampler_with_replacement():
    order = list(RandomSampler(range(3), replacement=True, num_samples=300,
                               generator=rg.Generator().manual_seed(0)))
    assert len(order) == 300 and set(order) == {0, 1, 2}


@pytest.mark.parametrize("kwargs, match", [
    (dict(data_source=range(4), num_samples=0), "num_samples=0"),
    (dict(data_source=range(0)), "num_samples=0"),
    (dict(data_source=range(4), replacement=1), "replacement=1"),
])
def test_random_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomSampler(**kwargs)


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [10, 3, 7, 7, 42]
    order = list(SubsetRandomSampler(indices, generator=rg.Generator().manual_seed(2)))
    assert sorted(order) == sorted(indices) and len(SubsetRandomSampler(indices)) == 5


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_random_sampler(replacement):
    weights = [0.0, 1.0, 3.0, 0.0, 2.0]
    draws = list(WeightedRandomSampler(weights, 3, replacement=replacement,
                                       generator=rg.Generator().manual_seed(0)))
    assert len(draws) == 3 and set(draws) <= {1, 2, 4}
    if not replacement:
        assert len(set(draws)) == 3


@pytest.mark.parametrize("args, match", [(([1.0, 2.0], 0), "num_samples"),
                                         (([[1.0, 2.0]], 2), "1d sequence")])
def test_weighted_random_sampler_errors(args, match):
    with pytest.raises(ValueError, match=match):
        WeightedRandomSampler(*args)


@requires_torch
@pytest.mark.parametrize("n", [0, 1, 7, 8])
@pytest.mark.parametrize("batch_size", [1, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_pytorch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = torch_data.BatchSampler(torch_data.SequentialSampler(range(n)), batch_size,
                                     drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("batch_size, drop_last, match", [(0, False, "batch_size=0"),
                                                          (2.0, False, "batch_size=2.0"),
                                                          (True, False, "batch_size=True"),
                                                          (2, 1, "drop_last=1")])
def test_batch_sampler_errors(batch_size, drop_last, match):
    with pytest.raises(ValueError, match=match):
        BatchSampler(range(4), batch_size, drop_last)


# ------------------------------------------------------------------------ DataLoader basics
@requires_torch
@pytest.mark.parametrize("n", [0, 1, 9, 10])
@pytest.mark.parametrize("batch_size", [1, 3, 10, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batches_match_pytorch(n, batch_size, drop_last):
    if batch_size is None and drop_last:
        return
    x, y = _xy(n)
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = torch_data.DataLoader(torch_data.TensorDataset(torch.tensor(x.numpy()),
                                                            torch.tensor(y.numpy())),
                                   batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [_tree(b) for b in ours] == [_tree(b) for b in theirs]


def test_loader_yields_lists_for_tuple_samples():
    x, y = _xy(5)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 2]
    bx, by = batches[-1]
    assert bx.shape == (1, 3) and by.tolist() == [4]


def test_shuffle_with_a_seeded_generator_is_reproducible_and_changes_per_epoch():
    def epochs(seed, count=3):
        loader = DataLoader(Records(50), batch_size=8, shuffle=True,
                            generator=rg.Generator().manual_seed(seed))
        return [_flat_indices(loader) for _ in range(count)]
    first = epochs(0)
    assert first == epochs(0)
    assert first != epochs(1)
    assert first[0] != first[1] != first[2]
    for order in first:
        assert sorted(order) == list(range(50))


def test_shuffle_uses_the_global_generator():
    loader = DataLoader(Records(30), batch_size=4, shuffle=True)
    rg.manual_seed(5)
    first = [_flat_indices(loader) for _ in range(2)]
    rg.manual_seed(5)
    assert [_flat_indices(loader) for _ in range(2)] == first
    assert first[0] != first[1]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2 ** 32))
def test_every_sample_is_loaded_once(n, batch_size, drop_last, shuffle, seed):
    if shuffle and n == 0:
        return  # a random sampler needs samples, as in PyTorch
    loader = DataLoader(Records(n), batch_size=batch_size, drop_last=drop_last, shuffle=shuffle,
                        generator=rg.Generator().manual_seed(seed))
    batches = [b.tolist() for b in loader]
    assert len(batches) == len(loader)
    assert all(len(b) == batch_size for b in batches[:-1])
    kept = [i for b in batches for i in b]
    expected = n - n % batch_size if drop_last else n
    assert len(kept) == len(set(kept)) == expected
    if not shuffle:
        assert kept == list(range(expected))


def test_batch_size_none_converts_single_samples():
    x, y = _xy(3)
    samples = list(DataLoader(TensorDataset(x, y), batch_size=None))
    assert len(samples) == 3
    sx, sy = samples[2]
    assert sx.shape == (3,) and sy.item() == 2
    arrays = list(DataLoader(Records(2, lambda i: np.full(2, i)), batch_size=None))
    assert all(isinstance(a, rg.Tensor) for a in arrays)


def test_custom_sampler_and_batch_sampler():
    sampler_loader = DataLoader(Records(10), batch_size=2, sampler=[9, 1, 4])
    assert [b.tolist() for b in sampler_loader] == [[9, 1], [4]]
    batch_loader = DataLoader(Records(10), batch_sampler=[[3, 3], [0, 5, 7]])
    assert [b.tolist() for b in batch_loader] == [[3, 3], [0, 5, 7]]
    assert len(batch_loader) == 2
    subset_loader = DataLoader(Records(10), batch_size=3,
                               sampler=SubsetRandomSampler([2, 4, 6, 8]))
    assert sorted(_flat_indices(subset_loader)) == [2, 4, 6, 8]


@pytest.mark.parametrize("kwargs, match", [
    (dict(shuffle=True, sampler=[0]), "mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=3), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor"),
    (dict(num_workers=1, prefetch_factor=0), "prefetch_factor should be positive"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
])
def test_loader_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Records(4), **kwargs)
    if torch is not None and "prefetch_factor" not in kwargs:
        with pytest.raises(ValueError):
            torch_data.DataLoader(range(4), **kwargs)


def test_compatibility_arguments_are_accepted():
    loader = DataLoader(Records(4), batch_size=2, num_workers=2, pin_memory=True,
                        persistent_workers=True, prefetch_factor=3, pin_memory_device="cpu")
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]
    assert get_worker_info() is None


# ------------------------------------------------------------------------ IterableDataset
@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (7, 3, False, [[0, 1, 2], [3, 4, 5], [6]]),
    (7, 3, True, [[0, 1, 2], [3, 4, 5]]),
    (0, 2, False, []),
])
def test_iterable_dataset_batches(n, batch_size, drop_last, expected):
    loader = DataLoader(Stream(n), batch_size=batch_size, drop_last=drop_last)
    assert [b.tolist() for b in loader] == expected
    assert len(loader) == len(expected)


def test_iterable_dataset_without_batching_and_unsized():
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3, sized=False)))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])])
def test_iterable_dataset_rejects_orders(kwargs):
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(3), **kwargs)


# ------------------------------------------------------------------------ the fast path
def _datasets_of_tensor_rows():
    x, y = _xy(23)
    base = TensorDataset(x, y)
    first, _ = random_split(base, [15, 8], generator=rg.Generator().manual_seed(0))
    return {"TensorDataset": base, "Subset": Subset(base, [5, 0, 22, 5, -1, 7]),
            "random_split": first, "nested Subset": Subset(first, [14, 2, 2, 0])}


@pytest.mark.parametrize("name", sorted(_datasets_of_tensor_rows()))
@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_gives_the_batches_of_per_sample_collation(name, shuffle):
    dataset = _datasets_of_tensor_rows()[name]

    def batches(collate_fn):
        loader = DataLoader(dataset, batch_size=4, shuffle=shuffle, collate_fn=collate_fn,
                            generator=rg.Generator().manual_seed(3))
        return [_tree(b) for b in loader]
    assert batches(None) == batches(lambda samples: default_collate(samples))


def test_fast_path_skips_per_sample_indexing(monkeypatch):
    def refuse(self, index):
        raise AssertionError("per-sample __getitem__ called on the fast path")
    dataset = TensorDataset(*_xy(12))
    monkeypatch.setattr(TensorDataset, "__getitem__", refuse)
    batches = list(DataLoader(dataset, batch_size=5))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]


def test_subclass_of_tensor_dataset_keeps_its_getitem():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            return tuple(t * 2 for t in super().__getitem__(index))
    _, labels = next(iter(DataLoader(Doubled(*_xy(4)), batch_size=4)))
    assert labels.tolist() == [0, 2, 4, 6]


def test_getitems_fetches_a_batch_in_one_call():
    class Batched(Records):
        def __getitems__(self, indices):
            self.reads.append(list(indices))
            return [i * 10 for i in indices]
    dataset = Batched(5)
    assert [b.tolist() for b in DataLoader(dataset, batch_size=3)] == [[0, 10, 20], [30, 40]]
    assert dataset.reads == [[0, 1, 2], [3, 4]]


# --------------------------------------------------------------------- user collate_fn
def _pad_collate(samples):
    """Pads variable-length int sequences with 0 and returns (padded, lengths)."""
    lengths = [len(s) for s in samples]
    padded = np.zeros((len(samples), max(lengths)), dtype=np.int64)
    for row, sequence in enumerate(samples):
        padded[row, :len(sequence)] = sequence.numpy()
    return rg.tensor(padded), rg.tensor(lengths)


def test_variable_length_sequences_with_a_padding_collate():
    sequences = Records(5, lambda i: rg.arange(1, i + 2))
    with pytest.raises(RuntimeError, match="collate_fn"):
        next(iter(DataLoader(sequences, batch_size=3)))
    batches = list(DataLoader(sequences, batch_size=3, collate_fn=_pad_collate))
    padded, lengths = batches[0]
    assert padded.tolist() == [[1, 0, 0], [1, 2, 0], [1, 2, 3]]
    assert lengths.tolist() == [1, 2, 3]
    assert batches[1][0].shape == (2, 5)


def test_dict_samples_collate_by_key():
    dataset = Records(4, lambda i: {"x": np.full(2, i, dtype=np.float32), "y": i})
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch["x"].shape == (4, 2) and batch["x"].dtype == np.float32
    assert batch["y"].tolist() == [0, 1, 2, 3]


# ------------------------------------------------------------------------ background prefetch
def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "retrograd-data-prefetch"]


@pytest.mark.parametrize("dataset", ["tensors", "records", "stream"])
@pytest.mark.parametrize("num_workers", [1, 3])
def test_prefetch_gives_the_same_batches(dataset, num_workers):
    make = {"tensors": lambda: TensorDataset(*_xy(17)), "records": lambda: Records(17),
            "stream": lambda: Stream(17)}[dataset]
    shuffle = None if dataset == "stream" else True

    def batches(workers):
        loader = DataLoader(make(), batch_size=4, shuffle=shuffle, num_workers=workers,
                            generator=rg.Generator().manual_seed(7))
        return [_tree(b) for _ in range(2) for b in loader]
    assert batches(num_workers) == batches(0)


def test_prefetch_reraises_dataset_errors_in_the_main_thread():
    def make(i):
        if i == 5:
            raise ValueError("bad sample 5")
        return i
    loader = DataLoader(Records(10, make), batch_size=2, num_workers=1)
    received = []
    with pytest.raises(ValueError, match="bad sample 5"):
        for batch in loader:
            received.append(batch.tolist())
    assert received == [[0, 1], [2, 3]]


def test_prefetch_stays_bounded_and_abandoning_does_not_hang():
    dataset = Records(1000)
    iterator = iter(DataLoader(dataset, batch_size=1, num_workers=1, prefetch_factor=2))
    assert next(iterator).tolist() == [0]
    time.sleep(0.2)
    assert len(dataset.reads) <= 1 + 2 + 1  # consumed + queued + one being put
    thread = iterator._thread
    del iterator
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_breaking_out_of_a_loop_stops_the_thread():
    loader = DataLoader(Records(500), batch_size=2, num_workers=2)
    for _ in range(3):
        for _ in loader:
            break
    deadline = time.monotonic() + 5
    while _prefetch_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _prefetch_threads()


def test_prefetch_timeout():
    def slow(i):
        time.sleep(0.5)
        return i
    loader = DataLoader(Records(4, slow), batch_size=1, num_workers=1, timeout=0.05)
    with pytest.raises(RuntimeError, match="timed out after 0.05 seconds"):
        next(iter(loader))


def test_worker_init_fn_runs_first_in_the_prefetch_thread():
    calls = []
    loader = DataLoader(Records(3), batch_size=2, num_workers=1,
                        worker_init_fn=lambda worker_id: calls.append(
                            (worker_id, threading.current_thread().name)))
    assert [b.tolist() for b in loader] == [[0, 1], [2]]
    assert calls == [(0, "retrograd-data-prefetch")]


def test_utils_data_is_an_alias():
    from retrograd.utils.data import DataLoader as AliasLoader
    from retrograd.utils.data import TensorDataset as AliasDataset
    import retrograd.data
    import retrograd.utils.data
    assert AliasLoader is DataLoader and AliasDataset is TensorDataset
    assert retrograd.utils.data.__all__ == retrograd.data.__all__
