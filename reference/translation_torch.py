"""The translation model of ``retrograd train multi30k``, trained by PyTorch: same sentences,
tokens, vocabularies, batches, architecture, optimizer, loss, clipping, epochs and time budget,
and the same greedy and beam search, for a side-by-side comparison of curves, BLEU and speed.

    python -m reference.translation_torch --epochs 20 --max-minutes 120 --out runs/mt-torch

The corpus is read, tokenized, numbered and batched by ``retrograd.apps.text`` exactly as in
the retrograd run (the batch order then follows ``rg.manual_seed``), and decoding uses the
search functions of ``retrograd.apps.text.beam``, which only see log-probabilities; the
network and its training loop are PyTorch's. Writes ``history.json`` and ``results.json``.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import retrograd as rg
from retrograd.apps.text import translation
from retrograd.apps.text.beam import beam_search, greedy_search
from retrograd.apps.text.multi30k import detokenize, load_multi30k
from retrograd.text import Vocab, WordTokenizer, pad_batch


class AdditiveAttention(nn.Module):
    """``v^T tanh(W_q q + W_k k + b)``, softmax over the unmasked keys, weighted sum."""

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False)
        self.key_proj = nn.Linear(key_size, hidden_size)
        self.score_proj = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, keys, projected_keys, mask):
        hidden = torch.tanh(self.query_proj(query).unsqueeze(1) + projected_keys)
        scores = self.score_proj(hidden).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)


class Seq2Seq(nn.Module):
    """As ``retrograd.apps.text.seq2seq.Seq2Seq``: bidirectional GRU encoder, GRU decoder with
    additive attention and a tanh readout."""

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim, hidden_size,
                 attention_size, dropout, padding_idx):
        super().__init__()
        encoder_size = 2 * hidden_size
        self.source_embedding = nn.Embedding(source_vocab_size, embedding_dim,
                                             padding_idx=padding_idx)
        self.encoder = nn.GRU(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
        self.target_embedding = nn.Embedding(target_vocab_size, embedding_dim,
                                             padding_idx=padding_idx)
        self.initial_state = nn.Linear(encoder_size, hidden_size)
        self.attention = AdditiveAttention(hidden_size, encoder_size, attention_size)
        self.cell = nn.GRUCell(embedding_dim + encoder_size, hidden_size)
        self.readout = nn.Linear(hidden_size + encoder_size + embedding_dim, embedding_dim)
        self.output = nn.Linear(embedding_dim, target_vocab_size)
        self.dropout = nn.Dropout(dropout)
        self.padding_idx = padding_idx

    def encode(self, tokens, lengths):
        vectors = self.dropout(self.source_embedding(tokens))
        packed = pack_padded_sequence(vectors, lengths, batch_first=True, enforce_sorted=False)
        outputs, finals = self.encoder(packed)
        keys, _ = pad_packed_sequence(outputs, batch_first=True, total_length=tokens.shape[1])
        state = torch.tanh(self.initial_state(torch.cat([finals[0], finals[1]], dim=-1)))
        return state, (keys, self.attention.key_proj(keys), tokens != self.padding_idx)

    def step(self, previous, state, source):
        embedded = self.dropout(self.target_embedding(previous))
        context = self.attention(state, *source)
        state = self.cell(torch.cat([embedded, context], dim=-1), state)
        return torch.cat([state, context, embedded], dim=-1), state

    def scores(self, features):
        return self.output(self.dropout(torch.tanh(self.readout(features))))

    def forward(self, tokens, lengths, target_input):
        state, source = self.encode(tokens, lengths)
        features = []
        for t in range(target_input.shape[1]):
            step_features, state = self.step(target_input[:, t], state, source)
            features.append(step_features)
        return self.scores(torch.stack(features, dim=1))


def to_torch(tensor):
    return torch.from_numpy(np.ascontiguousarray(tensor.numpy()))


@torch.no_grad()
def translate(model, sentences, tokenizer, vocabs, beam_size=1, length_penalty=1.0,
              batch_size=translation.DECODE_BATCH_SIZE):
    source_vocab, target_vocab = vocabs
    ids = [source_vocab.encode(tokenizer(sentence)) for sentence in sentences]
    banned = [target_vocab.pad_id, target_vocab.bos_id]
    model.eval()
    outputs = [None] * len(ids)
    order = np.argsort([len(seq) for seq in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = pad_batch([ids[i] for i in rows], source_vocab.pad_id)
        state, source = model.encode(to_torch(batch.tokens), to_torch(batch.lengths))
        if beam_size > 1:
            repeat = torch.arange(len(rows)).repeat_interleave(beam_size)
            source = tuple(tensor[repeat] for tensor in source)

        def step(tokens, state):
            features, state = model.step(to_torch(tokens), state, source)
            scores = model.scores(features)
            scores[:, banned] = float("-inf")
            return torch.log_softmax(scores, dim=-1).numpy(), state

        settings = dict(batch_size=len(rows), bos_id=target_vocab.bos_id,
                        eos_id=target_vocab.eos_id,
                        max_length=translation.max_decoding_length(batch.lengths.numpy()))
        found = (greedy_search(step, state, **settings) if beam_size == 1 else
                 beam_search(step, state, beam_size=beam_size, length_penalty=length_penalty,
                             **settings))
        for row, tokens in zip(rows, found):
            outputs[row] = detokenize(target_vocab.decode(tokens, skip_specials=True))
    return outputs


def run_epoch(model, loader, loss_fn, optimizer=None, clip=None):
    """Mean loss per sentence over ``loader``; trains when given an optimizer."""
    model.train(optimizer is not None)
    total, seen = 0.0, 0
    for batch, targets in loader:
        with torch.set_grad_enabled(optimizer is not None):
            scores = model(to_torch(batch.source.tokens), to_torch(batch.source.lengths),
                           to_torch(batch.target_input))
            loss = loss_fn(scores.reshape(-1, scores.shape[-1]), to_torch(targets).reshape(-1))
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
        total += loss.item() * len(targets)
        seen += len(targets)
    return total / seen


def main():
    d = translation.DEFAULTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, value in d.items():
        if name != "max_minutes":
            parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=os.path.join("runs", "multi30k-torch"))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rg.manual_seed(args.seed)  # the batch order

    tokenizers = (WordTokenizer(lower=True), WordTokenizer(lower=False))
    splits = {split: list(zip(*load_multi30k(split, args.data_dir)))
              for split in ("train", "val", "test")}
    vocabs = tuple(Vocab.build((tokenizer(pair[side]) for pair in splits["train"]),
                               min_freq=args.min_freq)
                   for side, tokenizer in enumerate(tokenizers))
    pad = vocabs[1].pad_id
    train_loader = translation.make_loader(
        translation.encode_pairs(splits["train"], tokenizers, vocabs), args.batch_size, True,
        pad)
    val_loader = translation.make_loader(
        translation.encode_pairs(splits["val"], tokenizers, vocabs),
        translation.DECODE_BATCH_SIZE, False, pad)
    model = Seq2Seq(len(vocabs[0]), len(vocabs[1]), args.embedding_dim, args.hidden_size,
                    args.attention_size, args.dropout, pad)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                           patience=args.lr_patience)
    loss_fn = nn.CrossEntropyLoss(ignore_index=pad, label_smoothing=args.label_smoothing)
    bleu_sources, bleu_references = zip(*splits["val"][:args.bleu_sentences])

    history, best, best_state, started = [], float("inf"), None, time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        epoch_start = time.perf_counter()
        train_loss = run_epoch(model, train_loader, loss_fn, optimizer, args.clip_grad_norm)
        val_loss = run_epoch(model, val_loader, loss_fn)
        bleu = translation.corpus_bleu(
            translate(model, bleu_sources, tokenizers[0], vocabs), bleu_references)
        scheduler.step(val_loss)
        seconds = time.perf_counter() - epoch_start
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                        "val_bleu": bleu, "seconds": seconds})
        print(f"epoch {epoch}  train {train_loss:.4f}  val {val_loss:.4f}  val BLEU {bleu:.2f}"
              f"  {seconds:.0f} s", flush=True)
        if val_loss < best:
            best = val_loss
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        elapsed = time.perf_counter() - started
        if args.max_minutes is not None and elapsed + seconds > args.max_minutes * 60:
            break
    model.load_state_dict(best_state)
    test_sources, test_references = zip(*splits["test"])
    hypotheses = translate(model, test_sources, tokenizers[0], vocabs, args.beam_size,
                           args.length_penalty)
    results = {"test_bleu": translation.corpus_bleu(hypotheses, test_references),
               "beam_size": args.beam_size, "epochs_trained": len(history),
               "wall_time_s": time.perf_counter() - started}
    print(f"test BLEU {results['test_bleu']:.2f} (beam {args.beam_size})")
    os.makedirs(args.out, exist_ok=True)
    for name, content in (("history.json", history), ("results.json", results)):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(content, f, indent=1)


if __name__ == "__main__":
    main()
