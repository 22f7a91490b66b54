"""Padding and packing of variable-length sequences (retrograd.nn.utils.rnn): layouts and
gradients vs PyTorch, gradcheck, round trips, ``PackedSequence`` and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from retrograd.nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence,
                                    pack_sequence, pad_packed_sequence, pad_sequence,
                                    unpack_sequence, unpad_sequence)
from helpers import check_grad, check_parity, randn, requires_torch, torch

if torch is not None:
    from torch.nn.utils import rnn as torch_rnn

LENGTHS = [[4, 3, 3, 1], [1, 4, 2], [3, 3, 3], [2], [2, 5, 5, 1, 3]]
TRAILING = [(), (2,), (2, 3)]


def padded_array(lengths, trailing=(2,), batch_first=False, seed=0):
    shape = (len(lengths), max(lengths)) if batch_first else (max(lengths), len(lengths))
    return randn(*shape, *trailing, seed=seed)


def packed_outputs(packed):
    """The tensors of a PackedSequence, for comparing both frameworks at once."""
    return [packed.data, packed.batch_sizes] + [
        t for t in (packed.sorted_indices, packed.unsorted_indices) if t is not None]


# ------------------------------------------------------------------------------- packing
@requires_torch
@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("trailing", TRAILING)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_parity(lengths, trailing, batch_first):
    enforce_sorted = lengths == sorted(lengths, reverse=True)
    check_parity(
        lambda x: packed_outputs(pack_padded_sequence(x, lengths, batch_first, enforce_sorted)),
        lambda x: packed_outputs(torch_rnn.pack_padded_sequence(x, lengths, batch_first,
                                                                enforce_sorted)),
        padded_array(lengths, trailing, batch_first))


@requires_torch
@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_extra", [None, 0, 2])
def test_pad_packed_parity(lengths, batch_first, total_extra):
    """Pack then pad back (with a padding value and total_length), output and lengths."""
    total = None if total_extra is None else max(lengths) + total_extra

    def roundtrip(module, pack, pad):
        def fn(x):
            packed = pack(x, lengths, batch_first=batch_first, enforce_sorted=False)
            return list(pad(packed, batch_first=batch_first, padding_value=-7.0,
                            total_length=total))
        return fn

    check_parity(roundtrip(rg, pack_padded_sequence, pad_packed_sequence),
                 roundtrip(torch, torch_rnn.pack_padded_sequence, torch_rnn.pad_packed_sequence),
                 padded_array(lengths, (3,), batch_first))


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_gradcheck(lengths, batch_first):
    def fn(x):
        packed = pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
        padded, _ = pad_packed_sequence(packed, batch_first, padding_value=1.5)
        return packed.data * 2, padded

    check_grad(fn, padded_array(lengths, (2,), batch_first))


def test_pack_padded_accepts_lengths_as_tensor_array_or_list():
    x = rg.tensor(padded_array([3, 2]))
    for lengths in ([3, 2], np.array([3, 2]), rg.tensor([3, 2]), rg.tensor([3, 2],
                                                                           dtype=rg.int32)):
        packed = pack_padded_sequence(x, lengths)
        np.testing.assert_array_equal(packed.batch_sizes.numpy(), [2, 2, 1])


def test_packed_indices_are_int64():
    packed = pack_padded_sequence(rg.tensor(padded_array([1, 3])), [1, 3], enforce_sorted=False)
    for t in (packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices):
        assert t.dtype == rg.int64
    np.testing.assert_array_equal(packed.sorted_indices.numpy(), [1, 0])


def test_ties_keep_their_order():
    """Equal lengths keep the caller's order (PyTorch leaves the order of ties unspecified)."""
    packed = pack_padded_sequence(rg.tensor(padded_array([2, 3, 2, 3])), [2, 3, 2, 3],
                                  enforce_sorted=False)
    np.testing.assert_array_equal(packed.sorted_indices.numpy(), [1, 3, 0, 2])


def test_integer_data_packs_without_grad():
    labels = rg.tensor(np.arange(12).reshape(4, 3))
    packed = pack_padded_sequence(labels, [4, 2, 1])
    assert packed.data.dtype == rg.int64 and not packed.data.requires_grad
    np.testing.assert_array_equal(packed.data.numpy(), [0, 1, 2, 3, 4, 6, 9])
    padded, _ = pad_packed_sequence(packed, padding_value=-1)
    np.testing.assert_array_equal(padded.numpy(), [[0, 1, 2], [3, 4, -1], [6, -1, -1],
                                                   [9, -1, -1]])


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=6), batch_first=st.booleans(),
       seed=st.integers(0, 100))
