"""Padding collate and length-bucketed batches."""
import numpy as np
import pytest

import retrograd as rg
from retrograd.data import DataLoader
from retrograd.text import BucketBatchSampler, PadCollate, PaddedBatch, pad_batch


def test_pad_batch_pads_on_the_right_and_keeps_the_lengths():
    batch = pad_batch([np.array([5, 6, 7]), [8], rg.tensor([9, 10])])
    assert isinstance(batch, PaddedBatch)
    assert batch.tokens.dtype == rg.int64 and batch.lengths.dtype == rg.int64
    np.testing.assert_array_equal(batch.tokens.numpy(), [[5, 6, 7], [8, 0, 0], [9, 10, 0]])
    np.testing.assert_array_equal(batch.lengths.numpy(), [3, 1, 2])


def test_pad_batch_time_major_and_padding_value():
    batch = pad_batch([[1, 2], [3]], padding_value=-1, batch_first=False)
    np.testing.assert_array_equal(batch.tokens.numpy(), [[1, 3], [2, -1]])


def test_pad_batch_refuses_sequences_that_are_not_1d():
    with pytest.raises(ValueError, match=r"each sequence must be 1-D, got shape \(2, 2\) at "
                                         "position 1"):
        pad_batch([[1], [[1, 2], [3, 4]]])


def test_pad_collate_in_a_data_loader():
    samples = [(np.array([4, 5, 6]), 1), (np.array([7]), 0), (np.array([8, 9]), 1)]
    loader = DataLoader(samples, batch_size=3, collate_fn=PadCollate(padding_value=0))
    (batch, targets), = list(loader)
    assert batch.tokens.shape == (3, 3)
    np.testing.assert_array_equal(batch.lengths.numpy(), [3, 1, 2])
    assert targets.dtype == rg.int64 and targets.tolist() == [1, 0, 1]


def test_pad_collate_refuses_an_empty_batch():
    with pytest.raises(IndexError, match="empty batch"):
        PadCollate()([])


@pytest.mark.parametrize("n, batch_size, pool_batches", [(103, 8, 4), (64, 8, 8), (5, 8, 3),
                                                         (0, 4, 2)])
def test_bucket_batches_cover_every_index_once(n, batch_size, pool_batches):
    lengths = np.random.default_rng(0).integers(1, 50, n)
    sampler = BucketBatchSampler(lengths, batch_size, pool_batches)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for batch in batches for i in batch) == list(range(n))
    assert all(1 <= len(batch) <= batch_size for batch in batches)


def test_bucket_batches_hold_similar_lengths():
    rg.manual_seed(0)
    lengths = np.random.default_rng(1).integers(1, 60, 2000)
    spread = [np.ptp(lengths[b]) for b in BucketBatchSampler(lengths, 32, pool_batches=50)]
    random_spread = [np.ptp(lengths[b]) for b in np.split(np.random.default_rng(2)
                                                           .permutation(2000)[:1984], 62)]
    assert np.mean(spread) < np.mean(random_spread) / 5


def test_bucket_batch_order_follows_the_seed():
    lengths = np.arange(100) % 7 + 1
    rg.manual_seed(3)
    first = list(BucketBatchSampler(lengths, 10, 2))
    rg.manual_seed(3)
    assert list(BucketBatchSampler(lengths, 10, 2)) == first
    generator = rg.Generator().manual_seed(3)
    assert list(BucketBatchSampler(lengths, 10, 2, generator=generator)) == first
    assert list(BucketBatchSampler(lengths, 10, 2, generator=generator)) != first  # next epoch


def test_bucket_drop_last_keeps_full_batches_only():
    sampler = BucketBatchSampler(np.ones(23, dtype=int), 5, pool_batches=2, drop_last=True)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 4 and all(len(b) == 5 for b in batches)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lengths=[[1, 2]], batch_size=2), "lengths must be 1-D"),
    (dict(lengths=[1, 2], batch_size=0), "batch_size must be a positive int, got 0"),
    (dict(lengths=[1, 2], batch_size=2, pool_batches=True), "pool_batches"),
])
def test_bucket_sampler_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BucketBatchSampler(**kwargs)
