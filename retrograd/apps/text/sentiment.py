"""Sentiment analysis: is a sentence positive or negative?

    retrograd train sst --epochs 10 --out runs/sst
    retrograd predict-sentiment runs/sst "a gripping, funny film"

From text to a prediction, step by step:

1. Tokenize. A ``WordTokenizer`` cuts raw text into lowercased words and punctuation marks,
   splitting contractions the Penn Treebank's way ("isn't" -> "is" "n't"), the convention
   the Stanford Sentiment Treebank's sentences already follow.
2. Number the tokens. ``Vocab`` gives each training token an id, most frequent first, after
   four special tokens: ``<pad>`` (id 0) fills the end of the shorter sentences of a batch and
   ``<unk>`` stands for any word never seen in training.
3. Batch. ``PadCollate`` pads a batch of id sequences into one ``(B, T)`` tensor and keeps
   each sentence's true length; ``BucketBatchSampler`` groups sentences of similar length so
   that little work goes to padding.
4. Read. The model (``SentimentClassifier``) looks up one learned vector per token
   (``nn.Embedding``), reads the sentence in both directions with an ``nn.LSTM`` (packed, so
   that padding is never read), keeps for each feature its largest value over the sentence
   (max pooling), drops features at random in training (``nn.Dropout``) and scores the
   classes with ``nn.Linear``. The softmax of the scores are the class probabilities.
5. Learn. ``retrograd.train.fit`` minimises the cross-entropy with Adam, clips the gradient
   norm and stops on a non-finite loss; the weights with the best accuracy on the
   development set are kept (``best.ckpt``), and the test set is measured once, at the end.

The run directory holds config.json (the settings, the tokenizer and the results), vocab.json,
best.ckpt, last.ckpt and history.json/.csv with curves.png: everything ``load_run`` needs to
tokenize new text exactly as the training text was and to rebuild the model.
"""
import json
import os
import time
from collections import namedtuple

import numpy as np

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.apps import data_root, load_best_model
from retrograd.data import DataLoader
from retrograd.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from retrograd.text import (BucketBatchSampler, PadCollate, Vocab, WordTokenizer, pad_batch,
                            tokenizer_from_config)
from retrograd.train import accuracy, fit

from .sst import load_sst
from .uci import load_uci

__all__ = ["SentimentClassifier", "DATASETS", "DEFAULTS", "train", "load_splits",
           "make_loader", "predict_probabilities", "evaluate_run", "load_run", "read_config"]

Dataset = namedtuple("Dataset", ["description", "classes", "load", "tokenized"])
Dataset.__doc__ = """A corpus: ``load(root, phrases, split_seed)`` returns ``{split: (texts,
labels)}`` for 'train', 'dev' and 'test'; ``tokenized`` says whether its texts come as token
lists already (the treebank) or as raw strings."""

DATASETS = {
    "sst": Dataset("Stanford Sentiment Treebank, binary (SST-2): 6,920 / 872 / 1,821 sentences",
                   ("negative", "positive"),
                   lambda root, phrases, split_seed: load_sst(root, False, phrases), True),
    "sst5": Dataset("Stanford Sentiment Treebank, five classes (SST-5): 8,544 / 1,101 / 2,210 "
                    "sentences",
                    ("very negative", "negative", "neutral", "positive", "very positive"),
                    lambda root, phrases, split_seed: load_sst(root, True, phrases), True),
    "uci": Dataset("UCI Sentiment Labelled Sentences (Amazon, IMDb, Yelp): 3,000 sentences, "
                   "split 80/10/10", ("negative", "positive"),
                   lambda root, phrases, split_seed: load_uci(root, split_seed), False),
}

DEFAULTS = {"epochs": 10, "batch_size": 64, "lr": 1e-3, "embedding_dim": 300,
            "hidden_size": 150, "dropout": 0.5, "pooling": "max", "min_freq": 1,
            "lowercase": True, "phrases": True, "patience": 3, "clip_grad_norm": 5.0,
            "seed": 0, "split_seed": 0}
EVAL_BATCH_SIZE = 256


