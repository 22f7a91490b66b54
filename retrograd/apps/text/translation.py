"""Machine translation, English -> German, on Multi30k: an encoder-decoder with attention.

    retrograd train multi30k --epochs 20 --max-minutes 120 --out runs/multi30k
    retrograd translate runs/multi30k "a man is riding a bicycle ." --beam 5
    retrograd evaluate runs/multi30k            BLEU on the 2016 test set, with beam search

From sentences to a translation system, step by step:

1. Tokenize. A ``WordTokenizer`` cuts the raw sentences into words and punctuation marks; the
   English side is lowercased (fewer words to learn), the German side keeps its case, which
   carries meaning there (nouns are capitalized) and which the references have.
2. Number the tokens. One ``Vocab`` per language, of the training words seen at least
   ``min_freq`` times; rarer words become ``<unk>``. Target sentences are framed by ``<bos>``
   and ``<eos>``: the decoder reads ``<bos> w1 ... wn`` and learns to write ``w1 ... wn
   <eos>``.
3. Batch. Pairs of similar target length are batched together (``BucketBatchSampler``) and
   padded (``pad_batch``).
4. The model (``seq2seq.Seq2Seq``): a bidirectional GRU encoder, a GRU decoder with Bahdanau's
   additive attention. Trained by ``retrograd.train.fit``: cross-entropy of each next target
   word (padding ignored, labels smoothed) with teacher forcing, Adam (its learning rate
   halved when the validation loss stalls), gradient clipping; the weights with the lowest
   validation loss are kept.
5. Decode. Greedy search (the likeliest word at each step) or beam search (``beam.py``), then
   ``detokenize`` the words back into text.
6. Measure. BLEU, by sacrebleu, of the detokenized output against the raw reference
   translations: each epoch on ``bleu_sentences`` validation sentences with greedy search,
   and at the end on the 1,000 sentences of the 2016 test set with beam search.

The run directory holds config.json (settings, tokenizers, results), the two vocabularies,
best.ckpt, last.ckpt (to ``--resume``) and history.json/.csv with curves.png.
"""
import os
import time

import numpy as np

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.apps import load_best_model
from retrograd.data import DataLoader
from retrograd.text import (BucketBatchSampler, Vocab, WordTokenizer, pad_batch,
                            tokenizer_from_config)
from retrograd.train import Callback, fit

from .beam import beam_search, greedy_search
from .multi30k import detokenize, load_multi30k
from .run_files import read_config as read_run_config
from .run_files import write_json
from .seq2seq import Seq2Seq, Seq2SeqBatch

__all__ = ["DEFAULTS", "train", "translate", "corpus_bleu", "make_loader", "encode_pairs",
           "max_decoding_length", "ValidationBleu", "load_run", "evaluate_run", "read_config"]

DEFAULTS = {"epochs": 20, "batch_size": 128, "lr": 1e-3, "embedding_dim": 256,
            "hidden_size": 256, "attention_size": 256, "dropout": 0.3, "min_freq": 2,
            "label_smoothing": 0.1, "clip_grad_norm": 1.0, "lr_patience": 1,
            "max_minutes": None,
            "bleu_sentences": 500, "beam_size": 5, "length_penalty": 1.0, "seed": 0}
DECODE_BATCH_SIZE = 100


def max_decoding_length(source_lengths):
    """The longest translation decoding may write: German sentences of Multi30k are seldom
    longer than 1.5 times their English original."""
    return int(np.max(source_lengths) * 1.5) + 10


# ------------------------------------------------------------------------------------- BLEU
def _sacrebleu():
    try:
        import sacrebleu
    except ImportError:
        raise ImportError("BLEU needs sacrebleu: pip install sacrebleu (or "
                          "retrograd[text])") from None
    return sacrebleu


def corpus_bleu(hypotheses, references, lowercase=False):
    """Corpus BLEU (0-100) of detokenized ``hypotheses`` against one raw reference each, by
    sacrebleu with its standard settings (13a tokenization, case-sensitive)."""
    return _sacrebleu().corpus_bleu(list(hypotheses), [list(references)],
                                    lowercase=lowercase).score


# ------------------------------------------------------------------------------------- data
def encode_pairs(pairs, tokenizers, vocabs):
    """``[(source ids, target ids with <bos> and <eos>)]`` of raw sentence pairs."""
    (source_tokenizer, target_tokenizer), (source_vocab, target_vocab) = tokenizers, vocabs
    return [(source_vocab.encode(source_tokenizer(source)),
             target_vocab.encode(target_tokenizer(target), add_bos=True, add_eos=True))
            for source, target in pairs]


