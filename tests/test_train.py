"""retrograd.train.fit end to end on tiny generated data: history files, checkpoints, NaN guard,
early stopping, schedulers, gradient clipping and bit-for-bit resume."""
import csv
import json

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.data import DataLoader, TensorDataset
from retrograd.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau, StepLR
from retrograd.train import Callback, accuracy, evaluate, fit

FEATURES, CLASSES, SAMPLES, BATCH = 4, 3, 48, 8


def blobs(seed=1, n=SAMPLES):
    """Three Gaussian clusters: learnable in a few epochs."""
    g = np.random.default_rng(seed)
    labels = g.integers(0, CLASSES, n)
    centres = g.standard_normal((CLASSES, FEATURES)) * 2
    points = centres[labels] + g.standard_normal((n, FEATURES))
    return rg.tensor(points.astype(np.float32)), rg.tensor(labels.astype(np.int64))


def setup(seed=0, lr=0.05, shuffle=True):
    """Model (with Dropout), Adam, a shuffling train loader and a validation loader, all from
    ``seed``, as a script would build them before calling ``fit``."""
    rg.manual_seed(seed)
    x, y = blobs()
    train = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=BATCH, shuffle=shuffle)
    val = DataLoader(TensorDataset(x[32:], y[32:]), batch_size=BATCH)
    model = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(16, CLASSES))
    optimizer = rg.optim.Adam(model.parameters(), lr=lr)
    return model, optimizer, train, val


def weights(model):
    return {name: t.numpy().copy() for name, t in model.state_dict().items()}


def without_timings(history):
    return [{k: v for k, v in row.items() if k not in ("seconds", "examples_per_s")}
            for row in history]


class Recorder(Callback):
    """Records what the loop exposes after every batch and every epoch."""

    def __init__(self):
        self.batch_lrs, self.grad_norms, self.epoch_weights = [], [], []

    def on_batch_end(self, state):
        self.batch_lrs.append(state.optimizer.param_groups[0]["lr"])
        grads = [p.grad.numpy() for p in state.model.parameters() if p.grad is not None]
        self.grad_norms.append(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum()
                                                 for g in grads))))

    def on_epoch_end(self, state):
        self.epoch_weights.append(weights(state.model))


def test_fit_writes_history_and_checkpoints(tmp_path):
    model, optimizer, train, val = setup()
    recorder = Recorder()
    history = fit(model, F.cross_entropy, optimizer, train, val, epochs=3,
                  metrics={"accuracy": accuracy}, monitor="val_accuracy", callbacks=[recorder],
                  out_dir=tmp_path, progress=False, verbose=False)

    assert [row["epoch"] for row in history] == [1, 2, 3]
    for row in history:
        assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                "examples_per_s"} <= set(row)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert json.loads((tmp_path / "history.json").read_text()) == history
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[1]["val_loss"]) == pytest.approx(history[1]["val_loss"])
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"

    # best.ckpt holds the weights of the (first) epoch with the highest validation accuracy.
    scores = [row["val_accuracy"] for row in history]
    best_epoch = scores.index(max(scores))
    best = rg.load(tmp_path / "best.ckpt")
    for name, array in recorder.epoch_weights[best_epoch].items():
        np.testing.assert_array_equal(best[name].numpy(), array)
    last = rg.load(tmp_path / "last.ckpt")
    assert last["epoch"] == 3 and last["step"] == 3 * len(train)
    assert last["best"] == max(scores)
    for name, array in weights(model).items():
        np.testing.assert_array_equal(last["model"][name].numpy(), array)


def test_fit_without_validation_monitors_train_loss(tmp_path):
    model, optimizer, train, _ = setup()
    history = fit(model, F.cross_entropy, optimizer, train, epochs=2, out_dir=tmp_path,
                  progress=True, verbose=False)
    assert "val_loss" not in history[0]
    assert rg.load(tmp_path / "last.ckpt")["best"] == min(r["train_loss"] for r in history)


def test_nan_loss_stops_before_the_update_with_a_clear_message():
    model, optimizer, train, _ = setup()
    before = weights(model)

    def exploding_loss(outputs, targets):
        return F.cross_entropy(outputs, targets) * float("nan")

    expected = r"loss is nan at epoch 1, batch 1 \(optimizer step 1\).*learning rate"
    with pytest.raises(FloatingPointError, match=expected):
        fit(model, exploding_loss, optimizer, train, epochs=1, progress=False, verbose=False)
    for name, array in weights(model).items():
        np.testing.assert_array_equal(array, before[name])


def constant_loss(outputs, targets):
    """A loss that no weight can change: every epoch is a plateau."""
    return (outputs * 0).sum() + 1.0


def test_early_stopping_after_patience_epochs_without_improvement(capsys):
    model, optimizer, train, val = setup()
    history = fit(model, constant_loss, optimizer, train, val, epochs=10, early_stopping=2,
                  progress=False)
    # Epoch 1 sets the best value; epochs 2 and 3 do not improve on it.
    assert len(history) == 3
    assert "early stopping: no improvement of val_loss for 2 epochs" in capsys.readouterr().out


def test_early_stopped_run_does_not_resume_training(tmp_path):
    model, optimizer, train, val = setup()
    fit(model, constant_loss, optimizer, train, val, epochs=10, early_stopping=1,
        out_dir=tmp_path, progress=False, verbose=False)
    model, optimizer, train, val = setup()
    history = fit(model, constant_loss, optimizer, train, val, epochs=10, early_stopping=1,
                  out_dir=tmp_path, resume=True, progress=False, verbose=False)
    assert len(history) == 2


