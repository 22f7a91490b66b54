"""Datasets and random_split: indexing, lengths, errors and reproducible splits."""
import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset,
                            TensorDataset, random_split)

try:
    import torch
    import torch.utils.data as torch_data
except ImportError:
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is not "
                                    "installed")


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        if not 0 <= index < self.n:
            raise IndexError(index)
        return index * index

    def __len__(self):
        return self.n


class Count(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def _xy(n=10):
    x = rg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = rg.tensor(np.arange(n, dtype=np.int64))
    return x, y


# ----------------------------------------------------------------------------- TensorDataset
@pytest.mark.parametrize("index", [0, 3, -1, slice(2, 5), [1, 1, 4]])
def test_tensor_dataset_indexes_every_tensor(index):
    x, y = _xy()
    ds = TensorDataset(x, y)
    sx, sy = ds[index]
    np.testing.assert_array_equal(sx.numpy(), x.numpy()[index])
    np.testing.assert_array_equal(sy.numpy(), y.numpy()[index])
    assert sx.dtype == np.float32 and sy.dtype == np.int64
    assert len(ds) == 10


def test_tensor_dataset_samples_are_data_not_graph():
    x = rg.randn(4, 2, requires_grad=True)
    sample, = TensorDataset(x)[1]
    assert not sample.requires_grad and sample.grad_fn is None


@pytest.mark.parametrize("shapes", [[(3,), (4,)], [(2, 5), (3, 5), (2,)]])
def test_tensor_dataset_size_mismatch_names_the_shapes(shapes):
    with pytest.raises(ValueError, match="size mismatch") as info:
        TensorDataset(*[rg.zeros(*s) for s in shapes])
    assert str(shapes[1]) in str(info.value)


@pytest.mark.parametrize("bad, error", [(np.zeros(3), TypeError), (rg.tensor(1.0), ValueError)])
def test_tensor_dataset_rejects_non_tensors_and_scalars(bad, error):
    with pytest.raises(error, match="TensorDataset"):
        TensorDataset(rg.zeros(3), bad)


def test_empty_tensor_dataset():
    ds = TensorDataset(rg.zeros(0, 4))
    assert len(ds) == 0
    assert len(TensorDataset()) == 0


# ------------------------------------------------------------------------- Subset and friends
@pytest.mark.parametrize("indices", [[4, 0, 2], [7, 7, 1], []])
def test_subset_reindexes(indices):
    sub = Subset(Squares(8), indices)
    assert len(sub) == len(indices)
    assert [sub[i] for i in range(len(sub))] == [i * i for i in indices]
    assert sub.__getitems__(list(range(len(indices)))) == [i * i for i in indices]


def test_subset_list_index_goes_to_the_dataset_at_once():
    x, y = _xy()
    sx, sy = Subset(TensorDataset(x, y), [5, 2, 9])[[0, 2]]
    np.testing.assert_array_equal(sy.numpy(), [5, 9])
    assert sx.shape == (2, 3)


def test_concat_dataset_indexing():
    ds = ConcatDataset([Squares(3), Squares(0), Squares(4)])
    assert len(ds) == 7
    assert ds.cumulative_sizes == [3, 3, 7]
    assert [ds[i] for i in range(7)] == [0, 1, 4, 0, 1, 4, 9]
    assert [ds[i] for i in range(-7, 0)] == [0, 1, 4, 0, 1, 4, 9]


@pytest.mark.parametrize("index, error", [(7, IndexError), (-8, ValueError)])
def test_concat_dataset_out_of_range(index, error):
    with pytest.raises(error, match="ConcatDataset"):
        ConcatDataset([Squares(3), Squares(4)])[index]


@pytest.mark.parametrize("datasets, error", [([], ValueError), ([Squares(2), Count(0, 3)],
                                                               TypeError)])
def test_concat_dataset_errors(datasets, error):
    with pytest.raises(error, match="ConcatDataset"):
        ConcatDataset(datasets)


def test_plus_joins_datasets():
    joined = Squares(2) + Squares(3)
    assert isinstance(joined, ConcatDataset) and len(joined) == 5
    chained = Count(0, 2) + Count(5, 7)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 5, 6] and len(chained) == 4


def test_chain_dataset_rejects_map_style():
    with pytest.raises(TypeError, match="ChainDataset"):
        ChainDataset([Count(0, 2), Squares(2)])


def test_base_classes_are_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


# ----------------------------------------------------------------------------- random_split
def _check_partition(subsets, n):
    seen = sorted(i for s in subsets for i in s.indices)
    assert seen == list(range(n))
    for s in subsets:
        assert all(isinstance(i, int) for i in s.indices)


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0, 10]), (5, [1, 1, 1, 1, 1]),
                                        (0, [0, 0])])
def test_random_split_int_lengths(n, lengths):
    subsets = random_split(range(n), lengths, generator=rg.Generator().manual_seed(0))
    assert [len(s) for s in subsets] == lengths
    _check_partition(subsets, n)


@requires_torch
@pytest.mark.parametrize("n, fractions", [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]),
                                          (7, [0.1] * 10), (100, [0.8, 0.1, 0.1]),
                                          (3, [1.0])])
def test_random_split_fractions_match_pytorch_sizes(n, fractions):
    with pytest.warns(UserWarning) if n < len(fractions) else contextlib.nullcontext():
        ours = random_split(range(n), fractions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch_data.random_split(range(n), fractions)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    _check_partition(ours, n)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 60), st.lists(st.integers(1, 20), min_size=1, max_size=6))
def test_random_split_fractions_always_partition(n, weights):
    fractions = [w / sum(weights) for w in weights]
    if not sum(fractions) <= 1:  # rounding can overshoot 1: PyTorch then treats them as ints
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty splits warn; they are still a partition
        subsets = random_split(range(n), fractions)
    assert sum(len(s) for s in subsets) == n
    _check_partition(subsets, n)


def test_random_split_is_reproducible():
    def split(seed):
        return [s.indices for s in random_split(range(20), [5, 15],
                                                generator=rg.Generator().manual_seed(seed))]
    assert split(3) == split(3)
    assert split(3) != split(4)
    rg.manual_seed(11)
    first = [s.indices for s in random_split(range(20), [5, 15])]
    rg.manual_seed(11)
    assert [s.indices for s in random_split(range(20), [5, 15])] == first


@pytest.mark.parametrize("lengths, match", [([3, 3], r"sum of input lengths \(6\)"),
                                            ([5, -1, 6], "non-negative"),
                                            ([1.5, -0.5], "between 0 and 1"),
                                            ([0.5, 0.3], "non-negative")])
def test_random_split_bad_lengths(lengths, match):
    with pytest.raises(ValueError, match=match):
        random_split(range(10), lengths)


def test_random_split_subsets_read_the_dataset():
    first, second = random_split(Squares(6), [2, 4], generator=rg.Generator().manual_seed(1))
    assert [first[i] for i in range(2)] == [i * i for i in first.indices]
    assert [second[i] for i in range(4)] == [i * i for i in second.indices]