def _collate(padding_value):
    def collate(samples):
        sources, targets = zip(*samples)
        target = pad_batch(targets, padding_value).tokens
        # the decoder reads <bos> w1 .. wn and must write w1 .. wn <eos>
        return (Seq2SeqBatch(pad_batch(sources, padding_value), target[:, :-1]),
                target[:, 1:])
    return collate


def make_loader(samples, batch_size, shuffle, padding_value):
    """Batches of ``(Seq2SeqBatch, next target tokens (B, T))``, pairs of similar target
    length together; in random order if ``shuffle``."""
    lengths = [len(target) for _, target in samples]
    if shuffle:
        batches = BucketBatchSampler(lengths, batch_size)
    else:
        order = np.argsort(lengths, kind="stable")
        batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    return DataLoader(samples, batch_sampler=batches, collate_fn=_collate(padding_value))


def _sentence_loss(padding_value, label_smoothing):
    def loss(scores, targets):
        return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1),
                               ignore_index=padding_value, label_smoothing=label_smoothing)
    return loss


# -------------------------------------------------------------------------------- translate
def translate(model, sentences, tokenizer, vocabs, beam_size=1, length_penalty=1.0,
              batch_size=DECODE_BATCH_SIZE):
    """The translations (detokenized text) of raw source ``sentences``: greedy search with
    ``beam_size=1``, else beam search."""
    source_vocab, target_vocab = vocabs
    ids = [source_vocab.encode(tokenizer(sentence)) for sentence in sentences]
    empty = next((i for i, seq in enumerate(ids) if len(seq) == 0), None)
    if empty is not None:
        raise ValueError(f"translate: sentence {empty + 1} ({sentences[empty]!r}) has no "
                         "words to translate")
    banned = (target_vocab.pad_id, target_vocab.bos_id)
    model.eval()
    outputs = [None] * len(ids)
    order = np.argsort([len(seq) for seq in ids], kind="stable")  # similar lengths together
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        source = pad_batch([ids[i] for i in rows], source_vocab.pad_id)
        with rg.no_grad():
            state, encoded = model.encode(source)
        settings = dict(batch_size=len(rows), bos_id=target_vocab.bos_id,
                        eos_id=target_vocab.eos_id,
                        max_length=max_decoding_length(source.lengths.numpy()))
        if beam_size == 1:
            found = greedy_search(model.decoding_step(encoded, banned=banned), state,
                                  **settings)
        else:
            found = beam_search(model.decoding_step(encoded, beam_size, banned), state,
                                beam_size=beam_size, length_penalty=length_penalty,
                                **settings)
        for row, tokens in zip(rows, found):
            outputs[row] = detokenize(target_vocab.decode(tokens, skip_specials=True))
    return outputs


class ValidationBleu(Callback):
    """After each epoch: BLEU of greedy translations of validation sentences, added to the
    epoch's history; stops training when the next epoch would end after ``max_minutes``."""

    def __init__(self, sentences, references, tokenizer, vocabs, max_minutes=None):
        self.sentences, self.references = sentences, references
        self.tokenizer, self.vocabs = tokenizer, vocabs
        self.deadline = None if max_minutes is None else max_minutes * 60
        self.started = time.perf_counter()

    def on_epoch_end(self, state):
        row = state.history[-1]
        hypotheses = translate(state.model, self.sentences, self.tokenizer, self.vocabs)
        row["val_bleu"] = corpus_bleu(hypotheses, self.references)
        print(f"epoch {row['epoch']}: val BLEU {row['val_bleu']:.2f} (greedy, "
              f"{len(self.sentences)} sentences), e.g. {hypotheses[0]!r}", flush=True)
        elapsed = time.perf_counter() - self.started
        if self.deadline is not None and elapsed + row["seconds"] > self.deadline:
            print(f"stopping: another epoch would end after the {self.deadline / 60:g} "
                  "minutes allowed", flush=True)
            state.stop = True


