"""Ordinary PyTorch training scripts run on retrograd with only their import lines changed.

Each script in this folder is written against ``torch`` and runs as it is under PyTorch. The
tests run it

 - with its imports rewritten to retrograd's (``import torch`` becomes ``import retrograd as
   torch``, ``import torch.nn as nn`` becomes ``import retrograd.nn as nn``, ...), and check
   that it learns;
 - under PyTorch and under retrograd from the same initial weights (written by the PyTorch run
   to an ``.npz`` of NumPy arrays, loaded by the retrograd run through ``load_state_dict``),
   and check that the losses agree to float32 rounding.

The two frameworks draw random numbers from different generators, so for the comparison the
draws the scripts make while training (dropout masks, the shuffled order of the data) come in
both runs from one NumPy stream with the same seed (``shared_draws``). Draws made after
training (sampling words from the language model) are left to each framework.
"""
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg

try:
    import torch
except ImportError:  # the oracle is optional: the comparisons skip without it
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch (the test oracle) is not installed: pip install -e '.[oracle]'")

HERE = Path(__file__).parent
SCRIPTS = ["mnist_cnn", "lstm_language_model", "regression"]
# The comparison leaves out the LSTM's dropout: PyTorch applies it between layers inside its
# fused kernel, out of reach of shared_draws.
COMPARISON_ARGS = {"lstm_language_model": ["--dropout", "0"]}
# Where each script saves its model or training checkpoint.
SAVE_OPTION = {"mnist_cnn": "--save-model", "lstm_language_model": "--save",
               "regression": "--checkpoint"}


# ---------------------------------------------------------------------------- the rewriting
_IMPORT_TORCH = re.compile(r"^(\s*)import torch(?=\s*(#.*)?$)", re.MULTILINE)
_IMPORT_FROM_TORCH = re.compile(r"^(\s*)(import|from) torch(?=[.\s])", re.MULTILINE)


def to_retrograd(source):
    """``source`` with its torch imports turned into retrograd's; no other line changes."""
    source = _IMPORT_TORCH.sub(r"\1import retrograd as torch", source)
    return _IMPORT_FROM_TORCH.sub(r"\1\2 retrograd", source)


def load_script(path, module_name):
    """Imports the script at ``path`` as a module (its ``main`` is not run)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def script_for(framework, name, folder):
    """The script ``name`` as a module importing ``framework`` ("torch" or "retrograd")."""
    path = HERE / f"{name}.py"
    if framework == "retrograd":
        rewritten = folder / f"{name}_retrograd.py"
        rewritten.write_text(to_retrograd(path.read_text()))
        path = rewritten
    return load_script(path, f"dropin_{name}_{framework}")


# ------------------------------------------------------------------------- shared draws
class shared_draws:
    """Within this context, dropout masks and the shuffled order of a ``DataLoader`` in
    ``framework`` (the torch or retrograd module) come from a NumPy generator seeded with
    ``seed``: runs in both frameworks that make the same draws get the same numbers."""

    def __init__(self, framework, seed=0):
        self.framework = framework
        self.draws = np.random.default_rng(seed)
        self.patch = pytest.MonkeyPatch()

    def dropout(self, input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        keep = self.draws.random(tuple(input.shape)) >= p
        scale = (keep / (1 - p)).astype(np.float32)
        return input * self.framework.from_numpy(scale)

    def permutation(self, sampler):
        return iter(self.draws.permutation(len(sampler.data_source)).tolist())

    def __enter__(self):
        self.patch.setattr(self.framework.nn.functional, "dropout", self.dropout)
        self.patch.setattr(self.framework.utils.data.RandomSampler, "__iter__",
                           lambda sampler: self.permutation(sampler))
        return self

    def __exit__(self, *exc):
        self.patch.undo()


# -------------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def plain_runs(tmp_path_factory):
    """Each script under retrograd, as it is (retrograd's own random draws), computed once."""
    runs = {}

    def run(name):
        if name not in runs:
            folder = tmp_path_factory.mktemp(f"{name}_plain")
            script = script_for("retrograd", name, folder)
            save = [SAVE_OPTION[name], str(folder / "model.pt")]
            runs[name] = script, script.main(["--quiet"] + save), folder
        return runs[name]
    return run


@pytest.fixture(scope="module")
def paired_runs(tmp_path_factory):
    """Each script under PyTorch, then under retrograd from the same initial weights, with
    shared draws; computed once."""
    runs = {}

    def run(name):
        if name not in runs:
            folder = tmp_path_factory.mktemp(f"{name}_paired")
            init = str(folder / "init.npz")
            args = ["--quiet"] + COMPARISON_ARGS.get(name, [])
            results = {}
            for framework, module, init_args in (("torch", torch, ["--save-init", init]),
                                                 ("retrograd", rg, ["--load-init", init])):
                script = script_for(framework, name, folder)
                save = [SAVE_OPTION[name], str(folder / f"{framework}.pt")]
                with shared_draws(module):
                    results[framework] = script, script.main(args + init_args + save)
            runs[name] = results, folder
        return runs[name]
    return run


# ------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", SCRIPTS)
def test_only_import_lines_change(name):
    source = (HERE / f"{name}.py").read_text()
    rewritten = to_retrograd(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), rewritten.splitlines()) if a != b]
    assert len(source.splitlines()) == len(rewritten.splitlines())
    assert changed, "the script imports nothing from torch"
    for original, new in changed:
        assert original.lstrip().startswith(("import torch", "from torch")), original
        assert "retrograd" in new and "torch" not in new.replace("as torch", ""), new


