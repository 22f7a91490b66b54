"""Checklist: what ordinary PyTorch training scripts use, item by item, with PyTorch's semantics.

Every item runs under retrograd; where PyTorch is installed, the same code (written once,
taking the framework module as an argument) also runs under PyTorch and the results must agree:
values, dtypes, shapes, and the field names of ``(values, indices)`` results. Complete scripts
using these together are in tests/dropin/.
"""
import os

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from helpers import requires_torch, torch

FRAMEWORKS = [rg] if torch is None else [rg, torch]


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def as_comparable(result):
    """A framework-neutral form of a result: arrays with dtype names, tuples and namedtuples
    (with their field names), Python scalars."""
    if isinstance(result, (rg.Tensor,) + ((torch.Tensor,) if torch is not None else ())):
        return ("tensor", dtype_name(result.dtype), result.detach().numpy())
    if isinstance(result, tuple) and hasattr(result, "_fields") or (
            torch is not None and type(result).__module__ == "torch.return_types"):
        fields = getattr(result, "_fields", None) or tuple(
            name for name in ("values", "indices") if hasattr(result, name))
        return ("fields", fields, [as_comparable(getattr(result, f)) for f in fields])
    if isinstance(result, (list, tuple)):
        return [as_comparable(r) for r in result]
    return result


def assert_same(ours, theirs, where):
    if isinstance(ours, tuple) and ours and ours[0] == "tensor":
        assert isinstance(theirs, tuple) and theirs[0] == "tensor", where
        assert ours[1] == theirs[1], f"{where}: dtype {ours[1]} != {theirs[1]}"
        assert ours[2].shape == theirs[2].shape, f"{where}: shape"
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6, err_msg=where)
    elif isinstance(ours, tuple) and ours and ours[0] == "fields":
        assert isinstance(theirs, tuple) and theirs[0] == "fields", where
        assert ours[1] == theirs[1], f"{where}: fields {ours[1]} != {theirs[1]}"
        for a, b in zip(ours[2], theirs[2]):
            assert_same(a, b, where)
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and len(ours) == len(theirs), where
        for a, b in zip(ours, theirs):
            assert_same(a, b, where)
    elif isinstance(ours, float):
        assert type(theirs) is float and ours == pytest.approx(theirs, rel=1e-5), where
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def check_same(where, fn, *arrays):
    """Runs ``fn(framework, *tensors)`` under retrograd and, when installed, PyTorch."""
    results = [as_comparable(fn(m, *[m.tensor(a) for a in arrays])) for m in FRAMEWORKS]
    if len(results) == 2:
        assert_same(results[0], results[1], where)
    return results[0]


X = np.array([[0.5, -1.0, 2.0, 0.25], [3.0, 1.5, -2.5, 0.0], [-0.75, 4.0, 1.0, -3.0]],
             dtype=np.float32)
LABELS = np.array([2, 0, 1], dtype=np.int64)
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, 0.0], dtype=np.float32)


# ---------------------------------------------------------------------------- devices
def test_devices():
    cpu, cuda = rg.device("cpu"), rg.device("cuda")
    assert (cpu.type, cuda.type, str(cuda), str(rg.device("cuda:0"))) == (
        "cpu", "cuda", "cuda", "cuda:0")
    assert cpu == "cpu" and repr(cpu) == "device(type='cpu')"
    x = rg.tensor(X)
    assert x.device == cpu and x.device.type == "cpu" and x.cpu() is x
    assert x.to(cpu) is x and x.to("cpu") is x
    assert x.to(rg.float64).dtype == rg.float64
    assert x.to(rg.zeros(1, dtype=rg.int64)).dtype == rg.int64
    assert x.to(cpu, rg.float64).dtype == rg.float64
    assert rg.cuda.is_available() is False
    assert rg.accelerator.is_available() is False and rg.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match="cuda"):
        x.to(cuda)
    model = nn.Linear(2, 3)
    assert model.to(cpu) is model and model.to("cpu") is model
    with pytest.raises(RuntimeError, match="cuda"):
        model.to("cuda")
    assert rg.zeros(2, device="cpu").device == cpu
    assert rg.tensor([1, 2], device=cpu).device == cpu


