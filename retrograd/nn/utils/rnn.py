"""Batches of sequences of different lengths: padding and packing.

A padded batch stores ``B`` sequences in a ``(T, B, *)`` tensor (``(B, T, *)`` with
``batch_first``), ``T`` the longest length; positions past a sequence's end hold a padding
value. The packed layout (``PackedSequence``) drops the padding: with the sequences sorted
longest first, it stores step 0 of every sequence, then step 1 of every sequence still running,
and so on; ``batch_sizes[t]`` counts the sequences that reach step ``t``. Recurrent layers run
on it directly, each step working on the first ``batch_sizes[t]`` rows.

Every conversion here moves whole rows (one per sequence and step) from one layout to the
other with one gather or one scatter; each row is read or written once, so the gradient of a
gather is a scatter of the gradient and vice versa, and gradients flow through any chain of
packing and padding.
"""
from collections import namedtuple

import numpy as np

from ...autograd.function import Function
from ...ops.shape import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


# ------------------------------------------------------------------------ row gather/scatter
class _GatherRows(Function):
    """d x_rows[rows] = the gradient scattered back to ``rows`` (each read once), zeros
    elsewhere. ``x``'s first ``row_dims`` dimensions are flattened into rows."""

    @staticmethod
    def forward(ctx, x, rows, row_dims):
        ctx.rows, ctx.shape = rows, x.shape
        return x.array.reshape((-1,) + x.shape[row_dims:])[rows]

    @staticmethod
    def backward(ctx, grad):
        return _ScatterRows.apply(grad, ctx.rows, ctx.shape, 0), None, None


class _ScatterRows(Function):
    """d out = d values at ``rows``; the filled positions are constants. ``out`` has ``shape``,
    its leading dimensions flattened into the rows that ``rows`` indexes."""

    @staticmethod
    def forward(ctx, values, rows, shape, fill):
        data = values.array
        out = np.full(shape, fill, dtype=data.dtype)
        out.reshape((-1,) + data.shape[1:])[rows] = data
        ctx.rows, ctx.row_dims = rows, len(shape) - data.ndim + 1
        return out

    @staticmethod
    def backward(ctx, grad):
        return _GatherRows.apply(grad, ctx.rows, ctx.row_dims), None, None, None


def _index_tensor(array):
    return Tensor._make(np.ascontiguousarray(array, dtype=np.int64))


# -------------------------------------------------------------------------- PackedSequence
def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    inverse = np.empty_like(permutation.array)
    inverse[permutation.array] = np.arange(len(inverse), dtype=inverse.dtype)
    return Tensor._make(inverse)


