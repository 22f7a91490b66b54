"""A small, readable training loop: ``fit`` and ``evaluate``.

    history = fit(model, F.cross_entropy, optimizer, train_loader, val_loader, epochs=10,
                  metrics={"accuracy": accuracy}, out_dir="runs/mnist")

Each epoch: for every batch, forward, loss, ``loss.backward()``, optional gradient clipping,
``optimizer.step()``; then validation, learning-rate scheduling, history, checkpoints and
early stopping. It is plain Python on purpose: copy it and change what your experiment needs.

``out_dir`` receives ``history.json``, ``history.csv``, ``curves.png`` (with matplotlib),
``best.ckpt`` (the model's weights at the best monitored value) and ``last.ckpt`` (everything
needed to resume: model, optimizer, scheduler, epoch, step, random-number states, history).
``fit(..., resume=True)`` continues from ``last.ckpt`` and gives bit-for-bit the same weights
as an uninterrupted run.
"""
import csv
import json
import math
import os
import time

import numpy as np

from . import random as _random
from .autograd.grad_mode import no_grad
from .nn.utils import clip_grad_norm_
from .optim.lr_scheduler import ReduceLROnPlateau
from .serialization import load, save

__all__ = ["fit", "evaluate", "accuracy", "train_one_epoch", "write_history", "plot_history",
           "Callback", "EarlyStopping", "TrainState"]


def accuracy(outputs, targets):
    """Fraction of rows whose largest output is the target class."""
    return (outputs.argmax(dim=-1) == targets).float().mean().item()


class Callback:
    """Override any of these to act during training; ``state`` is the ``TrainState``."""

    def on_epoch_begin(self, state):
        pass

    def on_batch_end(self, state):
        pass

    def on_epoch_end(self, state):
        pass

    def on_train_end(self, state):
        pass


class EarlyStopping(Callback):
    """Stops when the monitored value has not improved for ``patience`` epochs."""

    def __init__(self, patience=3):
        self.patience = patience

    def on_epoch_end(self, state):
        if state.epochs_without_improvement >= self.patience:
            state.stop = True
            print(f"early stopping: no improvement of {state.monitor} for {self.patience} epochs")


class TrainState:
    """What the loop knows at any moment (callbacks read and may change it)."""

    def __init__(self, model, optimizer, scheduler=None, monitor="train_loss", mode="min",
                 callbacks=()):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.monitor, self.mode = monitor, mode
        self.callbacks = list(callbacks)
        self.epoch = 0              # epochs completed
        self.step = 0               # optimizer steps taken
        self.history = []           # one dict of figures per epoch
        self.best = None            # best monitored value so far
        self.epochs_without_improvement = 0
        self.batch_loss = None
        self.stop = False

    def improved(self, value):
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best


def _split_batch(batch):
    if isinstance(batch, dict):
        return batch["input"], batch["target"]
    inputs, targets = batch[0], batch[1]
    return inputs, targets


def _progress(iterable, total, description, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=description, leave=False, dynamic_ncols=True)


def train_one_epoch(state, loss_fn, loader, metrics, clip_grad_norm, step_scheduler,
                    progress=True, description="train"):
    """One pass over ``loader``; returns the loss and metrics averaged over its examples
    (each batch's value weighted by its size, as ``evaluate`` does)."""
    model, optimizer = state.model, state.optimizer
    model.train()
    totals, seen, start = {}, 0, time.perf_counter()
    bar = _progress(loader, _len_or_none(loader), description, progress)
    for number, batch in enumerate(bar, 1):
        inputs, targets = _split_batch(batch)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        value = loss.item()
        if not math.isfinite(value):
            # Stop before the update: the weights and last.ckpt stay usable.
            raise FloatingPointError(
                f"fit: the loss is {value} at epoch {state.epoch + 1}, batch {number} "
                f"(optimizer step {state.step + 1}); try a lower learning rate or "
                "clip_grad_norm")
        optimizer.zero_grad()
        loss.backward()
        if clip_grad_norm:
            clip_grad_norm_(model.parameters(), clip_grad_norm)
        optimizer.step()
        if step_scheduler is not None:
            step_scheduler.step()
        state.step += 1
        state.batch_loss = value
        n = len(targets)
        seen += n
        _add(totals, "loss", value * n)
        with no_grad():
            for name, fn in metrics.items():
                _add(totals, name, fn(outputs.detach(), targets) * n)
        if hasattr(bar, "set_postfix"):
            rate = seen / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix(loss=f"{totals['loss'] / seen:.4f}", ex_per_s=f"{rate:.0f}")
        for callback in state.callbacks:
            callback.on_batch_end(state)
    figures = {name: total / max(seen, 1) for name, total in totals.items()}
    figures["examples_per_s"] = seen / max(time.perf_counter() - start, 1e-9)
    return figures