@requires_torch
def test_devices_as_in_pytorch():
    for m in FRAMEWORKS:
        assert str(m.device("cpu")) == "cpu" and m.cuda.is_available() is False
        assert m.accelerator.current_accelerator() is None


# ------------------------------------------------------------------------ tensor methods
TENSOR_METHODS = {
    "view": lambda m, x: x.view(4, 3),
    "view(-1)": lambda m, x: x.view(-1),
    "view_as": lambda m, x: x.view_as(m.zeros(2, 6)),
    "contiguous": lambda m, x: x.t().contiguous(),
    "eq": lambda m, x: x.eq(x[0]),
    "ne": lambda m, x: x.ne(0.5),
    "lt": lambda m, x: x.lt(0),
    "le": lambda m, x: x.le(x[1]),
    "gt": lambda m, x: x.gt(1),
    "ge": lambda m, x: x.ge(0.25),
    "operators": lambda m, x: [x == 0, x != 0, x < 1, x <= 1, x > 1, x >= 1],
    "argmax(dim, keepdim)": lambda m, x: x.argmax(dim=1, keepdim=True),
    "argmax()": lambda m, x: x.argmax(),
    "max(dim)": lambda m, x: x.max(1),
    "max(dim, keepdim)": lambda m, x: x.max(dim=0, keepdim=True),
    "max().values": lambda m, x: [x.max(-1).values, x.max(-1).indices, x.max(1)[0]],
    "max()": lambda m, x: x.max(),
    "topk": lambda m, x: x.topk(2),
    "topk(dim, smallest)": lambda m, x: x.topk(2, dim=0, largest=False),
    "sort": lambda m, x: x.sort(dim=1, descending=True),
    "sort()": lambda m, x: x.sort(),
    "argsort": lambda m, x: x.argsort(dim=0),
    "type_as": lambda m, x: x.type_as(m.zeros(1, dtype=m.float64)),
    "type_as(int)": lambda m, x: x.type_as(m.zeros(1, dtype=m.long)),
    "float": lambda m, x: x.long().float(),
    "long": lambda m, x: x.long(),
    "int": lambda m, x: x.int(),
    "bool": lambda m, x: x.bool(),
    "sum().item()": lambda m, x: x.sum().item(),
    "mean().item()": lambda m, x: x.mean().item(),
    "argmax().item()": lambda m, x: x.argmax().item(),
    "numel": lambda m, x: x.numel(),
    "size(dim)": lambda m, x: [x.size(0), x.size(-1), tuple(x.size()), tuple(x.shape)],
    "len": lambda m, x: len(x),
    "iteration": lambda m, x: [row for row in x],
    "new_zeros": lambda m, x: x.new_zeros(2, 3),
    "new_ones": lambda m, x: x.new_ones((2,)),
    "new_zeros(int)": lambda m, x: x.long().new_zeros(2),
    "all/any": lambda m, x: [(x > -5).all(), (x > 0).all(), (x > 3).any(), (x > 0).any(dim=1),
                             (x > 0).all(dim=0)],
    "nonzero": lambda m, x: (x > 0).nonzero(),
    "nonzero(as_tuple)": lambda m, x: list((x > 0).nonzero(as_tuple=True)),
    "clamp": lambda m, x: x.clamp(min=-1, max=1),
    "accuracy": lambda m, x: x.argmax(dim=1, keepdim=True).eq(
        m.tensor([2, 0, 1]).view_as(x.argmax(dim=1, keepdim=True))).sum().item(),
}


@pytest.mark.parametrize("name", list(TENSOR_METHODS))
def test_tensor_method(name):
    check_same(name, TENSOR_METHODS[name], X)


@pytest.mark.parametrize("name, fn", [
    ("isnan", lambda m, x: x.isnan()),
    ("isfinite", lambda m, x: x.isfinite()),
    ("isnan().any()", lambda m, x: x.isnan().any().item()),
    ("isfinite().all()", lambda m, x: x.isfinite().all().item()),
])
def test_tensor_predicates(name, fn):
    check_same(name, fn, SPECIAL)