_PackedSequenceFields = namedtuple("PackedSequence",
                                   ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceFields):
    """Sequences in the packed layout (see the module docstring): ``data`` ``(N, *)``,
    ``batch_sizes`` (int64, one per step), and, when the sequences were reordered by length,
    ``sorted_indices`` (the original index of each sorted sequence) and its inverse
    ``unsorted_indices``. Make these with ``pack_padded_sequence`` or ``pack_sequence``."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: expected data and batch_sizes, or a "
                                "(data, batch_sizes) pair")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Converts ``data`` (dtype, device) like ``Tensor.to``; self if nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self):
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


# ------------------------------------------------------------------------ layout arithmetic
def _lengths_array(lengths, op):
    array = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise RuntimeError(f"{op}: 'lengths' must be a 1-D sequence of integers, got shape "
                           f"{array.shape} of dtype {array.dtype}")
    return array.astype(np.int64)


class _Packing:
    """Where each packed row belongs: ``steps[r]`` and ``sequences[r]`` are the time step and
    the original index of the sequence of packed row ``r``; ``order`` lists the original
    indices longest first (None when the sequences were sorted already)."""

    def __init__(self, batch_sizes, order):
        self.batch_sizes, self.order = batch_sizes, order
        self.steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
        offsets = np.concatenate(([0], np.cumsum(batch_sizes)[:-1])).astype(np.int64)
        rank = np.arange(len(self.steps)) - offsets[self.steps]  # position in sorted order
        self.sequences = rank if order is None else order[rank]

    @classmethod
    def of_lengths(cls, lengths, enforce_sorted, op):
        if lengths.size and lengths.min() <= 0:
            raise RuntimeError(f"{op}: length of all samples has to be greater than 0, got "
                               f"lengths {lengths.tolist()}")
        if enforce_sorted:
            if np.any(np.diff(lengths) > 0):
                raise RuntimeError(
                    f"{op}: `lengths` array must be sorted in decreasing order when "
                    f"`enforce_sorted` is True, got {lengths.tolist()}. You can pass "
                    "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                    "sidestep this requirement if you do not need ONNX exportability.")
            order = None
        else:  # longest first; equal lengths keep their order
            order = np.argsort(-lengths, kind="stable")
        longest = int(lengths.max()) if lengths.size else 0
        # batch_sizes[t] = number of sequences longer than t
        batch_sizes = len(lengths) - np.cumsum(np.bincount(lengths, minlength=longest + 1))
        return cls(batch_sizes[:longest], order)

    def sorted_lengths(self):
        """The length of each sequence, longest first: how many batch sizes exceed its rank."""
        ranks = np.arange(self.batch_sizes[0] if len(self.batch_sizes) else 0)
        return np.searchsorted(-self.batch_sizes, -ranks, side="left")

    def packed(self, data):
        return PackedSequence(data, _index_tensor(self.batch_sizes),
                              None if self.order is None else _index_tensor(self.order))


def _padded_rows(steps, sequences, total_length, batch, batch_first):
    """Row of each (step, sequence) pair in a padded tensor whose two leading dims are
    flattened."""
    return sequences * total_length + steps if batch_first else steps * batch + sequences


# ------------------------------------------------------------------------------ public API
def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded ``(T, B, *)`` (or ``(B, T, *)``) batch whose sequence ``b`` has
    ``lengths[b]`` steps. With ``enforce_sorted`` the lengths must be non-increasing; otherwise
    the sequences are sorted (stably) and the order is recorded in ``sorted_indices``."""
    op = "pack_padded_sequence"
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    lengths = _lengths_array(lengths, op)
    total_length, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if len(lengths) != batch:
        raise RuntimeError(f"{op}: expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if lengths.size and lengths.max() > total_length:
        raise RuntimeError(f"{op}: lengths {lengths.tolist()} exceed the padded length "
                           f"{total_length} of the input of shape {tuple(input.shape)}")
    packing = _Packing.of_lengths(lengths, enforce_sorted, op)
    rows = _padded_rows(packing.steps, packing.sequences, total_length, batch, batch_first)
    return packing.packed(_GatherRows.apply(input, rows, 2))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: returns ``(padded, lengths)`` with the sequences in
    their original order; ``total_length`` pads the time dimension further."""
    batch_sizes = sequence.batch_sizes.array
    max_length = len(batch_sizes)
    if total_length is not None:
        if total_length < max_length:
            raise ValueError("pad_packed_sequence: expected total_length to be at least the "
                             "length of the longest sequence in input, but got "
                             f"total_length={total_length} and max sequence length being "
                             f"{max_length}")
        max_length = total_length
    order = None if sequence.sorted_indices is None else sequence.sorted_indices.array
    packing = _Packing(batch_sizes, order)
    lengths = packing.sorted_lengths()
    if order is not None:
        lengths = lengths[sequence.unsorted_indices.array]
    batch, data = len(lengths), sequence.data
    shape = ((batch, max_length) if batch_first else (max_length, batch)) + data.shape[1:]
    rows = _padded_rows(packing.steps, packing.sequences, max_length, batch, batch_first)
    return _ScatterRows.apply(data, rows, shape, padding_value), _index_tensor(lengths)


def _sequence_list(sequences, op):
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for i, seq in enumerate(sequences):
        if seq.ndim == 0 or seq.shape[1:] != trailing:
            raise RuntimeError(f"{op}: sequences must be (length, *) tensors with the same "
                               f"trailing dimensions; got {tuple(sequences[0].shape)} at "
                               f"position 0 and {tuple(seq.shape)} at position {i}")
    return sequences


def _concatenated(sequences):
    """All sequences one after the other, and the lengths."""
    lengths = np.array([seq.shape[0] for seq in sequences], dtype=np.int64)
    return cat(sequences, 0), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks ``(L_i, *)`` tensors into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``),
    ``T`` the longest length, padding with ``padding_value`` on ``padding_side``."""
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"{op}: expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = _sequence_list(sequences, op)
    joined, lengths = _concatenated(sequences)
    batch, total_length = len(sequences), int(lengths.max())
    sequence_of_row = np.repeat(np.arange(batch), lengths)
    steps = np.arange(len(sequence_of_row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if padding_side == "left":
        steps += total_length - lengths[sequence_of_row]
    shape = ((batch, total_length) if batch_first else (total_length, batch)) + joined.shape[1:]
    rows = _padded_rows(steps, sequence_of_row, total_length, batch, batch_first)
    return _ScatterRows.apply(joined, rows, shape, padding_value)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Inverse of ``pad_sequence`` (right padding): the list of ``(lengths[b], *)`` tensors."""
    lengths = _lengths_array(lengths, "unpad_sequence")
    if batch_first:
        return [padded_sequences[b, :int(n)] for b, n in enumerate(lengths)]
    return [padded_sequences[:int(n), b] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of ``(L_i, *)`` tensors (longest first unless ``enforce_sorted=False``)."""
    sequences = _sequence_list(sequences, "pack_sequence")
    joined, lengths = _concatenated(sequences)
    packing = _Packing.of_lengths(lengths, enforce_sorted, "pack_sequence")
    starts = np.cumsum(lengths) - lengths
    return packing.packed(_GatherRows.apply(joined, starts[packing.sequences] + packing.steps,
                                            1))


def unpack_sequence(packed_sequences):
    """Inverse of ``pack_sequence``: the list of sequences in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