def test_rewriting_rules():
    assert to_retrograd("import torch\n") == "import retrograd as torch\n"
    assert to_retrograd("import torch.nn as nn\n") == "import retrograd.nn as nn\n"
    assert to_retrograd("from torch.utils.data import DataLoader\n") == (
        "from retrograd.utils.data import DataLoader\n")
    assert to_retrograd("from torch import nn, optim\n") == "from retrograd import nn, optim\n"
    assert to_retrograd("x = torch.zeros(2)  # import torch\n") == (
        "x = torch.zeros(2)  # import torch\n")
    assert to_retrograd("import torchvision\n") == "import torchvision\n"
    assert to_retrograd("import torch  # the framework\n") == (
        "import retrograd as torch  # the framework\n")
    assert to_retrograd("import torch as th\n") == "import retrograd as th\n"
    assert to_retrograd("    from torch.optim.lr_scheduler import StepLR\n") == (
        "    from retrograd.optim.lr_scheduler import StepLR\n")


def test_mnist_cnn_learns(plain_runs):
    script, history, folder = plain_runs("mnist_cnn")
    assert history["accuracy"][-1] > 0.8
    assert history["test_loss"][-1] < history["test_loss"][0]
    assert history["lr"] == pytest.approx([1.0, 0.7, 0.49])
    assert all(isinstance(loss, float) for loss in history["train_loss"])
    # The saved state dict is at exactly the path given, and loads into a fresh model.
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".pt") == ["model.pt"]
    model = history["model"]
    fresh = script.Net()
    fresh.load_state_dict(rg.load(str(folder / "model.pt")))
    images, _ = script.synthetic_digits(8, seed=5)
    with rg.no_grad():
        expected = model.eval()(rg.from_numpy(images))
        assert rg.equal(fresh.eval()(rg.from_numpy(images)), expected)


def test_lstm_language_model_learns(plain_runs):
    script, history, folder = plain_runs("lstm_language_model")
    uniform = np.log(16)
    assert history["val_loss"][0] < uniform + 0.1
    assert history["val_loss"][-1] < history["val_loss"][0] - 0.3
    assert history["val_loss"][-1] > history["entropy"] - 0.05  # no model beats the chain
    words = history["words"]
    assert len(words) == 50 and all(isinstance(w, int) and 0 <= w < 16 for w in words)
    fresh = script.RNNModel(16, 16, 32, 2)
    fresh.load_state_dict(rg.load(str(folder / "model.pt")))
    for (name, saved), (_, trained) in zip(fresh.named_parameters(),
                                           history["model"].named_parameters()):
        assert rg.equal(saved, trained), name


def test_regression_learns_and_resumes(plain_runs):
    _, history, _ = plain_runs("regression")
    assert min(history["val_loss"]) < 0.5 * history["val_loss"][0]
    best = int(np.argmin(history["val_loss"]))
    assert history["best_epoch"] == best + 1
    assert history["restored_val_loss"] == pytest.approx(history["val_loss"][best], rel=1e-6)
    assert history["restored_lr"] == pytest.approx(history["lr"][best])
    assert len(history["predictions"]) == 3


@requires_torch
@pytest.mark.parametrize("name, keys", [
    ("mnist_cnn", ["train_loss", "test_loss", "accuracy", "lr"]),
    ("lstm_language_model", ["train_loss", "val_loss", "lr"]),
    ("regression", ["train_loss", "val_loss", "lr", "predictions"]),
])
def test_same_losses_as_pytorch(paired_runs, name, keys):
    results, _ = paired_runs(name)
    (_, theirs), (_, ours) = results["torch"], results["retrograd"]
    for key in keys:
        assert len(ours[key]) == len(theirs[key]), key
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


@requires_torch
def test_pytorch_checkpoint_needs_conversion(paired_runs):
    results, folder = paired_runs("mnist_cnn")
    _, torch_history = results["torch"]
    rg_script, _ = results["retrograd"]
    path = str(folder / "torch.pt")
    with pytest.raises(RuntimeError, match="load_torch_state_dict"):
        rg.load(path)
    model = rg_script.Net()
    model.load_state_dict(rg.load_torch_state_dict(path))
    images, _ = rg_script.synthetic_digits(8, seed=5)
    with rg.no_grad():
        ours = model.eval()(rg.from_numpy(images)).numpy()
    with torch.no_grad():
        theirs = torch_history["model"].eval()(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