def test_max_returns_values_and_indices():
    values, indices = rg.tensor(X).max(dim=1)
    result = rg.tensor(X).max(dim=1)
    assert isinstance(result, tuple) and result._fields == ("values", "indices")
    assert values.dtype == rg.float32 and indices.dtype == rg.int64
    np.testing.assert_array_equal(indices.numpy(), X.argmax(axis=1))


def test_item_returns_python_numbers():
    x = rg.tensor(X)
    assert type(x.sum().item()) is float and type(x.argmax().item()) is int
    assert type((x > 0).all().item()) is bool
    assert x.sum().item() == pytest.approx(float(X.sum()))


def test_tensor_repr_is_readable():
    assert repr(rg.tensor([0.5, 1.25])) == "tensor([0.5000, 1.2500])"
    assert repr(rg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(rg.tensor([2, 0])) == "tensor([2, 0])"
    assert repr(rg.tensor([1.0, 2.0], dtype=rg.float64)) == (
        "tensor([1., 2.], dtype=retrograd.float64)")
    assert repr(rg.zeros(2, requires_grad=True)) == "tensor([0., 0.], requires_grad=True)"
    assert "grad_fn=<" in repr(rg.zeros(2, requires_grad=True) * 2)
    assert repr(rg.tensor([])) == "tensor([])"
    assert repr(rg.zeros(0, 3, dtype=rg.int64)) == (
        "tensor([], size=(0, 3), dtype=retrograd.int64)")
    assert str(rg.tensor(1.5)) == "tensor(1.5000)"


@requires_torch
@pytest.mark.parametrize("values", [
    [0.6404, 1.304, 0.0413], 1.304, [1.0, 2.0], [1e-5, 1.0], [1e5, 1.0], [-1.5, 2.25],
    [np.nan, 1.5, np.inf], [[1.5, -2.0], [3.0, 4.0]], [0.0, 0.0], [123456.0, 1.0],
    [True, False], [True], [3, -40],
])
def test_tensor_repr_as_in_pytorch(values):
    array = np.array(values, dtype=np.float32 if np.asarray(values).dtype.kind == "f" else None)
    assert repr(rg.tensor(array)) == repr(torch.tensor(array))


def test_in_place_methods_on_plain_leaves():
    scores = rg.tensor(X)
    scores.masked_fill_(scores < 0, -1e9)
    assert scores.numpy().min() == np.float32(-1e9) and scores.numpy().max() == 4.0
    labels = rg.tensor(LABELS)
    assert labels.unsqueeze_(1) is labels and labels.shape == (3, 1)
    x = rg.tensor(X)
    assert x.clamp_(-1, 1) is x and x.numpy().max() == 1.0 and x.numpy().min() == -1.0


def test_parameter_surgery_under_no_grad():
    def surgery(m):
        weight = m.nn.Parameter(m.tensor(X))
        with m.no_grad():
            weight.mul_(2)
            weight.add_(1)
            weight.clamp_(-3, 3)
            weight[0].copy_(m.tensor([9.0, 8.0, 7.0, 6.0]))
            weight.masked_fill_(weight < -2, 0.0)
            weight.unsqueeze_(0)
        assert weight.is_leaf and weight.requires_grad and weight.grad_fn is None
        return weight
    for m in FRAMEWORKS:
        weight = m.nn.Parameter(m.zeros(2))
        for op in (lambda w: w.mul_(2), lambda w: w.add_(1), lambda w: w.clamp_(0, 1),
                   lambda w: w.copy_(m.ones(2)), lambda w: w.unsqueeze_(0),
                   lambda w: w.masked_fill_(m.tensor([True, False]), 1.0)):
            with pytest.raises(RuntimeError, match="leaf"):
                op(weight)
    check_same("parameter surgery", lambda m, *_: surgery(m))


# ---------------------------------------------------------------------- top-level functions
FUNCTIONS = {
    "flatten": lambda m, x: m.flatten(x.view(3, 2, 2), 1),
    "flatten()": lambda m, x: m.flatten(x),
    "argmax": lambda m, x: [m.argmax(x), m.argmax(x, dim=1), m.argmax(x, 0, keepdim=True)],
    "max": lambda m, x: [m.max(x), m.max(x, 1), m.max(x, dim=0, keepdim=True),
                         m.max(x, m.zeros(4))],
    "sum": lambda m, x: [m.sum(x), m.sum(x, dim=1), m.sum(x, (0, 1), keepdim=True)],
    "mean": lambda m, x: [m.mean(x), m.mean(x, dim=0), m.mean(x, -1, keepdim=True)],
    "exp": lambda m, x: m.exp(x),
    "log": lambda m, x: m.log(m.abs(x) + 1),
    "tanh": lambda m, x: m.tanh(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "softmax": lambda m, x: [m.softmax(x, dim=1), m.softmax(x, 0)],
    "matmul": lambda m, x: [m.matmul(x, x.t()), m.matmul(x, x[0])],
    "bmm": lambda m, x: m.bmm(x.view(1, 3, 4), x.t().reshape(1, 4, 3)),
    "zeros(device)": lambda m, x: [m.zeros(2, 3, device=m.device("cpu")),
                                   m.zeros((2,), device="cpu", dtype=m.long)],
    "tensor(device)": lambda m, x: [m.tensor([1, 2], device="cpu"),
                                    m.tensor([[0.5]], device=m.device("cpu"))],
    "is_tensor": lambda m, x: [m.is_tensor(x), m.is_tensor(X), m.is_tensor(1.0)],
    "numel": lambda m, x: m.numel(x),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_function(name):
    check_same(name, FUNCTIONS[name], X)


def test_randperm():
    rg.manual_seed(0)
    perm = rg.randperm(10)
    assert perm.dtype == rg.int64 and sorted(perm.tolist()) == list(range(10))


def test_multinomial():
    rg.manual_seed(0)
    probs = rg.tensor([[0.0, 1.0, 3.0], [2.0, 0.0, 0.0]])
    draws = rg.multinomial(probs, 50, replacement=True)
    assert draws.shape == (2, 50) and draws.dtype == rg.int64
    assert set(draws[0].tolist()) == {1, 2} and set(draws[1].tolist()) == {0}
    assert 0.6 < (draws[0] == 2).float().mean().item() < 0.9
    assert sorted(rg.multinomial(rg.tensor([1.0, 1.0, 1.0]), 3).tolist()) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="multinomial"):
        rg.multinomial(rg.tensor([1.0, 1.0]), 3)


def test_manual_seed_makes_runs_repeatable():
    def draws():
        rg.manual_seed(42)
        return (rg.randn(3).tolist(), rg.randperm(5).tolist(), nn.Linear(2, 2).weight.tolist(),
                F.dropout(rg.ones(8), 0.5).tolist())
    assert draws() == draws()


def test_grad_modes():
    w = rg.ones(2, requires_grad=True)
    rg.set_grad_enabled(False)
    try:
        assert not rg.is_grad_enabled() and not (w * 2).requires_grad
    finally:
        rg.set_grad_enabled(True)
    assert rg.is_grad_enabled()
    for training in (True, False):
        with rg.set_grad_enabled(training):
            assert (w * 2).requires_grad is training
    with rg.inference_mode():
        assert not (w * 2).requires_grad
    with rg.inference_mode(False):
        assert (w * 2).requires_grad

    @rg.inference_mode()
    def predict(x):
        return x * 2

    @rg.no_grad()
    def predict_no_grad(x):
        return x * 2
    assert not predict(w).requires_grad and not predict_no_grad(w).requires_grad
    assert rg.is_grad_enabled()


# ------------------------------------------------------------------------------- data
def test_utils_data_is_data():
    import retrograd.utils.data as utils_data
    from retrograd.utils.data import DataLoader, TensorDataset
    assert utils_data is rg.utils.data
    for name in ("Dataset", "DataLoader", "TensorDataset", "random_split", "Subset",
                 "default_collate"):
        assert getattr(rg.utils.data, name) is getattr(rg.data, name)
    assert DataLoader is rg.data.DataLoader and TensorDataset is rg.data.TensorDataset


def test_data_pipeline():
    class Squares(rg.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return rg.tensor([float(i)]), i * i

    rg.manual_seed(0)
    train, val = rg.utils.data.random_split(Squares(), [8, 2])
    assert isinstance(train, rg.utils.data.Subset) and (len(train), len(val)) == (8, 2)
    assert sorted(train.indices + val.indices) == list(range(10))
    loader = rg.utils.data.DataLoader(train, batch_size=4, shuffle=True, num_workers=2,
                                      pin_memory=True, persistent_workers=True, drop_last=False)
    seen = []
    for epoch in range(2):
        for x, y in loader:
            assert x.shape == (4, 1) and x.dtype == rg.float32 and y.dtype == rg.int64
            assert (y == (x.view(-1) ** 2).long()).all()
            seen += x.view(-1).long().tolist()
    assert sorted(seen) == sorted(train.indices * 2)
    batch = rg.utils.data.default_collate([(rg.zeros(2), 1), (rg.ones(2), 2)])
    assert batch[0].shape == (2, 2) and batch[1].tolist() == [1, 2]
    x, y = rg.randn(6, 3), rg.arange(6)
    dataset = rg.utils.data.TensorDataset(x, y)
    assert len(dataset) == 6 and dataset[2][1].item() == 2


# ------------------------------------------------------------------------------ optim
OPTIMIZERS = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("Adam", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)),
]


def _train_steps(m, name, kwargs, steps=3):
    m.manual_seed(0)
    model = m.nn.Linear(4, 2)
    with m.no_grad():
        model.weight.copy_(m.tensor(X[:2]))
        model.bias.zero_()
    optimizer = getattr(m.optim, name)(model.parameters(), **kwargs)
    scheduler = m.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    inputs = m.tensor(X)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (model(inputs) ** 2).mean()
        loss.backward()
        m.nn.utils.clip_grad_norm_(model.parameters(), 5.0)  # parameters() a second time
        optimizer.step()
        scheduler.step()
    return [model.weight, model.bias, optimizer.param_groups[0]["lr"]]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS)