def test_roundtrip_restores_padded_values(lengths, batch_first, seed):
    array = padded_array(lengths, (2,), batch_first, seed)
    x = rg.tensor(array, requires_grad=True)
    padded, got_lengths = pad_packed_sequence(
        pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False), batch_first)
    steps = np.arange(max(lengths))
    inside = steps[None, :] < np.array(lengths)[:, None]  # (batch, time)
    mask = (inside if batch_first else inside.T)[..., None]
    np.testing.assert_array_equal(padded.detach().numpy(), np.where(mask, array, 0))
    np.testing.assert_array_equal(got_lengths.numpy(), lengths)
    (padded * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(mask, 3.0, 0.0) * np.ones_like(array))


# ------------------------------------------------------------------------- pad_sequence
@requires_torch
@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("trailing", TRAILING)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_parity(lengths, trailing, batch_first, side):
    arrays = [randn(n, *trailing, seed=k) for k, n in enumerate(lengths)]
    check_parity(lambda *seqs: pad_sequence(seqs, batch_first, 0.5, side),
                 lambda *seqs: torch_rnn.pad_sequence(seqs, batch_first, 0.5, side), *arrays)


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_gradcheck(side):
    arrays = [randn(n, 2, seed=n) for n in (3, 1, 4)]
    check_grad(lambda *seqs: pad_sequence(seqs, True, -1.0, side), *arrays)


@requires_torch
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_parity(enforce_sorted):
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 3]
    arrays = [randn(n, 3, seed=n) for n in lengths]

    def ours(*seqs):
        packed = pack_sequence(seqs, enforce_sorted)
        return packed_outputs(packed) + unpack_sequence(packed)

    def theirs(*seqs):
        packed = torch_rnn.pack_sequence(seqs, enforce_sorted)
        return packed_outputs(packed) + torch_rnn.unpack_sequence(packed)

    check_parity(ours, theirs, *arrays)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_inverts_pad_sequence(batch_first):
    arrays = [randn(n, 2, seed=n) for n in (2, 4, 1)]
    padded = pad_sequence([rg.tensor(a) for a in arrays], batch_first)
    pieces = unpad_sequence(padded, rg.tensor([2, 4, 1]), batch_first)
    for piece, array in zip(pieces, arrays):
        np.testing.assert_array_equal(piece.numpy(), array)


def test_pack_sequence_gradcheck():
    arrays = [randn(n, 2, seed=n) for n in (2, 3, 1)]
    check_grad(lambda *seqs: pack_sequence(seqs, enforce_sorted=False).data, *arrays)


# ------------------------------------------------------------------------ PackedSequence
def test_packed_sequence_is_a_namedtuple():
    packed = pack_padded_sequence(rg.tensor(padded_array([2, 1])), [2, 1])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data is packed.data and batch_sizes is packed.batch_sizes
    assert sorted_indices is None and unsorted_indices is None
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")


def test_packed_sequence_fills_unsorted_indices():
    packed = PackedSequence(rg.zeros(3, 2), rg.tensor([2, 1]), rg.tensor([1, 0]))
    np.testing.assert_array_equal(packed.unsorted_indices.numpy(), [1, 0])
    permutation = rg.tensor([2, 0, 3, 1])
    np.testing.assert_array_equal(invert_permutation(permutation).numpy(), [1, 3, 0, 2])
    assert invert_permutation(None) is None


def test_packed_sequence_from_pair_and_conversion():
    packed = PackedSequence((rg.zeros(3, 2), rg.tensor([2, 1])))
    assert packed.data.shape == (3, 2)
    converted = packed.double()
    assert converted.data.dtype == rg.float64 and converted.batch_sizes is packed.batch_sizes
    assert packed.to(rg.float32) is packed
    assert not packed.is_cuda


# -------------------------------------------------------------------------------- errors
def test_error_unsorted_lengths():
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(rg.tensor(padded_array([2, 3])), [2, 3])


def test_error_non_positive_length():
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(rg.tensor(padded_array([3, 1])), [3, 0])


def test_error_length_beyond_input():
    """PyTorch reads past the input here; packing refuses."""
    with pytest.raises(RuntimeError, match="exceed the padded length 3"):
        pack_padded_sequence(rg.tensor(padded_array([3, 1])), [4, 1])


def test_error_lengths_count():
    with pytest.raises(RuntimeError, match="equal to batch_size, but got 1 \\(batch_size=2\\)"):
        pack_padded_sequence(rg.tensor(padded_array([3, 1])), [3])


def test_error_lengths_shape():
    with pytest.raises(RuntimeError, match="1-D sequence of integers"):
        pack_padded_sequence(rg.tensor(padded_array([3, 1])), [[3, 1]])


def test_error_total_length_too_short():
    packed = pack_padded_sequence(rg.tensor(padded_array([3, 1])), [3, 1])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)


def test_error_pad_sequence_arguments():
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match="same trailing dimensions"):
        pad_sequence([rg.zeros(2, 3), rg.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="one of left or right, but got middle"):
        pad_sequence([rg.zeros(2, 3)], padding_side="middle")
