"""The sentiment classifier of ``retrograd train sst``, trained by PyTorch: same data, tokens,
vocabulary, batches, architecture, initial-weight scheme, optimizer, clipping, early stopping
and epochs, for a side-by-side comparison of curves, accuracy and time.

    python -m reference.sentiment_torch --dataset sst --epochs 10 --out runs/sst-torch

Only the network and its training loop are PyTorch's; the corpus is read, tokenized, numbered
and batched by ``retrograd.apps.text`` and ``retrograd.text`` exactly as in the retrograd run
(the batch order then follows ``rg.manual_seed``). Writes ``history.json`` (the same fields as
retrograd's) and ``results.json`` to ``--out``.
"""
import argparse
import copy
import json
import os
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import retrograd as rg
from retrograd.apps.text import sentiment
from retrograd.text import Vocab, WordTokenizer


class SentimentClassifier(nn.Module):
    """Embedding -> bidirectional LSTM -> max over time (or final states) -> dropout ->
    linear, as ``retrograd.apps.text.sentiment.SentimentClassifier``."""

    def __init__(self, vocab_size, num_classes, embedding_dim, hidden_size, dropout, pooling,
                 padding_idx, unknown_idx):
        super().__init__()
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        with torch.no_grad():
            self.embedding.weight[unknown_idx] = 0  # an unseen word adds nothing
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        outputs, (h_n, _) = self.lstm(packed)
        if self.pooling == "max":
            padded, _ = pad_packed_sequence(outputs, batch_first=True,
                                            padding_value=float("-inf"))
            features = padded.max(dim=1).values
        else:
            features = torch.cat([h_n[0], h_n[1]], dim=1)
        return self.classifier(self.dropout(features))


def to_torch(batch):
    (padded, targets) = batch
    return (torch.from_numpy(padded.tokens.numpy()), torch.from_numpy(padded.lengths.numpy()),
            torch.from_numpy(targets.numpy()))


def run_epoch(model, loader, optimizer=None, clip=None):
    """Mean loss and accuracy over ``loader``; trains when given an optimizer."""
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for batch in loader:
            tokens, lengths, targets = to_torch(batch)
            scores = model(tokens, lengths)
            loss = nn.functional.cross_entropy(scores, targets)
            if training:
                optimizer.zero_grad()
                loss.backward()
                if clip:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
            total_loss += loss.item() * len(targets)
            correct += (scores.argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    return total_loss / seen, correct / seen


def main(argv=None):
    d = sentiment.DEFAULTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=list(sentiment.DATASETS), default="sst")
    for name in ("epochs", "batch_size", "embedding_dim", "hidden_size", "min_freq",
                 "patience", "seed", "split_seed"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=d[name])
    for name in ("lr", "dropout", "clip_grad_norm"):
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=d[name])
    parser.add_argument("--pooling", choices=["max", "last"], default=d["pooling"])
    for name in ("phrases", "lowercase"):
        parser.add_argument("--" + name, action=argparse.BooleanOptionalAction, default=d[name])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None, help="default: runs/<dataset>-torch")
    args = parser.parse_args(argv)
    out = args.out or os.path.join("runs", f"{args.dataset}-torch")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rg.manual_seed(args.seed)      # the batch order, drawn by retrograd's sampler
    torch.manual_seed(args.seed)   # the initial weights and dropout

    tokenizer = WordTokenizer(lower=args.lowercase, split_contractions=True)
    splits = sentiment.load_splits(args.dataset, tokenizer, args.data_dir, args.phrases,
                                   args.split_seed)
    vocab = Vocab.build(splits["train"][0], min_freq=args.min_freq)
    loaders = {}
    for split, (texts, labels) in splits.items():
        sequences = [vocab.encode(tokens) for tokens in texts]
        shuffle = split == "train"
        loaders[split] = sentiment.make_loader(
            sequences, labels, args.batch_size if shuffle else sentiment.EVAL_BATCH_SIZE,
            shuffle, vocab.pad_id)
    classes = sentiment.DATASETS[args.dataset].classes
    model = SentimentClassifier(len(vocab), len(classes), args.embedding_dim, args.hidden_size,
                                args.dropout, args.pooling, vocab.pad_id, vocab.unk_id)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    history, best, best_state, waited = [], -1.0, None, 0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train_loss, train_accuracy = run_epoch(model, loaders["train"], optimizer,
                                               args.clip_grad_norm)
        val_loss, val_accuracy = run_epoch(model, loaders["dev"])
        row = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
               "val_loss": val_loss, "val_accuracy": val_accuracy, "lr": args.lr,
               "seconds": time.perf_counter() - start}
        history.append(row)
        print("  ".join(f"{k} {v:.4g}" for k, v in row.items()), flush=True)
        if val_accuracy > best:
            best, best_state, waited = val_accuracy, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= args.patience:
                print(f"early stopping: no better val_accuracy for {args.patience} epochs")
                break

    model.load_state_dict(best_state)
    _, test_accuracy = run_epoch(model, loaders["test"])
    best_row = max(history, key=lambda row: row["val_accuracy"])
    results = {"framework": f"torch {torch.__version__}", "dataset": args.dataset,
               "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
               "test_accuracy": test_accuracy, "best_epoch": best_row["epoch"],
               "val_accuracy": best_row["val_accuracy"], "epochs_trained": len(history),
               "train_seconds": sum(row["seconds"] for row in history),
               "wall_time_s": time.perf_counter() - started}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"test accuracy {test_accuracy:.2%} (best epoch {best_row['epoch']}, dev "
          f"{best_row['val_accuracy']:.2%}); {results['wall_time_s']:.1f} s; files in {out}/")
    return results


if __name__ == "__main__":
    main()
