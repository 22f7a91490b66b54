"""Text generation: a character-level LSTM language model, trained on Tiny Shakespeare.

    retrograd train shakespeare --hidden-size 512 --layers 2 --max-minutes 45 --out runs/charlm
    retrograd generate runs/charlm --prompt "ROMEO:" --length 500 --temperature 0.8 --top-k 20

A language model gives the probability of the next character given all the previous ones,
``p(x_t | x_<t)``; its loss is the cross-entropy of the true next character, in nats per
character (divide by ln 2 for bits per character: a uniform guess among Shakespeare's 65
characters costs ln 65 = 4.17 nats, a good model about 1.4).

1. Characters to ids. ``char_vocab`` numbers the 65 distinct characters of the text; the first
   90% of the text is for training, the last 10% for validation (``shakespeare.py``).
2. The model (``CharLM``): an embedding per character, a stacked ``nn.LSTM`` and a linear layer
   that scores every character as the next one.
3. Truncated backpropagation through time. The training text is cut into ``batch_size``
   parallel streams, read ``seq_len`` characters at a time. The LSTM state at the end of one
   chunk is the start of the next one - the model remembers beyond ``seq_len`` - but it is
   *detached* first (``state.detach()``), so that backward stops at the chunk's start instead
   of running back to the beginning of the text.
4. Each step: Adam on the mean cross-entropy, the gradient norm clipped (an LSTM's gradients
   can explode on an unlucky chunk), and training stops before the update if the loss or the
   gradient is not finite. ``max_minutes`` ends training by wall time.
5. Generation (``sample``): read the prompt, then repeatedly turn the scores of the next
   character into probabilities, ``softmax(scores / temperature)`` restricted to the ``top_k``
   likeliest characters, draw one, and feed it back in. A low temperature gives safer, more
   repetitive text, a high one more surprising text.

The run directory holds config.json (settings, results), vocab.json, best.ckpt (the weights of
the lowest validation loss) and history.json/.csv with curves.png.
"""
import math
import os
import time

import numpy as np

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.apps import load_best_model
from retrograd.text import Vocab
from retrograd.train import write_history

from .run_files import read_config as read_run_config
from .run_files import write_json
from .shakespeare import (char_vocab, encode_text, load_shakespeare, parallel_streams,
                          split_stream, stream_chunks)

__all__ = ["CharLM", "DEFAULTS", "train", "evaluate_loss", "sample", "load_run",
           "evaluate_run", "read_config"]

DEFAULTS = {"hidden_size": 512, "num_layers": 2, "embedding_dim": 64, "dropout": 0.0,
            "seq_len": 100, "batch_size": 64, "epochs": 20, "lr": 2e-3, "clip_grad_norm": 5.0,
            "max_minutes": None, "eval_every": 0, "val_fraction": 0.1, "seed": 0}
NATS_PER_BIT = math.log(2)


# ------------------------------------------------------------------------------------ model
class CharLM(nn.Module):
    """Character ids ``(B, T)`` -> scores of the next character ``(B, T, vocab_size)``, and the
    LSTM state ``(h, c)`` after the last character, to pass back in with the next chunk."""

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=512, num_layers=2,
                 dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        # PyTorch's LSTM applies dropout between stacked layers only
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        outputs, state = self.lstm(self.embedding(ids), state)
        return self.decoder(self.dropout(outputs)), state


def _next_char_loss(logits, targets, reduction="mean"):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           reduction=reduction)


@rg.no_grad()
def evaluate_loss(model, streams, seq_len):
    """Mean loss in nats per character over parallel ``streams`` (eval mode), the state
    carried from chunk to chunk as in training."""
    model.eval()
    state, total, count = None, 0.0, 0
    for inputs, targets in stream_chunks(streams, seq_len):
        logits, state = model(inputs, state)
        total += _next_char_loss(logits, targets, reduction="sum").item()
        count += targets.numel()
    return total / count


# ----------------------------------------------------------------------------------- train
def _bits(nats):
    return nats / NATS_PER_BIT


