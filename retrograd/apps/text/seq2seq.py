"""An encoder-decoder with attention (Bahdanau et al., 2015) for translation.

The encoder reads the source sentence both ways with a bidirectional GRU: its output at
position ``j``, ``k_j = [forward_j; backward_j]``, describes word ``j`` in its context. The
decoder writes the translation one token at a time. At step ``t``, from its state ``s_{t-1}``:

1. attention: a score ``v^T tanh(W_q s_{t-1} + W_k k_j + b)`` for every source position,
   softmax over the real (not padding) positions, and the context ``c_t = sum_j a_tj k_j``:
   what the decoder reads from the source for this word (``nn.AdditiveAttention``);
2. the GRU cell takes the previous target word's embedding ``e_{t-1}`` and the context:
   ``s_t = GRUCell([e_{t-1}; c_t], s_{t-1})``;
3. the scores of the next word: ``W_o tanh(W_r [s_t; c_t; e_{t-1}])`` (a "readout" layer of
   ``embedding_dim`` features, then one score per target word).

The decoder starts from ``s_0 = tanh(W_s [forward_last; backward_first])``, the encoder's final
states. In training the previous word is the true one (teacher forcing), so the whole target
sentence is scored in one call (``forward``); the output layer, by far the largest product,
runs once for all steps. Decoding calls ``start`` and then ``step`` (``greedy_search``,
``beam_search``).
"""
from collections import namedtuple

import numpy as np

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["Seq2Seq", "Encoder", "AttentionDecoder", "EncodedSource", "Seq2SeqBatch"]

Seq2SeqBatch = namedtuple("Seq2SeqBatch", ["source", "target_input"])
Seq2SeqBatch.__doc__ = """A training batch's inputs: the source sentences (a ``PaddedBatch``) and
the target sentences as the decoder reads them, ``<bos>`` first, padded (``(B, T)``)."""

EncodedSource = namedtuple("EncodedSource", ["keys", "projected_keys", "mask"])
EncodedSource.__doc__ = """What the decoder attends to: the encoder's outputs ``(B, S,
2 * hidden)``, their projection by the attention's ``W_k`` (the same at every step, so computed
once) and the mask of real tokens ``(B, S)``."""


class Encoder(nn.Module):
    """Source ids -> one vector per position (both directions), and the final states."""

    def __init__(self, vocab_size, embedding_dim, hidden_size, dropout, padding_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embedding_dim, hidden_size, batch_first=True, bidirectional=True)

    def forward(self, source):
        """``source``: a ``PaddedBatch``; returns outputs ``(B, S, 2 * hidden)`` (zeros at the
        padding) and the final states ``(B, 2 * hidden)``."""
        vectors = self.dropout(self.embedding(source.tokens))
        packed = pack_padded_sequence(vectors, source.lengths, batch_first=True,
                                      enforce_sorted=False)
        outputs, finals = self.rnn(packed)     # finals: (2, B, hidden), forward and backward
        outputs, _ = pad_packed_sequence(outputs, batch_first=True,
                                         total_length=source.tokens.shape[1])
        return outputs, rg.cat([finals[0], finals[1]], dim=-1)


class AttentionDecoder(nn.Module):
    """One target token per step, attending to the encoder's outputs (module docstring)."""

    def __init__(self, vocab_size, embedding_dim, hidden_size, encoder_size, attention_size,
                 dropout, padding_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)
        self.initial_state = nn.Linear(encoder_size, hidden_size)
        self.attention = nn.AdditiveAttention(hidden_size, encoder_size, attention_size)
        self.cell = nn.GRUCell(embedding_dim + encoder_size, hidden_size)
        self.readout = nn.Linear(hidden_size + encoder_size + embedding_dim, embedding_dim)
        self.output = nn.Linear(embedding_dim, vocab_size)

    def start(self, keys, final, mask):
        """The first state and the ``EncodedSource`` to attend to."""
        state = self.initial_state(final).tanh()
        return state, EncodedSource(keys, self.attention.key_proj(keys), mask)

    def step(self, previous, state, source):
        """From the previous tokens ``(N,)`` and state ``(N, hidden)``: the features the next
        word is scored from, ``(N, hidden + encoder_size + embedding_dim)``, and the new
        state."""
        embedded = self.dropout(self.embedding(previous))
        context, _ = self.attention(state, source.keys, mask=source.mask,
                                    projected_keys=source.projected_keys)
        state = self.cell(rg.cat([embedded, context], dim=-1), state)
        return rg.cat([state, context, embedded], dim=-1), state

    def scores(self, features):
        """Scores of every target word, ``(*, vocab_size)``, from step features."""
        return self.output(self.dropout(self.readout(features).tanh()))


class Seq2Seq(nn.Module):
    """``Encoder`` + ``AttentionDecoder``; ``forward`` scores a batch with teacher forcing."""

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim=256,
                 hidden_size=256, attention_size=256, dropout=0.3, padding_idx=0):
        super().__init__()
        self.encoder = Encoder(source_vocab_size, embedding_dim, hidden_size, dropout,
                               padding_idx)
        self.decoder = AttentionDecoder(target_vocab_size, embedding_dim, hidden_size,
                                        2 * hidden_size, attention_size, dropout, padding_idx)
        self.padding_idx = padding_idx

    def encode(self, source):
        """The decoder's first state and the ``EncodedSource`` of a ``PaddedBatch``."""
        keys, final = self.encoder(source)
        return self.decoder.start(keys, final, source.tokens != self.padding_idx)

    def forward(self, batch):
        """Scores ``(B, T, target_vocab_size)`` of each next target token, given the true
        previous ones (``batch.target_input``)."""
        state, source = self.encode(batch.source)
        features = []
        for t in range(batch.target_input.shape[1]):
            step_features, state = self.decoder.step(batch.target_input[:, t], state, source)
            features.append(step_features)
        return self.decoder.scores(rg.stack(features, dim=1))

    def decoding_step(self, source, repeats=1, banned=()):
        """The ``step(tokens, state) -> (log_probs, state)`` of greedy and beam search, for a
        source encoded by ``encode``: ``repeats`` consecutive rows per sentence (a beam
        search's ``beam_size``). Tokens in ``banned`` (e.g. ``<pad>``, ``<bos>``) get
        probability 0."""
        if repeats > 1:
            rows = rg.from_numpy(np.repeat(np.arange(source.keys.shape[0]), repeats))
            source = EncodedSource(*(tensor.index_select(0, rows) for tensor in source))
        banned = list(banned)

        def step(tokens, state):
            features, state = self.decoder.step(tokens, state, source)
            scores = self.decoder.scores(features)
            if banned:
                scores[:, banned] = float("-inf")
            return F.log_softmax(scores, dim=-1), state
        return step