def _add(totals, name, value):
    totals[name] = totals.get(name, 0.0) + value


def _len_or_none(loader):
    try:
        return len(loader)
    except TypeError:
        return None


@no_grad()
def evaluate(model, loader, loss_fn=None, metrics=None, progress=False):
    """Mean loss and metrics over ``loader``, weighted by batch size, in eval mode."""
    metrics = metrics or {}
    model.eval()
    totals, seen = {}, 0
    for batch in _progress(loader, _len_or_none(loader), "eval", progress):
        inputs, targets = _split_batch(batch)
        outputs = model(inputs)
        n = len(targets)
        seen += n
        if loss_fn is not None:
            _add(totals, "loss", loss_fn(outputs, targets).item() * n)
        for name, fn in metrics.items():
            _add(totals, name, fn(outputs, targets) * n)
    return {name: total / max(seen, 1) for name, total in totals.items()}


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=1, metrics=None,
        callbacks=(), scheduler=None, scheduler_interval="epoch", clip_grad_norm=None,
        monitor=None, mode=None, early_stopping=None, out_dir=None, resume=False,
        progress=True, verbose=True):
    """Trains ``model`` and returns the history (a list of per-epoch dicts).

    ``monitor`` (default 'val_loss', or 'train_loss' without validation) with ``mode``
    ('min' for losses, 'max' otherwise) chooses the best checkpoint and drives early stopping
    (``early_stopping=patience``) and ``ReduceLROnPlateau``. ``scheduler_interval='step'``
    steps the scheduler after every batch (e.g. ``OneCycleLR``). A non-finite loss stops
    training with ``FloatingPointError`` before it can reach the weights. With ``out_dir`` and
    ``resume=True``, training continues from ``out_dir/last.ckpt`` when there is one.
    """
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'step', got "
                         f"{scheduler_interval!r}")
    if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval == "step":
        raise ValueError("fit: ReduceLROnPlateau steps on the monitored value once per epoch; "
                         "use scheduler_interval='epoch'")
    metrics = dict(metrics or {})
    monitor = monitor or ("val_loss" if val_loader is not None else "train_loss")
    mode = mode or ("min" if monitor.endswith("loss") else "max")
    if mode not in ("min", "max"):
        raise ValueError(f"fit: mode must be 'min' or 'max', got {mode!r}")
    if resume and not out_dir:
        raise ValueError("fit: resume=True continues from out_dir/last.ckpt; pass out_dir")
    splits = ("train", "val") if val_loader is not None else ("train",)
    monitorable = [f"{split}_{name}" for split in splits for name in ["loss", *metrics]]
    if monitor not in monitorable:
        raise ValueError(f"fit: cannot monitor {monitor!r}; the epochs will report "
                         f"{', '.join(monitorable)}")
    if early_stopping:
        callbacks = list(callbacks) + [EarlyStopping(early_stopping)]
    state = TrainState(model, optimizer, scheduler, monitor, mode, callbacks)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        if resume and os.path.exists(os.path.join(out_dir, "last.ckpt")):
            _restore(state, os.path.join(out_dir, "last.ckpt"), train_loader)
            if verbose:
                print(f"resumed from {out_dir}/last.ckpt after epoch {state.epoch}")
    step_scheduler = scheduler if scheduler_interval == "step" else None

    while state.epoch < epochs and not state.stop:
        for callback in state.callbacks:
            callback.on_epoch_begin(state)
        start = time.perf_counter()
        figures = {"epoch": state.epoch + 1}
        train = train_one_epoch(state, loss_fn, train_loader, metrics, clip_grad_norm,
                                step_scheduler, progress,
                                description=f"epoch {state.epoch + 1}/{epochs}")
        figures.update({f"train_{k}" if k != "examples_per_s" else k: v
                        for k, v in train.items()})
        if val_loader is not None:
            figures.update({f"val_{k}": v for k, v in
                            evaluate(model, val_loader, loss_fn, metrics).items()})
        figures["lr"] = optimizer.param_groups[0]["lr"]
        figures["seconds"] = time.perf_counter() - start
        state.epoch += 1
        state.history.append(figures)

        value = figures[monitor]
        if scheduler is not None and scheduler_interval == "epoch":
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(value)
            else:
                scheduler.step()
        if state.improved(value):
            state.best, state.epochs_without_improvement = value, 0
            if out_dir:
                save(model.state_dict(), os.path.join(out_dir, "best.ckpt"))
        else:
            state.epochs_without_improvement += 1
        if verbose:
            print(_epoch_line(figures, epochs))
        for callback in state.callbacks:
            callback.on_epoch_end(state)
        if out_dir:
            _checkpoint(state, os.path.join(out_dir, "last.ckpt"), train_loader)
            write_history(state.history, out_dir)
    for callback in state.callbacks:
        callback.on_train_end(state)
    return state.history