# ----------------------------------------------------------------------------------- train
def train(out, data_dir=None, resume=False, progress=True, command=None, **overrides):
    """Trains a ``Seq2Seq`` on Multi30k English -> German into the run directory ``out`` and
    returns the run's configuration with its results; ``overrides`` change ``DEFAULTS``."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"train: unknown settings {sorted(unknown)}; expected some of "
                        f"{sorted(DEFAULTS)}")
    s = {**DEFAULTS, **overrides}
    _sacrebleu()                           # fail now, not after the first epoch, if no BLEU
    started = time.perf_counter()
    rg.manual_seed(s["seed"])              # initial weights, batch order, dropout

    tokenizers = (WordTokenizer(lower=True), WordTokenizer(lower=False))
    splits = {split: list(zip(*load_multi30k(split, data_dir)))
              for split in ("train", "val", "test")}
    vocabs = tuple(Vocab.build((tokenizer(pair[side]) for pair in splits["train"]),
                               min_freq=s["min_freq"])
                   for side, tokenizer in enumerate(tokenizers))
    pad = vocabs[1].pad_id
    train_loader = make_loader(encode_pairs(splits["train"], tokenizers, vocabs),
                               s["batch_size"], True, pad)
    val_loader = make_loader(encode_pairs(splits["val"], tokenizers, vocabs),
                             DECODE_BATCH_SIZE, False, pad)

    architecture = {"source_vocab_size": len(vocabs[0]), "target_vocab_size": len(vocabs[1]),
                    "padding_idx": pad, **{name: s[name] for name in (
                        "embedding_dim", "hidden_size", "attention_size", "dropout")}}
    model = Seq2Seq(**architecture)
    optimizer = rg.optim.Adam(model.parameters(), lr=s["lr"])
    # halve the learning rate when the validation loss has not improved for lr_patience epochs
    scheduler = rg.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                        patience=s["lr_patience"])
    config = {"app": "translation", "task": "translation", "dataset": "multi30k",
              "languages": ["en", "de"], "data_dir": data_dir and os.path.abspath(data_dir),
              "model": architecture, "settings": s,
              "tokenizers": [tokenizer.config() for tokenizer in tokenizers],
              "vocabs": ["vocab.en.json", "vocab.de.json"],
              "split": {split: len(pairs) for split, pairs in splits.items()},
              "command": command, "retrograd_version": rg.__version__}
    os.makedirs(out, exist_ok=True)
    for vocab, name in zip(vocabs, config["vocabs"]):
        vocab.save(os.path.join(out, name))
    write_json(os.path.join(out, "config.json"), config)  # a stopped run can be resumed

    bleu_pairs = splits["val"][:s["bleu_sentences"]]
    validation = ValidationBleu([source for source, _ in bleu_pairs],
                                [target for _, target in bleu_pairs], tokenizers[0], vocabs,
                                s["max_minutes"])
    history = fit(model, _sentence_loss(pad, s["label_smoothing"]), optimizer, train_loader,
                  val_loader, epochs=s["epochs"], callbacks=[validation],
                  scheduler=scheduler, clip_grad_norm=s["clip_grad_norm"], out_dir=out,
                  resume=resume, progress=progress)

    model.load_state_dict(rg.load(os.path.join(out, "best.ckpt")))  # lowest validation loss
    best = min(history, key=lambda row: row["val_loss"])
    test_sources, test_references = zip(*splits["test"])
    hypotheses = translate(model, test_sources, tokenizers[0], vocabs, s["beam_size"],
                           s["length_penalty"])
    config["results"] = {
        "test_bleu": corpus_bleu(hypotheses, test_references),
        "test_bleu_lowercase": corpus_bleu(hypotheses, test_references, lowercase=True),
        "beam_size": s["beam_size"], "length_penalty": s["length_penalty"],
        "best_epoch": best["epoch"], "val_bleu": best.get("val_bleu"),
        "val_loss": best["val_loss"], "epochs_trained": len(history),
        "train_seconds": sum(row["seconds"] for row in history),
        "wall_time_s": time.perf_counter() - started,
    }
    write_json(os.path.join(out, "config.json"), config)
    with open(os.path.join(out, "test_translations.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(hypotheses) + "\n")
    return config


# ----------------------------------------------------------------------------- a saved run
def read_config(run_dir):
    """The config.json of a run of this application."""
    return read_run_config(run_dir, "translation", "multi30k")


def load_run(run_dir):
    """``(config, model, source tokenizer, (source vocab, target vocab))`` of the run in
    ``run_dir``: its best model, in eval mode."""
    config = read_config(run_dir)
    model = load_best_model(run_dir, lambda: Seq2Seq(**config["model"]))
    vocabs = tuple(Vocab.load(os.path.join(run_dir, name)) for name in config["vocabs"])
    return config, model, tokenizer_from_config(config["tokenizers"][0]), vocabs


def evaluate_run(run_dir, data_dir=None):
    """``(config, BLEU)`` of a run's best model on the 2016 test set, decoded with the run's
    beam size and length penalty."""
    config, model, tokenizer, vocabs = load_run(run_dir)
    sources, references = load_multi30k("test", data_dir or config["data_dir"])
    s = config["settings"]
    hypotheses = translate(model, sources, tokenizer, vocabs, s["beam_size"],
                           s["length_penalty"])
    return config, corpus_bleu(hypotheses, references)