# ------------------------------------------------------------------------------------ model
class SentimentClassifier(nn.Module):
    """Token ids -> class scores: embedding, bidirectional LSTM, pooling over time, dropout,
    linear. ``pooling='max'`` keeps each output feature's largest value over the sentence;
    ``'last'`` concatenates the final states of the two directions.

    The vector of the ``<unk>`` token (row ``unknown_idx``) starts at zero, so that a word
    never seen in training adds nothing to the input. A random vector would act as an
    arbitrary word of its own, and would stay so: when every training token is in the
    vocabulary, ``<unk>`` never occurs in training and its vector never changes."""

    def __init__(self, vocab_size, num_classes, embedding_dim=300, hidden_size=150,
                 dropout=0.5, pooling="max", padding_idx=0, unknown_idx=None):
        super().__init__()
        if pooling not in ("max", "last"):
            raise ValueError(f"SentimentClassifier: pooling must be 'max' or 'last', got "
                             f"{pooling!r}")
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        if unknown_idx is not None:
            with rg.no_grad():
                self.embedding.weight[unknown_idx] = 0
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, batch):
        """``batch``: a ``PaddedBatch`` of token ids ``(B, T)`` and lengths ``(B,)``."""
        vectors = self.embedding(batch.tokens)                       # (B, T, embedding_dim)
        packed = pack_padded_sequence(vectors, batch.lengths, batch_first=True,
                                      enforce_sorted=False)
        outputs, (h_n, _) = self.lstm(packed)
        if self.pooling == "max":
            # Padding positions hold -inf, so the maximum is taken over real tokens only.
            padded, _ = pad_packed_sequence(outputs, batch_first=True,
                                            padding_value=float("-inf"))
            features = padded.max(dim=1).values                      # (B, 2 * hidden_size)
        else:
            features = rg.cat([h_n[0], h_n[1]], dim=1)               # forward, backward
        return self.classifier(self.dropout(features))


# ------------------------------------------------------------------------------------- data
def load_splits(dataset, tokenizer, data_dir=None, phrases=True, split_seed=0):
    """``{split: (token lists, labels)}`` of ``dataset``, tokenized by ``tokenizer``. The
    treebank comes tokenized: its tokens are only lowercased if the tokenizer lowercases."""
    source = DATASETS[dataset]
    splits = source.load(data_root(data_dir), phrases, split_seed)
    if source.tokenized:
        def tokenize(tokens):
            return [token.lower() for token in tokens] if tokenizer.lower else tokens
    else:
        tokenize = tokenizer
    return {split: ([tokenize(text) for text in texts], labels)
            for split, (texts, labels) in splits.items()}


def _encode_all(vocab, token_lists, what):
    empty = next((i for i, tokens in enumerate(token_lists) if not tokens), None)
    if empty is not None:
        raise ValueError(f"{what} number {empty + 1} has no tokens: the model needs at least "
                         "one token per text")
    return [vocab.encode(tokens) for tokens in token_lists]


