"""A training run from start to finish, and everything that reopens it later.

``train`` does what a script for an image classifier does: seed, load the data and hold out
a validation set, build the model and optimizer, ``retrograd.train.fit``, then measure the best
checkpoint on the test set. The run directory then holds

    config.json         everything needed to rebuild the model and its data (and the results)
    best.ckpt           the weights of the epoch with the best validation accuracy
    last.ckpt           everything needed to resume (``--resume``)
    history.json/.csv   per-epoch figures; curves.png plots them
    confusion.png       test-set confusion matrix
    misclassified.png   test images the model gets wrong

``load_run`` rebuilds the trained model from ``config.json`` and ``best.ckpt``.
"""
import json
import os
import time

import numpy as np

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.data import DataLoader, TensorDataset
from retrograd.optim import lr_scheduler
from retrograd.train import accuracy, fit

from .. import load_best_model
from . import plots
from .analysis import confusion_matrix, predict_probabilities
from .datasets import DATASETS
from .images import LAYOUTS
from .models import build_model

__all__ = ["train", "default_run_dir", "load_splits", "make_optimizer", "make_scheduler",
           "analyse_test_set", "read_config", "load_run", "load_test_set", "DEFAULT_LR"]

DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
SGD_MOMENTUM = 0.9
EVAL_BATCH_SIZE = 500


def _validation_count(size, total, dataset):
    """``size`` images (an int) or that fraction of ``total`` (a float below 1)."""
    count = round(size * total) if 0 < size < 1 else int(size)
    if not 0 < count < total:
        raise ValueError(f"train: cannot hold out {size} of the {total} {dataset} training "
                         "images for validation; choose a number between 1 and "
                         f"{total - 1} or a fraction below 1 (--val-size)")
    return count


def load_splits(dataset, data_dir=None, validation_size=None):
    """Training, validation and test sets as ``TensorDataset``s; validation is the last
    ``validation_size`` training images (default: the dataset's ``validation_size``)."""
    source = DATASETS[dataset]
    train_split = source(root=data_dir, train=True)
    test_split = source(root=data_dir, train=False)
    total = len(train_split)
    held_out = _validation_count(validation_size or source.validation_size, total, dataset)
    cut = total - held_out
    images, targets = train_split.images, train_split.targets
    return (TensorDataset(images[:cut], targets[:cut]),
            TensorDataset(images[cut:], targets[cut:]),
            TensorDataset(test_split.images, test_split.targets))


def make_optimizer(name, parameters, lr):
    if name == "sgd":
        return rg.optim.SGD(parameters, lr=lr, momentum=SGD_MOMENTUM)
    if name == "adam":
        return rg.optim.Adam(parameters, lr=lr)
    if name == "adamw":
        return rg.optim.AdamW(parameters, lr=lr)
    raise ValueError(f"train: unknown optimizer {name!r}; choose one of {', '.join(DEFAULT_LR)}")


def make_scheduler(name, optimizer, lr, epochs, steps_per_epoch):
    """The learning-rate schedule and how often it steps ('step': every batch)."""
    if name == "none":
        return None, "epoch"
    if name == "onecycle":  # warm up to lr over 30% of the batches, then anneal
        return lr_scheduler.OneCycleLR(optimizer, max_lr=lr, epochs=epochs,
                                       steps_per_epoch=steps_per_epoch), "step"
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "step":  # divide by 10 after each third of the epochs
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1), "epoch"
    raise ValueError(f"train: unknown scheduler {name!r}; choose one of none, onecycle, "
                     "cosine, step")


def default_run_dir(dataset, model):
    return os.path.join("runs", f"{dataset}-{model}")


def _write_json(path, content):
    partial = f"{path}.partial"
    with open(partial, "w") as f:
        json.dump(content, f, indent=2)
    os.replace(partial, path)


