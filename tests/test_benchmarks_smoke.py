"""The benchmark suite runs end to end on tiny sizes, and its contenders do the same work: the
hand-written NumPy reference and PyTorch train exactly like retrograd (same losses, step after
step), so that the timings compare like with like."""
import sys
import time

import numpy as np
import pytest

import retrograd as rg
from benchmarks import lenet_epoch, lstm, phases, suite
from benchmarks.common import wall_times
from benchmarks.contenders import NUMPY, PYTORCH, RETROGRAD, make_steps
from benchmarks.isolated import step_peak_bytes, step_times
from benchmarks.workloads import WORKLOADS

try:
    import torch
except ImportError:
    torch = None

TINY = {"W1": (4, None), "W2": (3, None), "W3": (2, None), "W4": (2, 4), "W5": (3, 4)}


@pytest.mark.parametrize("key", sorted(WORKLOADS))
def test_contenders_train_alike(key):
    batch, seq_len = TINY[key]
    steps = make_steps(WORKLOADS[key], [RETROGRAD, NUMPY, PYTORCH], torch, batch, seq_len)
    losses = {name: [step() for _ in range(3)] for name, step in steps.items()}
    for name in losses:
        np.testing.assert_allclose(losses[name], losses[RETROGRAD], rtol=1e-4,
                                   err_msg=f"{key}: {name} trains differently from retrograd")


@pytest.fixture
def restore_threads():
    """The suite sets retrograd's and PyTorch's threads for its process: undo it for the other
    tests."""
    torch_threads = torch.get_num_threads() if torch is not None else None
    threads = rg.get_num_threads()
    yield
    rg.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(torch_threads)


def test_suite_runs_on_tiny_sizes(monkeypatch, capsys, restore_threads):
    """Every section of ``python -m benchmarks --quick``; the epoch on a few random images."""
    images = np.random.default_rng(0).standard_normal((256, 1, 28, 28)).astype(np.float32)
    monkeypatch.setattr(lenet_epoch, "training_images",
                        lambda data_dir, random_images: (images, np.arange(256) % 10,
                                                         "random images"))
    rows, checks = suite.main(["--quick", "--no-memory", "--threads", "1"])
    out = capsys.readouterr().out
    for key, workload in WORKLOADS.items():
        assert f"{key} {workload.title}" in out
    for section in ("W6 float32 GEMM", "Per-op overhead", "Scaling", "LeNet-5, one epoch",
                    "Targets"):
        assert section in out
    contenders = {r["contender"] for r in rows}
    assert {RETROGRAD, NUMPY} <= contenders
    assert all(r["seconds"] > 0 for r in rows)
    assert checks and all(isinstance(met, bool) for _, _, met in checks)


def test_an_epoch_is_timed_in_a_fresh_process():
    result = lenet_epoch.epoch_in_fresh_process("retrograd", limit=1, threads=1)
    assert result["batches"] == 1 and result["seconds"] > 0 and np.isfinite(result["loss"])


def test_an_epoch_can_be_asked_for_random_images():
    images, labels, source = lenet_epoch.training_images(None, random_images=True)
    assert images.shape == (60000, 1, 28, 28) and labels.shape == (60000,)
    assert source == "random images of MNIST's size"


def test_steps_are_timed_in_a_fresh_process():
    result = step_times("W1", NUMPY, batch=4, threads=1, repeats=2, warmup=1)
    assert len(result["times"]) == 2 and all(t > 0 for t in result["times"])
    assert result["loss"] > 0


def test_short_steps_are_timed_for_at_least_min_seconds():
    times = wall_times(lambda: time.sleep(0.002), repeats=2, warmup=0, min_seconds=0.03)
    assert len(times) > 2 and sum(times) >= 0.03
    assert len(wall_times(lambda: None, repeats=3, warmup=0)) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_peak_memory_of_a_step_is_measured():
    peak = step_peak_bytes("W1", RETROGRAD, batch=4, threads=1)
    assert isinstance(peak, int) and peak > 0


def test_targets_are_judged_on_retrograd_ratios():
    rows = [dict(key="W1", contender=RETROGRAD, seconds=1.0, peak=300),
            dict(key="W1", contender=NUMPY, seconds=0.9, peak=100),
            dict(key="W1", contender=PYTORCH, seconds=1.1, peak=100)]
    checks = {target: (measured, met) for target, measured, met in
              suite.target_checks(rows, {("W1", RETROGRAD): 1.1, ("W1", PYTORCH): 3.0}, 2.0)}
    assert checks["W1 time <= 1.15x NumPy reference"] == (pytest.approx(1 / 0.9), True)
    assert checks["W1 time <= 1.0x PyTorch"] == (pytest.approx(1 / 1.1), True)
    assert checks["W1 peak memory <= 1.5x PyTorch"] == (3.0, False)
    assert checks["MNIST epoch <= 1.5x PyTorch"] == (2.0, False)
    assert checks["W1 time per example, batch sizes within 1.2x"] == (1.1, True)


@pytest.mark.parametrize("contender", lstm.CONTENDERS)
def test_recurrent_benchmark_steps_run(contender, restore_threads):
    if contender == "pytorch" and torch is None:
        pytest.skip("PyTorch is not installed")
    times = lstm.times_here(contender, ("GRU", 3, 4, 2, 2), repeats=2, threads=1)
    assert len(times) == 2 and all(t > 0 for t in times)


def test_recurrent_benchmark_times_in_a_fresh_process():
    times = lstm.times_in_fresh_process("retrograd", ("LSTM", 3, 4, 2, 2), repeats=1, threads=1)
    assert len(times) == 1 and times[0] > 0


@pytest.mark.parametrize("key", phases.FEED_FORWARD)
def test_phases_of_a_step_are_timed_for_both_contenders(key, restore_threads):
    results = phases.phase_times(key, batch=2, steps=2, warmup=1)
    assert set(results) == {RETROGRAD, NUMPY}
    for medians in results.values():
        assert tuple(medians) == phases.PHASES and all(t > 0 for t in medians.values())