def test_reduce_lr_on_plateau_steps_once_per_epoch_on_the_monitored_value():
    model, _, train, val = setup()
    optimizer = rg.optim.SGD(model.parameters(), lr=0.1)
    scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    history = fit(model, constant_loss, optimizer, train, val, epochs=4, scheduler=scheduler,
                  progress=False, verbose=False)
    # Each row records the rate its epoch trained with; the plateau halves it after every
    # epoch that does not improve (all but the first).
    assert [row["lr"] for row in history] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert scheduler.best == history[0]["val_loss"]
    assert scheduler.last_epoch == 4


def test_step_scheduler_steps_after_every_batch():
    model, optimizer, train, _ = setup(lr=0.1)
    scheduler = LambdaLR(optimizer, lambda step: 0.9 ** step)
    recorder = Recorder()
    fit(model, F.cross_entropy, optimizer, train, epochs=2, scheduler=scheduler,
        scheduler_interval="step", callbacks=[recorder], progress=False, verbose=False)
    steps = 2 * len(train)
    assert scheduler.last_epoch == steps
    assert recorder.batch_lrs == pytest.approx([0.1 * 0.9 ** s for s in range(1, steps + 1)])


def test_epoch_scheduler_steps_after_every_epoch():
    model, optimizer, train, _ = setup(lr=0.1)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, F.cross_entropy, optimizer, train, epochs=3, scheduler=scheduler,
                  progress=False, verbose=False)
    assert [row["lr"] for row in history] == pytest.approx([0.1, 0.05, 0.025])


@pytest.mark.parametrize("max_norm", [None, 0.05])
def test_gradient_clipping_bounds_the_total_norm(max_norm):
    model, optimizer, train, _ = setup(lr=0.01)
    recorder = Recorder()
    fit(model, F.cross_entropy, optimizer, train, epochs=1, clip_grad_norm=max_norm,
        callbacks=[recorder], progress=False, verbose=False)
    if max_norm is None:
        assert max(recorder.grad_norms) > 0.05  # so that the clipped run is a real test
    else:
        assert max(recorder.grad_norms) <= max_norm * (1 + 1e-5)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path, num_workers):
    def run(epochs, out_dir, resume=False):
        rg.manual_seed(0)
        model, optimizer, _, val = setup()
        x, y = blobs()
        train = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=BATCH, shuffle=True,
                           num_workers=num_workers)
        scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
        history = fit(model, F.cross_entropy, optimizer, train, val, epochs=epochs,
                      scheduler=scheduler, out_dir=out_dir, resume=resume, progress=False,
                      verbose=False)
        return model, history

    straight, straight_history = run(4, tmp_path / "straight")
    run(2, tmp_path / "interrupted")
    resumed, resumed_history = run(4, tmp_path / "interrupted", resume=True)

    for name, array in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[name], array)
    assert without_timings(resumed_history) == without_timings(straight_history)


def test_resume_without_a_checkpoint_starts_from_scratch(tmp_path):
    model, optimizer, train, _ = setup()
    history = fit(model, F.cross_entropy, optimizer, train, epochs=1, out_dir=tmp_path,
                  resume=True, progress=False, verbose=False)
    assert len(history) == 1


def test_evaluate_weights_batches_by_their_size():
    model, _, _, _ = setup()
    x, y = blobs()
    loader = DataLoader(TensorDataset(x, y), batch_size=10)  # last batch holds 8
    figures = evaluate(model, loader, F.cross_entropy, {"accuracy": accuracy})
    with rg.no_grad():
        outputs = model(x)
    assert figures["loss"] == pytest.approx(F.cross_entropy(outputs, y).item(), rel=1e-5)
    assert figures["accuracy"] == pytest.approx(accuracy(outputs, y))
    assert not model.training


def test_training_figures_weight_batches_by_their_size():
    rg.manual_seed(0)
    x, y = blobs()
    model = nn.Linear(FEATURES, CLASSES)
    optimizer = rg.optim.SGD(model.parameters(), lr=0.0)  # the weights stay put
    loader = DataLoader(TensorDataset(x, y), batch_size=10)  # last batch holds 8
    history = fit(model, F.cross_entropy, optimizer, loader, metrics={"accuracy": accuracy},
                  progress=False, verbose=False)
    with rg.no_grad():
        outputs = model(x)
    assert history[0]["train_loss"] == pytest.approx(F.cross_entropy(outputs, y).item(),
                                                     rel=1e-5)
    assert history[0]["train_accuracy"] == pytest.approx(accuracy(outputs, y))


def test_accuracy_counts_rows_whose_largest_output_is_the_target():
    outputs = rg.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(outputs, rg.tensor([1, 0, 0])) == pytest.approx(2 / 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"monitor": "val_accuracy"}, "cannot monitor 'val_accuracy'"),
    ({"mode": "maximum"}, "mode must be 'min' or 'max'"),
    ({"scheduler_interval": "batch"}, "scheduler_interval must be 'epoch' or 'step'"),
    ({"resume": True}, "pass out_dir"),
])
def test_bad_arguments_fail_before_training(kwargs, message):
    model, optimizer, train, val = setup()
    with pytest.raises(ValueError, match=message):
        fit(model, F.cross_entropy, optimizer, train, val, progress=False, **kwargs)


def test_reduce_lr_on_plateau_cannot_step_per_batch():
    model, optimizer, train, _ = setup()
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        fit(model, F.cross_entropy, optimizer, train, scheduler=ReduceLROnPlateau(optimizer),
            scheduler_interval="step", progress=False)
