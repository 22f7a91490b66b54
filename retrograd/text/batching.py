"""Batches of token sequences of different lengths.

A batch of ``B`` sequences becomes one ``(B, T)`` tensor of token ids, ``T`` the longest
length, the shorter rows filled with the padding id (``<pad>``, id 0), and the ``(B,)`` tensor
of true lengths, which a recurrent layer needs to skip the padding
(``rg.nn.utils.rnn.pack_padded_sequence``):

    loader = DataLoader(dataset, batch_size=32, shuffle=True, collate_fn=PadCollate())
    for (batch, targets) in loader:      # batch.tokens (B, T) int64, batch.lengths (B,) int64
        ...

Shuffling sequences of very different lengths wastes work on padding; ``BucketBatchSampler``
makes batches of sequences of similar length while keeping the order of batches random.
"""
from collections import namedtuple

import numpy as np

from .._dtype import int64
from ..data import Sampler, default_collate
from ..nn.utils.rnn import pad_sequence
from ..ops.creation import as_tensor, randperm, tensor
from ..tensor import Tensor

__all__ = ["PaddedBatch", "pad_batch", "PadCollate", "BucketBatchSampler"]

PaddedBatch = namedtuple("PaddedBatch", ["tokens", "lengths"])
PaddedBatch.__doc__ = """Token ids ``(B, T)`` (``(T, B)`` if not batch first), padded, and the
``(B,)`` true lengths."""


def pad_batch(sequences, padding_value=0, batch_first=True):
    """A ``PaddedBatch`` of integer id sequences (lists, arrays or 1-D tensors)."""
    sequences = [seq if isinstance(seq, Tensor) else as_tensor(np.asarray(seq, np.int64))
                 for seq in sequences]
    for position, seq in enumerate(sequences):
        if seq.ndim != 1:
            raise ValueError(f"pad_batch: each sequence must be 1-D, got shape "
                             f"{tuple(seq.shape)} at position {position}")
    lengths = tensor([len(seq) for seq in sequences], dtype=int64)
    tokens = pad_sequence(sequences, batch_first=batch_first, padding_value=padding_value)
    return PaddedBatch(tokens, lengths)


class PadCollate:
    """A ``collate_fn`` for samples ``(ids, target)``: returns ``(PaddedBatch, targets)``,
    the targets collated by ``default_collate`` (class indices become one int64 tensor)."""

    def __init__(self, padding_value=0, batch_first=True):
        self.padding_value, self.batch_first = padding_value, batch_first

    def __call__(self, samples):
        if not samples:
            raise IndexError("PadCollate: got an empty batch")
        sequences, targets = zip(*samples)
        return (pad_batch(sequences, self.padding_value, self.batch_first),
                default_collate(list(targets)))


class BucketBatchSampler(Sampler):
    """Batches of indices whose ``lengths`` are close: each epoch, the indices are shuffled,
    cut into pools of ``pool_batches`` batches, each pool sorted by length and cut into
    batches, and the order of all batches is shuffled. Random order comes from ``generator``
    (default: the global generator, so ``rg.manual_seed`` fixes it)."""

    def __init__(self, lengths, batch_size, pool_batches=50, drop_last=False, generator=None):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1:
            raise ValueError(f"BucketBatchSampler: lengths must be 1-D, got shape "
                             f"{self.lengths.shape}")
        for name, value in (("batch_size", batch_size), ("pool_batches", pool_batches)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"BucketBatchSampler: {name} must be a positive int, got "
                                 f"{value!r}")
        self.batch_size, self.pool_batches = batch_size, pool_batches
        self.drop_last, self.generator = drop_last, generator

    def _permutation(self, n):
        return randperm(n, generator=self.generator).numpy()

    def __iter__(self):
        order = self._permutation(len(self.lengths))
        pool_size = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool_size):
            pool = order[start:start + pool_size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches.extend(pool[i:i + self.batch_size] for i in range(0, len(pool),
                                                                     self.batch_size))
        if self.drop_last:
            batches = [batch for batch in batches if len(batch) == self.batch_size]
        for index in self._permutation(len(batches)):
            yield batches[index].tolist()

    def __len__(self):
        if self.drop_last:
            return len(self.lengths) // self.batch_size
        pool_size = self.batch_size * self.pool_batches
        full_pools, rest = divmod(len(self.lengths), pool_size)
        return full_pools * self.pool_batches + -(-rest // self.batch_size)
