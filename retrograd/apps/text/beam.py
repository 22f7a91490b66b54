"""Decoding a sequence model: greedy search and beam search, for a batch of inputs at once.

A decoder gives, step by step, the log-probabilities of the next token given the tokens so
far; decoding looks for the output ``y`` with the best score ``log p(y) = sum_t log p(y_t |
y_<t)``, which ends with ``<eos>``. Both searches here only need the decoder's step:

    step(tokens, state) -> (log_probs, state)

``tokens`` is an int64 tensor ``(N,)``, the last token of each of ``N`` partial outputs,
``log_probs`` a tensor or array ``(N, vocab_size)`` and ``state`` a tensor whose first
dimension is ``N``, or a tuple of such tensors (what the decoder carries from step to step).

- Greedy search takes the likeliest token at each step.
- Beam search keeps the ``beam_size`` best partial outputs of each input. At each step every
  one of them is extended by every token; of these candidates, the best ``beam_size`` that do
  not end with ``<eos>`` go on, and those among the best ``beam_size`` that end with ``<eos>``
  are finished hypotheses. An input is done when it has ``beam_size`` finished hypotheses;
  the answer is the finished one with the best normalized score ``log p(y) / len(y) **
  length_penalty`` (``len(y)`` counts ``<eos>``). ``length_penalty=0`` ranks by probability,
  which favours short outputs (each token can only lower it); 1 ranks by the mean
  log-probability per token; higher values favour longer outputs still.

With ``beam_size=1``, beam search is greedy search. Ties between equal scores go to the
lower token id, as in ``argmax``.
"""
import numpy as np

import retrograd as rg

__all__ = ["greedy_search", "beam_search"]


def _log_probs(step, tokens, state):
    log_probs, state = step(rg.from_numpy(tokens), state)
    return np.asarray(log_probs.numpy() if hasattr(log_probs, "numpy") else log_probs), state


def _select_rows(state, rows):
    """The rows ``rows`` (an int64 array) of the decoder state (a tensor or a tuple of
    tensors)."""
    if isinstance(state, tuple):
        return tuple(tensor[rows] for tensor in state)
    return state[rows]


def _check(batch_size, max_length, bos_id, eos_id):
    if batch_size < 1:
        raise ValueError(f"decoding: batch_size must be >= 1, got {batch_size}")
    if max_length < 1:
        raise ValueError(f"decoding: max_length must be >= 1, got {max_length}")
    if bos_id == eos_id:
        raise ValueError(f"decoding: bos_id and eos_id must differ, both are {bos_id}")


@rg.no_grad()
def greedy_search(step, state, batch_size, max_length, bos_id, eos_id):
    """The token ids (lists, without ``<bos>`` and ``<eos>``) of the greedy output of each of
    ``batch_size`` inputs, at most ``max_length`` tokens with ``<eos>``."""
    _check(batch_size, max_length, bos_id, eos_id)
    outputs = np.zeros((batch_size, max_length), dtype=np.int64)
    lengths = np.full(batch_size, max_length)           # tokens before <eos>
    tokens = np.full(batch_size, bos_id, dtype=np.int64)
    running = np.ones(batch_size, dtype=bool)
    for t in range(max_length):
        log_probs, state = _log_probs(step, tokens, state)
        tokens = log_probs.argmax(axis=1)
        outputs[:, t] = tokens
        ended = running & (tokens == eos_id)
        lengths[ended] = t
        running &= ~ended
        if not running.any():
            break
    return [row[:length].tolist() for row, length in zip(outputs, lengths)]


@rg.no_grad()
def beam_search(step, state, batch_size, beam_size, max_length, bos_id, eos_id,
                length_penalty=1.0):
    """The token ids (lists, without ``<bos>`` and ``<eos>``) of the best output of each of
    ``batch_size`` inputs found by a beam of ``beam_size`` (see the module docstring); at
    most ``max_length`` tokens with ``<eos>``. ``state`` holds one row per input."""
    _check(batch_size, max_length, bos_id, eos_id)
    if beam_size < 1:
        raise ValueError(f"beam_search: beam_size must be >= 1, got {beam_size}")
    B, K = batch_size, beam_size
    block = np.arange(B)[:, None] * K                   # row of each input's first beam
    state = _select_rows(state, np.repeat(np.arange(B), K))
    scores = np.full((B, K), -np.inf)                   # log p of each partial output
    scores[:, 0] = 0.0                                  # at first, one empty output per input
    prefixes = np.zeros((B, K, 0), dtype=np.int64)      # the tokens of each partial output
    finished = [[] for _ in range(B)]                   # (normalized score, tokens) per input
    tokens = np.full(B * K, bos_id, dtype=np.int64)

    def finish(b, score, output, length):
        finished[b].append((score / length ** length_penalty, output))

    for t in range(max_length):
        log_probs, state = _log_probs(step, tokens, state)
        vocab_size = log_probs.shape[1]
        candidates = (scores[:, :, None] + log_probs.reshape(B, K, vocab_size)).reshape(B, -1)
        best = _top_sorted(candidates, min(2 * K, candidates.shape[1]))
        best_scores = np.take_along_axis(candidates, best, axis=1)
        beams, words = best // vocab_size, best % vocab_size
        ends = (words == eos_id) & np.isfinite(best_scores)
        ends[:, K:] = False                             # <eos> counts among the best K only
        for b, rank in zip(*np.nonzero(ends)):
            if len(finished[b]) < K:
                finish(b, best_scores[b, rank], prefixes[b, beams[b, rank]].tolist(), t + 1)
        if all(len(hypotheses) >= K for hypotheses in finished):
            break
        # the best K candidates that go on: a stable sort puts those not ending in <eos> first
        going_on = np.argsort(words == eos_id, axis=1, kind="stable")[:, :K]
        beams = np.take_along_axis(beams, going_on, axis=1)
        words = np.take_along_axis(words, going_on, axis=1)
        scores = np.take_along_axis(best_scores, going_on, axis=1)
        prefixes = np.concatenate([np.take_along_axis(prefixes, beams[:, :, None], axis=1),
                                   words[:, :, None]], axis=2)
        state = _select_rows(state, (block + beams).reshape(-1))
        tokens = words.reshape(-1)
    else:  # out of length: the unfinished outputs of the inputs not done compete too
        for b in range(B):
            if len(finished[b]) >= K:
                continue
            for k in np.nonzero(np.isfinite(scores[b]))[0]:
                finish(b, scores[b, k], prefixes[b, k].tolist(), max_length)
    return [max(hypotheses, key=lambda hypothesis: hypothesis[0])[1]
            for hypotheses in finished]


def _top_sorted(scores, k):
    """The column indices of the ``k`` best scores of each row, best first; equal scores in
    column order."""
    if k < scores.shape[1]:
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((top, -np.take_along_axis(scores, top, axis=1)), axis=1)
    return np.take_along_axis(top, order, axis=1)