def test_optimizer(name, kwargs):
    check_same(name, lambda m: _train_steps(m, name, kwargs))


def test_param_groups_are_editable():
    def run(m):
        w = m.nn.Parameter(m.ones(2))
        optimizer = m.optim.SGD([w], lr=0.1)
        for group in optimizer.param_groups:
            group["lr"] = 0.5
        (w * m.tensor([1.0, 2.0])).sum().backward()
        optimizer.step()
        optimizer.add_param_group({"params": [m.nn.Parameter(m.zeros(1))], "lr": 0.2})
        return [w, len(optimizer.param_groups), optimizer.param_groups[1]["lr"]]
    result = check_same("param_groups", run)
    np.testing.assert_allclose(result[0][2], [0.5, 0.0])


SCHEDULERS = [
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5], gamma=0.1)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (epoch + 1))),
    ("LinearLR", dict(start_factor=0.25, total_iters=3)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=7)),
    ("ReduceLROnPlateau", dict(factor=0.5, patience=1)),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULERS)
def test_lr_scheduler(name, kwargs):
    def learning_rates(m):
        optimizer = m.optim.SGD([m.nn.Parameter(m.zeros(1))], lr=0.1, momentum=0.9)
        scheduler = getattr(m.optim.lr_scheduler, name)(optimizer, **kwargs)
        rates = []
        for loss in (3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.0):
            optimizer.step()
            if name == "ReduceLROnPlateau":
                scheduler.step(loss)
            else:
                scheduler.step()
            rates.append(optimizer.param_groups[0]["lr"])
        return rates
    check_same(name, learning_rates)