def train(dataset, model="lenet5", epochs=5, batch_size=64, lr=None, optimizer="adam", seed=0,
          out=None, data_dir=None, augment=None, scheduler="none", validation_size=None,
          resume=False, progress=True, command=None):
    """Trains ``model`` on ``dataset`` into the run directory ``out`` and returns its final
    configuration, results included (``config["results"]["test_accuracy"]``, ...)."""
    started = time.perf_counter()
    out = out or default_run_dir(dataset, model)
    augment = (model == "cnn") if augment is None else augment
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    source = DATASETS[dataset]
    rg.manual_seed(seed)  # one generator: initial weights, shuffling, dropout, augmentation

    train_set, val_set, test_set = load_splits(dataset, data_dir, validation_size)
    network = build_model(model, len(source.classes), augment)
    trainer = make_optimizer(optimizer, network.parameters(), lr)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=EVAL_BATCH_SIZE)
    schedule, interval = make_scheduler(scheduler, trainer, lr, epochs, len(train_loader))

    config = {
        "app": "vision", "dataset": dataset, "model": model, "augment": augment,
        "classes": list(source.classes), "input_shape": [1, 28, 28],
        "normalization": {"mean": source.mean, "std": source.std},
        "layout": LAYOUTS[dataset], "data_dir": data_dir and os.path.abspath(data_dir),
        "seed": seed,
        "split": {"train": len(train_set), "validation": len(val_set), "test": len(test_set)},
        "hyperparameters": {"epochs": epochs, "batch_size": batch_size, "lr": lr,
                            "optimizer": optimizer, "scheduler": scheduler,
                            "momentum": SGD_MOMENTUM if optimizer == "sgd" else None},
        "command": command, "retrograd_version": rg.__version__,
    }
    os.makedirs(out, exist_ok=True)
    _write_json(os.path.join(out, "config.json"), config)  # a stopped run can be resumed

    history = fit(network, F.cross_entropy, trainer, train_loader, val_loader, epochs=epochs,
                  metrics={"accuracy": accuracy}, monitor="val_accuracy", scheduler=schedule,
                  scheduler_interval=interval, out_dir=out, resume=resume, progress=progress)

    network.load_state_dict(rg.load(os.path.join(out, "best.ckpt")))
    test = analyse_test_set(network, config, test_set, out)
    best = max(history, key=lambda row: row["val_accuracy"])
    config["results"] = {
        "test_accuracy": test["accuracy"], "best_epoch": best["epoch"],
        "val_accuracy": best["val_accuracy"], "epochs_trained": len(history),
        "train_seconds": sum(row["seconds"] for row in history),
        "wall_time_s": time.perf_counter() - started, "figures": test["figures"],
    }
    _write_json(os.path.join(out, "config.json"), config)
    return config


def analyse_test_set(model, config, test_set, out):
    """Test accuracy and confusion matrix of ``model``, with their figures written to ``out``
    (when matplotlib is there)."""
    images, targets = test_set.tensors
    predictions = predict_probabilities(model, images, EVAL_BATCH_SIZE).argmax(axis=1)
    labels = targets.numpy()
    classes = config["classes"]
    confusion = confusion_matrix(labels, predictions, len(classes))
    figures = []
    if plots.available():
        norm = config["normalization"]
        pictures = images.numpy()[:, 0] * norm["std"] + norm["mean"]
        figures = [
            plots.plot_confusion(confusion, classes, os.path.join(out, "confusion.png"),
                                 title=f"{config['dataset']} test set, {config['model']}"),
            plots.plot_misclassified(pictures, labels, predictions, classes,
                                     os.path.join(out, "misclassified.png")),
        ]
    return {"accuracy": float(np.mean(predictions == labels)) if len(labels) else 0.0,
            "confusion": confusion, "figures": figures}


def read_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir} holds no config.json: is it a directory written "
                                "by `retrograd train`?")
    with open(path) as f:
        return json.load(f)


def load_run(run_dir):
    """The configuration of the run in ``run_dir`` and its best model, in eval mode."""
    config = read_config(run_dir)
    return config, load_best_model(run_dir, lambda: build_model(
        config["model"], len(config["classes"]), config["augment"]))


def load_test_set(config, data_dir=None):
    """The test split of the run's dataset, from ``data_dir`` or where the run found it."""
    source = DATASETS[config["dataset"]]
    split = source(root=data_dir or config["data_dir"], train=False)
    return TensorDataset(split.images, split.targets)