def _progress_bar(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, leave=False, dynamic_ncols=True)


def train(out, data_dir=None, progress=True, command=None, **overrides):
    """Trains a ``CharLM`` on Tiny Shakespeare into the run directory ``out`` and returns the
    run's configuration, results included; ``overrides`` change ``DEFAULTS``."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"train: unknown settings {sorted(unknown)}; expected some of "
                        f"{sorted(DEFAULTS)}")
    s = {**DEFAULTS, **overrides}
    rg.manual_seed(s["seed"])  # initial weights and dropout

    text = load_shakespeare(data_dir)
    vocab = char_vocab(text)
    train_ids, val_ids = split_stream(encode_text(vocab, text), s["val_fraction"])
    train_streams = parallel_streams(train_ids, s["batch_size"])
    val_streams = parallel_streams(val_ids, s["batch_size"])
    steps_per_epoch = -(-(train_streams.shape[1] - 1) // s["seq_len"])

    architecture = {"vocab_size": len(vocab), "embedding_dim": s["embedding_dim"],
                    "hidden_size": s["hidden_size"], "num_layers": s["num_layers"],
                    "dropout": s["dropout"]}
    model = CharLM(**architecture)
    optimizer = rg.optim.Adam(model.parameters(), lr=s["lr"])
    config = {"app": "generation", "task": "character language model",
              "dataset": "tinyshakespeare", "data_dir": data_dir and os.path.abspath(data_dir),
              "model": architecture, "vocab": "vocab.json", "settings": s,
              "split": {"train_chars": len(train_ids), "val_chars": len(val_ids)},
              "command": command, "retrograd_version": rg.__version__}
    os.makedirs(out, exist_ok=True)
    vocab.save(os.path.join(out, "vocab.json"))
    write_json(os.path.join(out, "config.json"), config)

    deadline = None if s["max_minutes"] is None else s["max_minutes"] * 60
    eval_every = s["eval_every"] or steps_per_epoch
    history, train_losses, step, bar = [], [], 0, None
    started = time.perf_counter()

    def validate():
        """Adds a row to the history, keeps the best weights, writes history and curves."""
        history.append(_history_row(model, val_streams, s["seq_len"], train_losses, step,
                                    steps_per_epoch, optimizer, started))
        train_losses.clear()
        model.train()
        if history[-1]["val_loss"] <= min(row["val_loss"] for row in history):
            rg.save(model.state_dict(), os.path.join(out, "best.ckpt"))
        _report(history[-1], bar)
        write_history(history, out)

    out_of_time = False
    for _ in range(s["epochs"]):
        model.train()
        state = None                        # each epoch reads the streams from their start
        bar = _progress_bar(steps_per_epoch, progress)
        for inputs, targets in stream_chunks(train_streams, s["seq_len"]):
            logits, state = model(inputs, state)
            state = tuple(tensor.detach() for tensor in state)   # truncate backprop here
            loss = _next_char_loss(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), s["clip_grad_norm"]))
            value = loss.item()
            if not (math.isfinite(value) and math.isfinite(norm)):
                # Stop before the update: best.ckpt and the weights stay usable.
                raise FloatingPointError(
                    f"train: the loss is {value} and the gradient norm {norm} at step "
                    f"{step + 1}; try a lower --lr or --clip-grad-norm")
            optimizer.step()
            step += 1
            train_losses.append(value)
            if bar is not None:
                bar.update()
                bar.set_postfix(loss=f"{value:.3f}")
            out_of_time = deadline is not None and time.perf_counter() - started > deadline
            if out_of_time:
                break
            if step % eval_every == 0:
                validate()
        if bar is not None:
            bar.close()
            bar = None
        if out_of_time:
            break
    if train_losses:                        # steps since the last validation
        validate()

    best_row = min(history, key=lambda row: row["val_loss"])
    config["results"] = {"val_loss": best_row["val_loss"], "val_bpc": best_row["val_bpc"],
                         "best_step": best_row["step"], "steps": step,
                         "epochs_trained": history[-1]["epoch"],
                         "stopped_by_time": out_of_time,
                         "wall_time_s": time.perf_counter() - started}
    write_json(os.path.join(out, "config.json"), config)
    return config


def _history_row(model, val_streams, seq_len, train_losses, step, steps_per_epoch, optimizer,
                 started):
    """One row of the history: the training loss since the last row, and validation."""
    val_loss = evaluate_loss(model, val_streams, seq_len)
    train_loss = float(np.mean(train_losses))
    return {"epoch": round(step / steps_per_epoch, 3), "step": step,
            "train_loss": train_loss, "train_bpc": _bits(train_loss),
            "val_loss": val_loss, "val_bpc": _bits(val_loss),
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - started}


def _report(row, bar):
    line = (f"epoch {row['epoch']:.2f}  step {row['step']}  train {row['train_loss']:.4f}  "
            f"val {row['val_loss']:.4f} nats/char = {row['val_bpc']:.4f} bits/char  "
            f"{row['seconds'] / 60:.1f} min")
    if bar is not None:
        bar.write(line)
    else:
        print(line, flush=True)


# -------------------------------------------------------------------------------- generate
def _next_id(scores, temperature, top_k, generator):
    """A character id drawn from ``softmax(scores / temperature)`` over the ``top_k`` best
    scores (all with ``top_k=None``); ``temperature=0`` takes the best score."""
    if temperature == 0:
        return int(scores.argmax().item())
    scores = scores / temperature
    if top_k is not None and top_k < scores.shape[-1]:
        kth_best = scores.topk(top_k).values[-1]
        scores = scores.masked_fill(scores < kth_best, -math.inf)
    probabilities = F.softmax(scores, dim=-1)
    return int(rg.multinomial(probabilities, 1, generator=generator).item())


def sample(model, vocab, prompt, length, temperature=1.0, top_k=None, generator=None):
    """An iterator over ``length`` characters that continue ``prompt``, each one given as soon
    as it is drawn: the prompt is read in one pass, then each drawn character is fed back
    in. The arguments are checked at once, before any character is drawn."""
    if not prompt:
        raise ValueError("generate: the prompt must have at least one character")
    if temperature < 0:
        raise ValueError(f"generate: the temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"generate: top_k must be >= 1, got {top_k}")
    model.eval()
    ids = encode_text(vocab, prompt, "prompt")
    return _continuation(model, vocab, ids, length, temperature, top_k, generator)


@rg.no_grad()
def _read(model, ids, state=None):
    """The scores of the character after ``ids`` and the state after them, with no graph."""
    scores, state = model(rg.from_numpy(np.asarray(ids, dtype=np.int64)[None]), state)
    return scores[0, -1], state


def _continuation(model, vocab, ids, length, temperature, top_k, generator):
    scores, state = _read(model, ids)
    for _ in range(length):
        next_id = _next_id(scores, temperature, top_k, generator)
        yield vocab.lookup_token(next_id)
        scores, state = _read(model, [next_id], state)


# ----------------------------------------------------------------------------- a saved run
def read_config(run_dir):
    """The config.json of a run of this application."""
    return read_run_config(run_dir, "generation", "shakespeare")


def load_run(run_dir):
    """``(config, model, vocab)`` of the run in ``run_dir``: its best model, in eval mode."""
    config = read_config(run_dir)
    model = load_best_model(run_dir, lambda: CharLM(**config["model"]),
                            "the run has not been evaluated yet")
    return config, model, Vocab.load(os.path.join(run_dir, config["vocab"]))


def evaluate_run(run_dir, data_dir=None):
    """Validation loss (nats per character) of a run's best model."""
    config, model, vocab = load_run(run_dir)
    s = config["settings"]
    text = load_shakespeare(data_dir or config["data_dir"])
    _, val_ids = split_stream(encode_text(vocab, text), s["val_fraction"])
    return config, evaluate_loss(model, parallel_streams(val_ids, s["batch_size"]),
                                 s["seq_len"])