# ------------------------------------------------------------------------ serialization
def test_save_and_load_state_dict_at_the_given_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    rg.save(model.state_dict(), "model.pt")
    assert os.listdir(".") == ["model.pt"]
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    assert str(fresh.load_state_dict(rg.load("model.pt"))) == "<All keys matched successfully>"
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert rg.equal(a, b)
    rg.save(model.state_dict(), "weights")  # no extension is added either
    assert sorted(os.listdir(".")) == ["model.pt", "weights"]


@requires_torch
@pytest.mark.parametrize("zip_format, message", [
    (True, r"is a PyTorch \(pickle\) checkpoint.*load_torch_state_dict"),
    (False, r"is not a retrograd checkpoint.*load_torch_state_dict"),  # before PyTorch 1.6
])
def test_loading_a_pytorch_file(tmp_path, zip_format, message):
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
                                    torch.nn.Linear(4, 1))
    path = str(tmp_path / "model.pt")
    torch.save(reference.state_dict(), path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(RuntimeError, match=message):
        rg.load(path)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    state = rg.load_torch_state_dict(path)
    assert list(state) == list(model.state_dict()) and isinstance(state["0.weight"], rg.Tensor)
    model.load_state_dict(state)
    with torch.no_grad():
        expected = reference(torch.tensor(X[:, :3])).numpy()
    with rg.no_grad():
        np.testing.assert_allclose(model(rg.tensor(X[:, :3])).numpy(), expected, rtol=1e-6)


def test_load_torch_state_dict_without_pytorch(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    with pytest.raises(ImportError, match="needs PyTorch"):
        rg.load_torch_state_dict(str(tmp_path / "model.pt"))


# ------------------------------------------------------------------------------ modules
def _net_class(m):
    class Net(m.nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv = m.nn.Conv2d(1, 2, 3)
            self.bn = m.nn.BatchNorm2d(2)
            self.embed = m.nn.Embedding(5, 3)
            self.rnn = m.nn.LSTM(3, 4, num_layers=2)
            self.head = m.nn.Sequential(m.nn.Linear(4, 4), m.nn.ReLU(), m.nn.Dropout(0.1),
                                        m.nn.Linear(4, 2))
            self.register_buffer("steps", m.zeros((), dtype=m.long))
            self.register_buffer("cache", m.zeros(2), persistent=False)

        def forward(self, x):
            return self.head(x)

        def extra_repr(self):
            return "custom=True"
    return Net


def test_module_details():
    model = _net_class(rg)()
    assert [name for name, _ in model.named_modules()] == [
        "", "conv", "bn", "embed", "rnn", "head", "head.0", "head.1", "head.2", "head.3"]
    assert [type(c).__name__ for c in model.children()] == [
        "Conv2d", "BatchNorm2d", "Embedding", "LSTM", "Sequential"]
    assert "steps" in model.state_dict() and "cache" not in model.state_dict()
    assert dict(model.named_buffers())["cache"].shape == (2,)
    assert repr(model).startswith("Net(\n  custom=True\n  (conv): Conv2d(")
    assert model.eval() is model and not model.training and not model.head[2].training
    assert model.train() is model and model.head[2].training


@requires_torch
def test_module_state_dict_keys_and_repr_as_in_pytorch():
    ours, theirs = _net_class(rg)(), _net_class(torch)()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_parameters_can_be_passed_twice():
    model = _net_class(rg)()
    count = len(list(model.parameters()))
    first = rg.optim.SGD(model.parameters(), lr=0.1)
    second = rg.optim.Adam(model.parameters())
    assert len(first.param_groups[0]["params"]) == len(second.param_groups[0]["params"]) == count


def test_script_boilerplate_names_exist():
    rg.backends.cudnn.benchmark = True
    rg.backends.cudnn.deterministic = True
    threads = rg.get_num_threads()
    rg.set_num_threads(2)
    assert rg.get_num_threads() == 2
    rg.set_num_threads(threads)
    assert rg.finfo(rg.float32).eps == np.finfo(np.float32).eps
    assert rg.iinfo(rg.int64).max == np.iinfo(np.int64).max
    assert rg.inf == float("inf") and rg.pi == np.pi
    assert rg.Size([2, 3]) == rg.zeros(2, 3).shape
    assert rg.train.fit is not None