def _epoch_line(figures, epochs):
    parts = [f"epoch {figures['epoch']}/{epochs}"]
    for key, value in figures.items():
        if key in ("epoch", "seconds", "examples_per_s"):
            continue
        parts.append(f"{key} {value:.4g}")
    parts.append(f"{figures['examples_per_s']:.0f} ex/s, {figures['seconds']:.1f} s")
    return "  ".join(parts)


def _loader_generator(loader):
    return getattr(loader, "generator", None)


def _checkpoint(state, path, train_loader):
    generator = _loader_generator(train_loader)
    save({
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
        "epoch": state.epoch,
        "step": state.step,
        "best": state.best,
        "epochs_without_improvement": state.epochs_without_improvement,
        "stopped": state.stop,
        "history": state.history,
        "rng": _random.get_rng_state(),
        "loader_rng": generator.get_state() if generator is not None else None,
    }, path)


def _restore(state, path, train_loader):
    checkpoint = load(path)
    state.model.load_state_dict(checkpoint["model"])
    state.optimizer.load_state_dict(checkpoint["optimizer"])
    if state.scheduler is not None and checkpoint["scheduler"] is not None:
        state.scheduler.load_state_dict(checkpoint["scheduler"])
    state.epoch, state.step = checkpoint["epoch"], checkpoint["step"]
    state.best = checkpoint["best"]
    state.epochs_without_improvement = checkpoint["epochs_without_improvement"]
    state.stop = checkpoint["stopped"]
    state.history = list(checkpoint["history"])
    _random.set_rng_state(checkpoint["rng"])
    generator = _loader_generator(train_loader)
    if generator is not None and checkpoint["loader_rng"] is not None:
        generator.set_state(checkpoint["loader_rng"])


def write_history(history, out_dir):
    """history.json, history.csv and (with matplotlib) curves.png, each written atomically."""
    _atomic_write(os.path.join(out_dir, "history.json"),
                  lambda f: json.dump(history, f, indent=1))
    keys = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))

    def write_csv(f):
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)

    _atomic_write(os.path.join(out_dir, "history.csv"), write_csv)
    plot_history(history, os.path.join(out_dir, "curves.png"))


def _atomic_write(path, write):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        write(f)
    os.replace(tmp, path)


def plot_history(history, path):
    """Loss and metric curves per epoch as a PNG (skipped without matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = sorted({k[len("train_"):] for row in history for k in row if k.startswith("train_")})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5), squeeze=False)
    epochs = [row["epoch"] for row in history]
    for ax, name in zip(axes[0], names):
        for split in ("train", "val"):
            values = [row.get(f"{split}_{name}", np.nan) for row in history]
            if not all(np.isnan(values)):
                ax.plot(epochs, values, marker="o", label=split)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path
