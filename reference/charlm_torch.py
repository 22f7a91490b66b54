"""The character language model of ``retrograd train shakespeare``, trained by PyTorch: same
text, split, streams, chunks, architecture, optimizer, clipping, validation schedule and time
budget, for a side-by-side comparison of curves, loss and speed.

    python -m reference.charlm_torch --hidden-size 512 --layers 2 --max-minutes 45 \\
        --out runs/shakespeare-torch

The text is read, numbered and cut into streams by ``retrograd.apps.text.shakespeare`` exactly
as in the retrograd run; only the network and its training loop are PyTorch's. Writes
``history.json`` (the same fields as retrograd's) to ``--out``.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn

from retrograd.apps.text import generation
from retrograd.apps.text.shakespeare import (char_vocab, encode_text, load_shakespeare,
                                             parallel_streams, split_stream)


class CharLM(nn.Module):
    """Embedding -> stacked LSTM -> dropout -> linear, as
    ``retrograd.apps.text.generation.CharLM``."""

    def __init__(self, vocab_size, embedding_dim, hidden_size, num_layers, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        outputs, state = self.lstm(self.embedding(ids), state)
        return self.decoder(self.dropout(outputs)), state


def chunks(streams, seq_len):
    length = streams.shape[1] - 1
    for start in range(0, length, seq_len):
        stop = min(start + seq_len, length)
        yield (torch.from_numpy(streams[:, start:stop].copy()),
               torch.from_numpy(streams[:, start + 1:stop + 1].copy()))


def loss_of(logits, targets, reduction="mean"):
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       targets.reshape(-1), reduction=reduction)


@torch.no_grad()
def evaluate(model, streams, seq_len):
    model.eval()
    state, total, count = None, 0.0, 0
    for inputs, targets in chunks(streams, seq_len):
        logits, state = model(inputs, state)
        total += loss_of(logits, targets, "sum").item()
        count += targets.numel()
    return total / count


def main():
    d = generation.DEFAULTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden-size", type=int, default=d["hidden_size"])
    parser.add_argument("--layers", type=int, default=d["num_layers"])
    parser.add_argument("--embedding-dim", type=int, default=d["embedding_dim"])
    parser.add_argument("--dropout", type=float, default=d["dropout"])
    parser.add_argument("--seq-len", type=int, default=d["seq_len"])
    parser.add_argument("--batch-size", type=int, default=d["batch_size"])
    parser.add_argument("--epochs", type=int, default=d["epochs"])
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--eval-every", type=int, default=0)
    parser.add_argument("--lr", type=float, default=d["lr"])
    parser.add_argument("--clip-grad-norm", type=float, default=d["clip_grad_norm"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=os.path.join("runs", "shakespeare-torch"))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    text = load_shakespeare(args.data_dir)
    vocab = char_vocab(text)
    train_ids, val_ids = split_stream(encode_text(vocab, text), d["val_fraction"])
    train_streams = parallel_streams(train_ids, args.batch_size)
    val_streams = parallel_streams(val_ids, args.batch_size)
    steps_per_epoch = math.ceil((train_streams.shape[1] - 1) / args.seq_len)
    eval_every = args.eval_every or steps_per_epoch

    model = CharLM(len(vocab), args.embedding_dim, args.hidden_size, args.layers, args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    history, losses, step, started = [], [], 0, time.perf_counter()
    deadline = None if args.max_minutes is None else args.max_minutes * 60

    def validate():
        val = evaluate(model, val_streams, args.seq_len)
        history.append({"epoch": round(step / steps_per_epoch, 3), "step": step,
                        "train_loss": float(np.mean(losses)), "val_loss": val,
                        "val_bpc": val / math.log(2), "seconds": time.perf_counter() - started})
        losses.clear()
        model.train()
        print(f"step {step}  train {history[-1]['train_loss']:.4f}  val {val:.4f} nats/char  "
              f"{history[-1]['seconds'] / 60:.1f} min", flush=True)

    out_of_time = False
    for _ in range(args.epochs):
        model.train()
        state = None
        for inputs, targets in chunks(train_streams, args.seq_len):
            logits, state = model(inputs, state)
            state = tuple(tensor.detach() for tensor in state)
            loss = loss_of(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad_norm)
            optimizer.step()
            step += 1
            losses.append(loss.item())
            out_of_time = deadline is not None and time.perf_counter() - started > deadline
            if out_of_time:
                break
            if step % eval_every == 0:
                validate()
        if out_of_time:
            break
    if losses:
        validate()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "history.json"), "w") as f:
        json.dump(history, f, indent=1)


if __name__ == "__main__":
    main()
