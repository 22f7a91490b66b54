"""Module: registration, traversal, train/eval, dtype conversion, state_dict, hooks, repr, and
the containers (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict)."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
from helpers import requires_torch, torch


# ----------------------------------------------------------------------- shared models
def block_class(framework, ones):
    """A custom module holding a Sequential, a ModuleList and buffers (one non-persistent),
    built the same way in retrograd and in PyTorch."""

    class Block(framework.Module):
        def __init__(self):
            super(Block, self).__init__()  # the old-style super() call must work
            self.features = framework.Sequential(framework.Linear(3, 4), framework.ReLU(),
                                                 framework.Linear(4, 4, bias=False))
            self.heads = framework.ModuleList([framework.Linear(4, 2), framework.Linear(4, 2)])
            self.register_buffer("scale", ones(2))
            self.register_buffer("scratch", ones(2), persistent=False)

        def forward(self, x):
            h = self.features(x)
            return (self.heads[0](h) + self.heads[1](h)) * self.scale

    return Block


Block = block_class(nn, rg.ones)
TorchBlock = block_class(torch.nn, torch.ones) if torch is not None else None


class Leaf(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(rg.ones(2, 3))
        self.bias = nn.Parameter(rg.zeros(3))

    def forward(self, x):
        return x @ self.weight + self.bias


# ------------------------------------------------------------------------- parameters
def test_parameter_is_a_leaf_tensor_sharing_its_data():
    data = rg.ones(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, rg.Tensor) and p.requires_grad and p.is_leaf
    assert p.array is data.array
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert "requires_grad=True" in repr(p)
    assert type(p * 2) is rg.Tensor


def test_parameter_rejects_integer_data_and_non_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(rg.tensor([1, 2]))
    with pytest.raises(TypeError, match="Parameter"):
        nn.Parameter([1.0, 2.0])


def test_parameter_deepcopy_copies_data():
    p = nn.Parameter(rg.ones(2))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad
    assert q.array is not p.array and np.array_equal(q.array, p.array)


def test_deepcopy_of_a_model_is_independent_and_keeps_sharing():
    m = Block()
    m.tied = m.heads[0]
    copied = copy.deepcopy(m)
    assert repr(copied) == repr(m) and copied.tied is copied.heads[0]
    for (name, a), (_, b) in zip(m.state_dict().items(), copied.state_dict().items()):
        assert a.array is not b.array and np.array_equal(a.array, b.array), name
    assert isinstance(copied.features[0].weight, nn.Parameter)


# ------------------------------------------------------------------------ registration
def test_attribute_assignment_registers_parameters_buffers_and_modules():
    m = Block()
    assert [name for name, _ in m.named_parameters()] == [
        "features.0.weight", "features.0.bias", "features.2.weight",
        "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias"]
    assert [name for name, _ in m.named_buffers()] == ["scale", "scratch"]
    assert [name for name, _ in m.named_children()] == ["features", "heads"]
    assert [name for name, _ in m.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "heads", "heads.0", "heads.1"]
    assert len(list(m.modules())) == 8
    assert list(m.children()) == [m.features, m.heads]
    assert [name for name, _ in m.named_parameters(prefix="net", recurse=False)] == []
    assert [name for name, _ in m.features[0].named_parameters(prefix="fc")] == [
        "fc.weight", "fc.bias"]


def test_shared_parameters_and_modules_are_yielded_once():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.b = m.a
    m.c = nn.Linear(2, 2)
    m.c.weight = m.a.weight
    assert [name for name, _ in m.named_parameters()] == ["a.weight", "a.bias", "c.bias"]
    assert len(list(m.parameters())) == 3
    assert [name for name, _ in m.named_modules()] == ["", "a", "c"]
    assert len(list(m.named_parameters(remove_duplicate=False))) == 6


def test_getattr_setattr_delattr_and_dir():
    m = Leaf()
    assert isinstance(m.weight, nn.Parameter)
    assert "weight" not in m.__dict__ and "weight" in dir(m) and "forward" in dir(m)
    m.register_buffer("running", rg.zeros(3))
    m.running = rg.ones(3)  # a tensor assigned to a buffer name replaces the buffer
    assert np.array_equal(m._buffers["running"].array, np.ones(3))
    m.plain = rg.ones(1)  # any other tensor attribute is a plain attribute
    assert "plain" in m.__dict__ and "plain" not in dict(m.named_buffers())
    del m.weight, m.running, m.plain
    assert [name for name, _ in m.named_parameters()] == ["bias"]
    with pytest.raises(AttributeError, match="'Leaf' object has no attribute 'running'"):
        m.running
    m.sub = nn.Linear(1, 1)
    m.sub = None  # a child slot may be emptied
    assert m.sub is None and list(m.children()) == []


def test_assignment_errors_match_pytorch():
    m = Leaf()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = rg.ones(2, 3)
    m.weight = None
    assert m.weight is None and "weight" not in dict(m.named_parameters())
    m.child = nn.ReLU()
    with pytest.raises(TypeError, match="as child module 'child'"):
        m.child = rg.ones(1)
    m.register_buffer("buf", rg.ones(1))
    with pytest.raises(TypeError, match="as buffer 'buf'"):
        m.buf = 3.0


def test_registration_errors():
    m = Leaf()
    with pytest.raises(KeyError, match="must not contain"):
        m.register_buffer("a.b", rg.ones(1))
    with pytest.raises(KeyError, match="must not be the empty string"):
        m.register_parameter("", nn.Parameter(rg.ones(1)))
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_buffer("forward", rg.ones(1))
    with pytest.raises(TypeError, match="should be a string"):
        m.add_module(1, nn.ReLU())
    with pytest.raises(TypeError, match="cannot assign 'Tensor' object to parameter 'w'"):
        m.register_parameter("w", rg.ones(1))
    with pytest.raises(TypeError, match="to buffer 'b'"):
        m.register_buffer("b", np.ones(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", rg.ones(1))
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", _non_leaf_parameter(x))


def _non_leaf_parameter(x):
    """A Parameter object that has a grad_fn (what PyTorch's check guards against)."""
    p = nn.Parameter(rg.ones(2))
    p.grad_fn = (x * 2).grad_fn
    return p


def test_assignment_before_init_raises():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(rg.ones(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()

    class EarlyModule(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        EarlyModule()


def test_register_module_get_submodule_and_missing_forward():
    m = nn.Module()
    m.register_module("outer", nn.Sequential(nn.Linear(1, 1)))
    assert m.get_submodule("outer.0") is m.outer[0]
    assert m.get_submodule("") is m
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("outer.nope")
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        m(rg.ones(1))
    with pytest.raises(TypeError):
        nn.Module(3)


# ------------------------------------------------------------------- training state
def test_train_and_eval_propagate_and_return_self():
    m = Block()
    assert all(sub.training for sub in m.modules())
    assert m.eval() is m
    assert not any(sub.training for sub in m.modules())
    assert m.train() is m
    assert all(sub.training for sub in m.modules())
    m.train(False)
    assert not m.heads[1].training
    with pytest.raises(ValueError, match="boolean"):
        m.train("no")


def test_zero_grad_and_requires_grad_():
    m = Leaf()
    m(rg.ones(1, 2)).sum().backward()
    grad = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is grad and not grad.array.any()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first():
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    assert m.apply(lambda sub: seen.append(type(sub).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# ------------------------------------------------------------------ dtype and device
def test_to_double_keeps_parameter_identity_and_converts_grads():
    m = Block()
    m.register_buffer("count", rg.tensor(3))
    weight = m.features[0].weight
    m(rg.ones(1, 3)).sum().backward()
    assert m.to(rg.float64) is m
    assert m.features[0].weight is weight and weight.dtype == np.float64
    assert weight.grad.dtype == np.float64 and weight.requires_grad and weight.is_leaf
    assert m.scale.dtype == np.float64 and m.count.dtype == np.int64
    assert m(rg.ones(1, 3, dtype=rg.float64)).dtype == np.float64
    assert m.float() is m and weight.dtype == np.float32 and m.scale.dtype == np.float32
    assert m.double().heads[0].bias.dtype == np.float64
    assert m.half().heads[0].bias.dtype == np.float16


@pytest.mark.parametrize("args, kwargs, dtype", [
    (("cpu",), {}, np.float32),
    ((), {"device": "cpu"}, np.float32),
    ((rg.device("cpu"), rg.float64), {}, np.float64),
    ((rg.zeros(1, dtype=rg.float64),), {}, np.float64),
    ((rg.float64, False), {}, np.float64),
    ((), {"dtype": rg.float64, "non_blocking": True}, np.float64)])
def test_to_argument_forms(args, kwargs, dtype):
    m = nn.Linear(2, 2)
    assert m.to(*args, **kwargs) is m
    assert m.weight.dtype == dtype and m.bias.dtype == dtype
    assert m.cpu() is m


def test_to_rejects_integer_dtypes_and_cuda():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="floating point or complex"):
        m.to(rg.int64)
    with pytest.raises(RuntimeError, match="CUDA"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        m.cuda()


# -------------------------------------------------------------------------- state_dict
def test_state_dict_values_are_detached_and_share_memory():
    m = Block()
    state = m.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == ["scale", "features.0.weight", "features.0.bias",
                           "features.2.weight", "heads.0.weight", "heads.0.bias",
                           "heads.1.weight", "heads.1.bias"]
    value = state["features.0.weight"]
    assert type(value) is rg.Tensor and not value.requires_grad
    assert value.array is m.features[0].weight.array
    kept = m.state_dict(keep_vars=True)
    assert kept["features.0.weight"] is m.features[0].weight
    assert list(m.features.state_dict(prefix="f.")) == ["f.0.weight", "f.0.bias", "f.2.weight"]


@requires_torch
def test_state_dict_keys_match_pytorch():
    assert list(Block().state_dict()) == list(TorchBlock().state_dict())
    assert ([name for name, _ in Block().named_parameters()]
            == [name for name, _ in TorchBlock().named_parameters()])


@requires_torch
def test_load_pytorch_state_dict_as_arrays_gives_the_same_model():
    reference = TorchBlock()
    model = Block()
    with torch.no_grad():
        reference.scale.copy_(torch.tensor([0.5, 2.0]))
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out = model(rg.tensor(x))
    expected = reference(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_load_state_dict_copies_in_place():
    m = Leaf()
    weight, array = m.weight, m.weight.array
    m.load_state_dict({"weight": np.full((2, 3), 2.0), "bias": rg.ones(3)})
    assert m.weight is weight and m.weight.array is array
    assert m.weight.dtype == np.float32 and np.all(array == 2.0)
    assert m.weight.requires_grad and m.weight.is_leaf


def test_load_state_dict_assign_replaces_parameters():
    m = Leaf()
    new = rg.full((2, 3), 3.0)
    m.load_state_dict({"weight": new, "bias": rg.zeros(3)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.array is new.array
    assert m.weight.requires_grad


def test_strict_loading_names_missing_and_unexpected_keys():
    m = Block()
    state = m.state_dict()
    del state["heads.1.bias"]
    state["heads.2.weight"] = rg.ones(1)
    state["extra"] = rg.ones(1)
    with pytest.raises(RuntimeError) as error:
        m.load_state_dict(state)
    message = str(error.value)
    assert message.startswith("Error(s) in loading state_dict for Block:")
    assert 'Missing key(s) in state_dict: "heads.1.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra", "heads.2.weight"' in message
    result = m.load_state_dict(state, strict=False)
    assert result.missing_keys == ["heads.1.bias"]
    assert result.unexpected_keys == ["extra", "heads.2.weight"]
    assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"


@pytest.mark.parametrize("strict", [True, False])
def test_shape_mismatch_always_raises_with_both_shapes(strict):
    m = Leaf()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                           r"shape \(3, 2\) from checkpoint, the shape in "
                                           r"current model is \(2, 3\)"):
        m.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(3)}, strict=strict)


def test_load_state_dict_rejects_bad_values_and_non_mappings():
    m = Leaf()
    with pytest.raises(RuntimeError, match='parameter named "weight"'):
        m.load_state_dict({"weight": "zeros", "bias": np.zeros(3)})
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([("weight", np.zeros((2, 3)))])


def test_non_persistent_buffers_are_not_saved_or_expected():
    m = Block()
    assert "scratch" not in m.state_dict()
    assert "scratch" in dict(m.named_buffers())
    m.load_state_dict(m.state_dict())


# ------------------------------------------------------------------------------- hooks
def test_forward_hooks_change_inputs_and_outputs_and_are_removable():
    m = nn.Identity()
    calls = []
    pre = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    post = m.register_forward_hook(lambda mod, args, out: calls.append((args[0].item(),
                                                                        out.item())))
    double = m.register_forward_hook(lambda mod, args, out: out * 2)
    assert m(rg.tensor(1.0)).item() == 4.0
    assert calls == [(2.0, 2.0)]
    pre.remove()
    double.remove()
    assert m(rg.tensor(1.0)).item() == 1.0
    post.remove()
    post.remove()  # removing twice is harmless
    assert m(rg.tensor(1.0)).item() == 1.0 and len(calls) == 2


def test_hook_options_prepend_kwargs_and_context_manager():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("first"))
    m.register_forward_hook(lambda mod, args, out: order.append("prepended"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}),
                                with_kwargs=True)
    seen = {}
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.update(kwargs),
                            with_kwargs=True)
    assert m(rg.tensor(2.0)).item() == 6.0
    assert order == ["prepended", "first"] and seen == {"factor": 3.0}
    with m.register_forward_pre_hook(lambda mod, args: rg.tensor(10.0)):
        assert m(rg.tensor(2.0)).item() == 30.0
    assert m(rg.tensor(2.0)).item() == 6.0


# -------------------------------------------------------------------------------- repr
@requires_torch
def test_repr_matches_pytorch():
    class Net:
        @staticmethod
        def build(framework):
            net = framework.Module()
            net.body = framework.Sequential(
                framework.Linear(2, 3), framework.ReLU(), framework.Dropout(0.25),
                framework.Sequential(framework.Flatten(), framework.Identity()),
                framework.Sequential())
            net.heads = framework.ModuleList([framework.Linear(3, 1), framework.Linear(3, 1),
                                              framework.Linear(3, 2, bias=False)])
            net.table = framework.ModuleDict({"emb": framework.Embedding(10, 3, padding_idx=0),
                                              "act": framework.GELU(approximate="tanh")})
            net.empty = framework.ModuleList()
            return net

    assert repr(Net.build(nn)) == repr(Net.build(torch.nn))


def test_repr_of_multi_line_extra_repr_and_children():
    class Custom(nn.Module):
        def __init__(self, extra):
            super().__init__()
            self.extra = extra

        def extra_repr(self):
            return self.extra

    single = Custom("a=1")
    assert repr(single) == "Custom(a=1)"
    double = Custom("a=1\nb=2")
    double.fc = nn.ReLU()
    assert repr(double) == "Custom(\n  a=1\n  b=2\n  (fc): ReLU()\n)"
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == (
        "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)")


# -------------------------------------------------------------------------- containers
def _linears(n):
    return [nn.Linear(1, 1) for _ in range(n)]


def test_sequential_indexing_slicing_and_mutation():
    a, b, c = _linears(3)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert list(tail._modules) == ["1", "2"]  # PyTorch keeps the keys of a slice
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    seq[1] = d = nn.Linear(1, 1)
    assert seq[1] is d
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and list(seq) == [d, c]
    seq.append(a).insert(0, b)
    assert list(seq) == [b, d, c, a]
    seq.insert(-1, nn.ReLU())
    assert isinstance(seq[3], nn.ReLU)
    with pytest.raises(IndexError, match="Index out of range"):
        seq.insert(9, nn.ReLU())
    assert seq.pop(0) is b and len(seq) == 4
    seq.extend([nn.Tanh()])
    assert isinstance(seq[-1], nn.Tanh)
    assert len(seq + nn.Sequential(nn.ReLU())) == 6
    del seq[1:3]
    assert list(seq._modules) == ["0", "1", "2"]


def test_sequential_forward_and_ordered_dict_constructor():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [name for name, _ in seq.named_children()] == ["fc", "act"]
    assert seq[0] is seq.fc
    x = rg.randn(3, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(),
                               np.maximum(seq.fc(x).detach().numpy(), 0))
    assert "0" not in dir(nn.Sequential(nn.ReLU()))


def test_module_list_operations():
    a, b, c, d = _linears(4)
    ml = nn.ModuleList([a, b])
    ml.append(c)
    ml.extend([d])
    assert list(ml) == [a, b, c, d] and len(ml) == 4 and ml[-2] is c
    sub = ml[1:3]
    assert isinstance(sub, nn.ModuleList) and list(sub) == [b, c]
    assert list(sub._modules) == ["0", "1"]
    ml.insert(1, nn.ReLU())
    assert isinstance(ml[1], nn.ReLU) and ml[2] is b
    del ml[1]
    assert list(ml) == [a, b, c, d]
    ml += [nn.Tanh()]
    assert len(ml) == 5 and len(ml + nn.ModuleList([a])) == 6
    assert len(list(ml.parameters())) == 8
    with pytest.raises(TypeError, match="iterable"):
        ml.extend(3)
    with pytest.raises(TypeError):
        ml["a"]
    with pytest.raises(NotImplementedError):
        ml(rg.ones(1))


def test_module_dict_operations():
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    assert list(md) == ["b", "a"] and len(md) == 2 and "a" in md
    md["c"] = nn.Linear(1, 1)
    md.update([("d", nn.Identity())])
    md.update(nn.ModuleDict({"e": nn.Identity()}))
    assert list(md.keys()) == ["b", "a", "c", "d", "e"]
    assert [name for name, _ in md.named_parameters()] == ["c.weight", "c.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and "b" not in md
    del md["a"]
    assert list(md.values())[0] is md["c"] and dict(md.items())["d"] is md["d"]
    with pytest.raises(ValueError, match="length 3"):
        md.update([("x", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match="iterable"):
        md.update(5)
    md.clear()
    assert len(md) == 0


def test_parameter_list_and_dict():
    pl = nn.ParameterList([rg.ones(2), nn.Parameter(rg.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(rg.ones(1))
    pl += [rg.ones(4)]
    assert [name for name, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    assert pl[-1].shape == (4,) and [p.shape for p in pl[1:3]] == [(3,), (1,)]
    pl[0] = rg.full((2,), 5.0)
    assert isinstance(pl[0], nn.Parameter) and pl[0].array[0] == 5.0
    with pytest.raises(TypeError, match="iterable"):
        pl.extend(rg.ones(2))

    pd = nn.ParameterDict({"b": rg.ones(1), "a": rg.ones(2)})
    assert list(pd) == ["a", "b"]  # a plain dict is added in sorted order, as in PyTorch
    pd.update(OrderedDict([("z", rg.ones(1)), ("y", rg.ones(1))]))
    assert list(pd.keys()) == ["a", "b", "z", "y"]
    assert isinstance(pd["a"], nn.Parameter) and "z" in pd and pd.get("nope") is None
    assert pd.setdefault("w", rg.ones(3)).shape == (3,)
    assert pd.pop("w").shape == (3,) and "w" not in pd
    assert pd.popitem()[0] == "y" and list(reversed(pd)) == ["z", "b", "a"]
    assert list(pd.copy().keys()) == list(pd.keys())
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = rg.ones(1)
    assert list(pd.state_dict()) == ["a", "b", "z"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []


@requires_torch
def test_parameter_container_repr_and_keys_match_pytorch():
    def build(framework, make):
        m = framework.Module()
        m.plist = framework.ParameterList([framework.Parameter(make(2, 3)), make(2)])
        m.pdict = framework.ParameterDict(OrderedDict([("w", make(1)), ("v", make(2, 2))]))
        return m

    ours, theirs = build(nn, rg.ones), build(torch.nn, torch.ones)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    expected = repr(theirs).replace("torch.float32", "retrograd.float32")
    expected = expected.replace("torch.FloatTensor", "retrograd.float32")
    assert repr(ours) == expected