def _by_length(sequences, batch_size):
    """Batches of indices in order of length: for evaluation, where order does not matter."""
    order = np.argsort([len(seq) for seq in sequences], kind="stable")
    return [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def make_loader(sequences, labels, batch_size, shuffle, padding_value):
    """A loader of ``(PaddedBatch, targets)``: random batches of similar lengths if
    ``shuffle``, else batches in order of length."""
    samples = list(zip(sequences, labels))
    lengths = [len(seq) for seq in sequences]
    batches = (BucketBatchSampler(lengths, batch_size) if shuffle
               else _by_length(sequences, batch_size))
    return DataLoader(samples, batch_sampler=batches, collate_fn=PadCollate(padding_value))


@rg.no_grad()
def predict_probabilities(model, sequences, padding_value=0, batch_size=EVAL_BATCH_SIZE):
    """Class probabilities ``(N, classes)`` of id sequences, in their order (eval mode)."""
    model.eval()
    probabilities = np.empty((len(sequences), model.classifier.out_features), np.float32)
    for indices in _by_length(sequences, batch_size):
        batch = pad_batch([sequences[i] for i in indices], padding_value)
        probabilities[indices] = F.softmax(model(batch), dim=-1).numpy()
    return probabilities


def _confusion(labels, predictions, num_classes):
    """counts[true, predicted]"""
    return np.bincount(np.asarray(labels) * num_classes + predictions,
                       minlength=num_classes ** 2).reshape(num_classes, num_classes)


# ----------------------------------------------------------------------------------- train
def _write_json(path, content):
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(content, f, indent=2, ensure_ascii=False)
    os.replace(partial, path)


def train(dataset="sst", out=None, data_dir=None, resume=False, progress=True, command=None,
          **overrides):
    """Trains a ``SentimentClassifier`` on ``dataset`` into the run directory ``out`` and
    returns the run's configuration, results included; ``overrides`` change ``DEFAULTS``
    (``epochs=3``, ``hidden_size=64``, ...)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"train: unknown settings {sorted(unknown)}; expected some of "
                        f"{sorted(DEFAULTS)}")
    settings = {**DEFAULTS, **overrides}
    started = time.perf_counter()
    out = out or os.path.join("runs", dataset)
    source = DATASETS[dataset]
    rg.manual_seed(settings["seed"])  # one generator: initial weights, batch order, dropout

    tokenizer = WordTokenizer(lower=settings["lowercase"], split_contractions=True)
    splits = load_splits(dataset, tokenizer, data_dir, settings["phrases"],
                         settings["split_seed"])
    vocab = Vocab.build(splits["train"][0], min_freq=settings["min_freq"])
    encoded = {split: (_encode_all(vocab, texts, f"{dataset} {split} text"), labels)
               for split, (texts, labels) in splits.items()}
    train_loader = make_loader(*encoded["train"], settings["batch_size"], True, vocab.pad_id)
    val_loader = make_loader(*encoded["dev"], EVAL_BATCH_SIZE, False, vocab.pad_id)

    architecture = dict(vocab_size=len(vocab), num_classes=len(source.classes),
                        padding_idx=vocab.pad_id, unknown_idx=vocab.unk_id,
                        **{name: settings[name] for name in ("embedding_dim", "hidden_size",
                                                             "dropout", "pooling")})
    model = SentimentClassifier(**architecture)
    optimizer = rg.optim.Adam(model.parameters(), lr=settings["lr"])

    config = {
        "app": "text", "task": "sentiment", "dataset": dataset, "classes": list(source.classes),
        "data_dir": data_dir and os.path.abspath(data_dir), "model": architecture,
        "tokenizer": tokenizer.config(), "vocab": "vocab.json", "settings": settings,
        "split": {split: len(labels) for split, (_, labels) in encoded.items()},
        "command": command, "retrograd_version": rg.__version__,
    }
    os.makedirs(out, exist_ok=True)
    vocab.save(os.path.join(out, "vocab.json"))
    _write_json(os.path.join(out, "config.json"), config)  # a stopped run can be resumed

    history = fit(model, F.cross_entropy, optimizer, train_loader, val_loader,
                  epochs=settings["epochs"], metrics={"accuracy": accuracy},
                  monitor="val_accuracy", clip_grad_norm=settings["clip_grad_norm"],
                  early_stopping=settings["patience"], out_dir=out, resume=resume,
                  progress=progress)

    model.load_state_dict(rg.load(os.path.join(out, "best.ckpt")))
    test = _measure(model, *encoded["test"], len(source.classes), vocab.pad_id)
    best = max(history, key=lambda row: row["val_accuracy"])
    config["results"] = {
        "test_accuracy": test["accuracy"], "test_confusion": test["confusion"].tolist(),
        "best_epoch": best["epoch"], "val_accuracy": best["val_accuracy"],
        "epochs_trained": len(history),
        "train_seconds": sum(row["seconds"] for row in history),
        "wall_time_s": time.perf_counter() - started,
    }
    _write_json(os.path.join(out, "config.json"), config)
    return config


def _measure(model, sequences, labels, num_classes, padding_value):
    predictions = predict_probabilities(model, sequences, padding_value).argmax(axis=1)
    return {"accuracy": float(np.mean(predictions == np.asarray(labels))) if labels else 0.0,
            "confusion": _confusion(labels, predictions, num_classes)}


# ----------------------------------------------------------------------------- a saved run
def read_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir} holds no config.json: is it a directory written "
                                "by `retrograd train`?")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_run(run_dir):
    """``(config, model, vocab, tokenizer)`` of the run in ``run_dir``: its best model, in eval
    mode, with the vocabulary and tokenizer it was trained with."""
    config = read_config(run_dir)
    model = load_best_model(run_dir, lambda: SentimentClassifier(**config["model"]))
    vocab = Vocab.load(os.path.join(run_dir, config["vocab"]))
    return config, model, vocab, tokenizer_from_config(config["tokenizer"])


def evaluate_run(run_dir, data_dir=None):
    """Test accuracy and confusion matrix of a run's best model, on the test split read from
    ``data_dir`` or where the run found its data."""
    config, model, vocab, tokenizer = load_run(run_dir)
    settings = config["settings"]
    splits = load_splits(config["dataset"], tokenizer, data_dir or config["data_dir"],
                         phrases=False, split_seed=settings["split_seed"])
    texts, labels = splits["test"]
    sequences = _encode_all(vocab, texts, f"{config['dataset']} test text")
    return config, _measure(model, sequences, labels, len(config["classes"]), vocab.pad_id)
