"""Text as one long stream of characters, for a character-level language model.

    text = load_shakespeare(data_dir)           # 1,115,394 characters of Tiny Shakespeare
    vocab = char_vocab(text)                    # its 65 distinct characters, sorted
    train_ids, val_ids = split_stream(vocab.encode(text), val_fraction=0.1)
    for inputs, targets in stream_chunks(parallel_streams(train_ids, 64), 100): ...

Truncated backpropagation through time reads a long text in chunks while the recurrent
state flows on from one chunk to the next. To do it with a batch of ``B`` rows, the stream is
cut into ``B`` contiguous pieces, one per row (``parallel_streams``): row ``b`` of consecutive
chunks then continues the same text, so the state the model ends a chunk with is the right
start for the next one. The targets of a chunk are its inputs shifted by one character.
"""
import os

import numpy as np

import retrograd as rg
from retrograd.apps import data_root
from retrograd.text import Vocab

__all__ = ["load_shakespeare", "char_vocab", "encode_text", "split_stream", "parallel_streams",
           "stream_chunks"]


def load_shakespeare(data_dir=None):
    """The text of Tiny Shakespeare, ``<data_dir>/tinyshakespeare/input.txt``."""
    path = os.path.join(data_root(data_dir), "tinyshakespeare", "input.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: point --data-dir (or $RETROGRAD_DATA) at "
                                "the folder that holds tinyshakespeare/input.txt")
    with open(path, encoding="utf-8") as f:
        return f.read()


def char_vocab(text):
    """One token per distinct character of ``text``, in sorted order, and no special tokens:
    every character the model will ever read or write is in the corpus."""
    return Vocab(sorted(set(text)), specials=())


def encode_text(vocab, text, what="text"):
    """The ids of the characters of ``text``; a character outside ``vocab`` is an error that
    names it (a character-level model has no ``<unk>``)."""
    unknown = sorted(set(text) - set(vocab.tokens))
    if unknown:
        raise ValueError(f"the {what} has characters the model never saw in training: "
                         f"{''.join(unknown)!r}")
    return np.fromiter((vocab[char] for char in text), dtype=np.int64, count=len(text))


def split_stream(ids, val_fraction=0.1):
    """``(train, val)``: the first ``1 - val_fraction`` of the stream and the rest, split by
    position (the validation text is a passage the model never read)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"split_stream: val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    return ids[:cut], ids[cut:]


def parallel_streams(ids, batch_size):
    """``(batch_size, N)``: the stream cut into ``batch_size`` contiguous rows of equal length
    (the last ``len(ids) % batch_size`` ids are dropped)."""
    length = len(ids) // batch_size
    if length < 2:
        raise ValueError(f"parallel_streams: {len(ids)} characters are too few for "
                         f"{batch_size} streams of at least 2 characters")
    return np.asarray(ids[:batch_size * length], dtype=np.int64).reshape(batch_size, length)


def stream_chunks(streams, seq_len):
    """``(inputs, targets)`` int64 tensors ``(B, seq_len)`` (the last chunk may be shorter),
    consecutive along the streams; ``targets`` are ``inputs`` one character later."""
    length = streams.shape[1] - 1            # the last character is only ever a target
    for start in range(0, length, seq_len):
        stop = min(start + seq_len, length)
        yield (rg.from_numpy(streams[:, start:stop]),
               rg.from_numpy(streams[:, start + 1:stop + 1]))
